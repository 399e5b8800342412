"""AWS Lambda entry point (serverless.yml points both functions at ``handler.handler``).

The app and its services are built once per container, at import, during Lambda's init phase;
later invocations reuse them, including the index client and the daemon connection. No daemon
is started and no background loop runs: API Gateway HTTP API events (payload v2) go to the app
through Mangum, and any other event (the EventBridge schedule) runs ``node.runtime.scheduled``.
"""

import asyncio
from typing import Any

from mangum import Mangum

from node.http.app import create_app
from node.runtime.logs import configure_logging
from node.runtime.services import NodeServices
from node.settings import Settings, log_settings

configure_logging(*log_settings())
settings = Settings.from_env()
services = NodeServices.from_settings(settings, background=False)
app = create_app(services)
_http = Mangum(app, lifespan="off")


def is_http_event(event: dict[str, Any]) -> bool:
    return "requestContext" in event


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if is_http_event(event):
        return _http(event, context)
    from node.runtime.scheduled import run_scheduled

    remaining = getattr(context, "get_remaining_time_in_millis", None)
    left = remaining() if remaining else None
    return asyncio.get_event_loop().run_until_complete(run_scheduled(services, left))
