"""Administration of people, accounts, grid assignments, enrolments, Open311 clients, audit log."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/")
def index() -> str:
    """Placeholder replaced by the administration pages (same commit series)."""
    return ""
