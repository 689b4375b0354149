"""The demo loader's bookkeeping on a real PostGIS: a second load with the same parameters does
nothing, the id sequences are moved past the loaded ids, and COPY names are quoted identifiers."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Connection, Engine, func, select, text
from sqlalchemy.orm import Session

from gridmap.db import make_session_factory
from gridmap.demo.repositories import bulk, loads
from gridmap.demo.services.load import load_demo
from gridmap.models import Building, Facility, Person

TEST_DISTRICT = "210103"  # what tests/conftest.py loads


def test_same_parameters_again_is_a_no_op_that_reports_the_loaded_counts(engine: Engine) -> None:
    with engine.connect() as conn:
        loaded_at = conn.execute(text("SELECT loaded_at FROM dataset WHERE name = 'demo'")).scalar_one()
        grids = conn.execute(text("SELECT count(*) FROM grid")).scalar_one()
    report = load_demo(make_session_factory(engine), districts=[TEST_DISTRICT], cases=0)
    assert report.skipped
    assert report.counts["grid"] == grids and report.params["districts"] == [TEST_DISTRICT]
    with engine.connect() as conn:
        again = conn.execute(text("SELECT loaded_at FROM dataset WHERE name = 'demo'")).scalar_one()
    assert again == loaded_at


@pytest.mark.parametrize("model", [Person, Building, Facility])
def test_sequences_continue_after_the_loaded_ids(connection: Connection, model: Any) -> None:
    # The loader COPYs explicit ids; without moving the sequences the next insert would collide.
    table = model.__tablename__
    after = connection.execute(select(func.nextval(func.pg_get_serial_sequence(table, "id"))))
    assert after.scalar_one() > connection.execute(select(func.max(model.id))).scalar_one() > 0


def test_recorded_dataset_round_trips(db_session: Session) -> None:
    loads.record(db_session, {"seed": 1, "districts": ["210103"]}, {"grid": 3})
    assert loads.loaded(db_session) == ({"seed": 1, "districts": ["210103"]}, {"grid": 3})


def test_copy_statement_quotes_every_name_and_takes_only_known_tables(db_session: Session) -> None:
    statement = bulk.copy_statement("case", ["id", "state"])
    rendered = statement.as_string(bulk.driver_connection(db_session))
    assert rendered == 'COPY "case" ("id", "state") FROM STDIN'
    with pytest.raises(ValueError, match="not a bulk-loadable table"):
        bulk.copy_statement("dataset; DROP TABLE grid", ["id"])
