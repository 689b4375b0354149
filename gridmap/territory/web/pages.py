"""Pages for people (HTML); all data comes to them from the JSON API in ``web/api.py``."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request

bp = Blueprint("pages", __name__)


@bp.get("/")
def map_page() -> str:
    """The grid map: boundaries, buildings, streets and facilities, click to locate, search."""
    settings = current_app.extensions["gridmap.settings"]
    # Only deployment facts go here; every user-visible string is translated in the template.
    map_config = {
        "apiBase": request.script_root + "/api",
        "tileUrl": settings.tile_url,
        "tileAttribution": settings.tile_attribution,
    }
    return render_template("pages/map.html", map_config=map_config)
