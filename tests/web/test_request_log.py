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
