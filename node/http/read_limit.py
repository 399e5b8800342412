"""Every HTTP request but ``/health`` and posts (which have their own budgets) counts against
the caller's address in the ``reads`` budget: a script polling status or paging the whole board
in a loop gets 429s, a dashboard never does."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

from node.http.client_address import client_address
from node.http.errors import error_response, rate_limited
from node.ratelimit import RateLimited

if TYPE_CHECKING:
    from node.runtime.services import NodeServices

EXEMPT = {"/health", "/api/broadcast"}


class ReadLimit:
    def __init__(self, app: ASGIApp, services: NodeServices) -> None:
        self.app = app
        self.services = services

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] not in EXEMPT:
            address = client_address(
                HTTPConnection(scope), self.services.settings.limits.trusted_proxies
            )
            try:
                self.services.limiter.hit(("reads", address))
            except RateLimited as exc:
                refused = rate_limited(exc)
                response = error_response(
                    refused.status, refused.code, refused.detail, refused.headers
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
