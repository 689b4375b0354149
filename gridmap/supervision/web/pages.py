"""The inbox page (消息): one's own supervision notices, dispatches, whistles and returns.

All data comes from the inbox API; every signed-in person has an inbox (the public is sent
to the sign-in page).
"""

from __future__ import annotations

from flask import Blueprint, render_template

from gridmap.supervision.services import inbox
from gridmap.web.auth import require
from gridmap.web.page_config import page_config

bp = Blueprint("inbox_pages", __name__)


@bp.get("/inbox")
@require()
def page() -> str:
    """The inbox: unread first, each item linking to its case, mark one or all read."""
    return render_template("supervision/inbox.html",
                           page_config=page_config(kinds=list(inbox.KINDS),
                                                   limit=inbox.LIST_LIMIT))
