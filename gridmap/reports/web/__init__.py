"""Reports' web face: the ``reports`` blueprint (API and page) and its OpenAPI detail."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    """Attach the reports blueprint, with its API and page, to ``app``."""
    from gridmap.reports.web import (  # noqa: F401 - importing attaches the handlers
        api,
        pages,
    )
    from gridmap.reports.web.apidoc import OPERATIONS
    from gridmap.reports.web.blueprint import bp
    from gridmap.web.openapi import describe

    app.register_blueprint(bp)
    describe(app, OPERATIONS)
