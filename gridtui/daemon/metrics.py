"""Prometheus metrics of the daemon, served at ``GET /metrics``.

Each app has its own registry (no process-global state: tests run many apps).
Two kinds of figures:

* read at scrape time from the engine (:class:`EngineCollector`): events in,
  accepted, rejected, store queue depth, store up, writer failures and spills,
  bus and component errors, feed-reported errors — so they are exact whenever
  Prometheus looks;
* counted as things happen (:class:`DaemonMetrics`): opportunities and alerts
  seen on the bus, HTTP requests and their latency, WebSocket clients and
  drops, alert-sink deliveries and failures, and the event-loop lag sampled by
  the health monitor (a lagging loop is the first sign of an overloaded daemon).

Rates (ticks/s) are Prometheus's business (``rate(gridtui_events_total[1m])``);
``gridtui_events_per_second`` is the recent rate as the daemon measured it, for
a glance without PromQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from gridtui.daemon.state import DaemonEngine

__all__ = ["CONTENT_TYPE_LATEST", "DaemonMetrics"]


class EngineCollector(Collector):
    """Engine statistics, read when scraped."""

    def __init__(self, engine: DaemonEngine, recent_rate: Gauge) -> None:
        self.engine = engine
        self.recent_rate = recent_rate

    def collect(self) -> Iterator[Metric]:
        runtime = self.engine.runtime
        kernel, writer = runtime.kernel.stats, runtime.writer
        counters = [
            ("gridtui_events", "Events the feed delivered to the kernel.", kernel.events_in),
            ("gridtui_events_accepted", "Events that passed validation.", kernel.accepted),
            ("gridtui_events_derived", "Events the components derived.", kernel.derived),
            (
                "gridtui_feed_rejected",
                "Events rejected by validation.",
                runtime.validator.rejected_total,
            ),
            ("gridtui_store_written", "Events written to the store.", writer.stats.written),
            ("gridtui_store_failures", "Failed store writes (retried).", writer.stats.failures),
            (
                "gridtui_store_spilled",
                "Events spilled to disk while the store was down.",
                writer.stats.spilled,
            ),
            (
                "gridtui_bus_errors",
                "Failed bus publishes (events still stored).",
                kernel.bus_errors,
            ),
            (
                "gridtui_component_errors",
                "Component failures (logged, skipped).",
                kernel.component_errors,
            ),
        ]
        for name, documentation, value in counters:
            family = CounterMetricFamily(name, documentation)
            family.add_metric([], float(value))
            yield family
        feed_errors = CounterMetricFamily(
            "gridtui_feed_errors",
            "Errors a feed reported (FeedHealth), by source.",
            labels=["source"],
        )
        for source, health in self.engine.live.feeds.items():
            feed_errors.add_metric([source], float(health.errors_total))
        yield feed_errors
        live = self.engine.live
        opportunities = CounterMetricFamily(
            "gridtui_opportunities",
            "Spread opportunity events seen on the bus, by status.",
            labels=["status"],
        )
        for status, count in sorted(live.opportunity_counts.items()):
            opportunities.add_metric([status], float(count))
        yield opportunities
        alerts = CounterMetricFamily(
            "gridtui_alerts",
            "Alerts seen on the bus, by rule and severity.",
            labels=["rule", "severity"],
        )
        for (rule, severity), count in sorted(live.alert_counts.items()):
            alerts.add_metric([rule, severity], float(count))
        yield alerts
        gauges = [
            (
                "gridtui_store_queue_depth",
                "Events accepted but not yet stored (memory + spill).",
                writer.pending,
            ),
            (
                "gridtui_store_up",
                "1 while the last store write succeeded.",
                1 if writer.stats.store_up else 0,
            ),
            (
                "gridtui_open_opportunities",
                "Spread opportunities open now.",
                len(self.engine.open_opportunities()),
            ),
        ]
        for name, documentation, value in gauges:
            gauge = GaugeMetricFamily(name, documentation)
            gauge.add_metric([], float(value))
            yield gauge


class DaemonMetrics:
    """Every metric of one daemon app, in its own registry."""

    def __init__(self, engine: DaemonEngine) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        registry = self.registry
        self.events_per_second = Gauge(
            "gridtui_events_per_second",
            "Events (ticks) a second the kernel took in, over the last sample.",
            registry=registry,
        )
        self.loop_lag = Gauge(
            "gridtui_event_loop_lag_seconds",
            "How late the event loop ran the health monitor's last timer.",
            registry=registry,
        )
        self.loop_lag_histogram = Histogram(
            "gridtui_event_loop_lag_distribution_seconds",
            "Event-loop lag samples.",
            buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
            registry=registry,
        )
        self.bus_events = Counter(
            "gridtui_bus_events_seen",
            "Events the API's bus subscription received.",
            registry=registry,
        )
        self.http_requests = Counter(
            "gridtui_http_requests",
            "HTTP requests answered, by route, method and status.",
            ["route", "method", "status"],
            registry=registry,
        )
        self.http_latency = Histogram(
            "gridtui_http_request_duration_seconds",
            "Time to answer an HTTP request, by route.",
            ["route"],
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0),
            registry=registry,
        )
        self.rate_limited = Counter(
            "gridtui_http_rate_limited", "Requests refused with 429.", registry=registry
        )
        self.auth_failures = Counter(
            "gridtui_auth_failures",
            "Requests and control messages refused with 401.",
            registry=registry,
        )
        self.ws_clients = Gauge(
            "gridtui_websocket_clients", "WebSocket clients connected.", registry=registry
        )
        self.ws_dropped = Counter(
            "gridtui_websocket_dropped_messages",
            "Messages dropped for WebSocket clients that fell behind.",
            registry=registry,
        )
        self.sink_deliveries = Counter(
            "gridtui_alert_sink_deliveries",
            "Alerts delivered, by sink.",
            ["sink"],
            registry=registry,
        )
        self.sink_failures = Counter(
            "gridtui_alert_sink_failures",
            "Alerts a sink failed to deliver, by sink.",
            ["sink"],
            registry=registry,
        )
        registry.register(EngineCollector(engine, self.events_per_second))

    def render(self) -> bytes:
        return generate_latest(self.registry)
