"""Every HTTP request but ``/health`` and posts (which have their own budgets) counts against
the caller's address in the ``reads`` budget: a script polling status or paging the whole board
in a loop gets 429s, a dashboard never does. The dashboard's own files (``/``, ``/static/``,
``/client/``) do not count: one page load fetches about ten small modules at once, which
alone would spend a second's budget and leave the page half loaded."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

from node.guards.rate_limits import RateLimited
from node.http.client_address import client_address
from node.http.errors import refusal_response

if TYPE_CHECKING:
    from node.runtime.services import NodeServices

EXEMPT = {"/health", "/api/broadcast", "/"}
ASSETS = ("/static/", "/client/")


class ReadLimit:
    def __init__(self, app: ASGIApp, services: NodeServices) -> None:
        self.app = app
        self.services = services

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and path not in EXEMPT and not path.startswith(ASSETS):
            address = client_address(
                HTTPConnection(scope), self.services.settings.limits.trusted_proxies
            )
            try:
                self.services.limiter.hit(("reads", address))
            except RateLimited as exc:
                # Outside the app's exception handlers: answered here, the same way.
                await refusal_response(exc)(scope, receive, send)
                return
        await self.app(scope, receive, send)
