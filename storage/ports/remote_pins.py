"""The remote-pin queue port: what is to be pinned (or unpinned) at an IPFS Pinning Service,
durable so that a service that is down, or a restart, loses nothing."""

from dataclasses import dataclass
from typing import Protocol

# Where a remote pin stands. ``waiting``: not yet accepted by the service; ``queued``,
# ``pinning``, ``pinned``, ``failed``: the service's own word; ``unpinning``: to be removed
# there. The open states are those the worker comes back to; ``failed`` is looked at again a
# few times (by its due time) before it is final, and ``pinned`` never.
OPEN = ("waiting", "queued", "pinning", "unpinning")
# The due time of an entry nothing will come back to.
NEVER = 2**62


@dataclass(frozen=True)
class RemotePin:
    cid: str
    kind: str
    state: str = "waiting"
    request_id: str = ""
    attempts: int = 0
    next_attempt_at: int = 0
    last_error: str = ""
    updated_at: int = 0


class RemotePinQueue(Protocol):
    def want(self, cid: str, kind: str, at: int) -> None:
        """Queue a remote pin of ``cid`` due at ``at`` (ms). Idempotent: a known pin keeps its
        state, except one being unpinned, which is wanted again (``waiting``)."""

    def resend(self, cid: str, kind: str, at: int) -> None:
        """Queue ``cid`` as never sent (``waiting``, no request id, due at ``at``), whatever
        it was: PIN_SERVICE_URL now names another service, which has none of the old one's
        pins."""

    def release(self, cid: str, at: int) -> None:
        """Queue the removal of ``cid``'s remote pin. One never sent to the service (waiting,
        no request id) is simply forgotten; an unknown CID is a no-op."""

    def get(self, cid: str) -> RemotePin | None: ...

    def due(self, now_ms: int, limit: int) -> list[RemotePin]:
        """Entries not ``pinned`` due by ``now_ms``, due first."""

    def update(self, pin: RemotePin, expected_state: str) -> bool:
        """Store ``pin`` (state, request id, attempts, due time, error) if the stored one is
        still in ``expected_state``; False when something else changed it meanwhile."""

    def forget(self, cid: str, expected_state: str) -> bool:
        """Drop the entry if it is still in ``expected_state`` (an unpin that completed)."""

    def counts(self) -> dict[str, int]:
        """How many entries are in each state but ``pinned`` (which is not counted)."""
