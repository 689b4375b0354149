"""Synthetic residents in need of care (issue 13 item 1) on the loaded demo territory."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from gridmap.demo.repositories import care as repo

SHARE = 0.015
"""Share of residents on the register: the seeds' 1-3 %."""


def write_demo_care(session: Session, *, seed: int = 20231101, share: float = SHARE,
                    now: datetime | None = None) -> dict[str, int]:
    """Register entries, a year of visits (a few overdue) and zero reports (a few late or
    missing; most of the current month not yet sent), in the caller's transaction; counts."""
    return repo.write(session, share=share, seed=seed, now=now or datetime.now(UTC))
