"""Rate limits on posts and pubsub messages: moving windows kept in memory, per process.

Budgets are named scopes (``address``, ``author``, ``token``, ``reads``, ``peer``,
``peer_author``), each a rate string from the settings (``30/minute;300/hour``, the notation
of the ``limits`` library, which did this until its import cost — ~30 ms and 52 modules of a
Lambda cold start, for what is a deque per key — was measured). A request is counted against
several budgets at once, all or none: a refused post does not use up the budget it would have
used.

Each (scope, key) keeps, per window, the times of its last ``amount`` events: an event passes
when fewer than ``amount`` fall in the last ``seconds`` (``limits``' moving window). Keys idle
for longer than their scope's longest window are forgotten, swept at most once a minute, so
memory follows the keys in use.
"""

import math
import re
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from node.errors import NodeError
from node.toolkit.counters import RATE_LIMITED

UNITS = {
    "second": 1,
    "minute": 60,
    "hour": 3600,
    "day": 86_400,
    "month": 30 * 86_400,
    "year": 365 * 86_400,
}
ONE_RATE = re.compile(r"\s*([0-9]+)\s*(?:/|\s*per\s*)\s*([0-9]+)?\s*([a-z]+?)s?\s*", re.I)
SEPARATOR = re.compile(r"[,;|]")
SWEEP_SECONDS = 60.0


@dataclass(frozen=True)
class Rate:
    amount: int
    seconds: int


def parse_rates(text: str) -> list[Rate]:
    """``10/second``, ``300 per hour``, ``5/10 minutes``, several separated by ``;`` (or ``,``
    or ``|``); raises ``ValueError`` on anything else."""
    rates = []
    for part in SEPARATOR.split(text):
        match = ONE_RATE.fullmatch(part)
        if match is None or match[3].lower() not in UNITS:
            raise ValueError(f"not a rate like 30/minute;300/hour: {text!r}")
        amount, multiple, unit = match.groups()
        rates.append(Rate(int(amount), UNITS[unit.lower()] * int(multiple or 1)))
    return rates


class RateLimited(NodeError):
    """A 429 with ``Retry-After`` in whole seconds (what the client SDK waits before
    retrying); ``str(exc)`` is the wording of the pubsub drop log, ``detail`` the API's."""

    status = 429
    code = "rate_limited"

    def __init__(self, scope: str, retry_after: float) -> None:
        seconds = math.ceil(retry_after)
        super().__init__(
            f"too many requests for this {scope}; retry in {seconds} s",
            {"Retry-After": str(seconds)},
        )
        self.scope = scope
        self.retry_after = retry_after

    def __str__(self) -> str:
        return f"over the {self.scope} rate limit; retry in {self.retry_after:.0f} s"


class RateLimiter:
    def __init__(
        self,
        budgets: Mapping[str, str],
        enabled: bool = True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.enabled = enabled
        self.clock = clock
        self._rates = {scope: parse_rates(rate) for scope, rate in budgets.items()}
        self._events: dict[tuple[str, str], list[deque[float]]] = {}
        self._swept = clock()

    def hit(self, *checks: tuple[str, str]) -> None:
        """Count one event against each ``(scope, key)``; raises ``RateLimited`` (counting
        nothing) when any of them is over its budget."""
        if not self.enabled:
            return
        now = self.clock()
        if now - self._swept >= SWEEP_SECONDS:
            self._sweep(now)
        windows = [(scope, self._windows(scope, key)) for scope, key in checks]
        for scope, events in windows:
            for rate, times in zip(self._rates[scope], events, strict=True):
                while times and times[0] <= now - rate.seconds:
                    times.popleft()
                if len(times) >= rate.amount:
                    RATE_LIMITED.inc(scope)
                    retry_at = times[0] + rate.seconds if times else now + rate.seconds
                    raise RateLimited(scope, max(1.0, retry_at - now))
        for _, events in windows:
            for times in events:
                times.append(now)

    def keys(self) -> int:
        """(scope, key) pairs held in memory."""
        return len(self._events)

    def _windows(self, scope: str, key: str) -> list[deque[float]]:
        events = self._events.get((scope, key))
        if events is None:
            events = [deque(maxlen=rate.amount) for rate in self._rates[scope]]
            self._events[(scope, key)] = events
        return events

    def _sweep(self, now: float) -> None:
        """Forget keys with no event within their scope's longest window."""
        self._swept = now
        longest = {scope: max(r.seconds for r in rates) for scope, rates in self._rates.items()}
        idle = [
            key
            for key, events in self._events.items()
            if all(not times or times[-1] <= now - longest[key[0]] for times in events)
        ]
        for key in idle:
            del self._events[key]
