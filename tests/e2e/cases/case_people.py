"""Where the case e2e tests report, and the people who sign in to work those cases.

A *spot* is a point well inside a grid whose grid worker, community secretary and the category's
department staff are real demo people; the *cast* gives each of them an account (committed, see
``Accounts`` in e2e_support.py), plus the grid worker of another grid of the same community, who
must not see the case.
"""

from __future__ import annotations

from dataclasses import dataclass

from e2e_support import Accounts, TestAccount
from sqlalchemy import Engine, text


@dataclass(frozen=True)
class Spot:
    """A point well inside a grid, and the people who act on cases there."""

    grid_code: str
    community_code: str
    lon: float
    lat: float
    department: str
    worker_id: int
    staff_id: int
    secretary_id: int
    other_worker_id: int


@dataclass(frozen=True)
class Cast:
    """Accounts of the people of a spot."""

    worker: TestAccount          # grid worker of the spot's grid
    department: TestAccount      # department staff enrolled in that grid
    community: TestAccount       # community staff of the grid's community
    other_worker: TestAccount    # grid worker of another grid of the same community


# A grid's point on surface, ≥ 25 m from its own boundary and from every other grid, with a grid
# worker, a community secretary, the category's department enrolled and another grid with a worker
# in the community, and no open case of the category nearby (so intake asks neither "which grid?"
# nor "duplicate?").
_SPOT_SQL = text("""
    WITH c AS (SELECT default_departments[1] AS dept FROM case_category WHERE code = :category),
    p AS (SELECT g.code, g.community_code, ST_PointOnSurface(g.geom) AS pt, ST_Area(g.geom::geography) AS area
          FROM grid g)
    SELECT p.code, p.community_code, ST_X(p.pt) AS lon, ST_Y(p.pt) AS lat, c.dept,
           w.person_id AS worker_id, s.id AS staff_id, sec.id AS secretary_id,
           (SELECT o.person_id FROM grid og JOIN grid_member o ON o.grid_code = og.code
             WHERE og.community_code = p.community_code AND og.code <> p.code
               AND o.role = 'grid_worker' AND NOT EXISTS (SELECT 1 FROM grid_member x
                   WHERE x.person_id = o.person_id AND x.grid_code = p.code)
             ORDER BY og.code LIMIT 1) AS other_worker_id
    FROM p CROSS JOIN c
    JOIN grid g ON g.code = p.code
    JOIN grid_member w ON w.grid_code = p.code AND w.role = 'grid_worker'
    JOIN grid_enrollment e ON e.grid_code = p.code AND e.department_code = c.dept
    JOIN person s ON s.id = e.person_id
    JOIN person sec ON sec.role = 'community_secretary' AND sec.community_code = p.community_code
    WHERE NOT ST_DWithin(ST_Boundary(g.geom)::geography, p.pt::geography, 25)
      AND NOT EXISTS (SELECT 1 FROM grid o WHERE o.code <> p.code
                      AND ST_DWithin(o.geom::geography, p.pt::geography, 25))
      AND NOT EXISTS (SELECT 1 FROM "case" k WHERE k.category = :category
                      AND ST_DWithin(k.geom::geography, p.pt::geography, 300))
      AND NOT EXISTS (SELECT 1 FROM account a WHERE a.person_id IN (w.person_id, s.id, sec.id))
      -- a worker who serves one grid only, so "another grid" is not also theirs
      AND (SELECT count(*) FROM grid_member m WHERE m.person_id = w.person_id
             AND m.role = 'grid_worker') = 1
    ORDER BY p.area DESC, p.code
    LIMIT 1
""")


def find_spot(engine: Engine, category: str) -> Spot:
    """The biggest grid that fits the scenario for ``category`` (no such case nearby yet)."""
    with engine.connect() as conn:
        row = conn.execute(_SPOT_SQL, {"category": category}).mappings().first()
    assert row is not None and row["other_worker_id"] is not None, \
        "no grid of the test data fits the e2e case scenario"
    return Spot(row["code"], row["community_code"], float(row["lon"]), float(row["lat"]),
                row["dept"], int(row["worker_id"]), int(row["staff_id"]),
                int(row["secretary_id"]), int(row["other_worker_id"]))


def make_cast(accounts: Accounts, spot: Spot) -> Cast:
    """An account for each person of ``spot``, with the scope their post gives them."""
    return Cast(
        worker=accounts.create("grid_worker", person_id=spot.worker_id),
        department=accounts.create("department_staff", person_id=spot.staff_id,
                                   department_code=spot.department),
        community=accounts.create("community_staff", person_id=spot.secretary_id,
                                  area_code=spot.community_code),
        other_worker=accounts.create("grid_worker", person_id=spot.other_worker_id),
    )
