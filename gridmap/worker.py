"""The job worker (``gridmap worker``): procrastinate runs the queue, gridmap the jobs.

procrastinate (PostgreSQL-backed: no server besides the database, jobs fetched with
``SELECT … FOR UPDATE SKIP LOCKED`` and woken by LISTEN/NOTIFY, workers with heartbeats) carries
a job's id to one worker thread; :func:`gridmap.jobs.services.runner.run` does the rest with
the handler of the job's kind, from :func:`handlers`. Every minute each worker fails the jobs
whose worker died (:func:`~gridmap.jobs.services.runner.fail_stalled`); every hour one removes
the import page's uploads and the scorecard workbooks older than a week
(:func:`~gridmap.exchange.services.uploads.prune`,
:func:`~gridmap.scorecards.services.workbooks.prune`);
every five minutes one escalates overdue cases (督办,
:func:`~gridmap.supervision.services.escalation.escalate`) and every minute one delivers the
notification outbox (:func:`~gridmap.supervision.services.outbox.deliver`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import procrastinate
from sqlalchemy.orm import Session, sessionmaker

from gridmap.config import Settings
from gridmap.coverage.services import jobs as coverage_jobs
from gridmap.db import make_engine, make_session_factory
from gridmap.exchange.services import jobs as exchange_jobs
from gridmap.exchange.services import uploads
from gridmap.jobs.services import runner
from gridmap.jobs.services.jobs import QUEUE, TASK
from gridmap.reports.services import jobs as report_jobs
from gridmap.scorecards.services import workbooks
from gridmap.supervision import senders
from gridmap.supervision.services import escalation, outbox
from gridmap.web.request_log import tag_statements


def handlers(settings: Settings) -> Mapping[str, runner.Handler]:
    """Every job kind and what runs it."""
    return {**coverage_jobs.HANDLERS, **exchange_jobs.handlers(settings.media_dir),
            **report_jobs.handlers(settings.media_dir, settings.assets_dir),
            **workbooks.handlers(settings.media_dir)}


SHUTDOWN_GRACE_S = 10.0
"""On SIGTERM/SIGINT, running jobs get this long to reach their next progress report, where
they stop (and are recorded as interrupted); then the worker exits anyway."""

log = logging.getLogger(__name__)


def make_app(settings: Settings, factory: sessionmaker[Session]) -> procrastinate.App:
    """The procrastinate app with gridmap's tasks, connected as the app's database role; the
    jobs use ``factory``'s sessions."""
    connector = procrastinate.PsycopgConnector(
        conninfo=settings.libpq_url, kwargs={"application_name": "gridmap-worker"},
        min_size=1, max_size=max(2, settings.job_concurrency + 1))
    app = procrastinate.App(connector=connector)
    kinds = handlers(settings)

    @app.task(name=TASK, queue=QUEUE, pass_context=True)
    def run_job(context: procrastinate.JobContext, job_id: int) -> None:
        runner.run(factory, kinds, job_id, should_abort=context.should_abort)

    @app.periodic(cron="* * * * *")
    @app.task(name="gridmap.fail_stalled_jobs", queue=QUEUE, queueing_lock="fail_stalled_jobs")
    def fail_stalled_jobs(timestamp: int) -> None:
        runner.fail_stalled(factory)

    @app.periodic(cron="17 * * * *")
    @app.task(name="gridmap.prune_uploads", queue=QUEUE, queueing_lock="prune_uploads")
    def prune_uploads(timestamp: int) -> None:
        removed = uploads.prune(settings.media_dir)
        if removed:
            log.info("removed %d import uploads older than a week", removed)
        books = workbooks.prune(settings.media_dir)
        if books:
            log.info("removed %d scorecard workbooks older than a week", books)

    @app.periodic(cron="*/5 * * * *")
    @app.task(name="gridmap.escalate_overdue", queue=QUEUE, queueing_lock="escalate_overdue")
    def escalate_overdue(timestamp: int) -> None:
        done = escalation.escalate(factory, channel=settings.mail.channel)
        if done.notices:
            log.info("supervision: %d notice(s), %d inbox item(s), %d queued", done.notices,
                     done.inbox_items, done.queued)

    channels = senders.senders(settings.mail)

    @app.periodic(cron="* * * * *")
    @app.task(name="gridmap.deliver_notifications", queue=QUEUE,
              queueing_lock="deliver_notifications")
    def deliver_notifications(timestamp: int) -> None:
        done = outbox.deliver(factory, channels)
        if done.sent or done.failed:
            log.info("notifications: %d sent, %d failed (retried later)", done.sent, done.failed)

    return app


def run(settings: Settings) -> None:
    """Run a worker in the foreground until SIGTERM or SIGINT."""
    engine = make_engine(settings)
    tag_statements(engine)  # a job's statements carry the id of the request that started it
    factory = make_session_factory(engine)
    runner.fail_stalled(factory)
    app = make_app(settings, factory)
    log.info("gridmap worker: %d job(s) at a time on queue %r", settings.job_concurrency, QUEUE)
    app.run_worker(queues=[QUEUE], concurrency=settings.job_concurrency, delete_jobs="always",
                   shutdown_graceful_timeout=SHUTDOWN_GRACE_S, name="gridmap-worker")
