"""The per-author limit on what sync brings in (``RATE_LIMIT_SYNC_AUTHOR``), counted in the
messages' own time.

Messages fetched from head manifests are history: counted per second of arrival, a node back
from a day offline would refuse its peers' honest catch-up (a day of an author's posts comes in
a minute). Counted per window of their ``ts`` instead, an author's history passes whenever the
live paths could have let it in at those times (the default is the largest budget an honest
node grants one author, an API token's), while a stranger who packs many messages of one fresh
author into its pages meets that same bound instead of none. What is over it is dropped and
counted against the peer that served the page, like a rate-limited pubsub message.

Fixed windows (``ts // window``); the counts live in memory, per process, at most
``MAX_ENTRIES`` (author, window) counts, the least recently used forgotten first.
"""

from collections import OrderedDict

from node.guards.rate_limits import parse_rates
from node.toolkit.counters import RATE_LIMITED

MAX_ENTRIES = 100_000


class HistoryLimit:
    def __init__(self, rate: str, enabled: bool = True, max_entries: int = MAX_ENTRIES) -> None:
        rates = parse_rates(rate) if enabled else []
        self._windows = [(r.amount, r.seconds * 1000) for r in rates]
        self._counts: OrderedDict[tuple[str, int, int], int] = OrderedDict()
        self.max_entries = max_entries

    def _keys(self, author: str, ts: int) -> list[tuple[str, int, int]]:
        return [(author, size, ts // size) for _, size in self._windows]

    def allows(self, author: str, ts: int) -> bool:
        """True when one more message of ``author`` at ``ts`` fits every window."""
        keys = self._keys(author, ts)
        if all(
            self._counts.get(key, 0) < amount
            for key, (amount, _) in zip(keys, self._windows, strict=True)
        ):
            return True
        RATE_LIMITED.inc("sync_author")
        return False

    def record(self, author: str, ts: int) -> None:
        """Count a message that was taken in."""
        for key in self._keys(author, ts):
            self._counts[key] = self._counts.get(key, 0) + 1
            self._counts.move_to_end(key)
        while len(self._counts) > self.max_entries:
            self._counts.popitem(last=False)
