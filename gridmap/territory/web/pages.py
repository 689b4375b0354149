"""Pages for people (HTML); all data comes to them from the JSON API in ``web/api.py``."""

from __future__ import annotations

from flask import Blueprint, render_template

from gridmap.web.page_config import page_config

bp = Blueprint("pages", __name__)


@bp.get("/")
def map_page() -> str:
    """The grid map: boundaries, buildings, streets and facilities, click to locate, search."""
    return render_template("pages/map.html", page_config=page_config())
