"""Case statistics (统计分析) for one unit and a range of months.

Units: a district 区 (6-digit code), sub-district 街道 (9), community 社区 (12), grid 网格 (15), or
a department 部门 (its code; a department's cases are those it currently owns,
``case.owner_department``). Months are calendar months in Shenyang (UTC+8); a case belongs to the
month in which it was reported (``created_at``), and every figure of that month describes those
cases as they stand *now* (at ``as_of``), i.e. a cohort view: a case reported in March and
resolved in April improves March's resolution rate.

Counts, for the cases reported in the month (or the whole range, or a child unit):

- ``cases``: cases reported (上报量), including cancelled ones.
- ``cancelled``: cancelled as duplicate or invalid (作废). All rates below leave them out: their
  denominators are the remaining ``valid`` cases.
- response rate 响应率 = ``responded / valid``: share that has been responded to at all
  (``responded_at`` set: the first dispatch or cancel, see :func:`gridmap.cases.workflow.is_response`).
- on-time response rate 按时响应率 = ``responded_on_time / response_decided``: share whose first
  response came by ``respond_by``, among the cases whose outcome is known (responded, or the
  deadline has passed); cases still inside their deadline are not counted either way.
- resolution rate 解决率 = ``resolved / valid``: share now resolved, verified, rated or closed (a
  case reopened after a dissatisfied rating no longer counts until resolved again).
- on-time resolution rate 按时办结率 = ``resolved_on_time / resolution_decided``: share resolved
  (as above) with its latest ``resolved_at`` by ``resolve_by``, among the cases resolved or past
  ``resolve_by``.
- satisfaction rate 满意率 = ``satisfied / rated``: cases whose LAST rating (the newest ``rate``
  event in ``case_event``; a dissatisfied case re-rated later counts with its new rating) is
  satisfied or basically satisfied, over all cases with at least one rating.
- median handling time 办理时长中位数 (hours): median of ``resolved_at − created_at`` over the
  cases counted as resolved (``percentile_cont(0.5)``, interpolated).
- cases per 1,000 residents 千人案件量 = ``cases × 1000 / residents``. Residents are the sum of
  ``building.residents`` over the unit's grids. For a department the population it serves is
  that of the grids where it is enrolled (网格报到, ``grid_enrollment``), a denominator that does
  not depend on where its cases happened to fall. Per month it is that month's cases.
- ``states``: where the cases reported in the range stand now (status counts).
- ``top_categories``: the five categories with most cases in the range.
- ``children``: the same figures for the unit's children: district → its sub-districts,
  sub-district → communities, community → grids, department → the sub-districts where it owns
  cases in the range; a grid has none. Territorial children with no case are listed with zeros.

A rate whose denominator is 0 is ``null``, never 0 or 100 %.

Who sees what: statistics are counts and rates, no resident's data, for the roles in
:data:`gridmap.access.STATISTICS_ROLES` (supervisors, planners, administrators), each for
:meth:`~gridmap.access.Principal.statistics_area` (a district, sub-district or community, or the
whole city). A territorial unit outside that area is refused (403); a department's figures are
limited to its cases and enrolled grids inside the area.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from gridmap import codes
from gridmap.access import Principal
from gridmap.cases import workflow
from gridmap.cases.deadlines import LOCAL_UTC_OFFSET
from gridmap.cases.repositories import stats as repo
from gridmap.cases.repositories.stats import COUNT_COLUMNS, DEPARTMENT, LEVELS, StatsQuery
from gridmap.codes import Level
from gridmap.errors import Forbidden, InvalidInput, NotFound, Unauthorized
from gridmap.web import params

_LEVEL_ZH = {"district": "区", "subdistrict": "街道", "community": "社区", "grid": "网格",
             "department": "部门"}
DEFAULT_MONTHS = 12
MAX_MONTHS = 36
TOP_CATEGORIES = 5
_MONTH = re.compile(r"([0-9]{4})-(0[1-9]|1[0-2])")
_DEPARTMENT = re.compile(r"[a-z0-9_]{1,40}")
# rate name -> (numerator, denominator)
RATES = {"response_rate": ("responded", "valid"),
         "on_time_response_rate": ("responded_on_time", "response_decided"),
         "resolution_rate": ("resolved", "valid"),
         "on_time_resolution_rate": ("resolved_on_time", "resolution_decided"),
         "satisfaction_rate": ("satisfied", "rated")}


def _month_index(text: str) -> int:
    match = _MONTH.fullmatch(text)
    if match is None or not params.MIN_DAY.year <= int(match[1]) <= params.MAX_DAY.year:
        raise ValueError(text)
    return int(match[1]) * 12 + int(match[2]) - 1


def _month_text(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def _month_start_utc(index: int) -> datetime:
    """The instant a Shenyang calendar month begins."""
    return datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC) - LOCAL_UTC_OFFSET


month_index = _month_index
"""``YYYY-MM`` → a month number (year × 12 + month − 1); ValueError outside the allowed years."""
month_text = _month_text


def this_month(now: datetime) -> int:
    """The month number of the Shenyang calendar month holding ``now``."""
    local = now.astimezone(UTC) + LOCAL_UTC_OFFSET
    return local.year * 12 + local.month - 1



month_start_utc = _month_start_utc


def parse_query(args: Mapping[str, str], *, now: datetime) -> tuple[StatsQuery, list[str]]:
    """The unit and months asked for, and the months' labels; every problem in one 400."""
    problems: list[str] = []
    level = args.get("level") or ""
    code = args.get("code") or ""
    if level not in LEVELS:
        problems.append(f"level 须为 {' / '.join(LEVELS)} 之一 (level must be one of {', '.join(LEVELS)})")
    elif level == DEPARTMENT and not _DEPARTMENT.fullmatch(code):
        problems.append("code 须为部门代码 (code must be a department code)")
    elif level != DEPARTMENT:
        try:
            codes.parse(code, level, field="code")
        except InvalidInput as exc:  # collected: every problem goes into one 400
            problems.append(exc.message)
    local_now = now.astimezone(UTC) + LOCAL_UTC_OFFSET
    this_month = local_now.year * 12 + local_now.month - 1
    bounds: dict[str, int] = {"from": this_month - DEFAULT_MONTHS + 1, "to": this_month}
    for name in ("from", "to"):
        raw = args.get(name)
        if raw:
            try:
                bounds[name] = _month_index(raw)
            except ValueError:
                problems.append(f"{name} 须为 {params.MIN_DAY.year}–{params.MAX_DAY.year} 年间的 "
                                f"YYYY-MM 月份 ({name} must be a month YYYY-MM in "
                                f"{params.MIN_DAY.year}..{params.MAX_DAY.year})")
    if not problems and bounds["from"] > bounds["to"]:
        problems.append("起始月份晚于截止月份 (from is after to)")
    elif not problems and bounds["to"] - bounds["from"] + 1 > MAX_MONTHS:
        problems.append(f"月份范围最多 {MAX_MONTHS} 个月 (at most {MAX_MONTHS} months)")
    if problems:
        raise InvalidInput("；".join(problems))
    months = [_month_text(i) for i in range(bounds["from"], bounds["to"] + 1)]
    query = StatsQuery(level=level, code=code, start=_month_start_utc(bounds["from"]),
                       end=_month_start_utc(bounds["to"] + 1), as_of=now)
    return query, months


def metrics(counts: Mapping[str, Any] | None, residents: int | None) -> dict[str, Any]:
    """Counts, rates (0–1, or None without a denominator), median hours and cases per 1,000."""
    counts = counts or {}
    out: dict[str, Any] = {name: int(counts.get(name) or 0) for name in COUNT_COLUMNS}
    for rate, (num, den) in RATES.items():
        out[rate] = out[num] / out[den] if out[den] else None
    median = counts.get("median_hours")
    out["median_hours"] = None if median is None else round(float(median), 2)
    out["residents"] = residents
    out["per_1000"] = (round(out["cases"] * 1000 / residents, 3) if residents else None)
    return out


def _area(principal: Principal) -> str | None:
    """The area whose statistics ``principal`` sees (None: the city); 401/403 for others."""
    if not principal.signed_in:
        raise Unauthorized(Unauthorized.MESSAGE)
    return principal.statistics_area()


def scoped(principal: Principal, q: StatsQuery) -> StatsQuery:
    """``q`` as ``principal`` may ask it: a unit inside their area, a department limited to it.

    Raises
    ------
    Forbidden
        For a role without statistics, or a territorial unit outside the principal's area.
    """
    area = _area(principal)
    if area is None:
        return q
    if q.level == DEPARTMENT:
        return replace(q, area=area)
    if not codes.nests(area, q.code):
        raise Forbidden(f"{q.code} 不在您的辖区 {area} 内 (outside your area {area})")
    return q


def stats(session: Session, principal: Principal, q: StatsQuery, months: list[str], *,
          lang: str) -> dict[str, Any]:
    """The whole dashboard for one unit as ``principal`` may see it: totals, months, children,
    categories, states (see :func:`scoped`)."""
    q = scoped(principal, q)
    path = repo.unit_path(session, q.level, q.code, lang=lang)
    if not path:
        raise NotFound(f"没有代码为 {q.code} 的{_LEVEL_ZH[q.level]} (no {q.level} with code {q.code})")
    rows = repo.grouped_counts(session, q)
    by_set: dict[str, dict[str | None, Mapping[str, Any]]] = {}
    for row in rows:
        by_set.setdefault(row["set"], {})[row["key"]] = row
    residents = repo.residents(session, q.level, q.code, area=q.area)
    unit_residents = sum(residents.values())
    return {
        "unit": {**path[-1], "path": path}, "from": months[0], "to": months[-1],
        "as_of": q.as_of.isoformat(), "child_level": _child_level(q.level),
        "total": metrics(by_set.get("total", {}).get(None), unit_residents),
        "months": [{"month": m, **metrics(by_set.get("month", {}).get(m), unit_residents)}
                   for m in months],
        "children": _children(session, q, by_set.get("child", {}), residents),
        "top_categories": _top_categories(session, by_set.get("category", {}), lang=lang),
        "states": {state: int(row["cases"]) for state, row in by_set.get("state", {}).items()},
    }


def pickers(session: Session, principal: Principal, *, lang: str) -> dict[str, Any]:
    """The districts and departments the page offers as starting units, and ``home``: the unit
    the page opens on (the principal's area; for the whole city, the district with the most
    cases, never an arbitrary empty one, with ``busiest`` so that the page says why; None when
    there is no case at all)."""
    area = _area(principal)
    if area is None:
        area_home = repo.busiest_district(session)
        home = ({"level": Level.DISTRICT.value, "code": area_home, "busiest": True}
                if area_home else None)
        return {**repo.pickers(session, area=None, lang=lang), "home": home}
    level = codes.level_of(area)
    home = {"level": level.value, "code": area} if level is not None else None
    return {**repo.pickers(session, area=area, lang=lang), "home": home}


def _child_level(level: str) -> str | None:
    child = repo.child_level(level)
    return None if child is None else child.value


def _children(session: Session, q: StatsQuery, rows: Mapping[str | None, Mapping[str, Any]],
              residents: Mapping[str, int]) -> list[dict[str, Any]]:
    if q.level == DEPARTMENT:
        names = repo.subdistrict_names(session, [code for code in rows if code is not None])
    else:
        names = repo.child_names(session, q.level, q.code)
    return [{"code": code, "name": name, **metrics(rows.get(code), residents.get(code))}
            for code, name in sorted(names.items())]


def _top_categories(session: Session, rows: Mapping[str | None, Mapping[str, Any]], *,
                    lang: str) -> list[dict[str, Any]]:
    top = sorted(rows.values(), key=lambda r: (-int(r["cases"]), str(r["key"])))[:TOP_CATEGORIES]
    names = repo.category_names(session, [str(r["key"]) for r in top], lang=lang)
    return [{"code": r["key"], "name": names.get(str(r["key"]), r["key"]), "cases": int(r["cases"])}
            for r in top]


def operational_counts(session: Session) -> tuple[dict[str, int], int]:
    """Cases by state and overdue cases, city-wide: figures for operations, not for people
    (they name no area and no resident; the metrics endpoint is for administrators)."""
    by_state = {s.value: 0 for s in workflow.State} | repo.cases_by_state(session)
    overdue = repo.overdue_count(session, now=datetime.now(UTC),
                                 states=workflow.state_values(workflow.UNRESOLVED_STATES))
    return by_state, overdue
