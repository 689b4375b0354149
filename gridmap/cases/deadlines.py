"""Case deadlines (即呼即应): when a case must be answered and resolved, and how it stands.

Pure: no database, no Flask, no clock (the caller passes ``now``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

LOCAL_UTC_OFFSET = timedelta(hours=8)
"""China Standard Time (UTC+8, no daylight saving): a day or month in filters and statistics is
a local one. One time zone covers the whole country, so this is a constant, not a setting."""
SOON_DUE_FRACTION = 0.2
"""A deadline is "soon due" within this share of the allowed time before it …"""
SOON_DUE_CAP = timedelta(hours=2)
"""… or within this long before it, whichever is smaller."""


@dataclass(frozen=True)
class Deadlines:
    """When a case must be answered and resolved."""

    respond_by: datetime
    resolve_by: datetime


class DueStatus(StrEnum):
    """How a case stands against one deadline."""

    ON_TIME = "on_time"
    SOON_DUE = "soon_due"
    OVERDUE = "overdue"
    MET = "met"
    MISSED = "missed"


def _require_aware(**values: datetime | None) -> None:
    for name, value in values.items():
        if value is not None and (value.tzinfo is None or value.utcoffset() is None):
            raise ValueError(f"{name} must be timezone-aware")


def deadlines(reported_at: datetime, *, respond_hours: float, resolve_hours: float) -> Deadlines:
    """Compute a case's deadlines from its category's hours."""
    _require_aware(reported_at=reported_at)
    for name, hours in (("respond_hours", respond_hours), ("resolve_hours", resolve_hours)):
        if not math.isfinite(hours) or hours <= 0:
            raise ValueError(f"{name} must be a positive number of hours, got {hours!r}")
    if resolve_hours < respond_hours:
        raise ValueError("resolve_hours must not be shorter than respond_hours")
    return Deadlines(respond_by=reported_at + timedelta(hours=respond_hours),
                     resolve_by=reported_at + timedelta(hours=resolve_hours))


def due_status(started_at: datetime, deadline: datetime, *, now: datetime,
               done_at: datetime | None = None) -> DueStatus:
    """Classify one deadline: met/missed once done, else overdue, soon_due or on_time.

    "Soon due" starts 20 % of the allowed time (started_at → deadline) before the deadline, or
    2 hours before it if that is later. Exactly at the deadline a case is soon due, not overdue.
    """
    _require_aware(started_at=started_at, deadline=deadline, now=now, done_at=done_at)
    if done_at is not None:
        return DueStatus.MET if done_at <= deadline else DueStatus.MISSED
    if now > deadline:
        return DueStatus.OVERDUE
    window = min((deadline - started_at) * SOON_DUE_FRACTION, SOON_DUE_CAP)
    return DueStatus.SOON_DUE if now >= deadline - window else DueStatus.ON_TIME


def response_status(reported_at: datetime, respond_by: datetime, *, now: datetime,
                    responded_at: datetime | None = None) -> DueStatus:
    """Classify the response deadline; responded_at is when the case first left "reported"."""
    return due_status(reported_at, respond_by, now=now, done_at=responded_at)


def resolution_status(reported_at: datetime, resolve_by: datetime, *, now: datetime,
                      resolved_at: datetime | None = None) -> DueStatus:
    """Classify the resolution deadline; resolved_at is when the case reached "resolved"."""
    return due_status(reported_at, resolve_by, now=now, done_at=resolved_at)
