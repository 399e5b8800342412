"""``WS /ws?board=B[&since=CURSOR]``: a board's messages and the node status, live.

The bus only wakes the connection; messages are read from the index after the connection's
cursor, so a replay and the live stream join without gaps or duplicates, and every event
carries the cursor a reconnecting client passes as ``since`` to miss nothing.
"""

from __future__ import annotations

import contextlib
import json
import logging
from typing import TYPE_CHECKING, Any

import anyio
from starlette.websockets import WebSocket, WebSocketDisconnect

from node.errors import NodeError
from node.http.api import board_param, client_of, services_of
from node.http.errors import REFUSALS, refusal
from node.http.live_hub import live_hub, messages_after, status_fingerprint
from node.http.status import node_status
from node.protocol.envelope import now_ms
from node.toolkit.events import Subscription
from storage.ports.messages import Page

if TYPE_CHECKING:
    from node.runtime.services import NodeServices

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 15.0
SEND_TIMEOUT = 5.0
CLOSE_TIMEOUT = 1.0
LIVE_QUEUE = 256
CLOSE_TOO_SLOW = 4408
CLOSE_BAD_REQUEST = 4400
CLOSE_BUSY = 1013
CLOSE_RATE_LIMITED = 4429
TOO_SLOW_REASON = "too_slow: reconnect with since=<last cursor> to resume"
MAX_REASON_BYTES = 123


class TooSlow(Exception):
    """The client did not take its events fast enough: its bus queue overflowed or a send
    stayed blocked for ``SEND_TIMEOUT``."""


class LiveStream:
    """One client's stream: hello, the replay after its cursor, then live events."""

    def __init__(
        self,
        websocket: WebSocket,
        services: NodeServices,
        board: str,
        sub: Subscription,
        cursor: str | None,
    ) -> None:
        self.websocket = websocket
        self.services = services
        self.board = board
        self.sub = sub
        self.cursor = cursor
        self.last_status: dict[str, Any] | None = None

    async def run(self, first: Page) -> None:
        """Send hello, the replay and then live events until the client leaves or lags."""
        try:
            async with anyio.create_task_group() as group:
                group.start_soon(self._until_client_leaves, group.cancel_scope)
                await self._pump(first)
        except* TooSlow:
            log.info("dropping a live client of %s that does not keep up", self.board)
            with anyio.move_on_after(CLOSE_TIMEOUT):
                await self.websocket.close(CLOSE_TOO_SLOW, TOO_SLOW_REASON)
        except* WebSocketDisconnect:
            pass

    async def _until_client_leaves(self, scope: anyio.CancelScope) -> None:
        """Client frames carry nothing; reading them is how a departure is noticed."""
        while (await self.websocket.receive())["type"] != "websocket.disconnect":
            pass
        scope.cancel()

    async def _pump(self, first: Page) -> None:
        status = await node_status(self.services)
        self.last_status = status_fingerprint(status)
        await self._send(
            {"type": "hello", "board": self.board, "heartbeat": HEARTBEAT_SECONDS, "status": status}
        )
        await self._send_page(first)
        while True:
            events = await self._next_events()
            if self.sub.overflowed:
                raise TooSlow
            if not events:
                await self._send({"type": "ping", "ts": now_ms()})
            if any(event["type"] == "message" for event in events):
                await self._send_page(self._after(self.cursor))
            statuses = [event for event in events if event["type"] == "status"]
            if statuses and status_fingerprint(statuses[-1]["status"]) != self.last_status:
                self.last_status = status_fingerprint(statuses[-1]["status"])
                await self._send(statuses[-1])

    async def _next_events(self) -> list[dict[str, Any]]:
        """Everything queued once something arrives; empty after a heartbeat interval."""
        with anyio.move_on_after(HEARTBEAT_SECONDS):
            events = [await self.sub.queue.get()]
            while not self.sub.queue.empty():
                events.append(self.sub.queue.get_nowait())
            return events
        return []

    def _after(self, cursor: str | None) -> Page:
        limit = self.services.settings.limits.answer_max_bytes
        return messages_after(self.services.store.messages, self.board, cursor, limit)

    async def _send_page(self, page: Page) -> None:
        """Pages are bounded in count and bytes: send until one comes back empty."""
        while page.messages:
            self.cursor = page.next_cursor
            await self._send(
                {"type": "messages", "messages": [message.to_json() for message in page.messages]}
            )
            page = self._after(self.cursor)

    async def _send(self, event: dict[str, Any]) -> None:
        text = json.dumps({**event, "cursor": self.cursor}, ensure_ascii=False)
        try:
            with anyio.fail_after(SEND_TIMEOUT):
                await self.websocket.send_text(text)
        except TimeoutError:
            raise TooSlow from None


async def _refuse(websocket: WebSocket, exc: NodeError) -> None:
    """Accept, then close with a code and an ``error: detail`` reason: a browser sees neither
    the status nor the body of a refused handshake, but it does see a close code and reason."""
    code = {503: CLOSE_BUSY, 429: CLOSE_RATE_LIMITED}.get(exc.status, CLOSE_BAD_REQUEST)
    reason = f"{exc.code}: {exc.detail}".encode()[:MAX_REASON_BYTES].decode(errors="ignore")
    await websocket.accept()
    await websocket.close(code, reason)


async def live_socket(websocket: WebSocket) -> None:
    services = services_of(websocket)
    with contextlib.ExitStack() as stack:
        try:
            address = client_of(websocket)
            services.limiter.hit(("reads", address))
            board = board_param(websocket)
            stack.enter_context(live_hub(websocket.app).slot(address, status=True))
            sub = services.bus.subscribe(board, LIVE_QUEUE)
            stack.callback(services.bus.unsubscribe, sub)
            first = messages_after(
                services.store.messages,
                board,
                websocket.query_params.get("since"),
                services.settings.limits.answer_max_bytes,
            )
        except REFUSALS as exc:
            await _refuse(websocket, refusal(exc))
            return
        await websocket.accept()
        since = websocket.query_params.get("since")
        start = first.next_cursor if since is None else since
        await LiveStream(websocket, services, board, sub, start).run(first)
