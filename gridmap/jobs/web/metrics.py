"""The jobs' health and metrics: queue depth and age, and when a worker last reported."""

from __future__ import annotations

import math
from collections.abc import Iterable

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from gridmap.jobs.services import runner
from gridmap.web.db import session_factory

WORKER_SILENT_S = 60.0
"""A worker reports every 10 s; one silent this long is gone."""


def worker_check() -> str | None:
    """None while a job worker reports, else what is wrong (for ``/api/health/ready``)."""
    seen = runner.figures(session_factory())["worker_seen_s"]
    if seen is None:
        return "no job worker is running (start `gridmap worker`)"
    if seen > WORKER_SILENT_S:
        return f"no job worker seen for {seen:.0f} s"
    return None


class JobCollector(Collector):
    """``gridmap_jobs{state}`` (waiting, running), ``gridmap_job_oldest_queued_seconds`` and
    ``gridmap_job_worker_last_seen_seconds`` (NaN before any worker ran), read when scraped."""

    def collect(self) -> Iterable[Metric]:
        figures = runner.figures(session_factory())
        jobs = GaugeMetricFamily("gridmap_jobs", "Background jobs waiting or running.",
                                 labels=["state"])
        jobs.add_metric(["queued"], figures["queued"])
        jobs.add_metric(["running"], figures["running"])
        yield jobs
        yield GaugeMetricFamily("gridmap_job_oldest_queued_seconds",
                                "Age of the oldest job waiting for a worker (0: none waits).",
                                value=figures["oldest_queued_s"] or 0.0)
        seen = figures["worker_seen_s"]
        yield GaugeMetricFamily("gridmap_job_worker_last_seen_seconds",
                                "Seconds since a job worker last reported (NaN: never).",
                                value=math.nan if seen is None else seen)
