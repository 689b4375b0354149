"""The inbox page (消息): one's own supervision notices, dispatches, whistles and returns; and
the administrators' page of the escalation rules (督办规则).

The inbox's data comes from the inbox API; every signed-in person has an inbox (the public is
sent to the sign-in page). The rules page is a server-rendered form (post/redirect/get; a
refused change renders the page again with the message and its 4xx status).
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField
from wtforms.validators import DataRequired, Length

from gridmap.access import Role
from gridmap.errors import InvalidInput
from gridmap.supervision.services import inbox, rules
from gridmap.web.auth import current_principal, require
from gridmap.web.db import session_factory
from gridmap.web.page_config import page_config

bp = Blueprint("inbox_pages", __name__)


class RuleForm(FlaskForm):  # type: ignore[misc]
    """A rule's hours past its deadline and whether it applies."""

    after_hours = StringField("after_hours", validators=[DataRequired(), Length(max=20)])
    active = BooleanField("active")


@bp.get("/inbox")
@require()
def page() -> str:
    """The inbox: unread first, each item linking to its case, mark one or all read."""
    return render_template("supervision/inbox.html",
                           page_config=page_config(kinds=list(inbox.KINDS),
                                                   limit=inbox.LIST_LIMIT))


def _rules_page(status: int = 200) -> ResponseReturnValue:
    with session_factory()() as db:
        found = rules.listing(db, current_principal())
    return render_template("supervision/rules.html", rules=found,
                           max_hours=rules.MAX_HOURS), status


@bp.get("/admin/supervision")
@require(Role.ADMIN)
def rules_page() -> ResponseReturnValue:
    """督办规则: the chain of escalation rules, with their hours and whether each applies."""
    return _rules_page()


@bp.post("/admin/supervision/rules/<code>")
@require(Role.ADMIN)
def change_rule(code: str) -> ResponseReturnValue:
    """Change one rule's hours past its deadline and whether it applies."""
    form = RuleForm()
    if not form.validate_on_submit():
        flash(gettext("请填写小时数。"), "error")
        return _rules_page(400)
    try:
        changed = rules.change(session_factory(), current_principal(), code,
                               after_hours=form.after_hours.data or "",
                               active=bool(form.active.data))
    except InvalidInput as exc:
        flash(exc.message, "error")
        return _rules_page(exc.status)
    flash(gettext("督办规则已保存，下次督办时生效。") if changed else gettext("没有变化。"), "ok")
    return redirect(url_for("inbox_pages.rules_page"), 303)
