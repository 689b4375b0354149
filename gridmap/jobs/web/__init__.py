"""Jobs' web face: watch and cancel background jobs (``/api/jobs``)."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    """Attach the jobs blueprint to ``app``."""
    from gridmap.jobs.web.api import bp

    app.register_blueprint(bp)
