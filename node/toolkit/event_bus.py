"""In-process, typed events between the node's parts.

Beside ``MessageBus`` (``events.py``), which queues messages and status for live clients, this
bus carries what happened inside the node (a message pinned, a head heard, the daemon back) to
the parts that react to it, so that the part where it happens need not know who listens.
Handlers are subscribed by event class at build time and run synchronously, in order of
subscription; one that raises is logged and does not stop the others or the publisher.
"""

import logging
from collections.abc import Callable
from typing import Any, TypeVar

log = logging.getLogger(__name__)

E = TypeVar("E")


class EventBus:
    def __init__(self) -> None:
        self._handlers: dict[type, list[Callable[[Any], None]]] = {}

    def subscribe(self, kind: type[E], handler: Callable[[E], None]) -> None:
        """Call ``handler`` with every event of class ``kind`` published from now on."""
        self._handlers.setdefault(kind, []).append(handler)

    def publish(self, event: object) -> None:
        """Run the handlers of ``event``'s class; a failing one is logged and skipped."""
        for handler in self._handlers.get(type(event), ()):
            try:
                handler(event)
            except Exception:
                log.exception("a handler of %s failed", type(event).__name__)
