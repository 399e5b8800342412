"""What ``/api/status`` and ``/api/messages/{cid}`` say about remote pinning (PIN_SERVICE_URL)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from node.runtime.services import NodeServices

OPEN = ("waiting", "queued", "pinning", "unpinning")


def pin_service_status(services: NodeServices, internals: bool = False) -> dict[str, Any]:
    """``state``: ``ok``, ``unreachable`` (down, 429/5xx: retried with backoff),
    ``unauthorized`` (bad PIN_SERVICE_TOKEN: paused, not retried in a loop) or ``idle``
    (nothing sent yet); ``backlog``: entries not settled yet; ``byState``: open entries per
    state (``failed`` included). The service's URL and last error are internals, shown only to
    a caller holding an API token (as the daemon's address is)."""
    pinner = services.remote_pins
    if pinner is None:
        return {"enabled": False}
    counts = pinner.backlog()
    status: dict[str, Any] = {
        "enabled": True,
        "state": pinner.state,
        "backlog": sum(counts.get(state, 0) for state in OPEN),
        "failed": counts.get("failed", 0),
        "byState": counts,
        "requests": pinner.requests,
    }
    if internals:
        status.update(url=pinner.url, lastError=pinner.last_error or None)
    return status


def message_remote_pin(services: NodeServices, cid: str) -> dict[str, Any] | None:
    """Where the service stands on one CID (None: not asked to pin it): ``status`` is
    ``waiting`` (not accepted by the service yet), ``queued``, ``pinning``, ``pinned``,
    ``failed`` or ``unpinning``."""
    pinner = services.remote_pins
    pin = services.index.remote_pin_get(cid)
    if pinner is None or pin is None:
        return None
    return {
        "service": pinner.url,
        "status": pin.state,
        "requestId": pin.request_id or None,
        "attempts": pin.attempts,
        "lastError": pin.last_error or None,
    }
