"""gunicorn settings and hooks for ``gridmap serve`` (``--config python:gridmap.gunicorn_hooks``):
JSON-lines logs with request ids, and the metrics' multiprocess bookkeeping."""

from __future__ import annotations

from typing import Any

from prometheus_client import multiprocess

from gridmap.web.request_log import json_logging

accesslog = "-"
# One JSON object per request; the id is the X-Request-ID the app answered with.
access_log_format = (
    '{"time": "%(t)s", "request_id": "%({x-request-id}o)s", "method": "%(m)s", '
    '"path": "%(U)s", "status": %(s)s, "bytes": "%(B)s", "duration_us": %(D)s, '
    '"remote": "%(h)s"}')
logconfig_dict: dict[str, Any] = json_logging()
logconfig_dict["handlers"]["access"] = {"class": "logging.StreamHandler",
                                        "stream": "ext://sys.stdout"}
logconfig_dict["loggers"] = {
    "gunicorn.error": {"level": "INFO", "handlers": ["app"], "propagate": False},
    "gunicorn.access": {"level": "INFO", "handlers": ["access"], "propagate": False}}


def child_exit(server: Any, worker: Any) -> None:
    """A worker ended: its live gauges leave the metrics (its counters stay counted)."""
    multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]
