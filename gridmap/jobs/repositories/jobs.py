"""SQL for jobs: the ``job`` rows and the two procrastinate functions that queue and cancel.

The queue's messages are written with procrastinate's own SQL functions
(``procrastinate_defer_jobs_v1``, ``procrastinate_cancel_job_v1``, from the schema migration
0008 applied) on the caller's session, so a job row and its message commit together.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from typing import Any

from sqlalchemy import String, and_, bindparam, false, func, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from gridmap.models import Job

ACTIVE = ("queued", "running")
FINISHED = ("succeeded", "failed", "cancelled")

_COLUMNS = (Job.id, Job.kind, Job.params, Job.owner_id, Job.owner_name, Job.watchers,
            Job.watch_area,
            Job.state, Job.progress, Job.progress_text, Job.cancel_requested, Job.result,
            Job.error, Job.created_at, Job.started_at, Job.finished_at)


def insert_job(session: Session, *, kind: str, params: dict[str, Any], dedupe_key: str | None,
               owner_id: int | None, owner_name: str, watchers: list[str],
               watch_area: str | None, request_id: str | None) -> int | None:
    """A new queued job's id; None when a job with ``dedupe_key`` is already waiting or running."""
    stmt = insert(Job).values(kind=kind, params=params, dedupe_key=dedupe_key, owner_id=owner_id,
                              owner_name=owner_name, watchers=watchers, watch_area=watch_area,
                              request_id=request_id)
    if dedupe_key is not None:
        stmt = stmt.on_conflict_do_nothing(index_elements=[Job.dedupe_key],
                                           index_where=Job.state.in_(ACTIVE))
    job_id: int | None = session.execute(stmt.returning(Job.id)).scalar_one_or_none()
    return job_id


def active_with_key(session: Session, dedupe_key: str) -> int | None:
    """The job waiting or running under ``dedupe_key``, if any."""
    job_id: int | None = session.execute(select(Job.id).where(
        Job.dedupe_key == dedupe_key, Job.state.in_(ACTIVE))).scalar_one_or_none()
    return job_id


def enqueue(session: Session, job_id: int, *, queue: str, task: str) -> int:
    """Put job ``job_id`` on procrastinate's ``queue`` for ``task``; the queue message's id."""
    args = json.dumps({"job_id": job_id})
    queue_id: int = session.execute(text(
        "SELECT (procrastinate_defer_jobs_v1(ARRAY[ROW(:queue, :task, 0, NULL, NULL, "
        "CAST(:args AS jsonb), NULL)::procrastinate_job_to_defer_v1]))[1]"),
        {"queue": queue, "task": task, "args": args}).scalar_one()
    session.execute(update(Job).where(Job.id == job_id).values(queue_job_id=queue_id))
    return queue_id


def job(session: Session, job_id: int) -> dict[str, Any] | None:
    """One job's public fields, or None."""
    row = session.execute(select(*_COLUMNS).where(Job.id == job_id)).mappings().one_or_none()
    return dict(row) if row else None


def jobs(session: Session, *, kinds: Collection[str], active_only: bool, account_id: int | None,
         role: str | None, area: str | None, everyone: bool,
         limit: int) -> list[dict[str, Any]]:
    """The newest jobs of ``kinds`` (all kinds when empty) that the reader may watch: their own
    (``account_id``), those whose watchers hold ``role`` and whose watch area, if any, lies in
    the reader's ``area`` (``None``: the whole city), or every job (``everyone``)."""
    stmt = select(*_COLUMNS).order_by(Job.created_at.desc(), Job.id.desc()).limit(limit)
    if kinds:
        stmt = stmt.where(Job.kind.in_(list(kinds)))
    if active_only:
        stmt = stmt.where(Job.state.in_(ACTIVE))
    if not everyone:
        mine = Job.owner_id == account_id if account_id is not None else false()
        watching = (bindparam("role", role, type_=String(24)) == func.any(Job.watchers)
                    if role is not None else false())
        if area is not None:
            watching = and_(watching, or_(Job.watch_area.is_(None),
                                          Job.watch_area.startswith(area, autoescape=True)))
        stmt = stmt.where(or_(mine, watching))
    return [dict(r) for r in session.execute(stmt).mappings()]


def request_cancel(session: Session, job_id: int) -> str | None:
    """Flag a waiting or running job to stop; a waiting one is cancelled at once (and its queue
    message with it). The job's state afterwards; None if it had already finished."""
    row = session.execute(update(Job).where(Job.id == job_id, Job.state.in_(ACTIVE))
                          .values(cancel_requested=True)
                          .returning(Job.state, Job.queue_job_id)).one_or_none()
    if row is None:
        return None
    state, queue_id = row
    if state == "queued":
        session.execute(update(Job).where(Job.id == job_id).values(
            state="cancelled", finished_at=func.now(), progress_text=""))
        if queue_id is not None:
            session.execute(text("SELECT procrastinate_cancel_job_v1(:id, true, false)"),
                            {"id": queue_id})
        return "cancelled"
    return str(state)


def claim(session: Session, job_id: int) -> dict[str, Any] | None:
    """Mark a waiting job running (a cancelled one stays cancelled); its kind, parameters and
    request id, or None when it is not waiting any more."""
    row = session.execute(
        update(Job).where(Job.id == job_id, Job.state == "queued", ~Job.cancel_requested)
        .values(state="running", started_at=func.now(), heartbeat_at=func.now())
        .returning(Job.kind, Job.params, Job.request_id, Job.owner_name)).mappings().one_or_none()
    return dict(row) if row else None


def report_progress(session: Session, job_id: int, fraction: float, line: str) -> bool:
    """Store a running job's progress; whether someone asked it to stop."""
    cancel: bool | None = session.execute(
        update(Job).where(Job.id == job_id, Job.state == "running")
        .values(progress=fraction, progress_text=line, heartbeat_at=func.now())
        .returning(Job.cancel_requested)).scalar_one_or_none()
    return bool(cancel) if cancel is not None else True


def beat(session: Session, job_id: int) -> None:
    """The worker running ``job_id`` is alive."""
    session.execute(update(Job).where(Job.id == job_id, Job.state == "running")
                    .values(heartbeat_at=func.now()))


def finish(session: Session, job_id: int, state: str, *, result: dict[str, Any] | None = None,
           error: str | None = None) -> None:
    """End a running job as ``state`` with its result or error."""
    values: dict[str, Any] = {"state": state, "finished_at": func.now(), "result": result,
                              "error": error}
    if state == "succeeded":
        values["progress"] = 1.0
    session.execute(update(Job).where(Job.id == job_id, Job.state == "running").values(**values))


def fail_stalled(session: Session, *, stale_s: float, reason: str) -> list[int]:
    """Fail the running jobs whose worker has not been heard of for ``stale_s`` seconds, and
    the waiting ones whose queue message no live worker holds or will fetch; their ids."""
    age = func.make_interval(0, 0, 0, 0, 0, 0, bindparam("stale", stale_s))
    lost = text("""NOT EXISTS (SELECT 1 FROM procrastinate_jobs q WHERE q.id = job.queue_job_id
                   AND (q.status = 'todo' OR (q.status = 'doing' AND q.worker_id IS NOT NULL)))""")
    stalled = or_(and_(Job.state == "running", Job.heartbeat_at < func.now() - age),
                  and_(Job.state == "queued", Job.created_at < func.now() - age, lost))
    ids = session.execute(update(Job).where(stalled).values(
        state="failed", finished_at=func.now(), error=reason).returning(Job.id)).scalars().all()
    return [int(i) for i in ids]


def queue_figures(session: Session) -> dict[str, Any]:
    """Jobs waiting and running, the oldest waiting job's age and the seconds since a worker
    last reported (None when no worker ever did), for health and metrics."""
    row = session.execute(text("""
        SELECT count(*) FILTER (WHERE state = 'queued') AS queued,
               count(*) FILTER (WHERE state = 'running') AS running,
               extract(epoch FROM now() - min(created_at) FILTER (WHERE state = 'queued'))
                 AS oldest_queued_s,
               (SELECT extract(epoch FROM now() - max(last_heartbeat))
                  FROM procrastinate_workers) AS worker_seen_s
        FROM job WHERE state IN ('queued', 'running')""")).mappings().one()
    return {"queued": int(row["queued"]), "running": int(row["running"]),
            "oldest_queued_s": None if row["oldest_queued_s"] is None
            else float(row["oldest_queued_s"]),
            "worker_seen_s": None if row["worker_seen_s"] is None
            else float(row["worker_seen_s"])}
