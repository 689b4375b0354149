"""Territory's web face: the map page and the layers/locate/search API."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    """Attach the territory blueprints to ``app``."""
    from gridmap.territory.web import api, apidoc, pages
    from gridmap.web.openapi import describe

    app.register_blueprint(api.bp)
    app.register_blueprint(pages.bp)
    describe(app, apidoc.OPERATIONS)
