"""Request ids: every answer carries one, a proxy's sane id is kept, and log records written
during the request carry it (the JSON log lines of ``gridmap serve``)."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from pythonjsonlogger.json import JsonFormatter

from gridmap import gunicorn_hooks
from gridmap.web.request_log import HEADER, RequestIdFilter


def test_every_answer_has_an_id_and_a_proxy_s_sane_id_is_kept(api: Any) -> None:
    first, second = api.get("/api/health"), api.get("/api/health")
    assert len(first.headers[HEADER]) == 32 and first.headers[HEADER] != second.headers[HEADER]
    kept = api.get("/api/health", headers={HEADER: "edge-1f2e3d4c-77"})
    assert kept.headers[HEADER] == "edge-1f2e3d4c-77"
    for bad in ("x", "a b c d e f g h", "<script>alert(1)</script>", "é" * 20):
        assert api.get("/api/health", headers={HEADER: bad}).headers[HEADER] != bad


def test_log_lines_are_json_with_the_request_id(app: Any, caplog: pytest.LogCaptureFixture) -> None:
    handler_config = gunicorn_hooks.logconfig_dict["formatters"]["json"]
    formatter = JsonFormatter(handler_config["fmt"], rename_fields=handler_config["rename_fields"])
    caplog.handler.addFilter(RequestIdFilter())
    with app.test_request_context("/api/health", headers={HEADER: "req-12345678"}):
        app.preprocess_request()
        logging.getLogger("gridmap.test").warning("something happened")
    record = next(r for r in caplog.records if r.getMessage() == "something happened")
    line = json.loads(formatter.format(record))
    assert line["request_id"] == "req-12345678" and line["level"] == "WARNING"
    assert line["message"] == "something happened" and line["logger"] == "gridmap.test"


def test_statements_carry_the_request_id_in_a_comment(app: Any) -> None:
    """pg_stat_activity (and the slow-query log) shows which request a query belongs to."""
    from flask import g
    from sqlalchemy import text

    here = text("SELECT query FROM pg_stat_activity WHERE pid = pg_backend_pid()")
    engine = app.extensions["gridmap.engine"]
    with app.test_request_context(), engine.connect() as conn:
        g.gridmap_request_id = "trace-4f1c2b7a"  # what the request's before-hook assigns
        assert conn.execute(here).scalar_one().startswith(
            "/* request_id=trace-4f1c2b7a */ SELECT query")
    with engine.connect() as conn:  # outside a request: the statement as written
        assert conn.execute(here).scalar_one().startswith("SELECT query")
