"""``/metrics``: Prometheus text for administrators — request latency per endpoint, cases by
state and overdue cases from the database, the job queue, the notification outbox."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Connection, text


def _value(body: str, name: str, **labels: str) -> float:
    wanted = ",".join(f'{k}="{v}"' for k, v in labels.items())
    pattern = rf"^{re.escape(name)}{{{re.escape(wanted)}}} (\S+)$" if labels \
        else rf"^{re.escape(name)} (\S+)$"
    found = re.search(pattern, body, re.M)
    assert found, f"{name}{{{wanted}}} not in the metrics"
    return float(found.group(1))


def test_metrics_are_for_administrators(api: Any, login: Any) -> None:
    assert api.get("/metrics").status_code == 302  # to the sign-in page
    assert api.get("/metrics", headers=login("planner")).status_code == 403
    answer = api.get("/metrics", headers=login("admin"))
    assert answer.status_code == 200 and answer.mimetype == "text/plain"
    assert answer.headers["Cache-Control"] == "no-store"


def test_requests_are_timed_per_endpoint(api: Any, login: Any) -> None:
    admin = login("admin")
    for _ in range(3):
        assert api.get("/api/health").status_code == 200
    body = api.get("/metrics", headers=admin).get_data(as_text=True)
    count = _value(body, "gridmap_http_request_duration_seconds_count",
                   endpoint="api.health", method="GET", status="200")
    assert count >= 3
    assert "/api/health" not in body  # labels are endpoint names, never paths


def test_case_counts_come_from_the_database(api: Any, login: Any, tx: Connection) -> None:
    admin = login("admin")
    expected = dict(tx.execute(text('SELECT state, count(*) FROM "case" GROUP BY state')).all())
    overdue = tx.execute(text("""SELECT count(*) FROM "case" WHERE resolve_by < now()
        AND state NOT IN ('resolved', 'verified', 'rated', 'closed', 'cancelled')""")).scalar_one()
    body = api.get("/metrics", headers=admin).get_data(as_text=True)
    for state in ("reported", "dispatched", "closed"):
        assert _value(body, "gridmap_cases", state=state) == expected.get(state, 0)
    assert _value(body, "gridmap_cases_overdue") == overdue


def test_the_job_queue_is_measured(api: Any, login: Any, tx: Connection) -> None:
    """Jobs waiting and running, the oldest waiting job's age, the worker last seen."""
    admin = login("admin")
    tx.execute(text("DELETE FROM procrastinate_workers"))
    body = api.get("/metrics", headers=admin).get_data(as_text=True)
    waiting = _value(body, "gridmap_jobs", state="queued")
    assert _value(body, "gridmap_job_worker_last_seen_seconds") != \
        _value(body, "gridmap_job_worker_last_seen_seconds")  # NaN: no worker ever reported
    tx.execute(text("INSERT INTO job (kind, owner_name, created_at) VALUES "
                    "('coverage.compute_all', 't', now() - interval '90 seconds')"))
    tx.execute(text("INSERT INTO procrastinate_workers (last_heartbeat) "
                    "VALUES (now() - interval '4 seconds')"))
    body = api.get("/metrics", headers=admin).get_data(as_text=True)
    assert _value(body, "gridmap_jobs", state="queued") == waiting + 1
    assert _value(body, "gridmap_job_oldest_queued_seconds") >= 90
    assert _value(body, "gridmap_job_worker_last_seen_seconds") == 4


def test_the_notification_outbox_is_measured(api: Any, login: Any, tx: Connection) -> None:
    """Unsent notifications still tried and given up on, and the oldest one's age."""
    from gridmap.supervision.services.outbox import MAX_ATTEMPTS

    admin = login("admin")
    body = api.get("/metrics", headers=admin).get_data(as_text=True)
    pending = _value(body, "gridmap_notifications", state="pending")
    failed = _value(body, "gridmap_notifications", state="failed")
    tx.execute(text(
        "INSERT INTO notification_outbox (channel, recipient, payload, dedupe_key, attempts, "
        "created_at, sent_at) VALUES "
        "('log', 'person:1', '{}', 'metrics-waiting', 2, now() - interval '1 day', NULL), "
        "('log', 'person:1', '{}', 'metrics-given-up', :max, now(), NULL), "
        "('log', 'person:1', '{}', 'metrics-sent', 1, now() - interval '2 days', now())"),
        {"max": MAX_ATTEMPTS})
    body = api.get("/metrics", headers=admin).get_data(as_text=True)
    assert _value(body, "gridmap_notifications", state="pending") == pending + 1
    assert _value(body, "gridmap_notifications", state="failed") == failed + 1
    assert _value(body, "gridmap_notification_oldest_pending_seconds") >= 86400
