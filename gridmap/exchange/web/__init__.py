"""The exchange feature's web face: the data page (import and export) and its API."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    """Attach the exchange blueprint, with its page and API handlers, to ``app``."""
    from gridmap.exchange.web import api, pages  # noqa: F401 - importing attaches the handlers
    from gridmap.exchange.web.blueprint import bp

    app.register_blueprint(bp)
    from gridmap.exchange.web.apidoc import OPERATIONS
    from gridmap.web.openapi import describe

    describe(app, OPERATIONS)
