"""Migration 0005: runs computed before it keep an explanation (EPSG:4549); new runs must say."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

from gridmap import schema
from gridmap.config import Settings

SCRATCH_DB = "gridmap_coverage_migration_test"  # not shared with other test modules


@pytest.fixture
def scratch(settings: Settings) -> Iterator[Settings]:
    """An empty database (dropped afterwards)."""
    settings = settings.as_owner()  # the owner may create databases; the app role may not
    admin = create_engine(make_url(settings.sqlalchemy_url).set(database="postgres"),
                          isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {SCRATCH_DB} WITH (FORCE)"))
        conn.execute(text(f"CREATE DATABASE {SCRATCH_DB}"))
    url = make_url(settings.database_url).set(database=SCRATCH_DB)
    yield Settings(database_url=url.render_as_string(hide_password=False),
                   secret_key=settings.secret_key)
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {SCRATCH_DB} WITH (FORCE)"))
    admin.dispose()


def test_old_runs_are_backfilled_with_4549_and_new_runs_must_name_their_crs(
        scratch: Settings) -> None:
    schema.upgrade(scratch, "0004")
    engine = create_engine(scratch.sqlalchemy_url)
    insert = ("INSERT INTO coverage_run (facility_type, circle, max_distance_m, seconds{col}) "
              "VALUES ('elder_care_station', '15min', 1000, 1{val})")
    try:
        with engine.begin() as conn:
            conn.execute(text(insert.format(col="", val="")))
        schema.upgrade(scratch)
        with engine.begin() as conn:
            assert conn.execute(text("SELECT metric_srid FROM coverage_run")).scalars().all() == [4549]
            conn.execute(text("UPDATE coverage_run SET current = false"))
            conn.execute(text(insert.format(col=", metric_srid", val=", 4550")))
        with pytest.raises(IntegrityError, match="metric_srid"), engine.begin() as conn:
            conn.execute(text(insert.format(col="", val="").replace("15min", "5min")))
        schema.downgrade(scratch, "0004")
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM coverage_run")).scalar_one() == 2
    finally:
        engine.dispose()
