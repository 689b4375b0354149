"""Synthetic Party organisation, volunteers and tasks, made in the database (set-based)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from gridmap.models import (
    PartyBranch,
    PartyGroup,
    PartyHousehold,
    Volunteer,
    VolunteerTask,
    VolunteerTeam,
)
from gridmap.sqlfiles import sql


def _run(session: Session, name: str, seed: int) -> None:
    session.execute(select(func.setseed((seed % 1000) / 1000.0)))
    for statement in sql(name).text.split("\n\n"):
        body = "\n".join(line for line in statement.splitlines()
                         if not line.startswith("--")).strip()
        if body:
            session.execute(text(body))


def _counts(session: Session, models: tuple[tuple[str, Any], ...]) -> dict[str, int]:
    return {table: int(session.execute(select(func.count()).select_from(model)
                                       .where(model.synthetic)).scalar_one())
            for table, model in models}


def write_party(session: Session, *, seed: int) -> dict[str, int]:
    """Branches, groups, central households, teams and volunteers of the loaded territory."""
    _run(session, "demo/party", seed)
    return _counts(session, (("party_branch", PartyBranch), ("party_group", PartyGroup),
                             ("party_household", PartyHousehold),
                             ("volunteer_team", VolunteerTeam), ("volunteer", Volunteer)))


def write_tasks(session: Session, *, seed: int) -> dict[str, int]:
    """Tasks in every state from the loaded cases and care visits."""
    _run(session, "demo/volunteer_tasks", seed)
    return _counts(session, (("volunteer_task", VolunteerTask),))
