"""The care register's web face: the JSON API under ``/api/care`` and its OpenAPI detail."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    """Attach the care blueprint and its OpenAPI detail to ``app``."""
    from gridmap.care.web.api import bp
    from gridmap.care.web.apidoc import OPERATIONS
    from gridmap.web.openapi import describe

    app.register_blueprint(bp)
    describe(app, OPERATIONS)
