"""Coverage computes as background jobs: one rule, or every rule ("计算全部" on the audit page);
and siting over a whole district, which takes seconds and a few hundred MB (out of the web
workers, which must stay small).

Each rule is computed in one transaction (:func:`~gridmap.coverage.services.compute.compute`),
so a job cancelled or killed mid-way leaves the rule's previous run current and stores nothing
of its own; a "compute all" stopped half-way keeps the rules it had finished. Planners, data
officers and administrators start them; every coverage reader may watch them (the audit page
shows the progress to all its readers). One job per rule, and one "compute all", runs at a
time: starting it again returns the job already under way. A planner runs one siting job at a
time (a second is a 409, as for siting in a request); only they watch it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from gridmap import codes
from gridmap.access import Principal, Role
from gridmap.coverage.repositories import queries as names_repo
from gridmap.coverage.services import compute as computing
from gridmap.coverage.services import readers
from gridmap.coverage.services import siting as siting_service
from gridmap.coverage.services.planning import PlanningRunning
from gridmap.coverage.services.readers import READERS
from gridmap.errors import Forbidden, Unauthorized
from gridmap.jobs.services import jobs
from gridmap.jobs.services.runner import Handler, Progress

COMPUTE = "coverage.compute"
COMPUTE_ALL = "coverage.compute_all"
SITE = "coverage.site"
KINDS = (COMPUTE, COMPUTE_ALL, SITE)
COMPUTERS = frozenset({Role.PLANNER, Role.DATA_OFFICER, Role.ADMIN})
"""Roles that start coverage computes (a compute replaces the city's current run of a rule)."""

STEPS = {"load": (0.0, "读取街道、建筑与设施"), "graph": (0.15, "构建路网并吸附"),
         "shortest paths": (0.45, "计算最短路径"), "store": (0.75, "保存结果")}
"""Each compute step: where it starts within one rule (fraction) and how the bar names it."""


def _ensure_computer(principal: Principal) -> None:
    if not principal.signed_in:
        raise Unauthorized(Unauthorized.MESSAGE)
    if not principal.has(*COMPUTERS):
        raise Forbidden("只有规划人员、数据管理员和系统管理员可以计算覆盖 (only planners, data "
                        "officers and administrators may compute coverage)")


def start_compute(factory: sessionmaker[Session], principal: Principal, facility_type: str,
                  circle: str, *, request_id: str | None = None) -> tuple[dict[str, Any], bool]:
    """Queue a compute of one rule; the job and whether it is new (see :func:`jobs.start`)."""
    _ensure_computer(principal)
    with factory() as session:
        computing.rule(session, facility_type, circle)  # 400 for a rule that does not exist
    spec = jobs.Spec(COMPUTE, {"facility_type": facility_type, "circle": circle},
                     watchers=READERS, dedupe_key=f"{COMPUTE}:{facility_type}:{circle}")
    return jobs.start(factory, principal, spec, request_id=request_id)


def start_compute_all(factory: sessionmaker[Session], principal: Principal, *,
                      if_missing: bool = False,
                      request_id: str | None = None) -> tuple[dict[str, Any], bool]:
    """Queue a compute of every rule (only the missing ones with ``if_missing``)."""
    _ensure_computer(principal)
    spec = jobs.Spec(COMPUTE_ALL, {"if_missing": if_missing}, watchers=READERS,
                     dedupe_key=COMPUTE_ALL)
    return jobs.start(factory, principal, spec, request_id=request_id)


def _names(factory: sessionmaker[Session]) -> tuple[dict[str, str], dict[str, str]]:
    with factory() as session:
        types = {t["code"]: t["name"] for t in names_repo.facility_types(session, lang="zh")}
        circles = {c["code"]: c["name"] for c in names_repo.circles(session, lang="zh")}
    return types, circles


def _report(report: computing.RunReport) -> dict[str, Any]:
    return {"run_id": report.run_id, "buildings": report.buildings,
            "facilities": report.facilities, "buildings_covered": report.buildings_covered,
            "residents_rate": report.residents_rate, "elderly_rate": report.elderly_rate,
            "metric_crs": report.metric_crs,
            "seconds": round(sum(report.seconds.values()), 2)}


def run_compute(factory: sessionmaker[Session], progress: Progress,
                params: dict[str, Any]) -> dict[str, Any]:
    """Handler of :data:`COMPUTE`."""
    facility_type, circle = str(params["facility_type"]), str(params["circle"])
    types, circles = _names(factory)
    label = f"{types.get(facility_type, facility_type)} · {circles.get(circle, circle)}"

    def step(name: str) -> None:
        start, text = STEPS.get(name, (0.0, name))
        progress(start, f"{label}：{text}")

    report = computing.compute(factory, facility_type, circle, step=step)
    return {"facility_type": facility_type, "circle": circle, **_report(report)}


def run_compute_all(factory: sessionmaker[Session], progress: Progress,
                    params: dict[str, Any]) -> dict[str, Any]:
    """Handler of :data:`COMPUTE_ALL`."""
    types, circles = _names(factory)

    def step(index: int, total: int, facility_type: str, circle: str, name: str) -> None:
        start, text = STEPS.get(name, (0.0, name))
        progress((index - 1 + start) / total,
                 f"{index}/{total} {types.get(facility_type, facility_type)} · "
                 f"{circles.get(circle, circle)}：{text}")

    def done(index: int, total: int, outcome: computing.RuleOutcome) -> None:
        progress(index / total, f"{index}/{total} 已完成")

    outcomes = computing.compute_all(factory, if_missing=bool(params.get("if_missing")),
                                     step=step, done=done)
    rules = [{"facility_type": o.facility_type, "circle": o.circle, "run_id": o.run_id,
              "computed": o.report is not None} for o in outcomes]
    return {"rules": rules, "computed": sum(r["computed"] for r in rules),
            "kept": sum(not r["computed"] for r in rules)}


def start_siting(factory: sessionmaker[Session], principal: Principal, *, facility_type: str,
                 circle: str, area: str, k: int, max_candidates: int,
                 candidates: list[tuple[float, float]] | None,
                 request_id: str | None = None) -> dict[str, Any]:
    """Queue a siting run (as :func:`~gridmap.coverage.services.siting.site` in a request, with
    the same checks made now: a planner, an area inside their scope, a rule that exists)."""
    planner = readers.ensure_planner(principal)
    codes.parse_area(area)
    readers.area(planner, area)
    with factory() as session:
        computing.rule(session, facility_type, circle)
    spec = jobs.Spec(SITE, {"facility_type": facility_type, "circle": circle, "area": area,
                            "k": k, "max_candidates": max_candidates,
                            "candidates": candidates},
                     dedupe_key=f"{SITE}:{planner.account_id}")
    job, created = jobs.start(factory, planner, spec, request_id=request_id)
    if not created:
        raise PlanningRunning(PlanningRunning.MESSAGE)
    return job


def run_siting(factory: sessionmaker[Session], progress: Progress,
               params: dict[str, Any]) -> dict[str, Any]:
    """Handler of :data:`SITE`: the answer a siting request gives (the checks were made when the
    job was started, so it reads as the operator)."""
    progress(0.05, "读取区域内的楼院、街道与设施，选择新址")
    raw = params.get("candidates")
    candidates = [(float(lon), float(lat)) for lon, lat in raw] if raw is not None else None
    with factory() as session:
        report = siting_service.site(
            session, readers.OPERATOR, str(params["facility_type"]), str(params["circle"]),
            area_code=str(params["area"]), k=int(params["k"]),
            max_candidates=int(params["max_candidates"]), candidates=candidates)
    return siting_service.siting_answer(report)


HANDLERS: dict[str, Handler] = {COMPUTE: run_compute, COMPUTE_ALL: run_compute_all,
                                SITE: run_siting}
