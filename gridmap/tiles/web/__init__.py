"""Tiles' web face: vector tiles, TileJSON and the OGC API Tiles pages of each collection."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    """Attach the tiles blueprint to ``app``, with its tile cache and its error format."""
    from gridmap.tiles.services.tiles import TileCache
    from gridmap.tiles.web import api
    from gridmap.web.errors import register_error_format

    settings = app.extensions["gridmap.settings"]
    app.extensions["gridmap.tile_cache"] = TileCache(max_bytes=settings.tile_cache_mb << 20)
    app.register_blueprint(api.bp)
    register_error_format(app, "/tiles/", api.error_answer)
