"""A run knows the data it was computed on: a change to its streets, buildings or facilities of
its type (and only those) makes it stale until recomputed."""

from __future__ import annotations

from sqlalchemy import Connection, text
from sqlalchemy.orm import Session, sessionmaker

from gridmap.access import Principal, Role
from gridmap.coverage.services import compute, queries

TYPE, CIRCLE = "pocket_park", "5min"
READER = Principal(role=Role.ADMIN, username="reader")


def _stale(factory: sessionmaker[Session]) -> list[str]:
    with factory() as session:
        rows = queries.runs(session, READER, lang="zh")
    return next(r["stale"] for r in rows if (r["facility_type"], r["circle"]) == (TYPE, CIRCLE))


def test_changes_to_what_a_run_read_make_it_stale_until_recomputed(
        factory: sessionmaker[Session], connection: Connection) -> None:
    compute.compute(factory, TYPE, CIRCLE)
    assert _stale(factory) == []
    other = connection.execute(text("SELECT id FROM facility WHERE type <> :t LIMIT 1"),
                               {"t": TYPE}).scalar_one()
    connection.execute(text("UPDATE facility SET name = name || '·' WHERE id = :i"), {"i": other})
    assert _stale(factory) == []  # another type's facility: not this run's data
    connection.execute(text("UPDATE facility SET hours = '全天' WHERE type = :t"), {"t": TYPE})
    assert _stale(factory) == ["facilities"]
    connection.execute(text("UPDATE street_edge SET name = name WHERE id = "
                            "(SELECT min(id) FROM street_edge)"))
    connection.execute(text("UPDATE building SET residents = residents + 1 WHERE id = "
                            "(SELECT min(id) FROM building)"))
    assert _stale(factory) == ["buildings", "facilities", "streets"]
    connection.execute(text("UPDATE facility SET name = name WHERE false"))  # no row: no change
    compute.compute(factory, TYPE, CIRCLE)
    assert _stale(factory) == []


def test_retyping_a_facility_stales_both_types(factory: sessionmaker[Session],
                                               connection: Connection) -> None:
    compute.compute(factory, TYPE, CIRCLE)
    compute.compute(factory, "elder_care_station", "15min")
    connection.execute(text("UPDATE facility SET type = :t WHERE id = (SELECT min(id) FROM "
                            "facility WHERE type = 'elder_care_station')"), {"t": TYPE})
    with factory() as session:
        rows = {(r["facility_type"], r["circle"]): r["stale"]
                for r in queries.runs(session, READER, lang="zh")}
    assert rows[(TYPE, CIRCLE)] == ["facilities"]
    assert rows[("elder_care_station", "15min")] == ["facilities"]
