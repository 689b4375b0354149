"""SQL the accounts feature runs on cases: a deactivated grid worker's open cases go back to the
community (kept here, in one statement, so the deactivation is one transaction)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from gridmap.sqlfiles import sql


def return_grid_cases(session: Session, *, person_id: int, states: Sequence[str], actor_id: int,
                      account_id: int, note: str) -> list[int]:
    """Return the cases in ``states`` that the grids ``person_id`` serves own; their ids."""
    rows = session.execute(sql("accounts/return_grid_cases"), {
        "person_id": person_id, "states": list(states), "actor_id": actor_id,
        "account_id": account_id, "note": note})
    return [int(r.case_id) for r in rows]


def returnable_grid_cases(session: Session, *, person_id: int, states: Sequence[str]) -> int:
    """How many cases :func:`return_grid_cases` would return now."""
    count: int = session.execute(sql("accounts/returnable_grid_cases"),
                                 {"person_id": person_id, "states": list(states)}).scalar_one()
    return count
