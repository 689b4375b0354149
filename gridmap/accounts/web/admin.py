"""系统管理: accounts, the audit log and Open311 clients (administrators); grid assignments are
in :mod:`gridmap.accounts.web.assignments` (administrators and data officers).

Server-rendered pages with Flask-WTF forms (no script). A change answers with a redirect to the
page it was made on (post/redirect/get); a refused change renders that page again with the
message and its 4xx status. A secret (a one-time password, an Open311 key) is rendered once, in
the answer to the POST that made it, with ``Cache-Control: no-store``; it is never put in the
session or a URL.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from flask import (
    Blueprint,
    Response,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext

from gridmap.access import Role
from gridmap.accounts.services import accounts as account_service
from gridmap.accounts.services import admin, audit, contact, tokens
from gridmap.accounts.web.forms import (
    ClientForm,
    ConfirmForm,
    DeactivateForm,
    EmailForm,
    NewAccountForm,
    ScopeForm,
)
from gridmap.errors import Conflict, GridmapError, InvalidInput
from gridmap.web.auth import current_principal, require
from gridmap.web.db import session_factory
from gridmap.web.streaming import streamed

bp = Blueprint("admin", __name__, url_prefix="/admin")

NO_STORE = {"Cache-Control": "no-store"}
REFUSED = (InvalidInput, Conflict)
"""Errors a form answers on its own page; others (401, 403, 404) go to the app's handlers."""


@bp.get("/")
@require(Role.ADMIN, Role.DATA_OFFICER)
def index() -> ResponseReturnValue:
    """系统管理: what the administrator (or data officer) may manage here."""
    return render_template("accounts/admin/index.html")


@bp.get("/accounts")
@require(Role.ADMIN)
def accounts() -> ResponseReturnValue:
    """账号: search by user name or person name; keyset pages by user name."""
    args = request.args
    with session_factory()() as db:
        page = admin.search(db, current_principal(), query=args.get("q", ""),
                            role=args.get("role", ""), after=args.get("after"))
    return render_template("accounts/admin/accounts.html", page=page, q=args.get("q", ""),
                           role=args.get("role", ""), all_roles=list(Role))


def _new_account_page(form: NewAccountForm, status: int = 200) -> ResponseReturnValue:
    args = request.args
    person_id = form.person_id.data or args.get("person_id", type=int)
    with session_factory()() as db:
        found = admin.people(db, current_principal(), query=args.get("q", ""),
                             after=args.get("after")) if args.get("q") else None
        person = (admin.people(db, current_principal(), query=str(person_id), limit=1).rows
                  if person_id else [])
        departments = admin.departments(db)
    return render_template("accounts/admin/account_new.html", form=form, found=found,
                           q=args.get("q", ""), person=person[0] if person else None,
                           all_roles=list(Role), departments=departments), status


@bp.get("/accounts/new")
@require(Role.ADMIN)
def new_account() -> ResponseReturnValue:
    """新建账号: for a person found by name (or id), or for a new person."""
    return _new_account_page(NewAccountForm(formdata=None))


@bp.post("/accounts")
@require(Role.ADMIN)
def create_account() -> ResponseReturnValue:
    """Create the account; its one-time password is shown on this answer only."""
    form = NewAccountForm()
    if not form.validate_on_submit():
        flash("请检查填写的内容 (check the form)", "error")
        return _new_account_page(form, 400)
    try:
        made = account_service.create(session_factory(), current_principal(),
                                      account_service.NewAccount(
            username=(form.username.data or "").strip().lower(), role=form.role.data or "",
            person_id=form.person_id.data, name=form.name.data or "", phone=form.phone.data or "",
            area_code=(form.area_code.data or "").strip() or None,
            department_code=form.department_code.data or None))
    except REFUSED as exc:
        flash(exc.message, "error")
        return _new_account_page(form, exc.status)
    return render_template("accounts/admin/secret.html", kind="account", made=made,
                           secret=made["password"]), 201, NO_STORE


def _account_page(account_id: int, status: int = 200) -> ResponseReturnValue:
    with session_factory()() as db:
        found = admin.detail(db, current_principal(), account_id)
        departments = admin.departments(db)
    return render_template("accounts/admin/account.html", account=found, all_roles=list(Role),
                           departments=departments), status


@bp.get("/accounts/<int:account_id>")
@require(Role.ADMIN)
def account(account_id: int) -> ResponseReturnValue:
    """One account: role and scope, state, grids, tokens; the forms that change them."""
    return _account_page(account_id)


def _change(account_id: int, form: Any, change: Any, done: Any) -> ResponseReturnValue:
    """Run ``change()`` for a valid ``form``; flash ``done(result)`` and go back to the
    account, or show the account page again with the refusal and its status."""
    if not form.validate_on_submit():
        flash("请检查填写的内容 (check the form)", "error")
        return _account_page(account_id, 400)
    try:
        result = change()
    except REFUSED as exc:
        flash(exc.message, "error")
        return _account_page(account_id, exc.status)
    flash(done(result), "ok")
    return redirect(url_for("admin.account", account_id=account_id), 303)


@bp.post("/accounts/<int:account_id>/scope")
@require(Role.ADMIN)
def change_scope(account_id: int) -> ResponseReturnValue:
    """Change the role, area or department; the person's sessions end."""
    form = ScopeForm()
    new = admin.ScopeChange(role=form.role.data or "", area_code=form.area_code.data,
                            department_code=form.department_code.data)
    return _change(account_id, form,
                   lambda: admin.change(session_factory(), current_principal(), account_id, new),
                   lambda r: _done_scope(r["changed"]))


def _done_scope(changed: bool) -> str:
    return str(gettext("岗位和范围已修改，此人需重新登录。") if changed else gettext("没有变化。"))


@bp.post("/accounts/<int:account_id>/email")
@require(Role.ADMIN)
def change_email(account_id: int) -> ResponseReturnValue:
    """Set or clear the account's notification e-mail (blank: none)."""
    form = EmailForm()
    return _change(account_id, form,
                   lambda: contact.set_email(session_factory(), current_principal(), account_id,
                                             form.email.data or ""),
                   lambda email: gettext("通知邮箱已保存。") if email
                   else gettext("已取消邮件通知。"))


@bp.post("/accounts/<int:account_id>/deactivate")
@require(Role.ADMIN)
def deactivate(account_id: int) -> ResponseReturnValue:
    """Deactivate: sessions end, tokens are revoked, a grid worker's cases go back."""
    return _change(account_id, DeactivateForm(),
                   lambda: admin.deactivate(session_factory(), current_principal(), account_id),
                   _done_deactivate)


def _done_deactivate(result: dict[str, Any]) -> str:
    return str(gettext("账号已停用：已吊销 %(tokens)s 个令牌，%(cases)s 件案件已退回社区重新分派。",
                       tokens=result["tokens_revoked"], cases=len(result["returned_cases"])))


@bp.post("/accounts/<int:account_id>/reactivate")
@require(Role.ADMIN)
def reactivate(account_id: int) -> ResponseReturnValue:
    """Let a deactivated account sign in again."""
    return _change(account_id, ConfirmForm(),
                   lambda: admin.reactivate(session_factory(), current_principal(), account_id),
                   lambda _r: gettext("账号已恢复。"))


@bp.post("/accounts/<int:account_id>/password")
@require(Role.ADMIN)
def reset_password(account_id: int) -> ResponseReturnValue:
    """A new one-time password, shown on this answer only; the person's sessions end."""
    form = ConfirmForm()
    if not form.validate_on_submit():
        return _account_page(account_id, 400)
    password = admin.reset_password(session_factory(), current_principal(), account_id)
    with session_factory()() as db:
        found = admin.detail(db, current_principal(), account_id)
    return render_template("accounts/admin/secret.html", kind="reset", made=found,
                           secret=password), 200, NO_STORE


@bp.post("/accounts/<int:account_id>/tokens/<int:token_id>/revoke")
@require(Role.ADMIN)
def revoke_token(account_id: int, token_id: int) -> ResponseReturnValue:
    """Revoke one of the account's API tokens."""
    return _change(account_id, ConfirmForm(),
                   lambda: tokens.revoke_token(session_factory(), current_principal(), token_id),
                   lambda _r: gettext("令牌已吊销。"))


@bp.get("/audit")
@require(Role.ADMIN)
def audit_log() -> ResponseReturnValue:
    """审计日志: filters, newest first, keyset pages, CSV of everything that matches."""
    status, page, error = 200, None, None
    try:
        filters = audit.parse_filter(request.args)
    except InvalidInput as exc:
        status, error = exc.status, exc.message
    else:
        with session_factory()() as db:
            page = audit.browse(db, current_principal(), filters, after=request.args.get("after"))
    return render_template("accounts/admin/audit.html", page=page, error=error,
                           args=request.args, events=list(audit.Event),
                           target_kinds=audit.TARGET_KINDS), status


@bp.get("/audit.csv")
@require(Role.ADMIN)
def audit_csv() -> Response:
    """The filtered audit log as CSV (formula-safe), streamed; the export is logged first."""
    filters = audit.parse_filter(request.args)
    audit.exported(session_factory(), current_principal(), filters)

    def chunks() -> Iterator[str]:
        with session_factory()() as db:
            yield from audit.csv_lines(db, filters)

    return Response(streamed(chunks()), mimetype="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="audit-log.csv"',
                             **NO_STORE})


def _clients_page(form: ClientForm, new_client: dict[str, Any] | None = None,
                  status: int = 200) -> ResponseReturnValue:
    with session_factory()() as db:
        listed = tokens.clients(db)
    headers = NO_STORE if new_client else {}
    return render_template("accounts/admin/clients.html", clients=listed, form=form,
                           new_client=new_client), status, headers


@bp.get("/open311")
@require(Role.ADMIN)
def clients() -> ResponseReturnValue:
    """Open311 客户端: who may file requests through Open311, and when they last did."""
    return _clients_page(ClientForm(formdata=None))


@bp.post("/open311")
@require(Role.ADMIN)
def create_client() -> ResponseReturnValue:
    """A new client; its API key is shown on this answer only."""
    form = ClientForm()
    if not form.validate_on_submit():
        flash("请填写客户端名称 (name the client)", "error")
        return _clients_page(form, status=400)
    try:
        made = tokens.issue_client_key(session_factory(), current_principal(),
                                       form.name.data or "", form.contact.data or "")
    except REFUSED as exc:
        flash(exc.message, "error")
        return _clients_page(form, status=exc.status)
    return _clients_page(ClientForm(formdata=None), made, 201)


@bp.post("/open311/<int:client_id>/revoke")
@require(Role.ADMIN)
def revoke_client(client_id: int) -> ResponseReturnValue:
    """Revoke a client's key: its next POST is refused (403)."""
    if not ConfirmForm().validate_on_submit():
        return _clients_page(ClientForm(formdata=None), status=400)
    try:
        tokens.revoke_client_key(session_factory(), current_principal(), client_id)
    except GridmapError as exc:
        if exc.status != 404:
            raise
        flash(exc.message, "error")
        return _clients_page(ClientForm(formdata=None), status=404)
    flash(gettext("客户端的密钥已吊销。"), "ok")
    return redirect(url_for("admin.clients"), 303)
