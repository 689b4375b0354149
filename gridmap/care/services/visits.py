"""Visits to residents on the register, logged by the grid's worker; "needs help" opens a case.

A visit and the case it opens are one unit of work: both are saved or neither is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from gridmap.access import Principal, Role
from gridmap.care import rules
from gridmap.care.repositories import care as repo
from gridmap.care.services import register
from gridmap.cases.services import cases
from gridmap.crs import validate_lonlat
from gridmap.db import unit_of_work
from gridmap.errors import Forbidden, GridmapError, InvalidInput

CHANNEL = "proactive_visit"
"""The channel of the cases visits open (one of :data:`gridmap.cases.services.cases.CHANNELS`)."""
FUTURE_SLACK = timedelta(minutes=10)
"""A phone's clock may be a little ahead; a visit further in the future is refused."""
MAX_CLIENT_TOKEN = 64
"""Characters in a visit's client token (the column is 64 wide, as a case's)."""
BACKDATE_DAYS = 62
"""Visits may be logged afterwards, up to about two months back (the zero report's month and
the one before)."""


@dataclass(frozen=True)
class VisitRequest:
    """A visit as the phone page sends it."""

    findings: str = ""
    needs_help: bool = False
    visited_at: datetime | None = None  # None: now
    lon: float | None = None            # the phone's location (WGS84), when it gave one
    lat: float | None = None
    category: str = ""                  # the case's category when it needs help
    share_contact: bool = False         # put the resident's name and phone on the case
    client_token: str | None = None     # the same for every try of one visit (retries)


def _check(request: VisitRequest, now: datetime) -> datetime:
    problems: dict[str, str] = {}
    at = request.visited_at or now
    if at > now + FUTURE_SLACK or at < now - timedelta(days=BACKDATE_DAYS):
        problems["visited_at"] = (f"走访时间须在过去 {BACKDATE_DAYS} 天内，且不能晚于现在 "
                                  f"(visited_at must lie in the last {BACKDATE_DAYS} days)")
    if (request.lon is None) != (request.lat is None):
        problems["lon"] = "经度和纬度须同时提供 (give both lon and lat, or neither)"
    elif request.lon is not None and request.lat is not None:
        try:
            validate_lonlat(request.lon, request.lat)
        except GridmapError as exc:
            problems["lon"] = exc.message
    if len(request.findings.strip()) > rules.MAX_TEXT:
        problems["findings"] = (f"走访情况最多 {rules.MAX_TEXT} 个字符 "
                                f"(findings longer than {rules.MAX_TEXT} characters)")
    if request.needs_help and not request.findings.strip():
        problems["findings"] = "需要帮助时请写明情况 (describe what help is needed)"
    if request.needs_help and not request.category:
        problems["category"] = "需要帮助时请选择案件类别 (choose the case's category)"
    if problems:
        raise InvalidInput("；".join(problems.values()), fields=problems)
    return at


def log_visit(factory: sessionmaker[Session], principal: Principal, entry_id: int,
              request: VisitRequest) -> dict[str, Any]:
    """Record a visit by the grid's worker; with ``needs_help``, open a case linked to it.

    Raises
    ------
    NotFound
        The entry is outside the principal's scope.
    Forbidden
        The principal is not a grid worker of the entry's grid (staff over it see, not visit).
    InvalidInput
        Every problem of the request (and of the case, when it needs help) at once.
    """
    who = register.care_staff(principal)
    now = datetime.now(UTC)
    with unit_of_work(factory) as session:
        entry = register.entry_in_scope(session, who, entry_id)
        if who.role is not Role.GRID_WORKER:
            raise Forbidden("走访由本网格的网格员登记 (visits are logged by the grid's worker)")
        if request.client_token:
            existing = repo.visit_by_token(session, request.client_token)
            if existing is not None:
                return _existing(who, entry_id, existing)
        if not entry["active"]:
            raise InvalidInput("该登记对象已结案 (this entry is closed)")
        at = _check(request, now)
        case_id = _open_case(session, who, entry, request) if request.needs_help else None
        visit = repo.insert_visit(session, {
            "entry_id": entry_id, "visited_at": at, "visitor_id": who.person_id,
            "findings": request.findings.strip(), "needs_help": request.needs_help,
            "case_id": case_id, "client_token": request.client_token or None},
            request.lon, request.lat, far_m=rules.FAR_M)
    return _answer(visit["id"], case_id, visit["far"], visit["distance_m"], existing=False)


def _answer(visit_id: int, case_id: int | None, far: bool, distance_m: float | None, *,
            existing: bool) -> dict[str, Any]:
    return {"visit_id": visit_id, "case_id": case_id, "far": far, "existing": existing,
            "distance_m": None if distance_m is None else round(distance_m, 1)}


def _existing(who: Principal, entry_id: int, visit: dict[str, Any]) -> dict[str, Any]:
    """The visit a re-sent request already saved, if it is this worker's visit of this entry;
    a token is not a way to learn of someone else's visit."""
    if visit["entry_id"] != entry_id or visit["visitor_id"] != who.person_id:
        raise InvalidInput("client_token 已被使用，请刷新页面后重新填写 "
                           "(client_token already used: reload the page)")
    return _answer(int(visit["id"]), visit["case_id"], bool(visit["far"]), visit["distance_m"],
                   existing=True)


def _open_case(session: Session, who: Principal, entry: dict[str, Any],
               request: VisitRequest) -> int:
    """The case a visit's need becomes: at the building, in the entry's grid."""
    building = repo.building(session, str(entry["building_code"]))
    assert building is not None  # the entry's building (foreign key)
    place = " ".join(p for p in (str(entry["building_name"]), str(entry["unit"]),
                                 str(entry["household"])) if p)
    return cases.file_in(session, who, cases.IntakeRequest(
        category=request.category, description=request.findings.strip(), channel=CHANNEL,
        lon=float(building["lon"]), lat=float(building["lat"]), address=place[:200],
        reporter_name=str(entry["name"]) if request.share_contact else "",
        reporter_phone=str(entry["phone"]) if request.share_contact else "",
    ), grid_code=str(entry["grid_code"]))
