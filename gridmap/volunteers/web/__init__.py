"""The Party layers' and the volunteers' web face: the JSON API under ``/api/party`` and
``/api/volunteers``, its OpenAPI detail, and the pages ``/party`` and ``/volunteers``."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    """Attach the Party and volunteer blueprints and their OpenAPI detail to ``app``."""
    from gridmap.volunteers.web.api import party_bp, volunteers_bp
    from gridmap.volunteers.web.apidoc import OPERATIONS
    from gridmap.volunteers.web.pages import bp as pages
    from gridmap.web.openapi import describe

    app.register_blueprint(party_bp)
    app.register_blueprint(volunteers_bp)
    app.register_blueprint(pages)
    describe(app, OPERATIONS)
