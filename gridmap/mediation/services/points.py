"""Mediation points and their counts: for staff (exact, with the points' places) and for
anyone (counts 1-4 suppressed). No person in either."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from gridmap import codes
from gridmap.access import Principal
from gridmap.mediation import rules
from gridmap.mediation.repositories import mediation as repo
from gridmap.mediation.services import disputes

COUNTED = ("received", "agreed", "referred_up", "referred_to_court")
"""What is counted per period (the month and the year so far, in the city's time)."""


def reference() -> dict[str, Any]:
    """States, steps, levels, kinds and limits (reference data, no person)."""
    return {"states": [s.value for s in rules.STATES],
            "open_states": sorted(s.value for s in rules.OPEN_STATES),
            "outcomes": sorted(s.value for s in rules.OUTCOMES),
            "actions": [a.value for a in rules.Action],
            "levels": [lv.value for lv in rules.LEVELS], "kinds": list(rules.KINDS),
            "party_roles": list(rules.PARTY_ROLES), "small_count": rules.SMALL_COUNT,
            "limits": {"parties": rules.MAX_PARTIES, "mediators": rules.MAX_MEDIATORS,
                       "name": rules.MAX_NAME, "phone": rules.MAX_PHONE,
                       "address": rules.MAX_ADDRESS, "summary": rules.MAX_SUMMARY,
                       "note": rules.MAX_NOTE}}


def _shape(row: dict[str, Any], *, suppress: bool, extra: tuple[str, ...] = ()) -> dict[str, Any]:
    def shown(n: Any) -> int | None:
        return rules.suppressed(int(n)) if suppress else int(n)

    out: dict[str, Any] = {k: row[k] for k in extra}
    out["open"] = shown(row["open"])
    if "pending" in row:
        out["pending"] = shown(row["pending"])
    for period in ("month", "year"):
        out[period] = {name: shown(row[f"{name}_{period}"]) for name in COUNTED}
    return out


def _counts(session: Session, prefix: str, *, suppress: bool,
            with_place: bool) -> dict[str, Any]:
    month_start, year_start = rules.period_starts(datetime.now(UTC))
    point_keys = ("id", "level", "area_code", "code", "name") + (("lon", "lat") if with_place
                                                                  else ())
    return {
        "month_start": month_start.isoformat(), "year_start": year_start.isoformat(),
        "small_count": rules.SMALL_COUNT if suppress else None,
        "points": [_shape(r, suppress=suppress, extra=point_keys)
                   for r in repo.points(session, prefix, month_start, year_start)],
        "communities": [_shape(r, suppress=suppress, extra=("code", "name"))
                        for r in repo.communities(session, prefix, month_start, year_start)]}


def public_counts(factory: sessionmaker[Session], area: codes.AreaFilter) -> dict[str, Any]:
    """Per point and per community of an area, for anyone: counts of 1-4 suppressed."""
    with factory() as session:
        return _counts(session, area.prefix() or "", suppress=True, with_place=False)


def _default_area(principal: Principal) -> str:
    if principal.area_code:
        return principal.area_code
    communities = {g[:codes.width(codes.Level.COMMUNITY)] for g in principal.grids}
    return communities.pop() if len(communities) == 1 else ""


def staff_points(factory: sessionmaker[Session], principal: Principal,
                 area: codes.AreaFilter) -> dict[str, Any]:
    """Points serving an area (by default the reader's own) and those above it, with exact
    counts and their places, and per community; for people who read disputes."""
    who = disputes.reader(principal)
    prefix = area.prefix() or _default_area(who)
    with factory() as session:
        found = _counts(session, prefix, suppress=False, with_place=True)
    for point in found["points"]:
        point["staff"] = rules.is_point_staff(who, str(point["area_code"]))
    return {"area": prefix, **found}
