"""The ``/api/status`` document: every field the prototype had, each one computed."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from node import __version__
from node.guards.storage_budget import MB
from node.http.network_health import network_health
from node.remote_pins.status import HEALTHY, pin_service_status

if TYPE_CHECKING:
    from node.runtime.services import NodeServices


async def node_status(services: NodeServices, internals: bool = False) -> dict[str, Any]:
    """``internals`` (the daemon's RPC address, which may hold credentials, and its raw error)
    only for a caller holding an API token: a stranger learns that the daemon is reachable,
    not where it is."""
    snapshot = await services.monitor.snapshot()
    subscriptions = services.subscription_states()
    backlog = services.store.outbox.size()
    swarm = {p.peer_id for p in snapshot.peers}
    board_peers = {p for p in swarm if p in snapshot.topic_peers or services.mesh.matters(p)}
    connected = len(board_peers)
    pubsub_disabled = snapshot.pubsub_disabled or "pubsub_disabled" in subscriptions.values()
    storage_bytes = snapshot.repo_bytes + services.store.size_bytes()
    pin_service = pin_service_status(services, internals)
    ipfs: dict[str, Any] = {"reachable": snapshot.reachable}
    if internals:
        ipfs["api"] = services.ipfs.base_url
    if snapshot.info is not None:
        ipfs.update(
            version=snapshot.info.version,
            peerId=snapshot.info.peer_id,
            agent=snapshot.info.agent,
            addresses=snapshot.info.addresses,
        )
    else:
        error = snapshot.error if internals else "the IPFS daemon does not answer"
        ipfs.update(version=None, peerId=None, error=error)
    return {
        "nodeId": services.key.public_hex,
        "connectedPeers": connected,
        "swarmPeers": len(swarm),
        "networkHealth": network_health(
            snapshot.reachable,
            connected,
            backlog,
            all(state in ("subscribed", "scheduled") for state in subscriptions.values()),
            pubsub_disabled,
            pin_service.get("health", "ok") in HEALTHY,
        ),
        "messagesSynced": services.store.messages.count(),
        # Per served board, so a board's view shows its own count, not every board's.
        "boardMessages": {
            board: services.store.messages.count(board) for board in services.settings.boards
        },
        "storageUsed": round(storage_bytes / MB, 2),
        # Why new posts are refused with 507, or null while there is room.
        "storageFull": services.budget.full(),
        "ipfs": ipfs,
        "uptime": round(time.time() - services.started_at, 1),
        "boards": services.settings.boards,
        "subscriptions": subscriptions,
        "outbox": backlog,
        # Without background workers (Lambda) the scheduled runs walk: read what they saved.
        "catchUp": services.syncer.status(services.settings.boards, reload=not services.background),
        "version": __version__,
        **local_parts(services),
        # Remote pinning (issue 17), kept to one field; its ``health`` feeds networkHealth.
        "pinService": pin_service,
    }


def local_parts(services: NodeServices) -> dict[str, Any]:
    """What only some nodes have: bootstrap peers (``PEERS``), a local daemon of their own."""
    parts: dict[str, Any] = {}
    if services.settings.peers:
        parts["bootstrap"] = services.bootstrap.states()
    if services.supervisor is not None:
        parts["localDaemon"] = services.supervisor.describe()
    return parts
