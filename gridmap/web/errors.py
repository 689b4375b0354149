"""Map exceptions to HTTP responses once: JSON for the API, a page for people."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import psycopg
from flask import Flask, Response, current_app, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

from gridmap.errors import DataRejected, GridmapError, InvalidInput, RateLimited, Unauthorized

log = logging.getLogger(__name__)
RETRY_AFTER_S = 5
UNAVAILABLE = "数据库暂时无法连接，请稍后重试 (the database is unavailable: please retry shortly)"
BUSY = "服务器繁忙，请稍后重试 (the server is busy: please retry shortly)"


def database_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` says the database cannot be reached (down, restarting, connection lost),
    as opposed to a statement that failed on a live connection."""
    if isinstance(exc, DBAPIError):
        return bool(exc.connection_invalidated) or isinstance(exc.orig, psycopg.OperationalError)
    return isinstance(exc, psycopg.OperationalError)


ErrorFormat = Callable[[int, str], Response]
"""How a part of the site answers an error: ``(status, message) -> response``."""


def register_error_format(app: Flask, prefix: str, answer: ErrorFormat) -> None:
    """Errors under ``prefix`` (a path such as ``/open311/``) are answered by ``answer``, also
    those raised before a route matched (an unknown path, a method not allowed): a client of
    that interface always gets its own error shape."""
    app.extensions.setdefault("gridmap.error_formats", {})[prefix] = answer


def _own_format() -> ErrorFormat | None:
    formats: dict[str, ErrorFormat] = current_app.extensions.get("gridmap.error_formats", {})
    return next((answer for prefix, answer in formats.items()
                 if request.path.startswith(prefix)), None)


def _drain_body() -> None:
    """Read what is left of the request's body before answering with a 503.

    A sync worker closes the connection after its answer; closed with an upload still unread,
    the kernel resets it, and a client still sending (a phone's photos) sees a broken
    connection instead of the 503 and its Retry-After. Reading the rest (no more than the app's
    request limit: a larger body was never going to be read) lets the answer through.
    """
    try:
        while request.stream.read(1 << 16):
            pass
    except (OSError, ValueError, HTTPException):  # the client went away, or the body is too large
        pass


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def _respond(status: int, code: str, message: str,
             extra: dict[str, Any] | None = None) -> tuple[Response | str, int]:
    own = _own_format()
    if own is not None:
        return own(status, message), status
    if _wants_json():
        return jsonify({"error": {"code": code, "message": message, **(extra or {})}}), status
    return render_template("error.html", status=status, message=message), status


def register_error_handlers(app: Flask) -> None:
    """Install handlers for our exception tree, HTTP errors and anything unexpected."""

    @app.errorhandler(GridmapError)
    def _gridmap_error(exc: GridmapError) -> ResponseReturnValue:
        if (isinstance(exc, Unauthorized) and not _wants_json() and request.method == "GET"
                and "Authorization" not in request.headers and _own_format() is None):
            # A person opening a page that needs an account: sign in, then come back here.
            # (Interfaces with their own error shape, such as /ogc/, answer 401 to their clients.)
            view = getattr(getattr(current_app, "login_manager", None), "login_view", None)
            if view:
                return redirect(url_for(view, next=request.full_path.rstrip("?")))
        if exc.status >= 500:
            log.exception("server error: %s", exc)
        places = exc.places if isinstance(exc, DataRejected) else None
        fields = exc.fields if isinstance(exc, InvalidInput) else None
        extra = {**({"places": places} if places else {}), **({"fields": fields} if fields else {})}
        return _respond(exc.status, exc.code, exc.message, extra or None)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> tuple[Response | str, int]:
        status = exc.code or 500
        return _respond(status, (exc.name or "error").lower().replace(" ", "_"),
                        exc.description or "")

    @app.errorhandler(429)
    def _rate_limited(exc: HTTPException) -> tuple[Response | str, int]:
        # Flask-Limiter raises werkzeug's TooManyRequests: answer with our code and words.
        return _respond(RateLimited.status, RateLimited.code, RateLimited.MESSAGE)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> ResponseReturnValue:
        if isinstance(exc, PoolTimeout):
            # A burst took every connection for longer than the pool waits: come back soon.
            log.warning("database connection pool exhausted")
            _drain_body()
            body, status = _respond(503, "busy", BUSY)
            return body, status, {"Retry-After": str(RETRY_AFTER_S)}
        if database_unavailable(exc):
            # A restart or an outage: say so and when to come back, never a stack or a 500.
            # SQLAlchemy has dropped the pool's connections; the next request opens new ones.
            log.warning("database unavailable: %s", type(exc).__name__)
            _drain_body()
            body, status = _respond(503, "database_unavailable", UNAVAILABLE)
            return body, status, {"Retry-After": str(RETRY_AFTER_S)}
        log.exception("unhandled error")
        return _respond(500, "internal_error", "服务器内部错误，请稍后再试 (internal error)")
