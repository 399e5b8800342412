"""What catch-up has done: totals since the process started (for /metrics) and, per board, what
/api/status reports besides the chains themselves."""

import time
from collections import deque
from dataclasses import dataclass

RATE_WINDOW = 10.0


@dataclass
class SyncCounters:
    """Totals since the process started (for /metrics)."""

    steps: int = 0
    pages_fetched: int = 0
    pages_walked: int = 0
    messages_new: int = 0
    bad_pages: int = 0
    unavailable_pages: int = 0
    step_timeouts: int = 0
    queue_dropped: int = 0
    storage_full_stops: int = 0  # walks stopped at a page there was no room to store
    unproven_dropped: int = 0  # heads of unproven chains refused (too many, or peer cooling)
    chains_expired: int = 0  # chains dropped: unproven and not served, or stalled too long


class BoardProgress:
    """Per board: whether a head was heard on it, the pages walked, and the new messages a
    second over the last ``RATE_WINDOW`` seconds."""

    def __init__(self) -> None:
        self._heard: set[str] = set()
        self._walked: dict[str, int] = {}
        self._recent: dict[str, deque[tuple[float, int]]] = {}

    def heard(self, board: str) -> None:
        self._heard.add(board)

    def was_heard(self, board: str) -> bool:
        return board in self._heard

    def page(self, board: str, new: int) -> None:
        """A page of ``board`` was walked, with ``new`` messages this node lacked."""
        self._walked[board] = self._walked.get(board, 0) + 1
        self._recent.setdefault(board, deque()).append((time.monotonic(), new))
        self.rate(board)  # drops what fell out of the window

    def walked(self, board: str) -> int:
        return self._walked.get(board, 0)

    def rate(self, board: str) -> float:
        recent = self._recent.get(board)
        if not recent:
            return 0.0
        since = time.monotonic() - RATE_WINDOW
        while recent and recent[0][0] < since:
            recent.popleft()
        return round(sum(n for _, n in recent) / RATE_WINDOW, 1)
