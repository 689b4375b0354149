"""Coverage's web face: one ``coverage`` blueprint holding the pages and the API."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    """Attach the coverage blueprint, with its pages and API handlers, to ``app``."""
    from gridmap.coverage.web import (  # noqa: F401 - importing attaches the handlers
        api,
        pages,
        scenarios,
    )
    from gridmap.coverage.web.blueprint import bp

    app.register_blueprint(bp)
    from gridmap.coverage.web.apidoc import OPERATIONS
    from gridmap.web.openapi import describe

    describe(app, OPERATIONS)
