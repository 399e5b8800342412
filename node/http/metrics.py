"""``GET /metrics`` in Prometheus text format, ``serve`` mode only: prometheus-client is
imported here and this module only by ``create_app(..., metrics=True)``, so Lambda's cold start
never pays for it.

Counters are whatever ``node.toolkit.counters`` holds (any module can define more); gauges are read
from the running node at scrape time.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from starlette.requests import Request
from starlette.responses import Response

from node.http.live_hub import live_hub
from node.remote_pins.status import HEALTHY, pin_service_health
from node.toolkit.counters import REGISTRY

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from node.runtime.services import NodeServices


class NodeCollector:
    def __init__(self, app: Starlette) -> None:
        self.app = app

    def collect(self) -> Iterator[Metric]:
        for counter in list(REGISTRY.values()):
            family = CounterMetricFamily(
                counter.name.removesuffix("_total"), counter.help, labels=counter.labels
            )
            for labels, value in list(counter.values.items()):
                family.add_metric(list(labels), value)
            yield family
        services: NodeServices = self.app.state.services
        yield _gauge(
            "onusone_outbox_backlog",
            "accepted messages not yet pinned and announced",
            services.store.outbox.size(),
        )
        yield _gauge(
            "onusone_live_clients",
            "WebSocket and long-poll clients connected",
            live_hub(self.app).clients,
        )
        yield _gauge(
            "onusone_replication_backlog",
            "replicas queued for pinning",
            services.replicator.backlog(),
        )
        yield _gauge(
            "onusone_peers_known", "peers in the peer table", len(services.peerbook.snapshot())
        )
        yield _gauge(
            "onusone_peers_evicted",
            "peers forgotten to keep the table bounded",
            services.peerbook.evicted,
        )
        yield _gauge(
            "onusone_sync_queued",
            "chains waiting for a catch-up walk slot",
            services.syncer.queued(),
        )
        sync = services.syncer.counters
        for item in dataclasses.fields(sync):
            name = f"onusone_sync_{item.name}"
            yield CounterMetricFamily(
                name, f"catch-up: {item.name}", value=getattr(sync, item.name)
            )
        subscribed = GaugeMetricFamily(
            "onusone_subscription_up",
            "1 while the board's pubsub subscription is open",
            labels=["board"],
        )
        for board, state in services.subscription_states().items():
            subscribed.add_metric([board], 1.0 if state == "subscribed" else 0.0)
        yield subscribed
        yield from _remote_pins(services)


def _remote_pins(services: NodeServices) -> Iterator[Metric]:
    """The pinning service (PIN_SERVICE_URL): its queue per state, what this process sent and
    settled there, and whether it is healthy (the same word as ``pinService.health``)."""
    pinner = services.remote_pins
    if pinner is None:
        return
    queued = GaugeMetricFamily(
        "onusone_remote_pins", "remote pins not settled yet, per state", labels=["state"]
    )
    for state, count in sorted(pinner.backlog().items()):
        queued.add_metric([state], count)
    yield queued
    for name, help in (
        ("requests", "HTTP requests sent to the pinning service"),
        ("pinned", "remote pins the service reported pinned"),
        ("failed", "remote pins the service reported failed for good"),
        ("unpinned", "superseded head pages removed at the service"),
        ("retries", "remote-pin steps retried after an error"),
    ):
        yield CounterMetricFamily(f"onusone_remote_pin_{name}", help, value=getattr(pinner, name))
    backlog = pinner.open_entries()
    health = pin_service_health(pinner.state, backlog, services.settings.pin_service_backlog_limit)
    yield _gauge(
        "onusone_remote_pin_healthy",
        "1 while the pinning service answers, takes the token and keeps up",
        1.0 if health in HEALTHY else 0.0,
    )
    if services.remote_backfill is not None:
        yield CounterMetricFamily(
            "onusone_remote_pin_backfilled",
            "entries the backfill queued for what the node held before",
            value=services.remote_backfill.requested,
        )


def _gauge(name: str, help: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, help, value=value)


async def metrics(request: Request) -> Response:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(NodeCollector(request.app))
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
