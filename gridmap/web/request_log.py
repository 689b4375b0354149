"""Request ids and structured logs: every request has an id, every log line is one JSON object,
and every SQL statement the app sends for a request carries the id in a comment.

The id comes from the ``X-Request-ID`` header when a proxy in front set a sane one (letters,
digits, dashes; 8–64 characters), else a new one; it goes back in the response's
``X-Request-ID`` and into every log record written while the request runs (``request_id``),
so a user's report ("it failed at 10:02, id 4f1c…") finds the server's lines. ``gridmap serve``
writes the access log and the app's log as JSON lines (python-json-logger) with these ids
(:mod:`gridmap.gunicorn_hooks`).
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from flask import Flask, Response, g, has_request_context, request
from sqlalchemy import Engine, event

HEADER = "X-Request-ID"
_SANE = re.compile(r"[A-Za-z0-9-]{8,64}")


_BOUND: ContextVar[str | None] = ContextVar("gridmap_request_id", default=None)


@contextmanager
def bound_request_id(request_id: str | None) -> Iterator[None]:
    """Carry ``request_id`` into the log records written outside a request in this block (a
    job worker runs a job under the id of the request that started it)."""
    token = _BOUND.set(request_id)
    try:
        yield
    finally:
        _BOUND.reset(token)


def current_request_id() -> str | None:
    """The id of the request being served (or of the one that started the job being run);
    None otherwise."""
    if not has_request_context():
        return _BOUND.get()
    value = g.get("gridmap_request_id")
    return value if isinstance(value, str) else None


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` to every record (None outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id()
        return True


def register_request_ids(app: Flask) -> None:
    """Give every request an id and send it back in ``X-Request-ID``."""

    @app.before_request
    def _assign() -> None:
        given = request.headers.get(HEADER, "")
        g.gridmap_request_id = given if _SANE.fullmatch(given) else uuid.uuid4().hex

    @app.after_request
    def _answer(response: Response) -> Response:
        request_id = current_request_id()
        if request_id:
            response.headers[HEADER] = request_id
        return response


def json_logging() -> dict[str, Any]:
    """A :func:`logging.config.dictConfig` that writes every record to stderr as one JSON object
    with its request id (the app's log under ``gridmap serve`` and the job worker's)."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": "gridmap.web.request_log.RequestIdFilter"}},
        "formatters": {"json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"}}},
        "handlers": {
            "app": {"class": "logging.StreamHandler", "formatter": "json",
                    "filters": ["request_id"], "stream": "ext://sys.stderr"}},
        "root": {"level": "INFO", "handlers": ["app"]},
    }


def tag_statements(engine: Engine) -> None:
    """Start every statement ``engine`` runs for a request (or a job) with
    ``/* request_id=… */``, so ``pg_stat_activity`` and PostgreSQL's slow-query log say which
    request a query belongs to. Statements of the locate hot path (:class:`gridmap.db.ReadPool`,
    prepared) do not pass here; bench/sql_comment_bench.py measures the cost on the others."""
    event.listen(engine, "before_cursor_execute", tag_statement, retval=True)


def tag_statement(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any,
                  executemany: bool) -> tuple[str, Any]:
    """The listener :func:`tag_statements` installs. The id is letters, digits and dashes only
    (see :func:`register_request_ids`), so it cannot end the comment."""
    request_id = current_request_id()
    if request_id is not None and _SANE.fullmatch(request_id):
        statement = f"/* request_id={request_id} */ {statement}"
    return statement, parameters
