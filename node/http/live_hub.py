"""What every live client (WebSocket or long-poll) shares: a cap on how many are served at
once, one status feed for all of them, and reading the board from a resume cursor."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette

from node.http.errors import ApiError
from node.http.status import node_status
from node.settings import Limits
from node.toolkit.worker import Next, StepWorker, run_forever
from storage.errors import InvalidCursor
from storage.ports.messages import MessageStore, Page

if TYPE_CHECKING:
    from node.runtime.services import NodeServices


STATUS_INTERVAL = 2.0
PAGE_SIZE = 50


def messages_after(
    messages: MessageStore, board: str, since: str | None, max_bytes: int | None = None
) -> Page:
    """The board's messages after ``since`` in receipt order, at most ``PAGE_SIZE`` and about
    ``max_bytes``; no ``since`` means "from now", so a new client gets the cursor to resume
    from and no backlog."""
    if since is None:
        return Page([], messages.latest_cursor(board))
    try:
        return messages.list_since(board, since, PAGE_SIZE, max_bytes)
    except InvalidCursor as exc:
        raise InvalidCursor(f"since: {exc}") from None


def status_fingerprint(status: dict[str, Any]) -> dict[str, Any]:
    """The status without the fields that change every second, to tell a real change."""
    return {key: value for key, value in status.items() if key != "uptime"}


class LiveHub(StepWorker):
    """Counts live clients against ``max_clients`` (``LIVE_CLIENTS_MAX``) and against
    ``per_address`` for each client address (``LIVE_CLIENTS_PER_ADDRESS``, well below the
    global cap, so one address cannot hold every place), and, while any WebSocket client
    listens, publishes the node status on the bus whenever it changes (one computation per
    interval for all clients, not one per connection): the worker's step."""

    name = "live status feed"

    def __init__(
        self,
        services: NodeServices,
        max_clients: int = Limits.live_clients,
        per_address: int = Limits.live_clients_per_address,
        status_interval: float = STATUS_INTERVAL,
    ) -> None:
        self.services = services
        self.max_clients = max_clients
        self.per_address = per_address
        self.status_interval = status_interval
        self.clients = 0
        self._by_address: dict[str, int] = {}
        self._status_listeners = 0
        self._feed: asyncio.Task[None] | None = None
        self._last: dict[str, Any] | None = None

    @contextlib.contextmanager
    def slot(self, address: str, *, status: bool = False) -> Iterator[None]:
        """Hold one of the live-client places; raises a 503 ``ApiError`` when none is free,
        for everyone or for this address."""
        if self.clients >= self.max_clients:
            raise ApiError(
                503,
                "busy",
                f"this node serves at most {self.max_clients} live clients at once; retry later",
            )
        if self._by_address.get(address, 0) >= self.per_address:
            raise ApiError(
                503,
                "busy",
                f"this node serves at most {self.per_address} live clients per address",
            )
        self.clients += 1
        self._by_address[address] = self._by_address.get(address, 0) + 1
        if status:
            self._status_listeners += 1
            if self._feed is None:
                self._feed = asyncio.create_task(run_forever(self), name="live-status")
        try:
            yield
        finally:
            self.clients -= 1
            self._by_address[address] -= 1
            if not self._by_address[address]:
                del self._by_address[address]
            if status:
                self._status_listeners -= 1
                if self._status_listeners == 0 and self._feed is not None:
                    self._feed.cancel()
                    self._feed = None

    async def step(self) -> Next:
        status = await node_status(self.services)
        fingerprint = status_fingerprint(status)
        if fingerprint != self._last:
            self._last = fingerprint
            self.services.bus.publish_status(status)
        return Next.IDLE

    async def idle(self) -> None:
        await asyncio.sleep(self.status_interval)


def live_hub(app: Starlette) -> LiveHub:
    """The app's hub, made with the app (``create_app``)."""
    return app.state.live_hub
