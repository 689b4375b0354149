"""Scorecards' web face: the page (``/scorecards``), the JSON API, the CSV and the workbook."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    """Attach the scorecards blueprint and its OpenAPI detail to ``app``."""
    from gridmap.scorecards.web.api import bp
    from gridmap.scorecards.web.apidoc import OPERATIONS
    from gridmap.web.openapi import describe

    app.register_blueprint(bp)
    describe(app, OPERATIONS)
