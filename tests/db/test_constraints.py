"""The database itself rejects bad rows: invalid geometry, inconsistent codes, misplaced grids."""

from __future__ import annotations

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError, IntegrityError


def _a_grid(conn: Connection) -> dict:
    row = conn.execute(text("""
        SELECT g.code, g.community_code, ST_AsText(g.geom) AS wkt
        FROM grid g ORDER BY g.code LIMIT 1
    """)).mappings().one()
    return dict(row)


def _insert_grid(conn: Connection, code: str, community: str, wkt: str) -> None:
    conn.execute(
        text("INSERT INTO grid (code, name, community_code, geom) "
             "VALUES (:code, 'test', :community, ST_GeomFromText(:wkt, 4326))"),
        {"code": code, "community": community, "wkt": wkt},
    )


def _unused_code(conn: Connection, community: str) -> str:
    taken = set(conn.execute(text("SELECT code FROM grid WHERE community_code = :c"),
                             {"c": community}).scalars())
    return next(f"{community}{i:03d}" for i in range(999, 0, -1) if f"{community}{i:03d}" not in taken)


def _expect_rejected(conn: Connection, match: str, fn) -> None:
    savepoint = conn.begin_nested()
    with pytest.raises((IntegrityError, DBAPIError), match=match):
        fn()
        # The grid rules are checked at commit (migration 0009): check them now, as a commit would.
        conn.execute(text("SET CONSTRAINTS ALL IMMEDIATE"))
    savepoint.rollback()


def test_overlapping_grid_in_same_community_is_rejected(connection: Connection) -> None:
    g = _a_grid(connection)
    code = _unused_code(connection, g["community_code"])
    _expect_rejected(connection, "overlaps grid",
                     lambda: _insert_grid(connection, code, g["community_code"], g["wkt"]))


def test_grid_outside_its_community_is_rejected(connection: Connection) -> None:
    g = _a_grid(connection)
    code = _unused_code(connection, g["community_code"])
    far = "POLYGON((10 10, 10.01 10, 10.01 10.01, 10 10.01, 10 10))"
    _expect_rejected(connection, "outside its community",
                     lambda: _insert_grid(connection, code, g["community_code"], far))


def test_grid_code_must_extend_its_community_code(connection: Connection) -> None:
    g = _a_grid(connection)
    # A speck (< 1 m²) inside the community passes the spatial rules, so the code rule decides.
    speck = connection.execute(text(
        "SELECT ST_AsText(ST_Buffer(ST_PointOnSurface(geom), 0.000003, 2)) FROM grid "
        "WHERE code = :c"), {"c": g["code"]}).scalar_one()
    _expect_rejected(connection, "grid_code_parent",
                     lambda: _insert_grid(connection, "999999999999001", g["community_code"], speck))


def test_invalid_geometry_is_rejected(connection: Connection) -> None:
    g = _a_grid(connection)
    code = _unused_code(connection, g["community_code"])
    bowtie = "POLYGON((0 0, 1 1, 1 0, 0 1, 0 0))"
    _expect_rejected(connection, "geom_valid",
                     lambda: _insert_grid(connection, code, g["community_code"], bowtie))


def test_empty_geometry_is_rejected(connection: Connection) -> None:
    g = _a_grid(connection)
    code = _unused_code(connection, g["community_code"])
    _expect_rejected(connection, "geom_valid",
                     lambda: _insert_grid(connection, code, g["community_code"], "POLYGON EMPTY"))


def test_duplicate_grid_code_is_rejected(connection: Connection) -> None:
    g = _a_grid(connection)
    _expect_rejected(connection, "grid_pkey",
                     lambda: _insert_grid(connection, g["code"], g["community_code"], g["wkt"]))


def test_subdistrict_code_must_match_district(connection: Connection) -> None:
    _expect_rejected(connection, "subdistrict_code_parent", lambda: connection.execute(text(
        "INSERT INTO subdistrict (code, name, district_code, geom) SELECT '210104001', 'x', "
        "code, geom FROM district WHERE code = '210103'")))


def test_building_population_must_be_consistent(connection: Connection) -> None:
    g = _a_grid(connection)
    _expect_rejected(connection, "building_population_consistent", lambda: connection.execute(
        text("INSERT INTO building (code, name, grid_code, residents, aged_60_plus, aged_80_plus,"
             " geom) SELECT 'X1', 'x', code, 10, 5, 6, ST_Buffer(ST_PointOnSurface(geom), 0.0001)"
             " FROM grid WHERE code = :c"), {"c": g["code"]}))


def test_second_grid_worker_is_rejected(connection: Connection) -> None:
    g = _a_grid(connection)
    _expect_rejected(connection, "uq_grid_one_worker", lambda: connection.execute(text(
        "INSERT INTO grid_member (grid_code, person_id, role) "
        "SELECT CAST(:c AS varchar), id, 'grid_worker' FROM person WHERE id NOT IN "
        "(SELECT person_id FROM grid_member WHERE grid_code = :c) LIMIT 1"), {"c": g["code"]}))


def test_adjacent_grid_sharing_an_edge_is_accepted(connection: Connection) -> None:
    # The no-overlap rule must not reject grids that merely touch: re-inserting a real grid's
    # geometry after deleting it succeeds although it shares edges with its neighbours.
    g = _a_grid(connection)
    connection.execute(text("DELETE FROM grid_enrollment WHERE grid_code = :c"), {"c": g["code"]})
    connection.execute(text("DELETE FROM grid_member WHERE grid_code = :c"), {"c": g["code"]})
    connection.execute(text(
        "DELETE FROM building WHERE grid_code = :c"), {"c": g["code"]})
    connection.execute(text("DELETE FROM grid WHERE code = :c"), {"c": g["code"]})
    _insert_grid(connection, g["code"], g["community_code"], g["wkt"])
    n = connection.execute(text("SELECT count(*) FROM grid WHERE code = :c"), {"c": g["code"]})
    assert n.scalar_one() == 1


def test_neighbouring_grids_may_be_reshaped_in_one_transaction(connection: Connection) -> None:
    """Moving the edge between two grids takes two statements, and between them one grid
    overlaps the other: the rules look only at the state the transaction commits."""
    a, b = connection.execute(text("""
        SELECT a.code, b.code FROM grid a JOIN grid b
          ON a.community_code = b.community_code AND a.code < b.code
         AND ST_Relate(a.geom, b.geom, 'F***1****')
         AND ST_GeometryType(ST_Union(a.geom, b.geom)) = 'ST_Polygon'
         AND NOT EXISTS (SELECT 1 FROM "case" c WHERE c.grid_code = b.code)
        ORDER BY a.code LIMIT 1""")).one()
    # a takes b's land first (overlapping b until the next statements), then b goes.
    connection.execute(text("""
        UPDATE grid SET geom = (SELECT ST_Union(geom) FROM grid WHERE code IN (:a, :b))
         WHERE code = :a"""), {"a": a, "b": b})
    connection.execute(text("UPDATE building SET grid_code = :a WHERE grid_code = :b"),
                       {"a": a, "b": b})
    connection.execute(text("DELETE FROM grid_enrollment WHERE grid_code = :b"), {"b": b})
    connection.execute(text("DELETE FROM grid_member WHERE grid_code = :b"), {"b": b})
    connection.execute(text("DELETE FROM grid WHERE code = :b"), {"b": b})
    connection.execute(text("SET CONSTRAINTS ALL IMMEDIATE"))  # what the commit checks: fine
    assert connection.execute(text("SELECT count(*) FROM grid WHERE code IN (:a, :b)"),
                              {"a": a, "b": b}).scalar_one() == 1
