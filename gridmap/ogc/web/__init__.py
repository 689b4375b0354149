"""OGC API Features' web face: the ``/ogc`` blueprint and its error format."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    """Attach the OGC API blueprint and answer its errors in the OGC exception shape."""
    from gridmap.ogc.web import api, apidoc
    from gridmap.web.errors import register_error_format
    from gridmap.web.openapi import describe

    app.register_blueprint(api.bp)
    describe(app, apidoc.OPERATIONS)
    register_error_format(app, "/ogc/", api.error_answer)
    register_error_format(app, "/ogc", api.error_answer)
