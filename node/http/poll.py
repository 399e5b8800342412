"""``GET /api/poll``: the HTTP long-poll fallback for clients without WebSocket.

Same cursor and message shape as ``/ws``: answers at once when the board has messages after
``since``, otherwise waits (at most ``MAX_WAIT`` seconds) for the next one.
"""

import math

import anyio
from starlette.requests import Request
from starlette.responses import Response

from node.events import Subscription
from node.http.api import board_param, messages_json, services_of
from node.http.errors import ApiError
from node.http.live_hub import live_hub, messages_after
from storage.index import MessageIndex, Page

DEFAULT_WAIT = 25.0
MAX_WAIT = 30.0


def _wait_param(request: Request) -> float:
    raw = request.query_params.get("wait", str(DEFAULT_WAIT))
    try:
        wait = float(raw)
    except ValueError:
        wait = math.nan
    if not 0 <= wait <= MAX_WAIT:
        raise ApiError(
            400, "bad_request", f"wait must be a number of seconds from 0 to {MAX_WAIT:g}"
        )
    return wait


async def _next_page(
    index: MessageIndex, sub: Subscription, board: str, since: str, wait: float
) -> Page:
    """Wait for a message event on the board, then read the index from ``since``: the index,
    not the event, is the source of truth, so nothing is skipped or repeated."""
    with anyio.move_on_after(wait):
        while True:
            event = await sub.queue.get()
            if event["type"] == "message":
                page = messages_after(index, board, since)
                if page.messages:
                    return page
    return Page([], since)


async def _until_disconnected(request: Request, scope: anyio.CancelScope) -> None:
    while (await request.receive())["type"] != "http.disconnect":
        pass
    scope.cancel()


async def _wait_while_connected(
    request: Request, sub: Subscription, board: str, since: str, wait: float
) -> Page:
    """``_next_page``, given up as soon as the client goes away, so a closed tab does not
    hold a live-client place (or delay the server's shutdown) for the rest of ``wait``."""
    page = Page([], since)
    async with anyio.create_task_group() as group:
        group.start_soon(_until_disconnected, request, group.cancel_scope)
        page = await _next_page(services_of(request).index, sub, board, since, wait)
        group.cancel_scope.cancel()
    return page


async def poll(request: Request) -> Response:
    services = services_of(request)
    board = board_param(request)
    wait = _wait_param(request)
    since = request.query_params.get("since")
    with live_hub(request.app).slot():
        sub = services.bus.subscribe(board)
        try:
            page = messages_after(services.index, board, since)
            if since is not None and not page.messages and wait > 0:
                page = await _wait_while_connected(request, sub, board, since, wait)
        finally:
            services.bus.unsubscribe(sub)
    return messages_json({"board": board, "cursor": page.next_cursor}, page.messages)
