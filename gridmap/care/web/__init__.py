"""The care register's web face: the JSON API under ``/api/care``, its OpenAPI detail, and the
grid worker's phone page for visits (``/care/visits``)."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    """Attach the care blueprint and its OpenAPI detail to ``app``."""
    from gridmap.care.web.api import bp
    from gridmap.care.web.apidoc import OPERATIONS
    from gridmap.care.web.pages import bp as pages
    from gridmap.web.openapi import describe

    app.register_blueprint(bp)
    app.register_blueprint(pages)
    describe(app, OPERATIONS)
