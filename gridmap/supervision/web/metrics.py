"""The notification outbox's metrics: what waits to be sent, what was given up on."""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from gridmap.supervision.services import outbox
from gridmap.web.db import session_factory


class OutboxCollector(Collector):
    """``gridmap_notifications{state}`` (pending: still tried; failed: given up after the
    last attempt, kept with its error for an operator) and
    ``gridmap_notification_oldest_pending_seconds``, read when scraped. A growing pending
    count or age means the mail server is down or no worker runs."""

    def collect(self) -> Iterable[Metric]:
        figures = outbox.figures(session_factory())
        found = GaugeMetricFamily("gridmap_notifications",
                                  "Notifications not yet sent, by state.", labels=["state"])
        found.add_metric(["pending"], figures["pending"])
        found.add_metric(["failed"], figures["failed"])
        yield found
        yield GaugeMetricFamily("gridmap_notification_oldest_pending_seconds",
                                "Age of the oldest notification still waiting to be sent.",
                                value=figures["oldest_pending_s"])
