"""Inbox API: one's own items (unread first), the unread count, mark read.

Every endpoint reads the signed-in person's inbox only; another person's item is a 404, as
one that does not exist.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from gridmap.supervision.services import inbox
from gridmap.web import params
from gridmap.web.auth import current_principal, require
from gridmap.web.db import session_factory

bp = Blueprint("inbox", __name__)


def _private(answer: Response) -> Response:
    answer.headers["Cache-Control"] = "no-store"
    return answer


@bp.get("/api/inbox")
@require()
def listing() -> Response:
    """The caller's items, unread first then newest (``unread=1``: only unread; ``limit``)."""
    unread_only = params.flag(request.args, "unread")
    limit = params.integer(request.args, "limit", default=inbox.LIST_LIMIT, lo=1,
                           hi=inbox.LIST_LIMIT)
    return _private(jsonify(inbox.listing(session_factory(), current_principal(),
                                          unread_only=unread_only, limit=limit)))


@bp.get("/api/inbox/unread")
@require()
def unread() -> Response:
    """How many of the caller's items are unread (the header's badge)."""
    return _private(jsonify({"unread": inbox.unread_count(session_factory(),
                                                         current_principal())}))


@bp.post("/api/inbox/<int:item_id>/read")
@require()
def mark_read(item_id: int) -> Response:
    """Mark one item read (it stays read; marking again changes nothing)."""
    return _private(jsonify(inbox.mark_read(session_factory(), current_principal(), item_id)))


@bp.post("/api/inbox/read")
@require()
def mark_all_read() -> Response:
    """Mark every item of the caller read."""
    return _private(jsonify(inbox.mark_all_read(session_factory(), current_principal())))
