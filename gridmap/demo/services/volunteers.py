"""Synthetic Party organisation and volunteers (issue 13 item 2) on the loaded demo territory."""

from __future__ import annotations

from sqlalchemy.orm import Session

from gridmap.demo.repositories import volunteers as repo


def write_demo_party(session: Session, *, seed: int = 20231101) -> dict[str, int]:
    """Grid Party branches, building Party groups and central households at Shenhe's
    proportions, and two volunteer teams per community, in the caller's transaction; counts."""
    return repo.write_party(session, seed=seed)


def write_demo_tasks(session: Session, *, seed: int = 20231101) -> dict[str, int]:
    """Volunteer tasks in every state from the demo's cases and visits (needs them); counts."""
    return repo.write_tasks(session, seed=seed)
