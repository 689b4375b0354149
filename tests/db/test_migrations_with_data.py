"""Migrations go down and up again on a database that holds data, and the data survives.

An empty schema proves little about an upgrade: a migration that rewrites rows (0005 backfills
every coverage run's CRS, 0006 changes the person role check) must also work with the rows a
city has. Here a scratch database gets 沈河区's demo territory, a year of cases with their
histories and an account, goes down to revision 0003 (the first with cases) and back to head.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine, inspect, text

from gridmap import schema
from gridmap.config import Settings
from gridmap.db import make_session_factory
from gridmap.demo.services.load import load_demo

KEPT = ("district", "subdistrict", "community", "grid", "building", "facility", "street_node",
        "street_edge", "person", "grid_member", "grid_enrollment", "case", "case_event",
        "case_cohandler", "case_category", "department")
"""Tables of revision 0003 and earlier whose rows must come through unchanged."""
TEST_DISTRICT = "210103"  # 沈河区, as the session's test database (tests/conftest.py)
LATER = ("account", "api_token", "open311_client", "audit_log", "care_entry", "care_visit",
         "care_zero_report", "party_branch", "party_group", "party_household", "volunteer_team",
         "volunteer", "volunteer_task", "mediation_point", "dispute", "dispute_session",
         "dispute_event")
"""Tables that revisions 0006, 0019, 0021 and 0022 add (and their downgrades remove); the demo
load writes the care register's rows, the volunteer tasks and the disputes with its cases, the
Party organisation and the volunteer teams with the territory, the mediation points always."""


@pytest.fixture
def loaded(scratch_settings: Settings) -> Iterator[Engine]:
    """The scratch database at head with the demo district and 300 cases."""
    schema.upgrade(scratch_settings)
    engine = create_engine(scratch_settings.sqlalchemy_url)
    load_demo(make_session_factory(engine), districts=[TEST_DISTRICT], cases=300)
    with engine.begin() as conn:
        person = conn.execute(text("SELECT person_id FROM grid_member LIMIT 1")).scalar_one()
        conn.execute(text("INSERT INTO account (username, person_id, role, password_hash) "
                          "VALUES ('migrating', :p, 'grid_worker', 'x')"), {"p": person})
    yield engine
    engine.dispose()


def _counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {t: conn.execute(text(f'SELECT count(*) FROM "{t}"')).scalar_one()  # noqa: S608
                for t in KEPT}


def _tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names())


def test_down_to_0003_and_up_again_keeps_every_row(loaded: Engine,
                                                   scratch_settings: Settings) -> None:
    before = _counts(loaded)
    assert before["case"] == 300 and before["case_event"] > 300 and before["grid"] > 1000
    schema.downgrade(scratch_settings, "0003")
    loaded.dispose()
    assert not set(LATER) & _tables(loaded)
    assert _counts(loaded) == before
    schema.upgrade(scratch_settings)
    loaded.dispose()
    assert set(LATER) <= _tables(loaded)
    assert _counts(loaded) == before
    with loaded.connect() as conn:
        indexes = set(conn.execute(text(
            "SELECT indexname FROM pg_indexes WHERE tablename IN ('case', 'case_cohandler')")
        ).scalars())
    assert {"ix_case_open_district_code", "ix_case_cohandler_department"} <= indexes
