"""Synthetic mediation (issue 13 item 3) on the loaded demo territory."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from gridmap.demo.repositories import mediation as repo

PER_COMMUNITY = 3.0
"""Disputes a community's point accepts a year, on average (0 to twice this): a few hundred
for a district of a hundred communities."""


def write_demo_points(session: Session) -> dict[str, int]:
    """The three levels of mediation points (structure, loaded with the territory)."""
    return {"mediation_point": repo.write_points(session)}


def write_demo_mediation(session: Session, *, seed: int = 20231101,
                         per_community: float = PER_COMMUNITY,
                         now: datetime | None = None) -> dict[str, int]:
    """A year of disputes across every state, in the caller's transaction; counts."""
    return repo.write_disputes(session, per_community=per_community, seed=seed,
                               now=now or datetime.now(UTC))
