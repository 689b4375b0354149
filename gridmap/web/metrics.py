"""Prometheus metrics (prometheus-client): request latency per endpoint, and what features add.

``GET /metrics`` answers in Prometheus' text format, for administrators only (a scraper sends an
administrator's personal API token: ``authorization: {credentials: gmt_…}`` in its job).

Under gunicorn several worker processes serve requests, so the request histograms use
prometheus-client's multiprocess mode: ``gridmap serve`` points ``PROMETHEUS_MULTIPROC_DIR`` at
an empty folder before the workers start and tells gunicorn to mark a dead worker's files
(:mod:`gridmap.gunicorn_hooks`); a scrape then adds up every worker's samples. Without that
variable (tests, the development server) the process's own registry is used. Features add
collectors of their own (the case feature: cases by state, overdue cases), which read the
database at scrape time and so are the same whichever worker answers.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable

from flask import Blueprint, Flask, Response, g, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest, multiprocess
from prometheus_client.core import Metric
from prometheus_client.registry import Collector

from gridmap.access import Role
from gridmap.web.auth import require

bp = Blueprint("metrics", __name__)
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
_EXTENSION = "gridmap.metrics"
# Buckets in seconds around the targets the benchmarks hold (20 ms locate, 100 ms board, 500 ms).
BUCKETS = (0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0)


class _Metrics:
    """The app's request histogram and the collectors features registered."""

    def __init__(self) -> None:
        self.own = CollectorRegistry()  # the histogram's home when not in multiprocess mode
        self.requests = Histogram(
            "gridmap_http_request_duration_seconds", "Time to answer a request, by endpoint.",
            ["endpoint", "method", "status"], buckets=BUCKETS, registry=self.own)
        self.collectors: list[Collector] = []


class _FeatureCollectors(Collector):
    """Adapts the features' collector functions to prometheus-client."""

    def __init__(self, metrics: _Metrics) -> None:
        self.metrics = metrics

    def collect(self) -> Iterable[Metric]:
        for collector in self.metrics.collectors:
            yield from collector.collect()


def register_collector(app: Flask, collector: Collector) -> None:
    """Add a feature's collector to what ``/metrics`` answers."""
    metrics: _Metrics = app.extensions[_EXTENSION]
    metrics.collectors.append(collector)


def register_metrics(app: Flask) -> None:
    """Time every request and serve ``/metrics``."""
    metrics = _Metrics()
    app.extensions[_EXTENSION] = metrics

    @app.before_request
    def _start() -> None:
        g.gridmap_started = time.perf_counter()

    @app.after_request
    def _observe(response: Response) -> Response:
        started = g.get("gridmap_started")
        if started is not None:  # endpoint names, never paths: a bounded set of labels
            metrics.requests.labels(request.endpoint or "unmatched", request.method,
                                    str(response.status_code)).observe(
                time.perf_counter() - started)
        return response

    app.register_blueprint(bp)


def _registry(metrics: _Metrics) -> CollectorRegistry:
    folder = os.environ.get(MULTIPROC_ENV)
    if not folder:
        registry = metrics.own
        if not getattr(registry, "_gridmap_features", False):
            registry.register(_FeatureCollectors(metrics))
            registry._gridmap_features = True  # type: ignore[attr-defined]
        return registry
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=folder)  # type: ignore[no-untyped-call]
    registry.register(_FeatureCollectors(metrics))
    return registry


@bp.get("/metrics")
@require(Role.ADMIN)
def metrics_page() -> Response:
    """Every metric in Prometheus' text format (administrators and their scrapers)."""
    from flask import current_app

    metrics: _Metrics = current_app.extensions[_EXTENSION]
    body = generate_latest(_registry(metrics))
    return Response(body, mimetype=CONTENT_TYPE_LATEST.split(";")[0],
                    headers={"Cache-Control": "no-store"})


