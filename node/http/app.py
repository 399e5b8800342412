"""The app factory: one Starlette app for uvicorn (``serve``) and Lambda (Mangum)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute

from node.http import api, client_package, dashboard, live, openapi, poll
from node.http.errors import (
    REFUSALS,
    http_exception_handler,
    refusal_handler,
    server_error_handler,
)
from node.http.live_hub import LiveHub
from node.http.read_limit import ReadLimit

if TYPE_CHECKING:
    from node.runtime.services import NodeServices


def routes(metrics: bool = False) -> list[BaseRoute]:
    """``metrics``: serve ``/metrics`` (and import prometheus-client), in ``serve`` mode only."""
    extra: list[BaseRoute] = []
    if metrics:
        from node.http.metrics import metrics as metrics_endpoint

        extra.append(Route("/metrics", metrics_endpoint))
    return [
        *extra,
        Route("/health", api.health),
        Route("/api/status", api.status),
        Route("/api/broadcast", api.broadcast, methods=["POST"]),
        Route("/api/messages", api.list_messages),
        Route("/api/messages/{cid:path}", api.get_message),  # base64 CIDs may hold "/"
        Route("/api/peers", api.peers),
        Route("/api/poll", poll.poll),
        Route("/openapi.json", openapi.openapi),
        WebSocketRoute("/ws", live.live_socket),
        Route("/", dashboard.page),
        Mount("/static", app=dashboard.static_files, name="static"),
        Mount("/client", app=client_package.client_files, name="client"),
    ]


# Board front ends on other origins call the API from the browser (the client SDK): the API
# holds no cookies or ambient credentials (API tokens are explicit headers), so any origin may
# read it, and Retry-After is exposed so that the SDK can honour a 429 cross-origin.
CORS = Middleware(
    CORSMiddleware,
    allow_origins=["*"],
    allow_methods=["GET", "POST"],
    allow_headers=["Content-Type", "Authorization"],
    expose_headers=["Retry-After"],
    max_age=600,
)


def create_app(services: NodeServices) -> Starlette:
    """The app around ``services`` (built by ``node.runtime``). Services built to run in the
    background start their workers (outbox retry, daemon watch, pubsub) with the app; those of
    Lambda do not (its scheduled event does the same work) and it has no ``/metrics``."""
    node = services
    background = services.background

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
        routes=routes(metrics=background),
        # CORS outermost, so that a 429 from the read limit carries its headers too.
        middleware=[CORS, Middleware(ReadLimit, services=node)],
        lifespan=lifespan,
        exception_handlers={
            **dict.fromkeys(REFUSALS, refusal_handler),
            HTTPException: http_exception_handler,
            Exception: server_error_handler,
        },
    )
    limits = node.settings.limits
    app.state.services = node
    app.state.live_hub = LiveHub(node, limits.live_clients, limits.live_clients_per_address)
    return app
