"""Run a job in a worker: claim it, hand it a :class:`Progress`, record how it ended.

A handler does its work in its own transactions and reports progress as it goes; each report
is written at once in a short transaction of its own (so a page sees it while the work's
transaction is still open) and is where a cancel takes effect: :class:`Progress` raises
:class:`Cancelled`, the handler's open transaction rolls back, and the job ends ``cancelled``
with nothing of it stored. A heartbeat thread marks the job alive every
:data:`HEARTBEAT_S` seconds while it runs; a job not heard of for :data:`STALE_S` (its worker
was killed) is failed by :func:`fail_stalled`, which every worker runs each minute.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from types import TracebackType
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from gridmap.db import unit_of_work
from gridmap.errors import GridmapError
from gridmap.jobs.repositories import jobs as repo
from gridmap.web.request_log import bound_request_id

HEARTBEAT_S = 10.0
STALE_S = 60.0
"""A running job silent this long (six missed heartbeats) has lost its worker."""
_LINE_MAX = 300

log = logging.getLogger(__name__)

INTERRUPTED = ("任务中断：运行它的工作进程已停止，请重新开始 (interrupted: the job worker running it "
               "stopped; start it again)")
INTERNAL = "任务出错，详见工作进程日志 (the job failed; the worker's log has the details)"


class Cancelled(Exception):
    """Someone asked the job to stop."""


class Interrupted(Exception):
    """The worker is shutting down."""


class Progress:
    """Reports a running job's progress and stops it when asked to.

    Call it with a fraction (0–1) and a line of text. It raises :class:`Cancelled` when
    someone cancelled the job and :class:`Interrupted` when the worker is shutting down.
    """

    def __init__(self, factory: sessionmaker[Session], job_id: int,
                 should_abort: Callable[[], bool] = lambda: False) -> None:
        self._factory = factory
        self.job_id = job_id
        self._should_abort = should_abort

    def __call__(self, fraction: float, line: str) -> None:
        fraction = min(max(float(fraction), 0.0), 1.0)
        with unit_of_work(self._factory) as session:
            stop = repo.report_progress(session, self.job_id, fraction, line[:_LINE_MAX])
        if stop:
            raise Cancelled
        if self._should_abort():
            raise Interrupted


Handler = Callable[[sessionmaker[Session], Progress, dict[str, Any]], dict[str, Any]]
"""What a kind does: ``(sessions, progress, params) -> result`` (JSON-serialisable)."""


class _Heartbeat:
    """Marks a job alive every :data:`HEARTBEAT_S` seconds from a thread, while it runs."""

    def __init__(self, factory: sessionmaker[Session], job_id: int, interval: float) -> None:
        self._factory, self._job_id, self._interval = factory, job_id, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"job-{job_id}-heartbeat",
                                        daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                with unit_of_work(self._factory) as session:
                    repo.beat(session, self._job_id)
            except Exception:  # a restart of the database: the next beat tries again
                log.warning("job %s: heartbeat failed", self._job_id, exc_info=True)

    def __enter__(self) -> _Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._stop.set()
        self._thread.join()


@contextmanager
def _ending(factory: sessionmaker[Session], job_id: int) -> Iterator[dict[str, Any]]:
    """Record the end of a job: the block fills ``outcome["result"]``; exceptions become the
    job's state (they are not raised on: the job row is the record)."""
    outcome: dict[str, Any] = {}
    state, error = "succeeded", None
    try:
        yield outcome
    except Cancelled:
        state = "cancelled"
    except Interrupted:
        state, error = "failed", INTERRUPTED
    except GridmapError as exc:
        state, error = "failed", exc.message
    except Exception:
        log.exception("job %s failed", job_id)
        state, error = "failed", INTERNAL
    with unit_of_work(factory) as session:
        repo.finish(session, job_id, state, result=outcome.get("result"), error=error)
    log.info("job %s %s", job_id, state)


def run(factory: sessionmaker[Session], handlers: Mapping[str, Handler], job_id: int, *,
        should_abort: Callable[[], bool] = lambda: False,
        heartbeat_s: float = HEARTBEAT_S) -> None:
    """Run job ``job_id`` if it is still waiting (a cancelled or finished one is left alone)."""
    with unit_of_work(factory) as session:
        claimed = repo.claim(session, job_id)
    if claimed is None:
        log.info("job %s is not waiting any more: skipped", job_id)
        return
    with bound_request_id(claimed["request_id"]):
        log.info("job %s (%s) started for %s", job_id, claimed["kind"], claimed["owner_name"])
        with _ending(factory, job_id) as outcome, _Heartbeat(factory, job_id, heartbeat_s):
            handler = handlers.get(claimed["kind"])
            if handler is None:
                raise GridmapError(f"未知的任务类型 {claimed['kind']} (unknown job kind)")
            progress = Progress(factory, job_id, should_abort)
            outcome["result"] = handler(factory, progress, dict(claimed["params"]))


def fail_stalled(factory: sessionmaker[Session], *, stale_s: float = STALE_S) -> list[int]:
    """Fail the jobs whose worker died (see the module's notes); their ids."""
    with unit_of_work(factory) as session:
        failed = repo.fail_stalled(session, stale_s=stale_s, reason=INTERRUPTED)
    if failed:
        log.warning("jobs %s had lost their worker: failed", failed)
    return failed


def figures(factory: sessionmaker[Session]) -> dict[str, Any]:
    """Queue depth and ages (see :func:`gridmap.jobs.repositories.jobs.queue_figures`)."""
    with factory() as session:
        return repo.queue_figures(session)
