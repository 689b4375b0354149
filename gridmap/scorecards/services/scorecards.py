"""A level's monthly scorecard as the reader may see it, and its CSV and workbook.

The month is a Shenyang calendar month ``YYYY-MM`` (default: the last complete one). The units
are those of the level inside the reader's statistics area
(:meth:`gridmap.access.Principal.statistics_area`), or inside a narrower ``area`` they ask for;
ranks are among exactly the units shown. Every figure comes from a metric source (the cases;
the care register's visits and zero reports; the volunteers' tasks and hours), merged by unit
code.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from gridmap import codes, writers
from gridmap.access import Principal
from gridmap.care.services import scorecard as care_scorecard
from gridmap.cases.services import scorecard as case_scorecard
from gridmap.cases.services import stats as case_stats
from gridmap.errors import Forbidden, InvalidInput, Unauthorized
from gridmap.scorecards import columns as cols
from gridmap.scorecards import workbook
from gridmap.volunteers.services import scorecard as volunteer_scorecard

LEVELS: tuple[str, ...] = tuple(str(level) for level in case_scorecard.SCORECARD_LEVELS)
DEFAULT_SORT = "on_time_resolution_rate"
"""The rate the page ranks by until the reader picks another."""
LEVEL_ZH = {"grid": "网格", "community": "社区", "subdistrict": "街道", "department": "部门"}


@dataclass(frozen=True)
class MonthQuery:
    """A month (a month number, year × 12 + month − 1) and the area asked for (None: all
    the reader may see)."""

    month: int
    area: str | None
    as_of: datetime


Source = Callable[..., list[dict[str, Any]]]
SOURCES: dict[str, Source] = {cols.CASES: case_scorecard.case_scorecard,
                              cols.CARE: care_scorecard.care_scorecard,
                              cols.VOLUNTEERS: volunteer_scorecard.volunteer_scorecard}
"""Metric source → its query (keyword arguments: level, previous, start, end, as_of, area, lang;
one row per unit with ``code``, ``name``, its figures, ``rank_<rate>`` and ``prev_<figure>``)."""


def parse_month(args: Mapping[str, str], *, now: datetime) -> MonthQuery:
    """``month`` (default: last month) and ``area``; every problem in one 400."""
    problems: list[str] = []
    month = case_stats.this_month(now) - 1
    if args.get("month"):
        try:
            month = case_stats.month_index(args["month"])
        except ValueError:
            problems.append("month 须为 YYYY-MM 格式的月份 (month must be a month YYYY-MM)")
    area = args.get("area") or None
    if area is not None:
        try:
            codes.parse_area(area)
        except InvalidInput as exc:  # collected with the other problems
            problems.append(exc.message)
    if problems:
        raise InvalidInput("；".join(problems))
    return MonthQuery(month=month, area=area, as_of=now)


def parse_level(raw: str | None) -> str:
    """A scorecard level (grid, community, subdistrict, department), 400 otherwise."""
    if raw not in LEVELS:
        raise InvalidInput(f"level 须为 {' / '.join(LEVELS)} 之一 "
                           f"(level must be one of {', '.join(LEVELS)})")
    return raw


def reader_area(principal: Principal, asked: str | None) -> str | None:
    """The area a scorecard of ``asked`` covers for ``principal`` (see :func:`_area`): 401 for
    the public, 403 for a role without statistics or an area outside the reader's."""
    return _area(principal, asked)


def _area(principal: Principal, asked: str | None) -> str | None:
    """The area the scorecard covers: the one asked for, inside the reader's own."""
    if not principal.signed_in:
        raise Unauthorized(Unauthorized.MESSAGE)
    own = principal.statistics_area()
    if asked is None:
        return own
    if own is not None and not codes.nests(own, asked):
        raise Forbidden(f"{asked} 不在您的辖区 {own} 内 (outside your area {own})")
    return asked


def _change(value: Any, previous: Any) -> Any:
    if value is None or previous is None:
        return None
    change = value - previous
    # Hours are decimals: 12.5 - 12.2 is 0.3, not 0.30000000000000004 (rates keep 6 places).
    return round(change, 6) if isinstance(change, float) else change


def _merge(rows_by_source: Mapping[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Rows of every source joined by unit code, each with ``change_<figure>`` added and
    ``rank_change_<rate>`` (places gained: last month's rank − this month's)."""
    merged: dict[str, dict[str, Any]] = {}
    for rows in rows_by_source.values():
        for row in rows:
            merged.setdefault(row["code"], {"code": row["code"], "name": row["name"]}).update(row)
    out = []
    for row in merged.values():
        row.pop("m", None)
        for column in cols.COLUMNS:
            row.setdefault(column.key, None)  # a source without this level: empty, not zero
            row[f"change_{column.key}"] = _change(row.get(column.key), row.get(f"prev_{column.key}"))
            if column.ranked:
                row.setdefault(f"rank_{column.key}", None)
                row[f"rank_change_{column.key}"] = _change(row.get(f"prev_rank_{column.key}"),
                                                           row.get(f"rank_{column.key}"))
        out.append(row)
    return sorted(out, key=lambda r: str(r["code"]))


def scorecard(session: Session, principal: Principal, level: str, q: MonthQuery, *,
              lang: str) -> dict[str, Any]:
    """One level's scorecard for the month: the columns and a row per unit."""
    area = _area(principal, q.area)
    bounds = {"previous": case_stats.month_start_utc(q.month - 1),
              "start": case_stats.month_start_utc(q.month),
              "end": case_stats.month_start_utc(q.month + 1)}
    rows = {name: source(session, level=level, as_of=q.as_of, area=area, lang=lang, **bounds)
            for name, source in SOURCES.items()}
    return {"level": level, "month": case_stats.month_text(q.month),
            "previous_month": case_stats.month_text(q.month - 1), "area": area,
            "as_of": q.as_of.isoformat(), "columns": [_describe(c, lang) for c in cols.COLUMNS],
            "rows": _merge(rows)}


def _describe(column: cols.Column, lang: str) -> dict[str, Any]:
    return {"key": column.key, "label": cols.header(column, lang=lang), "kind": column.kind,
            "ranked": column.ranked, "lower_is_better": column.lower_is_better,
            "definition": column.definition_en if lang == "en" else column.definition_zh}


def csv_header(*, lang: str) -> tuple[list[str], list[str]]:
    """The CSV's keys and headings: code, name, then per column its value, last month's,
    the change and (ranked ones) the rank."""
    keys, heads = ["code", "name"], (["Code", "Name"] if lang == "en" else ["代码", "名称"])
    for c in cols.COLUMNS:
        h = cols.header(c, lang=lang)
        keys += [c.key, f"prev_{c.key}", f"change_{c.key}"]
        heads += [h, f"{h} (上月)" if lang != "en" else f"{h} (last month)",
                  f"{h} (环比)" if lang != "en" else f"{h} (change)"]
        if c.ranked:
            keys.append(f"rank_{c.key}")
            heads.append(f"{h} 排名" if lang != "en" else f"{h} rank")
    return keys, heads


def csv_chunks(body: Mapping[str, Any], *, lang: str) -> Iterator[str]:
    """The scorecard as CSV (UTF-8 with BOM, formula-safe: :func:`gridmap.writers.csv_rows`)."""
    keys, heads = csv_header(lang=lang)
    return writers.csv_rows(keys, body["rows"], header=heads)


Sheet = tuple[str, str, dict[str, Any]]
"""A workbook sheet: the level, the sheet's name and the level's scorecard."""


def workbook_sheet(session: Session, principal: Principal, level: str, q: MonthQuery, *,
                   lang: str) -> Sheet:
    """One level's sheet of the workbook."""
    return (level, LEVEL_ZH[level] if lang != "en" else level,
            scorecard(session, principal, level, q, lang=lang))


def build_workbook(sheets: list[Sheet], q: MonthQuery, *, lang: str) -> bytes:
    """The workbook of ``sheets`` (a sheet per level, and the definitions)."""
    return workbook.build(sheets, month=case_stats.month_text(q.month), lang=lang)


def workbook_bytes(session: Session, principal: Principal, q: MonthQuery, *,
                   lang: str) -> bytes:
    """Every level's scorecard for the month in one workbook (a sheet per level, and the
    definitions)."""
    sheets = [workbook_sheet(session, principal, level, q, lang=lang) for level in LEVELS]
    return build_workbook(sheets, q, lang=lang)


def month_label(q: MonthQuery) -> str:
    """The month asked for as ``YYYY-MM``."""
    return case_stats.month_text(q.month)


def page_settings(principal: Principal, now: datetime) -> dict[str, Any]:
    """What the page starts from: the levels (tabs), the tab it opens on, the default month
    and ranking. A reader of the whole city opens on sub-districts: 14,471 grid rows are a
    download, not a first page."""
    last = case_stats.month_text(case_stats.this_month(now) - 1)
    city = _area(principal, None) is None
    return {"levels": list(LEVELS), "defaultLevel": "subdistrict" if city else LEVELS[0],
            "defaultMonth": last, "defaultSort": DEFAULT_SORT}
