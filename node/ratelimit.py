"""Rate limits on posts and pubsub messages, with the ``limits`` library (moving windows kept
in memory, per process).

Budgets are named scopes (``address``, ``author``, ``token``, ``reads``, ``peer``,
``peer_author``), each a ``limits`` rate string from the settings (``30/minute;300/hour``).
A request is counted against several budgets at once, all or none: a refused post does not
use up the budget it would have used.
"""

import time
from collections.abc import Mapping

from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from node.counters import RATE_LIMITED


class RateLimited(Exception):
    def __init__(self, scope: str, retry_after: float) -> None:
        super().__init__(f"over the {scope} rate limit; retry in {retry_after:.0f} s")
        self.scope = scope
        self.retry_after = retry_after


class RateLimiter:
    def __init__(self, budgets: Mapping[str, str], enabled: bool = True) -> None:
        self.enabled = enabled
        self._items: dict[str, list[RateLimitItem]] = {
            scope: parse_many(rate) for scope, rate in budgets.items()
        }
        self._limiter = MovingWindowRateLimiter(MemoryStorage()) if enabled else None

    def hit(self, *checks: tuple[str, str]) -> None:
        """Count one event against each ``(scope, key)``; raises ``RateLimited`` (counting
        nothing) when any of them is over its budget."""
        if self._limiter is None:
            return
        for scope, key in checks:
            for item in self._items[scope]:
                if not self._limiter.test(item, scope, key):
                    reset_at, _ = self._limiter.get_window_stats(item, scope, key)
                    RATE_LIMITED.inc(scope)
                    raise RateLimited(scope, max(1.0, reset_at - time.time()))
        for scope, key in checks:
            for item in self._items[scope]:
                self._limiter.hit(item, scope, key)
