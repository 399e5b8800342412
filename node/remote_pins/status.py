"""What ``/api/status`` and ``/api/messages/{cid}`` say about remote pinning (PIN_SERVICE_URL)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from storage.ports.remote_pins import OPEN

if TYPE_CHECKING:
    from node.runtime.services import NodeServices

# ``health`` values that leave ``networkHealth`` alone.
HEALTHY = ("ok", "idle")


def pin_service_health(state: str, backlog: int, backlog_limit: int) -> str:
    """``unauthorized`` or ``unreachable`` (the worker's own word from its last request),
    ``backlog`` (more entries waiting than ``PIN_SERVICE_BACKLOG_LIMIT``: the service is
    slower than the node, or stuck), else ``ok`` (``idle`` until the first request)."""
    if state in ("unauthorized", "unreachable"):
        return state
    if backlog > backlog_limit:
        return "backlog"
    return state


def pin_service_status(services: NodeServices, internals: bool = False) -> dict[str, Any]:
    """``state``: ``ok``, ``unreachable`` (down, 429/5xx: retried with backoff),
    ``unauthorized`` (bad PIN_SERVICE_TOKEN: paused, not retried in a loop) or ``idle``
    (nothing sent yet); ``health``: ``state``, or ``backlog`` past ``backlogLimit`` (anything
    but ``ok``/``idle`` makes ``networkHealth`` ``degraded``); ``backlog``: entries not
    settled yet; ``byState``: open entries per state (``failed`` included); ``backfill`` (serve
    only): the pins of what the node held before (``done``, ``requested`` in this process). The
    service's URL and last error are internals, shown only to a caller holding an API token
    (as the daemon's address is)."""
    pinner = services.remote_pins
    if pinner is None:
        return {"enabled": False}
    if not services.background:
        # Lambda: only the scheduled runs talk to the service; read what the last one saw.
        pinner.load_state()
    counts = pinner.backlog()
    backlog = sum(counts.get(state, 0) for state in OPEN)
    limit = services.settings.pin_service_backlog_limit
    status: dict[str, Any] = {
        "enabled": True,
        "state": pinner.state,
        "health": pin_service_health(pinner.state, backlog, limit),
        "backlog": backlog,
        "backlogLimit": limit,
        "failed": counts.get("failed", 0),
        "byState": counts,
        "requests": pinner.requests,
    }
    backfill = services.remote_backfill
    if backfill is not None and services.background:
        # (On Lambda the scheduled runs backfill: their result says how much, not status.)
        status["backfill"] = {"done": backfill.done, "requested": backfill.requested}
    if internals:
        status.update(url=pinner.url, lastError=pinner.last_error or None)
    return status


def message_remote_pin(
    services: NodeServices, cid: str, internals: bool = False
) -> dict[str, Any] | None:
    """Where the service stands on one CID (None: not asked to pin it): ``status`` is
    ``waiting`` (not accepted by the service yet), ``queued``, ``pinning``, ``pinned``,
    ``failed`` or ``unpinning``. The service's URL and the last error, as in the status, only
    for a caller holding an API token."""
    pinner = services.remote_pins
    pin = services.store.remote_pins.get(cid)
    if pinner is None or pin is None:
        return None
    remote: dict[str, Any] = {
        "status": pin.state,
        "requestId": pin.request_id or None,
        "attempts": pin.attempts,
    }
    if internals:
        remote.update(service=pinner.url, lastError=pin.last_error or None)
    return remote
