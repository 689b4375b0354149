"""Migrations apply to an empty database, revert to nothing, and apply again."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import create_engine, inspect, text

from gridmap import schema
from gridmap.cases import workflow
from gridmap.config import Settings


def _tables(settings: Settings) -> set[str]:
    eng = create_engine(settings.sqlalchemy_url)
    try:
        return set(inspect(eng).get_table_names())
    finally:
        eng.dispose()


def test_upgrade_from_empty_then_downgrade_and_again(scratch_settings: Settings) -> None:
    expected = {"district", "subdistrict", "community", "grid", "building", "facility",
                "facility_type", "street_node", "street_edge", "department", "person",
                "grid_member", "grid_enrollment", "dataset", "grid_card", "case_category", "case",
                "case_event", "case_cohandler", "case_photo", "life_circle", "coverage_rule",
                "coverage_run", "coverage_building", "coverage_area", "account", "api_token",
                "open311_client", "audit_log", "mediation_point", "dispute", "dispute_party",
                "dispute_mediator", "dispute_session", "dispute_event"}
    schema.upgrade(scratch_settings)
    assert expected <= _tables(scratch_settings)
    schema.downgrade(scratch_settings, "base")
    assert not expected & _tables(scratch_settings)
    schema.upgrade(scratch_settings)
    assert expected <= _tables(scratch_settings)


def test_every_geometry_column_has_a_gist_index(engine) -> None:
    with engine.connect() as conn:
        rows = conn.execute(text("""
            SELECT c.f_table_name,
                   EXISTS (SELECT 1 FROM pg_indexes i
                            WHERE i.tablename = c.f_table_name
                              AND i.indexdef ILIKE '%USING gist (geom)%') AS indexed,
                   c.srid
            FROM geometry_columns c
            WHERE c.f_table_schema = 'public' AND c.f_geometry_column = 'geom'
        """)).all()
        # The tiles' Web Mercator copies (migration 0014): kept by PostgreSQL, never indexed
        # (rows are found through geom's index).
        projected = conn.execute(text("""
            SELECT c.table_name, c.is_generated, g.srid
            FROM information_schema.columns c
            JOIN geometry_columns g ON g.f_table_name = c.table_name
                                   AND g.f_geometry_column = c.column_name
            WHERE c.table_schema = 'public' AND c.column_name = 'geom_3857'
        """)).all()
    assert len(rows) == 11  # 8 territory and network layers, grid history, case points, visits
    assert all(indexed for _, indexed, _ in rows), rows
    assert {srid for _, _, srid in rows} == {4326}
    assert {table for table, _, _ in projected} == {
        "district", "subdistrict", "community", "grid", "building", "street_edge"}
    assert all(generated == "ALWAYS" and srid == 3857 for _, generated, srid in projected)


def test_reference_data_is_seeded(engine) -> None:
    with engine.connect() as conn:
        departments = conn.execute(text("SELECT name_zh FROM department ORDER BY sort_order"))
        names = [r[0] for r in departments]
        types = {r[0] for r in conn.execute(text("SELECT code FROM facility_type"))}
    assert len(names) == 15 and names[0] == "民政" and "供热" in names
    assert {"elder_care_station", "pocket_park", "party_service_station",
            "mediation_point"} <= types


def _quoted_states(definition: str) -> set[str]:
    """The string literals of an index predicate or CHECK as PostgreSQL prints it back."""
    return set(re.findall(r"'([a-z_]+)'::", definition))


@pytest.mark.parametrize("index", ["ix_case_open_deadline", "ix_case_open_district_code",
                                   "ix_case_open_subdistrict_code", "ix_case_open_community_code",
                                   "ix_case_open_grid_code"])
def test_open_deadline_indexes_hold_exactly_the_unresolved_states(engine, index: str) -> None:
    """Migrations 0003 and 0007 spelled the unresolved states out; the board binds workflow's
    group. If the two drifted apart, overdue queries (of the whole city, or of a reader's area)
    would silently stop using the partial indexes."""
    with engine.connect() as conn:
        definition = conn.execute(text(
            "SELECT indexdef FROM pg_indexes WHERE indexname = :name"), {"name": index}
        ).scalar_one()
    predicate = definition.partition(" WHERE ")[2]
    assert predicate, definition
    assert _quoted_states(predicate) == set(workflow.state_values(workflow.UNRESOLVED_STATES))


def test_state_check_allows_exactly_the_workflow_states(engine) -> None:
    with engine.connect() as conn:
        definition = conn.execute(text(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'case_state'"
        )).scalar_one()
    assert _quoted_states(definition) == {s.value for s in workflow.State}
