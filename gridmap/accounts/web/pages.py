"""Sign in, sign out, change one's password, one's notification e-mail and API tokens."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from gridmap.accounts.services import contact, principals, tokens
from gridmap.accounts.services import sign_in as signing
from gridmap.accounts.web import session as auth_session
from gridmap.accounts.web.forms import EmailForm, PasswordForm, SignInForm, TokenForm
from gridmap.errors import GridmapError, InvalidInput
from gridmap.web.auth import current_principal, require
from gridmap.web.db import session_factory
from gridmap.web.ratelimit import limited

bp = Blueprint("accounts", __name__)


def _next_url(default: str) -> str:
    """Where to go after signing in: a path on this site only (never another host)."""
    target = request.args.get("next") or request.form.get("next") or ""
    parts = urlsplit(target)
    if target.startswith("/") and not target.startswith("//") and not parts.netloc \
            and "\\" not in target:
        return target
    return default


@bp.route("/login", methods=["GET", "POST"])
@limited("sign_in", methods=("POST",))
def sign_in() -> ResponseReturnValue:
    """登录: user name and password; the same answer for an unknown name and a wrong password."""
    form = SignInForm()
    status = 200
    if form.validate_on_submit():
        try:
            result = signing.sign_in(session_factory(), form.username.data or "",
                                     form.password.data or "", address=request.remote_addr or "",
                                     throttle=auth_session.throttle())
        except GridmapError as exc:
            flash(exc.message, "error")
            status = exc.status
        else:
            with session_factory()() as db:
                found = principals.load(db, result.account_id, address=request.remote_addr)
            if found is not None:
                auth_session.start(auth_session.User(found))
                if result.must_change_password:
                    return redirect(url_for("accounts.password", next=_next_url("/")))
                return redirect(_next_url(url_for("pages.map_page")))
    elif request.method == "POST":
        flash("请填写用户名和密码 (enter your user name and password)", "error")
        status = 400
    return render_template("accounts/sign_in.html", form=form,
                           next=_next_url("")), status


@bp.post("/logout")
def sign_out() -> ResponseReturnValue:
    """退出: end this session (a POST with the CSRF token, so no link can sign a person out)."""
    principal = current_principal()
    if principal.signed_in:
        signing.sign_out(session_factory(), principal)
    auth_session.end()
    return redirect(url_for("accounts.sign_in"))


@bp.route("/account/password", methods=["GET", "POST"])
@require()
def password() -> ResponseReturnValue:
    """修改密码: required after a one-time password; every other session of the account ends."""
    form = PasswordForm()
    status = 200
    if form.validate_on_submit():
        try:
            epoch = signing.change_password(
                session_factory(), current_principal(), current=form.current.data or "",
                new=form.new.data or "", repeat=form.repeat.data or "")
        except GridmapError as exc:
            flash(exc.message, "error")
            status = exc.status
        else:
            with session_factory()() as db:
                found = principals.load(db, current_principal().account_id or 0,
                                        address=request.remote_addr)
            if found is not None and found.epoch == epoch:
                auth_session.start(auth_session.User(found))
            flash("密码已修改 (password changed)", "ok")
            return redirect(_next_url(url_for("accounts.account")))
    return render_template("accounts/password.html", form=form, next=_next_url(""),
                           must_change_password=_must_change()), status


def _must_change() -> bool:
    with session_factory()() as db:
        found = principals.load(db, current_principal().account_id or 0, address=None)
    return bool(found and found.must_change_password)


@bp.get("/account")
@require()
def account() -> ResponseReturnValue:
    """我的账号: who I am, my scope, my notification e-mail, my API tokens."""
    return _account_page()


def _account_page(*, new_token: object = None, status: int = 200) -> tuple[str, int]:
    with session_factory()() as db:
        mine = tokens.my_tokens(db, current_principal())
        email = contact.email_of(db, current_principal())
    return render_template("accounts/account.html", tokens=mine, form=TokenForm(),
                           new_token=new_token, email=email), status


@bp.post("/account/email")
@require()
def change_email() -> ResponseReturnValue:
    """Set or clear my notification e-mail (督办 notices and the inbox's news reach it)."""
    form = EmailForm()
    if not form.validate_on_submit():
        flash("邮箱地址不能超过 254 个字符 (an e-mail address has at most 254 characters)",
              "error")
        return _account_page(status=400)
    me = current_principal()
    try:
        email = contact.set_email(session_factory(), me, me.account_id or 0,
                                  form.email.data or "")
    except InvalidInput as exc:
        flash(exc.message, "error")
        return _account_page(status=exc.status)
    flash("通知邮箱已保存 (notification e-mail saved)" if email
          else "已取消邮件通知 (e-mail notifications turned off)", "ok")
    return redirect(url_for("accounts.account"), 303)


@bp.post("/account/tokens")
@require()
def create_token() -> ResponseReturnValue:
    """Create a personal API token; its secret is shown on this one page only."""
    form = TokenForm()
    if not form.validate_on_submit():
        flash("请填写令牌名称 (name the token)", "error")
        return redirect(url_for("accounts.account"))
    issued = tokens.issue_token(session_factory(), current_principal(), form.name.data or "")
    page, status = _account_page(new_token=issued, status=201)
    return page, status, {"Cache-Control": "no-store"}


@bp.post("/account/tokens/<int:token_id>/revoke")
@require()
def revoke_token(token_id: int) -> ResponseReturnValue:
    """Revoke one of my tokens: scripts using it get 401 from the next request."""
    tokens.revoke_token(session_factory(), current_principal(), token_id)
    flash("令牌已吊销 (token revoked)", "ok")
    return redirect(url_for("accounts.account"))
