"""gunicorn server hooks for ``gridmap serve`` (``--config python:gridmap.gunicorn_hooks``)."""

from __future__ import annotations

from typing import Any

from prometheus_client import multiprocess


def child_exit(server: Any, worker: Any) -> None:
    """A worker ended: its live gauges leave the metrics (its counters stay counted)."""
    multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]
