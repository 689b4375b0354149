"""How a request is authenticated, checked once before every view.

- ``Authorization: Bearer gmt_…`` (a personal API token): the token's account, nothing else; no
  cookie is consulted, so no CSRF check is needed (a browser never adds this header by itself).
- Otherwise the session cookie (Flask-Login), with an absolute lifetime and an idle timeout.
  Every state-changing request is then checked for Flask-WTF's CSRF token (form field or
  ``X-CSRFToken`` header) and, when the browser sends one, an ``Origin`` of this site.
- Open311 authenticates its clients by API key and takes no cookie-borne authority, so it is
  exempt from the CSRF check (its POST creates a case as the client, never as a signed-in person).
- An account with a one-time password may use nothing but the password page until it changes it.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from flask import Flask, current_app, g, redirect, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from flask_wtf.csrf import CSRFError, CSRFProtect

from gridmap.access import PUBLIC, Principal
from gridmap.accounts.services import principals
from gridmap.accounts.services.audit import CITY_TZ
from gridmap.accounts.services.principals import SignedIn
from gridmap.accounts.services.rights import ASSIGNERS
from gridmap.accounts.throttle import SignInThrottle
from gridmap.config import Settings
from gridmap.errors import Forbidden, Unauthorized
from gridmap.web.auth import LOADER, current_principal
from gridmap.web.db import session_factory, settings

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_EXEMPT_BLUEPRINTS = frozenset({"open311"})
PASSWORD_ENDPOINTS = frozenset({"accounts.password", "accounts.sign_out", "static",
                                 "assets.vendor_file"})
"""What an account that must change its password may still reach."""
SEEN_KEY = "gm_seen"
SINCE_KEY = "gm_since"
_SEEN_RESOLUTION_S = 60
BAD_TOKEN = "API 令牌无效或已吊销 (the API token is invalid or revoked)"


class User(UserMixin):  # type: ignore[misc]
    """Flask-Login's user: the signed-in account, identified with its session epoch."""

    def __init__(self, signed_in: SignedIn) -> None:
        self.signed_in = signed_in

    def get_id(self) -> str:
        """``account:epoch``; a password change or deactivation raises the epoch."""
        return f"{self.signed_in.principal.account_id}:{self.signed_in.epoch}"


def _address() -> str | None:
    return request.remote_addr


def _load_user(user_id: str) -> User | None:
    account, _, epoch = user_id.partition(":")
    if not account.isdigit() or not epoch.isdigit():
        return None
    with session_factory()() as db:
        found = principals.load(db, int(account), address=_address())
    if found is None or found.epoch != int(epoch):
        return None  # deactivated, or signed out everywhere by a password change
    return User(found)


def _bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    return secret.strip() if scheme.lower() == "bearer" else None


def _principal() -> Principal:
    token = g.get("gridmap_token_account")
    if isinstance(token, SignedIn):
        return token.principal
    if current_user.is_authenticated:
        user: User = current_user._get_current_object()  # noqa: SLF001 (Flask-Login's proxy)
        return user.signed_in.principal
    return PUBLIC


def _same_origin() -> bool:
    origin = request.headers.get("Origin")
    if origin is None:  # older browsers and non-browser clients: the CSRF token still decides
        return True
    allowed = {f"{request.scheme}://{request.host}"}
    public = settings().public_base_url
    if public:
        parts = urlsplit(public)
        allowed.add(f"{parts.scheme}://{parts.netloc}")
    return origin in allowed


def _expired(config: Settings) -> bool:
    """Whether the session outlived its absolute lifetime or sat unused past the idle timeout."""
    now = int(time.time())
    since = session.get(SINCE_KEY)
    if not isinstance(since, int) or now - since > config.session_hours * 3600:
        return True
    seen = session.get(SEEN_KEY)
    if isinstance(seen, int) and now - seen > config.session_idle_minutes * 60:
        return True
    if not isinstance(seen, int) or now - seen >= _SEEN_RESOLUTION_S:
        session[SEEN_KEY] = now
    return False


def _authenticate() -> ResponseReturnValue | None:
    secret = _bearer()
    if secret is not None:
        found = principals.by_token(session_factory(), secret, address=_address())
        if found is None:
            raise Unauthorized(BAD_TOKEN)
        g.gridmap_token_account = found
        return None
    if request.method not in SAFE_METHODS and request.blueprint not in CSRF_EXEMPT_BLUEPRINTS:
        if not _same_origin():
            raise Forbidden("请求来源不是本站 (cross-origin request refused)")
        try:
            current_app.extensions["csrf"].protect()
        except CSRFError:
            raise Forbidden("页面已过期或请求不是从本站发出，请刷新页面后重试 (the form expired or the "
                            "request did not come from this site: reload and retry)") from None
    if not current_user.is_authenticated:
        return None
    if _expired(settings()):
        end()
        return None
    user: User = current_user._get_current_object()  # noqa: SLF001
    if user.signed_in.must_change_password and request.endpoint not in PASSWORD_ENDPOINTS:
        if request.path.startswith("/api/") or request.method not in SAFE_METHODS:
            raise Forbidden("请先修改初始密码 (change your one-time password first)")
        return redirect(url_for("accounts.password", next=request.full_path.rstrip("?")))
    return None


def install(app: Flask) -> None:
    """Sessions (cookie settings, Flask-Login), CSRF, the principal loader and the throttle."""
    config: Settings = app.extensions["gridmap.settings"]
    app.config.update(
        SESSION_COOKIE_NAME="gridmap_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=config.cookies_secure,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=config.session_hours),
        REMEMBER_COOKIE_DURATION=timedelta(0),
        WTF_CSRF_CHECK_DEFAULT=False,  # checked in _authenticate, after the token branch
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session
        WTF_CSRF_SSL_STRICT=True,
    )
    manager = LoginManager(app)
    manager.login_view = "accounts.sign_in"
    manager.session_protection = "basic"
    manager.user_loader(_load_user)
    CSRFProtect(app)
    app.before_request(_authenticate)
    app.extensions[LOADER] = _principal
    app.context_processor(lambda: {"me": current_principal(),
                                   "may_administer": current_principal().has(*ASSIGNERS)})
    app.add_template_filter(_localtime, "localtime")


def _localtime(value: datetime | None) -> str:
    """A timestamp as the city's local time (UTC+8), to the minute."""
    if value is None:
        return ""
    return value.astimezone(CITY_TZ).strftime("%Y-%m-%d %H:%M")


def start(user: User) -> None:
    """Sign ``user`` in on this session: a fresh session (no fixation), with its clocks."""
    session.clear()
    login_user(user)
    session.permanent = True
    now = int(time.time())
    session[SINCE_KEY] = now
    session[SEEN_KEY] = now


def end() -> None:
    """Sign out of this session and forget everything it held."""
    logout_user()
    session.clear()


def throttle() -> SignInThrottle:
    """The app's failed-sign-in throttle, counting in the rate-limit store."""
    found = current_app.extensions.get("gridmap.sign_in_throttle")
    if isinstance(found, SignInThrottle):
        return found
    rates = settings().rate_limits
    made = SignInThrottle.build(current_app.extensions["gridmap.limiter"].limiter,
                                per_account=rates.sign_in_failures_account,
                                per_address=rates.sign_in_failures_address,
                                prefix=rates.key_prefix)
    current_app.extensions["gridmap.sign_in_throttle"] = made
    return made
