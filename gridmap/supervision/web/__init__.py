"""Supervision's web face: the inbox API (``/api/inbox``), the header's unread count and the
notification outbox's metrics."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    """Attach the inbox blueprint and its OpenAPI detail to ``app``."""
    from gridmap.supervision.web.api import bp
    from gridmap.supervision.web.apidoc import OPERATIONS
    from gridmap.supervision.web.metrics import OutboxCollector
    from gridmap.supervision.web.pages import bp as pages
    from gridmap.web.metrics import register_collector
    from gridmap.web.openapi import describe

    app.register_blueprint(bp)
    app.register_blueprint(pages)
    describe(app, OPERATIONS)
    register_collector(app, OutboxCollector())
