"""What the scheduled Lambda event does instead of the background loops of a long-running node:
deliver the outbox's whole backlog, then catch up from the network for a bounded window, all
inside the invocation's remaining time.

A Lambda cannot hold a pubsub subscription open, so it misses announcements; the schedule opens
a short window on the remote daemon to hear head manifests and fetch what this node lacks.

Each part does its share through the workers' one-pass entry, ``run_until(deadline)``.
"""

import asyncio
import logging
import math
from typing import Any

from node.network.listener import PubsubListener
from node.network.sync import SETTLE_TIMEOUT
from node.runtime.services import NodeServices
from node.toolkit.worker import deadline_in
from storage.errors import IpfsError

log = logging.getLogger(__name__)

MAX_WINDOW_SECONDS = 20.0
# Time kept back from the Lambda timeout for pinning what catch-up fetched and for answering.
SAFETY_SECONDS = 10.0
# What the outbox may take in a run without a Lambda context (a local invoke).
DEFAULT_OUTBOX_SECONDS = 60.0


def outbox_budget(remaining_ms: int | None) -> float:
    """Seconds the outbox may take: all the run has, less ``SAFETY_SECONDS``."""
    if remaining_ms is None:
        return DEFAULT_OUTBOX_SECONDS
    return max(0.0, remaining_ms / 1000 - SAFETY_SECONDS)


def listen_window(remaining_ms: int | None) -> float:
    """The catch-up window: at most ``MAX_WINDOW_SECONDS``, and always inside the timeout."""
    if remaining_ms is None:
        return MAX_WINDOW_SECONDS
    return max(0.0, min(MAX_WINDOW_SECONDS, remaining_ms / 1000 - SAFETY_SECONDS))


async def run_scheduled(services: NodeServices, remaining_ms: int | None) -> dict[str, Any]:
    """Deliver every queued message (backoff ignored: the schedule is the retry clock), then
    sync for what the time left allows (``remaining_ms``: the invocation's, None locally).

    A backlog larger than the time stays queued (``outboxLeft``), that run gets no catch-up
    window, and the next run goes on with it. A daemon that is down is reported, not raised.
    """
    loop = asyncio.get_running_loop()
    started = loop.time()
    end = math.inf if remaining_ms is None else started + remaining_ms / 1000
    delivered = await services.outbox.run_until(started + outbox_budget(remaining_ms))
    result: dict[str, Any] = {"outboxDelivered": delivered}
    left = None if remaining_ms is None else int(remaining_ms - (loop.time() - started) * 1000)
    window = listen_window(left)
    try:
        result["caughtUp"] = (
            await catch_up(services, window, walk_budget(left, window)) if window else 0
        )
    except IpfsError as exc:
        log.warning("scheduled catch-up failed: %s", exc)
        result["caughtUp"], result["syncError"] = 0, str(exc)
    result["catchUp"] = services.syncer.status(services.settings.boards)
    result["outboxLeft"] = services.store.outbox.size()
    if services.remote_backfill is not None:
        # What the node held before PIN_SERVICE_URL was set, as much as the queue has room for.
        result["remotePinsBackfilled"] = await services.remote_backfill.run_until(end)
    if services.remote_pins is not None:
        # After the catch-up, so the pages it published are pinned at the service too.
        result["remotePinsMoved"] = await services.remote_pins.run_until(end)
    return result


def walk_budget(remaining_ms: int | None, window: float) -> float:
    """Seconds left for walking after the listening window and before the replicas' drain
    (``drain_seconds``), inside the timeout: a long catch-up goes on in the next run from the
    frontiers this one saved."""
    if remaining_ms is None:
        return SETTLE_TIMEOUT
    return max(1.0, remaining_ms / 1000 - window - drain_seconds(window) - 2 * SAFETY_SECONDS)


def drain_seconds(window: float) -> float:
    return max(5.0, window)


async def catch_up(
    services: NodeServices, listen_seconds: float, walk_seconds: float | None = None
) -> int:
    """Resume the walks earlier runs left unfinished, listen on every board for
    ``listen_seconds``, walk the heads announced meanwhile for at most ``walk_seconds`` more
    (what is left is saved and continued by the next run), index what this node lacks and pin
    it; returns how many messages were new.

    For deployments without background loops (the scheduled Lambda event): it also publishes
    and announces this node's own heads so that the others learn what it accepted.
    """
    before = services.ingest.indexed
    services.syncer.resume()
    # A listener of this run's own: what the window heard says nothing about the next one.
    listener = PubsubListener(
        services.ipfs, services.settings.boards, services.ingest, services.monitor
    )
    window = deadline_in(listen_seconds)
    listening = asyncio.create_task(listener.run_until(window))
    try:
        await services.heads.run_until(window)
        await listening
    finally:
        listening.cancel()
        await asyncio.gather(listening, return_exceptions=True)
    await services.syncer.run_until(
        deadline_in(SETTLE_TIMEOUT if walk_seconds is None else walk_seconds)
    )
    await services.replicator.run_until(deadline_in(drain_seconds(listen_seconds)))
    await services.peerbook.flush()
    return services.ingest.indexed - before
