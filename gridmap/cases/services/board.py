"""The case board: filters from a request, keyset cursors, rows with deadline flags, exports.

Every read is limited to the principal's scope in SQL (:func:`queries.reader_scope`): a grid
worker's grids, a supervisor's area, a department's cases in its enrolled grids, everything for
an administrator. Board rows carry no reporter's name or phone; exports carry the name and the
masked phone (and exact points), so each export is logged (:func:`personal.log_export`).
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.orm import Session

from gridmap import codes, writers
from gridmap.access import Principal
from gridmap.cases import deadlines, workflow
from gridmap.cases.privacy import mask_phone
from gridmap.cases.repositories import board as repo
from gridmap.cases.repositories import points as points_repo
from gridmap.cases.repositories.board import BoardFilter, Keyset
from gridmap.cases.repositories.points import Bbox, Points
from gridmap.cases.services.queries import reader_scope
from gridmap.errors import InvalidInput
from gridmap.web import params
from gridmap.writers import json_safe

_STATES = {s.value for s in workflow.State}
CSV_COLUMNS = ("id", "category_name", "state", "description", "grid_code", "grid_name",
               "community_code", "community_name",
               "owner_department_name", "channel", "created_at", "respond_by", "resolve_by",
               "resolved_at", "closed_at", "overdue", "rating", "reporter_name",
               "reporter_phone", "lon", "lat")


MAX_TEXT_CHARS = 100


def parse_filter(args: Mapping[str, str], principal: Principal | None = None) -> BoardFilter:
    """Board filters from query parameters; every problem in one 400 message.

    ``q`` is text to find (case number, description, address); ``my_grid`` and ``my_cases`` are
    the quick filters of ``principal`` (their grids; the cases they reported or own).
    """
    problems: list[str] = []
    states = tuple(s for s in (args.get("state") or "").split(",") if s)
    unknown = [s for s in states if s not in _STATES]
    if unknown:
        problems.append(f"未知状态 {params.shown(', '.join(unknown))} (unknown state)")
    areas: dict[str, str | None] = {}
    for level in codes.LEVELS:
        value = args.get(level) or None
        if value and not codes.is_code(value, level):
            problems.append(f"{level} 须为 {codes.width(level)} 位代码 "
                            f"({level} must be a {codes.width(level)}-digit code)")
        areas[level.value] = value
    dates: dict[str, date | None] = {"from": None, "to": None}
    for name in dates:
        try:
            dates[name] = params.day(args, name)
        except InvalidInput as exc:  # collected: every problem goes into one 400
            problems.append(exc.message)
    flags = dict.fromkeys(("overdue", "my_grid", "my_cases"), False)
    for name in flags:
        try:
            flags[name] = params.flag(args, name)
        except InvalidInput as exc:
            problems.append(exc.message)
    text = None
    try:
        text = params.text(args, "q", max_chars=MAX_TEXT_CHARS).strip() or None
    except InvalidInput as exc:
        problems.append(exc.message)
    me = principal or Principal()
    if flags["my_grid"] and not me.grids:
        problems.append("您没有负责或报到的网格，无法按“我的网格”筛选 (you have no grids of your own)")
    if flags["my_cases"] and me.person_id is None:
        problems.append("此账号未关联人员，无法按“我的案件”筛选 (this account is not a person)")
    for name in ("category", "department"):
        if args.get(name) and not re.fullmatch(r"[a-z0-9_]{1,40}", args[name]):
            problems.append(f"{name} 无效 (invalid {name})")
    if problems:
        raise InvalidInput("；".join(problems))
    return BoardFilter(states=states, category=args.get("category") or None,
                       department=args.get("department") or None,
                       date_from=dates["from"], date_to=dates["to"],
                       overdue_only=flags["overdue"], text=text,
                       grids=tuple(sorted(me.grids)) if flags["my_grid"] else None,
                       person_id=me.person_id if flags["my_cases"] else None, **areas)


def encode_cursor(as_of: datetime, row: Mapping[str, Any]) -> str:
    """An opaque cursor after ``row`` (its section and key), with the board's instant."""
    key = row["resolve_by"] if row["section"] == 1 else row["created_at"]
    raw = json.dumps({"s": row["section"], "k": key.isoformat(), "i": row["id"],
                      "n": as_of.isoformat()})
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, Keyset]:
    """The instant and keyset of a cursor made by :func:`encode_cursor`."""
    try:
        if len(cursor) > _MAX_CURSOR:
            raise ValueError(cursor)
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)),
                         parse_constant=_no_constant)
        section, case_id = raw["s"], raw["i"]
        if not all(type(v) is int for v in (section, case_id)) or not 0 < case_id <= params.MAX_ID:
            raise ValueError(cursor)  # Infinity, 1e400, 2**70: no key of ours
        keyset = Keyset(section, datetime.fromisoformat(raw["k"]), case_id)
        as_of = datetime.fromisoformat(raw["n"])
        params.check_day(keyset.key, "cursor")
        params.check_day(as_of, "cursor")
    except (ValueError, KeyError, TypeError, InvalidInput):
        raise InvalidInput("cursor 无效，请从第一页重新开始 (invalid cursor)") from None
    if keyset.section not in (1, 2) or as_of.tzinfo is None or keyset.key.tzinfo is None:
        raise InvalidInput("cursor 无效，请从第一页重新开始 (invalid cursor)")
    return as_of, keyset


_MAX_CURSOR = 400


def _no_constant(name: str) -> Any:
    raise ValueError(name)


def _row(row: Mapping[str, Any], as_of: datetime) -> dict[str, Any]:
    status = deadlines.resolution_status(row["created_at"], row["resolve_by"], now=as_of,
                                        resolved_at=row["resolved_at"])
    out = {k: v for k, v in row.items() if k != "section"}
    out["overdue"] = row["section"] == 1 or status is deadlines.DueStatus.OVERDUE
    out["soon_due"] = status is deadlines.DueStatus.SOON_DUE
    if "reporter_phone" in row:  # exports: masked, always
        out["reporter_phone"] = mask_phone(row["reporter_phone"])
    return out


def page(session: Session, principal: Principal, f: BoardFilter, *, cursor: str | None,
         limit: int, lang: str) -> dict[str, Any]:
    """One page of the principal's board and the cursor of the next (None at the end)."""
    scope = reader_scope(principal)
    as_of, after = decode_cursor(cursor) if cursor else (datetime.now(UTC), None)
    rows = repo.page(session, f, scope, as_of=as_of, after=after, limit=limit + 1, lang=lang)
    more = len(rows) > limit
    rows = rows[:limit]
    body = {"cases": [_row(r, as_of) for r in rows],
            "next_cursor": encode_cursor(as_of, rows[-1]) if more and rows else None}
    return json_safe(body)  # type: ignore[no-any-return]


def _export_rows(session: Session, principal: Principal, f: BoardFilter, *,
                 lang: str) -> Iterator[dict[str, Any]]:
    """Every filtered row of the principal's scope with the reporter's name and masked phone,
    JSON-safe, in board order."""
    scope = reader_scope(principal)
    as_of = datetime.now(UTC)
    for row in repo.all_rows(session, f, scope, as_of=as_of, lang=lang):
        yield json_safe(_row({**row, "section": 0}, as_of))


def csv_lines(session: Session, principal: Principal, f: BoardFilter, *,
              lang: str) -> Iterator[str]:
    """The principal's filtered board as CSV, safe to open in Excel/WPS (see
    :func:`gridmap.writers.csv_rows`)."""
    return writers.csv_rows(CSV_COLUMNS, _export_rows(session, principal, f, lang=lang))


def geojson_chunks(session: Session, principal: Principal, f: BoardFilter, *,
                   lang: str) -> Iterator[str]:
    """The principal's filtered board as an RFC 7946 FeatureCollection of points (phones
    masked)."""
    def features() -> Iterator[str]:
        for props in _export_rows(session, principal, f, lang=lang):
            point = {"type": "Point", "coordinates": [props.pop("lon"), props.pop("lat")]}
            yield writers.feature(geometry=point, properties=props, feature_id=props["id"])

    return writers.feature_collection(features())


def points(session: Session, principal: Principal, f: BoardFilter, *,
           bbox: Bbox | None) -> Points:
    """The case map's compact points of the principal's scope for the board's filters inside
    ``bbox``, up to the cap."""
    return points_repo.points(session, f, reader_scope(principal), bbox=bbox,
                              cap=points_repo.POINT_CAP)
