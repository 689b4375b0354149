"""Mediation's web face: the JSON API under ``/api/mediation``, its OpenAPI detail, and the
staff page (``/mediation``)."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    """Attach the mediation blueprints and their OpenAPI detail to ``app``."""
    from gridmap.mediation.web.api import bp
    from gridmap.mediation.web.apidoc import OPERATIONS
    from gridmap.mediation.web.pages import bp as pages
    from gridmap.web.openapi import describe

    app.register_blueprint(bp)
    app.register_blueprint(pages)
    describe(app, OPERATIONS)
