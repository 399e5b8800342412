"""The outbox port: accepted messages still to pin and announce on our daemon. Entries are
created with their message (``MessageStore.add(..., outbox_at=...)``), never on their own."""

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class OutboxItem:
    cid: str
    attempts: int
    next_attempt_at: int
    last_error: str = ""


class OutboxQueue(Protocol):
    def due(self, now_ms: int, limit: int) -> list[OutboxItem]:
        """Entries due by ``now_ms``, due first."""

    def reschedule(self, cid: str, next_attempt_at: int, error: str) -> None:
        """Count a failed attempt and set the next one (a no-op for an entry done meanwhile)."""

    def done(self, cid: str) -> None: ...

    def size(self) -> int: ...
