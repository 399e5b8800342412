"""In-process fan-out of new messages and status changes to live clients (WebSocket, poll)."""

import asyncio
from typing import Any

from storage.ports.messages import StoredMessage

SUBSCRIBER_QUEUE = 256


class Subscription:
    def __init__(self, board: str | None, size: int) -> None:
        self.board = board
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=size)
        self.overflowed = False


class MessageBus:
    """Every subscriber has a bounded queue; one that falls behind is marked overflowed and
    stops receiving, so a slow client never slows the others or the ingest path."""

    def __init__(self) -> None:
        self._subscriptions: set[Subscription] = set()

    def subscribe(self, board: str | None, size: int = SUBSCRIBER_QUEUE) -> Subscription:
        sub = Subscription(board, size)
        self._subscriptions.add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        self._subscriptions.discard(sub)

    def __len__(self) -> int:
        return len(self._subscriptions)

    def _deliver(self, board: str | None, event: dict[str, Any]) -> None:
        for sub in list(self._subscriptions):
            if sub.overflowed or (board is not None and sub.board not in (None, board)):
                continue
            try:
                sub.queue.put_nowait(event)
            except asyncio.QueueFull:
                sub.overflowed = True

    def publish_message(self, message: StoredMessage) -> None:
        self._deliver(message.board, {"type": "message", "message": message.to_json()})

    def publish_status(self, status: dict[str, Any]) -> None:
        self._deliver(None, {"type": "status", "status": status})
