"""Helpers for case tests: clean-up of cases committed for real (races between connections),
and the signed-in people who work a grid's cases."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, text

_CLEAN_UP = (
    "DELETE FROM case_event WHERE case_id = ANY(:ids)",
    "DELETE FROM case_photo WHERE case_id = ANY(:ids)",
    "DELETE FROM case_cohandler WHERE case_id = ANY(:ids)",
    'DELETE FROM "case" WHERE id = ANY(:ids)',
)


@pytest.fixture
def delete_cases(owner_engine: Engine) -> Callable[[Iterable[int]], None]:
    """Remove committed test cases with their history. Events are append-only (the app role may
    not delete them, and a trigger stops everyone): the schema's owner switches the trigger off
    inside the clean-up's one transaction, whose lock keeps every other session waiting."""
    def delete(ids: Iterable[int]) -> None:
        with owner_engine.begin() as conn:
            conn.execute(text("ALTER TABLE case_event DISABLE TRIGGER case_event_immutable"))
            for statement in _CLEAN_UP:
                conn.execute(text(statement), {"ids": list(ids)})
            conn.execute(text("ALTER TABLE case_event ENABLE TRIGGER case_event_immutable"))

    return delete


# --- who acts: the signed-in people of a grid ---------------------------------------------------

Headers = dict[str, str]


def grid_people(tx: Connection, grid_code: str, department: str = "heating") -> dict[str, int]:
    """Person ids of a grid's worker and of ``department``'s staff member enrolled in it."""
    row = tx.execute(text("""
        SELECT (SELECT person_id FROM grid_member WHERE grid_code = :g AND role = 'grid_worker'),
               (SELECT person_id FROM grid_enrollment WHERE grid_code = :g
                  AND department_code = :d ORDER BY person_id LIMIT 1)
    """), {"g": grid_code, "d": department}).one()
    assert all(row), (grid_code, department, row)
    return {"worker": row[0], "staff": row[1]}


@pytest.fixture
def crew(tx: Connection, login: Callable[..., Headers]) -> Callable[..., dict[str, Headers]]:
    """``crew(grid_code)``: bearer headers of the people who work that grid's cases.

    ``worker`` (its grid worker), ``heating`` (the heating department's staff enrolled in it),
    ``community``, ``subdistrict`` and ``centre`` (staff over its community, sub-district and
    district). Accounts are made once per person (an account's person is unique) and rolled
    back with the test.
    """
    made: dict[tuple[str, object], Headers] = {}

    def account(role: str, **kwargs: object) -> Headers:
        key = (role, kwargs.get("person_id") or kwargs.get("area"))
        if key not in made:
            made[key] = login(role, **kwargs)  # type: ignore[arg-type]
        return made[key]

    def of(grid_code: str) -> dict[str, Headers]:
        people = grid_people(tx, grid_code)
        return {
            "worker": account("grid_worker", person_id=people["worker"]),
            "heating": account("department_staff", person_id=people["staff"],
                               department="heating"),
            "community": account("community_staff", area=grid_code[:12]),
            "subdistrict": account("subdistrict_staff", area=grid_code[:9]),
            "centre": account("district_centre", area=grid_code[:6]),
        }

    return of


@pytest.fixture
def edge(tx: Connection) -> dict[str, Any]:
    """The middle of a long boundary shared by two grids ``a`` and ``b``."""
    return dict(tx.execute(text("""
        SELECT a.code AS a, b.code AS b,
               ST_X(ST_LineInterpolatePoint(s, 0.5)) AS lon,
               ST_Y(ST_LineInterpolatePoint(s, 0.5)) AS lat
        FROM grid a JOIN grid b ON a.code < b.code AND a.geom && b.geom,
             LATERAL (SELECT (ST_Dump(ST_LineMerge(ST_CollectionExtract(
                 ST_Intersection(a.geom, b.geom), 2)))).geom AS s) seg
        WHERE ST_Length(s::geography) > 40 ORDER BY a.code LIMIT 1""")).mappings().one())
