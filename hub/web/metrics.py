"""`/metrics`: Prometheus gauges read from the database when scraped.

Counts come from the tables rather than from in-process counters, so every
process serving `/metrics` reports the same numbers whichever did the work.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from hub.core import outbox
from hub.core import store as t
from hub.core.store import Store, from_db
from hub.web.queries import delivery_counts_by_sink

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class StoreCollector(Collector):
    """Calls by disposition, records, deliveries by outcome and sink, the outbox, live sources."""

    def __init__(self, store: Store, source_states: Callable[[], dict[str, bool]] | None = None) -> None:
        self.store = store
        self.source_states = source_states or (lambda: {})

    def collect(self) -> Iterator[Metric]:
        """One scrape."""
        calls = GaugeMetricFamily("recado_calls", "Finalized calls by disposition.", labels=["disposition"])
        records = GaugeMetricFamily("recado_records_finalized", "Records finalized.")
        deliveries = GaugeMetricFamily(
            "recado_delivery_attempts", "Delivery attempts by outcome and sink kind.", labels=["sink", "outcome"]
        )
        depth = GaugeMetricFamily("recado_outbox_rows", "Outbox rows by status.", labels=["status"])
        age = GaugeMetricFamily("recado_outbox_oldest_pending_seconds", "Age of the oldest pending delivery.")
        sources = GaugeMetricFamily(
            "recado_source_connected", "Whether a telephony source is connected (1) or not (0).", labels=["source"]
        )
        with self.store.connect() as conn:
            total = 0
            for disposition, count in conn.execute(
                select(t.records.c.disposition, func.count()).group_by(t.records.c.disposition)
            ):
                calls.add_metric([str(disposition)], int(count))
                total += int(count)
            records.add_metric([], total)
            for sink, outcome, count in delivery_counts_by_sink(conn):
                deliveries.add_metric([sink, outcome], count)
            for status, count in outbox.counts(conn).items():
                depth.add_metric([status], count)
            oldest = conn.execute(
                select(func.min(t.outbox.c.created_at)).where(t.outbox.c.status == outbox.PENDING)
            ).scalar()
        moment = from_db(oldest)
        age.add_metric([], max(0.0, (datetime.now(UTC) - moment).total_seconds()) if moment else 0.0)
        for name, connected in sorted(self.source_states().items()):
            sources.add_metric([name], 1 if connected else 0)
        yield from (calls, records, deliveries, depth, age, sources)


def render(store: Store, source_states: Callable[[], dict[str, bool]] | None = None) -> bytes:
    """The metrics page."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(StoreCollector(store, source_states))
    return generate_latest(registry)
