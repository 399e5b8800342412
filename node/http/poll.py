"""``GET /api/poll``: the HTTP long-poll fallback for clients without WebSocket.

Same cursor and message shape as ``/ws``: answers at once when the board has messages after
``since``, otherwise waits (at most ``MAX_WAIT`` seconds) for the next one.
"""

import anyio
from starlette.requests import Request
from starlette.responses import Response

from node.http.api import board_param, client_of, messages_json, services_of
from node.http.live_hub import live_hub, messages_after
from node.http.params import seconds_param
from node.toolkit.events import Subscription
from storage.ports.messages import MessageStore, Page

DEFAULT_WAIT = 25.0
MAX_WAIT = 30.0


async def _next_page(
    messages: MessageStore, sub: Subscription, board: str, since: str, wait: float, max_bytes: int
) -> Page:
    """Wait for a message event on the board, then read the index from ``since``: the index,
    not the event, is the source of truth, so nothing is skipped or repeated."""
    with anyio.move_on_after(wait):
        while True:
            event = await sub.queue.get()
            if event["type"] == "message":
                page = messages_after(messages, board, since, max_bytes)
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
        services = services_of(request)
        max_bytes = services.settings.limits.answer_max_bytes
        page = await _next_page(services.store.messages, sub, board, since, wait, max_bytes)
        group.cancel_scope.cancel()
    return page


async def poll(request: Request) -> Response:
    services = services_of(request)
    board = board_param(request)
    # On Lambda each waiting poll holds a whole function instance: the cap is a few seconds.
    cap = services.settings.limits.poll_max_wait
    wait = min(seconds_param(request, "wait", DEFAULT_WAIT, MAX_WAIT), cap)
    since = request.query_params.get("since")
    with live_hub(request.app).slot(client_of(request)):
        sub = services.bus.subscribe(board)
        try:
            max_bytes = services.settings.limits.answer_max_bytes
            page = messages_after(services.store.messages, board, since, max_bytes)
            if since is not None and not page.messages and wait > 0:
                page = await _wait_while_connected(request, sub, board, since, wait)
        finally:
            services.bus.unsubscribe(sub)
    return messages_json({"board": board, "cursor": page.next_cursor}, page.messages)
