"""Everything catch-up keeps about one peer's chain on one board, in one record: its frontier
(``node.network.frontier``, saved) and, in memory only, its backoff and the spacing of its head
walks. Forgetting a chain is one ``pop``; what was saved is read again if its peer comes back.
"""

import time
from dataclasses import dataclass

from node.network.frontier import Chain

# While pubsub delivers a peer's messages live, re-walking its open page every time it changes
# only re-fetches what we have; each fetch stalls the js-ipfs daemons' pubsub for tens of ms.
PEER_WALK_SECONDS = 15.0
# A chain whose pages could not be fetched is retried later, backing off to MAX_RETRY_SECONDS.
RETRY_SECONDS = 30.0
MAX_RETRY_SECONDS = 600.0


def retry_delay(failures: int) -> float:
    """The wait after ``failures`` failed walks in a row: twice as long each time."""
    return min(MAX_RETRY_SECONDS, RETRY_SECONDS * 2**failures)


KINDS = ("productive", "unproven", "stalled")  # in the order their chains are walked


@dataclass
class ChainRecord:
    """One peer's chain on one board, as catch-up keeps it (see the module)."""

    chain: Chain
    failures: int = 0  # walks in a row that ended on a page nobody served or on the deadline
    retry_at: float = 0.0  # monotonic time before which the chain is not walked again
    # When its last head walk began, if that walk found nothing new: pubsub keeps this chain up
    # to date, so its next head waits PEER_WALK_SECONDS.
    head_walked_at: float | None = None

    @property
    def key(self) -> tuple[str, str]:
        return self.chain.key

    @property
    def unproven(self) -> bool:
        """No page of it walked yet, and work to do: every new chain starts so, and one whose
        head nobody serves stays so (once a page is walked, its key is known)."""
        return self.chain.pubkey is None and not self.chain.complete

    @property
    def kind(self) -> str:
        """Which walk slots it takes (``WalkScheduler``), one of ``KINDS``: ``unproven``,
        ``stalled`` (proven, but its walks have begun to fail: ``Chain.stalled_since``), or
        ``productive``."""
        if self.unproven:
            return "unproven"
        return "stalled" if self.chain.stalled_since else "productive"

    @property
    def kept_live(self) -> bool:
        """Up to date by pubsub: its newest head waits its turn and is not missing history."""
        return self.head_walked_at is not None and not self.chain.gaps

    def ready_at(self, draining: bool) -> float:
        """When the chain may be walked next (``draining``: live head walks are not spaced)."""
        if self.chain.gaps or draining or self.head_walked_at is None:
            return self.retry_at
        return max(self.retry_at, self.head_walked_at + PEER_WALK_SECONDS)

    def head_due(self, draining: bool) -> bool:
        """A head waits and may be walked now, ahead of the gaps."""
        return self.chain.pending is not None and (
            draining
            or self.head_walked_at is None
            or time.monotonic() - self.head_walked_at >= PEER_WALK_SECONDS
        )

    def head_walked(self, started: float, new: int) -> None:
        """Nothing new: pubsub keeps us up to date with this peer, so its next heads wait.
        Something new: we are behind, walk its next head at once."""
        self.head_walked_at = None if new else started

    def walked(self) -> None:
        self.failures, self.retry_at = 0, 0.0

    def stopped(self) -> float:
        """A walk ended on a page nobody served or on its deadline: retry later, waiting twice
        as long each time in a row. Returns the wait."""
        delay = retry_delay(self.failures)
        self.failures += 1
        self.retry_at = time.monotonic() + delay
        return delay

    def failed(self) -> None:
        """A walk ended on something unforeseen: retry after the longest wait."""
        self.retry_at = time.monotonic() + MAX_RETRY_SECONDS
