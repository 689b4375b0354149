"""Jobs' web face: watch and cancel background jobs (``/api/jobs``), the job worker's part of
the health check, and the queue's metrics."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    """Attach the jobs blueprint, health check and metrics to ``app``."""
    from gridmap.jobs.web.api import bp
    from gridmap.jobs.web.metrics import JobCollector, worker_check
    from gridmap.web.db import register_service_check
    from gridmap.web.metrics import register_collector

    app.register_blueprint(bp)
    from gridmap.jobs.web.apidoc import OPERATIONS
    from gridmap.web.openapi import describe

    describe(app, OPERATIONS)
    register_service_check(app, "jobs", worker_check)
    register_collector(app, JobCollector())
