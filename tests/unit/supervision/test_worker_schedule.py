"""The worker schedules escalation and delivery as periodic jobs (one at a time each)."""

from __future__ import annotations

from sqlalchemy.orm import sessionmaker

from gridmap import worker
from gridmap.config import Settings


def test_escalation_and_delivery_are_periodic_tasks() -> None:
    settings = Settings(database_url="postgresql://x@localhost/none", secret_key="k")
    app = worker.make_app(settings, sessionmaker())
    periodic = {name: task for (name, _), task in app.periodic_registry.periodic_tasks.items()}
    assert periodic["gridmap.escalate_overdue"].cron == "*/5 * * * *"
    assert periodic["gridmap.deliver_notifications"].cron == "* * * * *"
    for name in ("gridmap.escalate_overdue", "gridmap.deliver_notifications"):
        assert app.tasks[name].queueing_lock  # a slow run is never queued twice
