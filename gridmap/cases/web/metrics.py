"""The case feature's operations metrics: cases by state and overdue cases, read at scrape time."""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from gridmap.cases.services.stats import operational_counts
from gridmap.web.db import session_factory


class CaseCollector(Collector):
    """``gridmap_cases{state}`` and ``gridmap_cases_overdue``, from the database when scraped
    (so every worker answers the same, whichever one the scraper reaches)."""

    def collect(self) -> Iterable[Metric]:
        with session_factory()() as session:
            by_state, overdue = operational_counts(session)
        cases = GaugeMetricFamily("gridmap_cases", "Cases by workflow state.", labels=["state"])
        for state, n in sorted(by_state.items()):
            cases.add_metric([state], n)
        yield cases
        yield GaugeMetricFamily("gridmap_cases_overdue",
                                "Unresolved cases past their resolution deadline.", value=overdue)
