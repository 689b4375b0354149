"""Start, watch and cancel jobs, as a person: who may see a job and who may stop it.

A job is watched by its owner, by administrators, and by the roles its kind names as watchers
(a city-wide coverage compute is everyone's business among planners; a planner's siting run is
theirs alone). A job about one area (a district's coverage report) names it, and then only the
watchers whose territory holds that area see it: to the others it does not exist. It is
cancelled by its owner or an administrator.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from gridmap.access import Principal, Role
from gridmap.db import unit_of_work
from gridmap.errors import Forbidden, NotFound, Unauthorized
from gridmap.jobs.repositories import jobs as repo

QUEUE = "gridmap"
"""procrastinate queue every gridmap job goes on (``gridmap worker`` listens to it)."""
TASK = "gridmap.run_job"
"""procrastinate task that runs a job by id (:mod:`gridmap.worker`)."""
LIST_LIMIT = 50


@dataclass(frozen=True)
class Spec:
    """A job to start: its kind, its parameters (JSON), and who else may watch it.

    ``watch_area``: the area the job is about; ``watchers`` see it only when their territory
    holds that area (``None``: a city-wide job, seen by every watcher).
    ``dedupe_key``: at most one job with this key waits or runs; starting another returns it.
    """

    kind: str
    params: dict[str, Any]
    watchers: frozenset[Role] = field(default_factory=frozenset)
    watch_area: str | None = None
    dedupe_key: str | None = None


def _not_found(job_id: int) -> NotFound:
    return NotFound(f"没有编号为 {job_id} 的任务 (no job {job_id})")


def _may_watch(principal: Principal, row: dict[str, Any]) -> bool:
    if not principal.signed_in:
        return False
    if principal.has(Role.ADMIN) or (row["owner_id"] is not None
                                     and row["owner_id"] == principal.account_id):
        return True
    if principal.role is None or principal.role.value not in row["watchers"]:
        return False
    area = row["watch_area"]
    return area is None or principal.area_code is None or area.startswith(principal.area_code)


def _may_cancel(principal: Principal, row: dict[str, Any]) -> bool:
    return principal.signed_in and (principal.has(Role.ADMIN) or (
        row["owner_id"] is not None and row["owner_id"] == principal.account_id))


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def public(row: dict[str, Any], principal: Principal) -> dict[str, Any]:
    """A job as the API answers it."""
    return {"id": row["id"], "kind": row["kind"], "params": row["params"], "state": row["state"],
            "progress": round(float(row["progress"]), 4), "progress_text": row["progress_text"],
            "result": row["result"], "error": row["error"], "owner": row["owner_name"],
            "cancel_requested": row["cancel_requested"],
            "created_at": _iso(row["created_at"]), "started_at": _iso(row["started_at"]),
            "finished_at": _iso(row["finished_at"]),
            "finished": row["state"] in repo.FINISHED,
            "may_cancel": row["state"] in repo.ACTIVE and _may_cancel(principal, row)}


def start(factory: sessionmaker[Session], principal: Principal, spec: Spec, *,
          request_id: str | None = None) -> tuple[dict[str, Any], bool]:
    """Queue ``spec`` as ``principal`` (the caller has checked they may); the job and whether it
    is new (False: the job already waiting or running under the same ``dedupe_key``)."""
    owner_name = principal.username or "cli"
    with unit_of_work(factory) as session:
        job_id = repo.insert_job(session, kind=spec.kind, params=spec.params,
                                 dedupe_key=spec.dedupe_key, owner_id=principal.account_id,
                                 owner_name=owner_name,
                                 watchers=sorted(r.value for r in spec.watchers),
                                 watch_area=spec.watch_area, request_id=request_id)
        created = job_id is not None
        if job_id is None:
            assert spec.dedupe_key is not None
            job_id = repo.active_with_key(session, spec.dedupe_key)
            if job_id is None:  # it finished between the two statements: start a fresh one
                return start(factory, principal, spec, request_id=request_id)
        else:
            repo.enqueue(session, job_id, queue=QUEUE, task=TASK)
        row = repo.job(session, job_id)
    assert row is not None
    return public(row, principal), created


def _visible(session: Session, principal: Principal, job_id: int) -> dict[str, Any]:
    if not principal.signed_in:
        raise Unauthorized(Unauthorized.MESSAGE)
    row = repo.job(session, job_id)
    if row is None or not _may_watch(principal, row):
        raise _not_found(job_id)
    return row


def view(factory: sessionmaker[Session], principal: Principal, job_id: int) -> dict[str, Any]:
    """One job, if ``principal`` may watch it (404 otherwise, as for a job that does not exist)."""
    with factory() as session:
        return public(_visible(session, principal, job_id), principal)


def listing(factory: sessionmaker[Session], principal: Principal, *,
            kinds: Collection[str] = (), active_only: bool = False) -> list[dict[str, Any]]:
    """The newest jobs ``principal`` may watch, of ``kinds`` (all when empty)."""
    if not principal.signed_in:
        raise Unauthorized(Unauthorized.MESSAGE)
    with factory() as session:
        rows = repo.jobs(session, kinds=kinds, active_only=active_only,
                         account_id=principal.account_id,
                         role=principal.role.value if principal.role else None,
                         area=principal.area_code, everyone=principal.has(Role.ADMIN), limit=LIST_LIMIT)
    return [public(r, principal) for r in rows]


def cancel(factory: sessionmaker[Session], principal: Principal, job_id: int) -> dict[str, Any]:
    """Ask a job to stop: a waiting one is cancelled at once, a running one at its next step
    (its transaction rolls back, so nothing it computed is kept). A finished job is left as it
    is. 404 for a job one may not watch, 403 for one watched but not one's own."""
    with unit_of_work(factory) as session:
        row = _visible(session, principal, job_id)
        if not _may_cancel(principal, row):
            raise Forbidden("只有任务发起人或管理员可以取消任务 (only the person who started a "
                            "job, or an administrator, may cancel it)")
        repo.request_cancel(session, job_id)
        after = repo.job(session, job_id)
    assert after is not None
    return public(after, principal)

