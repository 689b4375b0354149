"""Deterministic synthetic case history (民呼我应) for the demo: a year of cases with their events.

Pure: frames in, frames out, no database. Every event after the intake ("report") is produced by
`gridmap.cases.workflow.apply` with a person allowed to act, so each history is one the real workflow
permits; a case's row is read off its last transition. Histories are planned in full and cut at
``now``, so recent cases are still open in whatever state they had reached, some past deadline.
Everything is invented: reporters, phones (13xxxxxxxxx), descriptions and notes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from gridmap.access import Principal, Role
from gridmap.cases import deadlines, workflow
from gridmap.cases.workflow import Action, CaseView, State
from gridmap.demo.generator.names import person_names, phones

DAYS = 365
JITTER_M = 30.0
_M_PER_DEG_LAT = 110_574.0
_M_PER_DEG_LON_EQUATOR = 111_320.0

# Share of all cases per category over a year (unknown categories get a small default share).
CATEGORY_MIX = {
    "property_management": 0.16, "cityscape": 0.14, "heating": 0.12, "stairwell_lighting": 0.10,
    "water_supply": 0.08, "neighbour_dispute": 0.08, "elderly_support": 0.08, "power_supply": 0.04,
    "hardship_relief": 0.04, "safety_hazard": 0.04, "environment_pollution": 0.04,
    "market_order": 0.03, "public_order": 0.02, "gas": 0.015, "illegal_construction": 0.015,
}
# Month factors, January first; heating complaints follow Shenyang's season (1 Nov – 31 Mar).
SEASON = {
    "heating": (2.2, 1.8, 1.2, 0.2, 0.05, 0.05, 0.05, 0.05, 0.1, 0.6, 3.0, 2.5),
    "water_supply": (0.9, 0.9, 0.9, 1.0, 1.1, 1.3, 1.3, 1.2, 1.0, 0.9, 0.8, 0.8),
    "cityscape": (0.9, 0.8, 0.9, 1.1, 1.2, 1.2, 1.2, 1.1, 1.1, 1.0, 0.8, 0.9),
    "environment_pollution": (0.7, 0.7, 0.9, 1.0, 1.2, 1.3, 1.4, 1.3, 1.1, 0.9, 0.8, 0.7),
    "stairwell_lighting": (1.2, 1.1, 1.0, 0.9, 0.8, 0.8, 0.8, 0.8, 0.9, 1.1, 1.2, 1.3),
    "illegal_construction": (0.5, 0.5, 0.9, 1.3, 1.4, 1.3, 1.2, 1.2, 1.2, 1.0, 0.8, 0.6),
}
WEEKDAY = (1.15, 1.05, 1.05, 1.05, 1.0, 0.75, 0.7)  # Monday first
HOURLY = (0.1, 0.05, 0.05, 0.05, 0.1, 0.2, 0.5, 1.2, 2.2, 2.6, 2.5, 2.0,
          1.4, 1.6, 2.2, 2.3, 2.0, 1.6, 1.2, 1.1, 1.0, 0.7, 0.4, 0.2)
CHANNELS = {"grid_patrol": 0.40, "hotline_12345": 0.25, "resident": 0.15, "walk_in": 0.10,
            "proactive_visit": 0.10}
ON_FOOT = ("grid_patrol", "proactive_visit")  # found by the worker during working hours
RATINGS = {"satisfied": 0.80, "basically_satisfied": 0.14, "dissatisfied": 0.06}
RERATINGS = {"satisfied": 0.70, "basically_satisfied": 0.27, "dissatisfied": 0.03}
P = {"reporter": 0.70, "cancel": 0.03, "duplicate": 0.65, "return": 0.05, "whistle": 0.08,
     "suspend": 0.015, "reject": 0.03, "late_respond": 0.08, "late_resolve": 0.10,
     "secretary_acts": 0.2}
_UNIFORMS = 64  # pre-drawn uniforms per case; a history uses fewer (the stream wraps if not)

_INDOOR = "{b}{u}单元{f}楼"
OUTDOOR = frozenset({"cityscape", "illegal_construction", "environment_pollution", "market_order",
                     "public_order"})
_OUTDOOR = "{b}{near}"
DESCRIPTIONS: Mapping[str, tuple[str, ...]] = {
    "stairwell_lighting": ("{loc}楼道灯不亮，晚上上下楼看不清", "{loc}声控灯坏了好几天，老人走楼梯不安全",
                           "{loc}到顶楼的楼道灯全灭，希望尽快更换"),
    "heating": ("{loc}暖气不热，室温只有十五六度", "{loc}暖气片上热下凉，家里有老人孩子受不了",
                "{loc}供暖管道漏水，地面都湿了", "{loc}整个单元暖气温度偏低，已经一周了"),
    "water_supply": ("{loc}停水一天了，没有接到任何通知", "{loc}自来水发黄有异味",
                     "{loc}水压太低，楼上几户用不上水", "{loc}门口水表井冒水"),
    "gas": ("{loc}楼道里有燃气味，担心泄漏", "{loc}燃气表不走字，无法正常使用", "{loc}燃气管道锈蚀严重"),
    "power_supply": ("{loc}整个单元停电，原因不明", "{loc}电压不稳，电器频繁跳闸",
                     "{loc}楼道电表箱门损坏，电线外露"),
    "property_management": ("{loc}垃圾清运不及时，已经堆了好几天", "{loc}单元门禁坏了，外来人员随意进出",
                            "{loc}物业不作为，小区卫生无人打扫", "{loc}电梯经常停运，物业迟迟不修",
                            "{loc}屋顶漏雨，找物业多次未处理"),
    "cityscape": ("{loc}有乱堆乱放的杂物，影响通行", "{loc}路面破损积水，行人绕行",
                  "{loc}占道经营严重，早晚高峰堵塞", "{loc}绿化带被毁，裸土扬尘",
                  "{loc}积雪未清理，路面结冰"),
    "illegal_construction": ("{loc}有住户私搭乱建彩钢房", "{loc}一楼住户私自扩建院落，占用公共绿地",
                             "{loc}楼顶违规加盖阁楼"),
    "neighbour_dispute": ("{loc}楼上住户夜间噪音扰民，多次沟通无果", "{loc}邻居在楼道堆放杂物引发矛盾",
                          "{loc}楼上漏水到楼下，双方协商不成", "{loc}住户与邻居因停车位发生争执"),
    "elderly_support": ("{loc}独居老人行动不便，需要助餐服务", "{loc}高龄老人申请居家养老上门服务",
                        "{loc}老人子女不在身边，希望社区定期探访", "{loc}老人需要办理高龄补贴，不会线上操作"),
    "hardship_relief": ("{loc}居民因病致困，咨询临时救助", "{loc}低保户家庭生活困难，申请帮扶",
                        "{loc}失业人员咨询就业援助和培训"),
    "safety_hazard": ("{loc}楼道堆放杂物堵塞消防通道", "{loc}电动车在楼道内充电，存在火灾隐患",
                      "{loc}外墙瓷砖松动，有脱落危险", "{loc}井盖缺失，夜间容易踩空"),
    "public_order": ("{loc}夜间有人聚集喧哗滋事", "{loc}有可疑人员撬门入户，居民很担心",
                     "{loc}电动车电瓶多次被盗"),
    "environment_pollution": ("{loc}餐馆油烟直排，居民无法开窗", "{loc}施工噪音夜间不停",
                              "{loc}有人焚烧垃圾，烟味很大"),
    "market_order": ("{loc}商店销售过期食品", "{loc}无证摊贩售卖熟食，卫生堪忧", "{loc}药店价格不明码标价"),
}
_GENERIC_DESCRIPTION = ("{loc}居民反映的问题需要协调处理",)
_NEAR = ("楼下", "院内", "门前", "附近", "北侧", "南侧")
_PREFIX = {"grid_patrol": "网格员巡查发现：", "hotline_12345": "12345热线转办：市民来电反映",
           "resident": "居民反映：", "walk_in": "居民到社区反映：", "proactive_visit": "入户走访时了解到："}
_SUFFIX = ("。", "，希望尽快处理。", "，已经反映过一次，请尽快解决。", "，请相关部门协调解决。",
           "，影响正常生活。")
RESOLVE_NOTES = ("已到现场处置完毕，问题已解决", "已联系相关单位维修，恢复正常", "已协调处理并向居民反馈",
                 "经现场核实后完成整改")
NOTES = {
    "return": "经核实不属于本部门职责范围，请重新分派",
    "finish_part": "本部门协办部分已完成",
    "reject_verification": "现场核查问题仍未彻底解决，退回继续处置",
    "suspend": "需协调产权单位并等待施工条件，暂缓处置",
}


@dataclass(frozen=True)
class CaseInputs:
    """What the generator needs, as read from the demo database.

    Attributes
    ----------
    grids
        ``code``, ``community_code``, ``geometry`` (shapely polygon, EPSG:4326).
    buildings
        ``code``, ``name``, ``address``, ``grid_code``, ``residents``, ``lon``, ``lat`` (a point on
        the building's surface).
    people
        ``person_id``, ``role``, ``community_code``, ``department_code`` of everyone who may act.
    members
        ``grid_code``, ``person_id``, ``role`` (grid_member rows).
    enrollments
        ``grid_code``, ``department_code``, ``person_id`` (grid_enrollment rows).
    categories
        ``code``, ``default_departments`` (list), ``respond_hours``, ``resolve_hours``.
    """

    grids: pd.DataFrame
    buildings: pd.DataFrame
    people: pd.DataFrame
    members: pd.DataFrame
    enrollments: pd.DataFrame
    categories: pd.DataFrame


@dataclass(frozen=True)
class DemoCases:
    """Generated rows, linked by ``case_no`` (0-based, in order of ``created_at``).

    ``cases`` has the columns of table "case" (``lon``/``lat`` for the point, no id, and
    ``duplicate_of_no`` for duplicate_of: the earlier case's ``case_no``); ``events``
    has ``case_no``, ``seq`` and the columns of case_event, in history order; ``cohandlers`` has
    the columns of case_cohandler. Times are aware UTC timestamps.
    """

    cases: pd.DataFrame
    events: pd.DataFrame
    cohandlers: pd.DataFrame


class _Stop(Exception):
    """The history ends here: its next event would lie after ``now`` (or nobody may take it)."""


class _Stream:
    """A case's own pre-drawn uniforms, consumed one at a time."""

    __slots__ = ("_u", "_i")

    def __init__(self, u: list[float]) -> None:
        self._u, self._i = u, 0

    def __call__(self, low: float = 0.0, high: float = 1.0) -> float:
        value = self._u[self._i % len(self._u)]
        self._i += 1
        return low + (high - low) * value

    def pick(self, items: list[Any]) -> Any:
        return items[min(int(self() * len(items)), len(items) - 1)]


def generate_cases(inputs: CaseInputs, *, now: datetime, count: int = 20_000,
                   seed: int = 20231101) -> DemoCases:
    """Generate ``count`` cases reported in the 365 days before ``now`` with their histories.

    Parameters
    ----------
    now
        Aware datetime; histories are cut here, so cases near it are still open.
    count
        Number of cases.
    seed
        Same inputs, ``now`` and seed give identical frames.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    if count < 0:
        raise ValueError(f"count must be ≥ 0, got {count}")
    rng = np.random.default_rng([seed, 3])
    places = _usable_buildings(inputs)
    if count and places.empty:
        raise ValueError("no building in a grid with a grid worker: nothing to place cases at")
    codes = inputs.categories["code"].tolist()
    cat = rng.choice(len(codes), size=count, p=_mix(codes))
    channel_names = list(CHANNELS)
    channel = rng.choice(len(channel_names), size=count, p=list(CHANNELS.values()))
    created = _created_at(rng, now, codes, cat, np.isin(np.array(channel_names)[channel], ON_FOOT))
    order = np.argsort(created, kind="stable")
    cat, channel, created = cat[order], channel[order], created[order]
    weights = places["residents"].to_numpy(dtype=float) + 5.0
    b = rng.choice(len(places), size=count, p=weights / weights.sum())
    lon, lat = _points(rng, places, inputs.grids, b)
    frame = pd.DataFrame({
        "category": np.array(codes, dtype=object)[cat], "channel": np.array(channel_names)[channel],
        "created_s": created, "lon": lon, "lat": lat,
        "grid_code": places["grid_code"].to_numpy()[b], "building_code": places["code"].to_numpy()[b],
        "address": places["address"].to_numpy()[b],
    })
    frame["description"] = _descriptions(rng, frame, places["name"].to_numpy()[b])
    has_reporter = rng.random(count) < P["reporter"]
    frame["reporter_name"] = np.where(has_reporter, person_names(rng, count), "")
    frame["reporter_phone"] = np.where(has_reporter, phones(rng, count), "")
    plans = _plans(rng, count)
    uniforms = rng.random((count, _UNIFORMS))
    return _histories(inputs, frame, plans, uniforms, now.timestamp())


def _mix(codes: list[str]) -> npt.NDArray[np.float64]:
    p = np.array([CATEGORY_MIX.get(c, 0.01) for c in codes], dtype=np.float64)
    share: npt.NDArray[np.float64] = p / p.sum()
    return share


def _usable_buildings(inputs: CaseInputs) -> pd.DataFrame:
    workers = inputs.members.loc[inputs.members["role"] == "grid_worker", "grid_code"]
    b = inputs.buildings
    ok = b["grid_code"].isin(set(workers)) & b["grid_code"].isin(set(inputs.grids["code"]))
    return b.loc[ok].sort_values("code", kind="stable").reset_index(drop=True)


def _created_at(rng: np.random.Generator, now: datetime, codes: list[str], cat: npt.NDArray[np.int64],
                on_foot: npt.NDArray[np.bool_]) -> npt.NDArray[np.float64]:
    """Epoch seconds of reporting: day by season and weekday, hour by a local daytime curve."""
    local_today = (now + deadlines.LOCAL_UTC_OFFSET).date()
    days = pd.date_range(end=pd.Timestamp(local_today), periods=DAYS, freq="D")
    month, weekday = days.month.to_numpy() - 1, days.day_of_week.to_numpy()
    day = np.empty(len(cat), dtype=np.int64)
    for i, code in enumerate(codes):
        mask = cat == i
        w = np.asarray(SEASON.get(code, (1.0,) * 12))[month] * np.asarray(WEEKDAY)[weekday]
        day[mask] = rng.choice(DAYS, size=int(mask.sum()), p=w / w.sum())
    hourly = np.asarray(HOURLY)
    working = np.where((np.arange(24) >= 8) & (np.arange(24) < 18), hourly, 0.0)
    hour = np.where(on_foot, rng.choice(24, size=len(cat), p=working / working.sum()),
                    rng.choice(24, size=len(cat), p=hourly / hourly.sum()))
    midnight_utc = (days.tz_localize(UTC) - pd.Timedelta(deadlines.LOCAL_UTC_OFFSET)).as_unit("s").asi8
    seconds: npt.NDArray[np.float64] = (midnight_utc[day] + hour * 3600.0
                                        + np.floor(rng.random(len(cat)) * 3600.0))
    late = seconds >= now.timestamp()  # today, but later than now: the same hour a day earlier
    seconds[late] -= 86_400.0
    return seconds


def _points(rng: np.random.Generator, places: pd.DataFrame, grids: pd.DataFrame,
            b: npt.NDArray[np.int64]) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Within ~30 m of the building, but always inside its grid (else the building's own point)."""
    geom_by_code = pd.Series(grids["geometry"].to_numpy(), index=grids["code"].to_numpy())
    polygons = geom_by_code[places["grid_code"].to_numpy()[b]].to_numpy()
    shapely.prepare(polygons)
    x0, y0 = places["lon"].to_numpy(dtype=float)[b], places["lat"].to_numpy(dtype=float)[b]
    x, y = x0.copy(), y0.copy()
    todo = np.ones(len(b), dtype=bool)
    radius = JITTER_M
    for _ in range(4):  # retry the ones that fell outside, closer each time
        r = radius * np.sqrt(rng.random(len(b)))
        theta = rng.random(len(b)) * 2 * np.pi
        cx = x0 + r * np.cos(theta) / (_M_PER_DEG_LON_EQUATOR * np.cos(np.radians(y0)))
        cy = y0 + r * np.sin(theta) / _M_PER_DEG_LAT
        inside = todo & shapely.contains_xy(polygons, cx, cy)
        x[inside], y[inside] = cx[inside], cy[inside]
        todo &= ~inside
        radius /= 2
    if todo.any():  # the building's point itself, or failing that a point surely in the grid
        ok = shapely.contains_xy(polygons, x0, y0)
        fallback = todo & ~ok
        surface = shapely.point_on_surface(polygons[fallback])
        x[fallback], y[fallback] = shapely.get_x(surface), shapely.get_y(surface)
    return x, y


def _descriptions(rng: np.random.Generator, frame: pd.DataFrame,
                  names: npt.NDArray[np.object_]) -> list[str]:
    n = len(frame)
    unit, floor = rng.integers(1, 7, n), rng.integers(1, 19, n)
    u1, u2, u3 = rng.random(n), rng.random(n), rng.random(n)
    out = []
    for i, (category, channel) in enumerate(zip(frame["category"], frame["channel"], strict=True)):
        templates = DESCRIPTIONS.get(category, _GENERIC_DESCRIPTION)
        loc = (_OUTDOOR.format(b=names[i], near=_NEAR[int(u3[i] * len(_NEAR))]) if category in OUTDOOR
               else _INDOOR.format(b=names[i], u=unit[i], f=floor[i]))
        text = templates[int(u1[i] * len(templates))].format(loc=loc)
        out.append(_PREFIX[channel] + text + _SUFFIX[int(u2[i] * len(_SUFFIX))])
    return out


def _plans(rng: np.random.Generator, n: int) -> pd.DataFrame:
    """Each case's intended course, drawn once; the walk follows it as far as the workflow allows."""
    draws = {k: rng.random(n) < p for k, p in P.items() if k not in ("reporter", "secretary_acts")}
    first = rng.choice(list(RATINGS), size=n, p=list(RATINGS.values()))
    second = rng.choice(list(RERATINGS), size=n, p=list(RERATINGS.values()))
    return pd.DataFrame({**draws, "rating1": first, "rating2": second})


@dataclass
class _Ctx:
    """One case being walked through the workflow."""

    view: CaseView
    t: float
    now: float
    worker: Principal
    secretary: Principal | None
    staff: dict[str, Principal]
    rnd: _Stream
    events: list[tuple[Any, ...]]
    parts: dict[str, list[Any]]  # department -> [added_at, done, note, done_at]
    responded: float | None = None
    resolved: float | None = None
    closed: float | None = None

    def owner(self) -> Principal:
        v = self.view
        return self.worker if v.owner_kind != "department" else self.staff[str(v.owner_department)]

    def clerk(self) -> Principal:
        """Who records a dispatch, rating or closure: usually the grid worker."""
        if self.secretary is not None and self.rnd() < P["secretary_acts"]:
            return self.secretary
        return self.worker

    def do(self, action: Action, actor: Principal | None, after_h: float, **params: Any) -> None:
        at = max(self.t + after_h * 3600.0, self.t + 60.0)
        if at > self.now or actor is None:
            raise _Stop
        tr = workflow.apply(self.view, actor, action, **params)
        self.view, self.t = tr.case, at
        ev = tr.event
        self.events.append((ev.action.value, ev.from_state.value, ev.to_state.value, ev.actor_id,
                            ev.note, dict(ev.payload), at))
        if self.responded is None:
            self.responded = at
        if ev.to_state is State.RESOLVED:
            self.resolved = at
        if ev.to_state in workflow.TERMINAL_STATES:
            self.closed = at
        self._sync_parts(at)

    def _sync_parts(self, at: float) -> None:
        current = {c.department_code: c for c in self.view.cohandlers}
        for code in list(self.parts):
            if code not in current:
                del self.parts[code]
        for code, c in current.items():
            row = self.parts.setdefault(code, [at, False, "", None])
            if (row[1], row[2]) != (c.done, c.note):
                row[1], row[2], row[3] = c.done, c.note, at if c.done else None


@dataclass(frozen=True)
class _Roster:
    """Who acts where: each grid's worker, community secretary and enrolled staff."""

    worker_of: dict[str, Principal]
    secretary_of: dict[str, Principal]
    staff_of: dict[str, dict[str, Principal]]
    community_of: dict[str, str]


def _roster(inputs: CaseInputs) -> _Roster:
    actors = _actors(inputs)
    m = inputs.members[inputs.members["role"] == "grid_worker"]
    p = inputs.people
    sec = p[p["role"] == "community_secretary"].sort_values("person_id").drop_duplicates("community_code")
    staff: dict[str, dict[str, Principal]] = {}
    for g, d, pid in inputs.enrollments[["grid_code", "department_code", "person_id"]].itertuples(
            index=False):
        if pid in actors:
            staff.setdefault(g, {})[d] = actors[pid]
    return _Roster(
        worker_of={g: actors[pid] for g, pid in zip(m["grid_code"], m["person_id"], strict=True)},
        secretary_of={c: actors[pid] for c, pid in zip(sec["community_code"], sec["person_id"],
                                                        strict=True)},
        staff_of=staff,
        community_of=dict(zip(inputs.grids["code"], inputs.grids["community_code"], strict=True)))


def _histories(inputs: CaseInputs, frame: pd.DataFrame, plans: pd.DataFrame,
               uniforms: npt.NDArray[np.float64], now_s: float) -> DemoCases:
    roster = _roster(inputs)
    cats = {code: (list(deps), float(rh), float(sh)) for code, deps, rh, sh in inputs.categories[
        ["code", "default_departments", "respond_hours", "resolve_hours"]].itertuples(index=False)}
    rows: list[tuple[Any, ...]] = []
    events: list[tuple[Any, ...]] = []
    parts: list[tuple[Any, ...]] = []
    plan_rows = plans.to_dict("records")
    cases = frame[["category", "grid_code", "channel", "created_s"]].itertuples(index=False)
    for i, (category, grid, channel, created_s) in enumerate(cases):
        ctx = _report(roster, grid, channel, float(created_s), _Stream(uniforms[i].tolist()), now_s)
        defaults, respond_h, resolve_h = cats[category]
        try:
            _walk(ctx, plan_rows[i], defaults, respond_h, resolve_h)
        except _Stop:
            pass
        rows.append(_case_row(ctx, respond_h, resolve_h))
        events.extend((i, seq, *ev) for seq, ev in enumerate(ctx.events))
        parts.extend((i, d, done, note, added, done_at) for d, (added, done, note, done_at)
                     in ctx.parts.items())
    return _frames(frame, rows, events, parts)


def _report(roster: _Roster, grid: str, channel: str, at: float, rnd: _Stream, now_s: float) -> _Ctx:
    """A new case as intake leaves it, with its "report" event (intake's, not a workflow action)."""
    community = roster.community_of[grid]
    staff = roster.staff_of.get(grid, {})
    worker, secretary = roster.worker_of[grid], roster.secretary_of.get(community)
    ctx = _Ctx(view=CaseView(State.REPORTED, grid, community, None, None, frozenset(staff), (), None,
                             0, None),
               t=at, now=now_s, worker=worker, secretary=secretary, staff=staff, rnd=rnd, events=[],
               parts={})
    by_phone = channel in ("hotline_12345", "walk_in") and secretary is not None and rnd() < 0.5
    reporter = secretary if by_phone and secretary is not None else worker
    ctx.events.append(("report", None, "reported", reporter.person_id, "",
                       {"channel": channel, "grid": grid, "photos": 0}, at))
    return ctx


def _actors(inputs: CaseInputs) -> dict[int, Principal]:
    """Every acting person as the workflow would see them signed in with their post's account
    (the same scope gridmap/accounts/sql/principal.sql gives a grid worker, a community
    secretary as community staff, and a department's staff member). The synthetic events keep
    these person ids; no account is made here."""
    workers = inputs.members[inputs.members["role"] == "grid_worker"]
    member = workers.groupby("person_id")["grid_code"].agg(frozenset).to_dict()
    e = inputs.enrollments
    enrolled = e.groupby(["person_id", "department_code"])["grid_code"].agg(frozenset).to_dict()
    none: frozenset[str] = frozenset()
    actors: dict[int, Principal] = {}
    for pid, role, comm, dept in inputs.people[
            ["person_id", "role", "community_code", "department_code"]].itertuples(index=False):
        if role == "grid_worker":
            actors[int(pid)] = Principal(person_id=int(pid), role=Role.GRID_WORKER,
                                         grids=member.get(pid, none))
        elif role == "community_secretary" and isinstance(comm, str):
            actors[int(pid)] = Principal(person_id=int(pid), role=Role.COMMUNITY_STAFF, area_code=comm)
        elif role == "department_staff" and isinstance(dept, str):
            actors[int(pid)] = Principal(person_id=int(pid), role=Role.DEPARTMENT_STAFF,
                                         department_code=dept, grids=enrolled.get((pid, dept), none))
    return actors


def _walk(ctx: _Ctx, plan: Mapping[str, Any], defaults: list[str], respond_h: float,
          resolve_h: float) -> None:
    """Drive one case along its plan: dispatch → handle → resolve → verify → rate → close."""
    r, start = ctx.rnd, ctx.t
    respond = respond_h * (r(1.1, 3.0) if plan["late_respond"] else 0.05 + 0.85 * r() ** 2)
    if plan["cancel"] and r() < 0.6:
        ctx.do(Action.CANCEL, ctx.clerk(), respond, reason=_reason(plan))
        return
    right = [d for d in defaults if d in ctx.staff]
    target = r.pick(right) if right else None
    wrong = sorted(set(ctx.staff) - set(defaults))
    first = r.pick(wrong) if plan["return"] and wrong else target
    ctx.do(Action.DISPATCH, ctx.clerk(), respond, department=first)
    if plan["cancel"]:
        ctx.do(Action.CANCEL, ctx.clerk(), r(1, 24), reason=_reason(plan))
        return
    if first != target:
        if r() < 0.5:
            ctx.do(Action.START, ctx.owner(), r(0.2, 4))
        ctx.do(Action.RETURN, ctx.owner(), r(1, 12), note=NOTES["return"])
        ctx.do(Action.DISPATCH, ctx.worker, r(0.5, 6), department=target)
    ctx.do(Action.START, ctx.owner(), r(0.1, min(respond_h, 6.0)))
    if plan["suspend"]:
        ctx.do(Action.SUSPEND, ctx.secretary, r(2, 48), note=NOTES["suspend"])
        ctx.do(Action.RESUME, ctx.secretary, r(2, 20) * 24)
    if plan["whistle"] and Action.WHISTLE in workflow.allowed_actions(ctx.view, ctx.owner()):
        _whistle(ctx, defaults)
    due = start + resolve_h * 3600.0 * (r(1.05, 2.5) if plan["late_resolve"] else r(0.15, 0.9))
    _resolve(ctx, max((due - ctx.t) / 3600.0, 0.5))
    ratings = [plan["rating1"], plan["rating2"], "satisfied"]
    rounds = 0
    while True:
        if plan["reject"] and rounds == 0:
            ctx.do(Action.REJECT_VERIFICATION, ctx.secretary, r(2, 36), note=NOTES["reject_verification"])
            _resolve(ctx, resolve_h * r(0.1, 0.5))
        ctx.do(Action.VERIFY, ctx.secretary, r(2, 36))
        ctx.do(Action.RATE, ctx.clerk(), r(1, 72), rating=ratings[min(rounds, 2)])
        if ctx.view.state is State.RATED:
            break
        rounds += 1
        _resolve(ctx, resolve_h * r(0.2, 1.0))
    ctx.do(Action.CLOSE, ctx.clerk(), r(0.1, 24))


def _reason(plan: Mapping[str, Any]) -> str:
    return "duplicate" if plan["duplicate"] else "invalid"


def _whistle(ctx: _Ctx, defaults: list[str]) -> None:
    """Call in one or two further enrolled departments, related ones first (吹哨报到)."""
    r = ctx.rnd
    taken = {ctx.view.owner_department} | {c.department_code for c in ctx.view.cohandlers}
    related = [d for d in defaults if d in ctx.staff and d not in taken]
    others = sorted(set(ctx.staff) - taken - set(related))
    pool = related + [others[int(r() * len(others))]] if others else related
    chosen = sorted(set(pool[: 1 + int(r() < 0.4)]))
    ctx.do(Action.WHISTLE, ctx.owner(), r(1, 24), departments=chosen)


def _resolve(ctx: _Ctx, after_h: float) -> None:
    """Co-handlers finish their parts, then the owner resolves, ``after_h`` hours from now."""
    pending = [c.department_code for c in ctx.view.cohandlers if not c.done]
    for code in pending:
        ctx.do(Action.FINISH_PART, ctx.staff[code], after_h / (len(pending) + 1) * ctx.rnd(0.5, 1.0),
               note=NOTES["finish_part"])
    ctx.do(Action.RESOLVE, ctx.owner(), after_h / (len(pending) + 1),
           note=ctx.rnd.pick(list(RESOLVE_NOTES)), after_photos=int(ctx.rnd(0, 4)))


def _case_row(ctx: _Ctx, respond_h: float, resolve_h: float) -> tuple[Any, ...]:
    v = ctx.view
    owner_person = ctx.worker.person_id if v.owner_kind in ("grid", None) else None
    return (ctx.events[0][3], v.state.value, v.owner_kind, v.owner_department, owner_person,
            v.suspended_from.value if v.suspended_from else None, v.reopen_count, v.rating,
            ctx.t, ctx.responded, ctx.resolved, ctx.closed, len(ctx.events), respond_h, resolve_h,
            ctx.events[-1][5].get("reason") == "duplicate")


def _frames(frame: pd.DataFrame, rows: list[tuple[Any, ...]], events: list[tuple[Any, ...]],
            parts: list[tuple[Any, ...]]) -> DemoCases:
    cols = ["created_by", "state", "owner_kind", "owner_department", "owner_person_id",
            "suspended_from", "reopen_count", "rating", "updated_s", "responded_s", "resolved_s",
            "closed_s", "version", "respond_hours", "resolve_hours", "duplicate"]
    state = pd.DataFrame(rows, columns=cols, index=frame.index)
    cases = pd.concat([frame, state], axis=1)
    cases.insert(0, "case_no", np.arange(len(cases)))
    g = cases["grid_code"].str
    cases["community_code"], cases["subdistrict_code"] = g.slice(0, 12), g.slice(0, 9)
    cases["district_code"] = g.slice(0, 6)
    created = _ts(cases["created_s"])
    due = [deadlines.deadlines(t, respond_hours=rh, resolve_hours=sh) for t, rh, sh in zip(
        created.tolist(), cases["respond_hours"], cases["resolve_hours"], strict=True)]
    cases["created_at"], cases["updated_at"] = created, _ts(cases["updated_s"])
    cases["respond_by"] = pd.to_datetime([d.respond_by for d in due], utc=True)
    cases["resolve_by"] = pd.to_datetime([d.resolve_by for d in due], utc=True)
    for name in ("responded", "resolved", "closed"):
        cases[f"{name}_at"] = _ts(cases[f"{name}_s"])
    cases["owner_person_id"] = cases["owner_person_id"].astype("Int64")
    # A duplicate repeats the latest earlier case of its kind in the same grid.
    earlier = cases.groupby(["grid_code", "category"])["case_no"].shift()
    cases["duplicate_of_no"] = earlier.where(cases["duplicate"]).astype("Int64")
    cases["synthetic"] = True
    cases = cases.drop(columns=["created_s", "updated_s", "responded_s", "resolved_s", "closed_s",
                                "respond_hours", "resolve_hours", "duplicate"])
    ev = pd.DataFrame(events, columns=["case_no", "seq", "action", "from_state", "to_state",
                                       "actor_id", "note", "payload", "created_s"])
    ev["created_at"] = _ts(ev["created_s"])
    co = pd.DataFrame(parts, columns=["case_no", "department_code", "done", "note", "added_s",
                                      "done_s"])
    co["added_at"], co["done_at"] = _ts(co["added_s"]), _ts(co["done_s"])
    return DemoCases(cases, ev.drop(columns="created_s"),
                     co.drop(columns=["added_s", "done_s"]))


def _ts(seconds: pd.Series) -> pd.Series:
    """Epoch seconds (NaN for none) → aware UTC timestamps, to the microsecond."""
    micros = pd.to_numeric(seconds, errors="coerce").astype(float).mul(1e6).round()
    return pd.to_datetime(micros, unit="us", utc=True)

