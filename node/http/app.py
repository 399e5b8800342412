"""The app factory: one Starlette app for uvicorn (``serve``) and Lambda (Mangum)."""

import contextlib
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute

from node import api, dashboard, live, poll
from node.errors import ApiError, api_error_handler, http_exception_handler, server_error_handler
from node.services import NodeServices
from node.settings import Settings


def routes() -> list[BaseRoute]:
    return [
        Route("/health", api.health),
        Route("/api/status", api.status),
        Route("/api/broadcast", api.broadcast, methods=["POST"]),
        Route("/api/messages", api.list_messages),
        Route("/api/messages/{cid}", api.get_message),
        Route("/api/peers", api.peers),
        Route("/api/poll", poll.poll),
        WebSocketRoute("/ws", live.live_socket),
        Route("/", dashboard.page),
        Mount("/static", app=dashboard.static_files, name="static"),
    ]


def create_app(
    settings: Settings, services: NodeServices | None = None, *, background: bool = True
) -> Starlette:
    """``background`` starts the long-running loops (outbox retry, daemon watch, pubsub);
    Lambda passes False and drives the same work from its scheduled event instead."""
    node = services or NodeServices.from_settings(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if background:
            node.start()
        try:
            yield
        finally:
            if background:
                await node.stop()

    app = Starlette(
        routes=routes(),
        lifespan=lifespan,
        exception_handlers={
            ApiError: api_error_handler,
            HTTPException: http_exception_handler,
            Exception: server_error_handler,
        },
    )
    app.state.services = node
    return app
