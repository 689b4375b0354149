"""Migration 0005: runs computed before it keep an explanation (EPSG:4549); new runs must say."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError

from gridmap import schema
from gridmap.config import Settings


def test_old_runs_are_backfilled_with_4549_and_new_runs_must_name_their_crs(
        scratch_settings: Settings) -> None:
    schema.upgrade(scratch_settings, "0004")
    engine = create_engine(scratch_settings.sqlalchemy_url)
    insert = ("INSERT INTO coverage_run (facility_type, circle, max_distance_m, seconds{col}) "
              "VALUES ('elder_care_station', '15min', 1000, 1{val})")
    try:
        with engine.begin() as conn:
            conn.execute(text(insert.format(col="", val="")))
        schema.upgrade(scratch_settings)
        with engine.begin() as conn:
            assert conn.execute(text("SELECT metric_srid FROM coverage_run")).scalars().all() == [4549]
            conn.execute(text("UPDATE coverage_run SET current = false"))
            conn.execute(text(insert.format(col=", metric_srid", val=", 4550")))
        with pytest.raises(IntegrityError, match="metric_srid"), engine.begin() as conn:
            conn.execute(text(insert.format(col="", val="").replace("15min", "5min")))
        schema.downgrade(scratch_settings, "0004")
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM coverage_run")).scalar_one() == 2
    finally:
        engine.dispose()
