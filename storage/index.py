"""The message index port: what the node needs from a store of envelopes, whatever the store.

SQLite (one file, the default) and DynamoDB (on Lambda) implement it; the same contract tests
run against both.
"""

import base64
import binascii
import json
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Protocol

from storage.errors import InvalidCursor


def envelope_text(envelope: dict[str, Any]) -> str:
    """The compact JSON an index stores an envelope as."""
    return json.dumps(envelope, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True)
class StoredMessage:
    """A message as the index keeps it. The envelope stays JSON text until someone needs the
    dict: listing a page copies the stored text straight into the answer (``to_json_text``),
    which keeps ``/api/messages`` from parsing and re-encoding fifty envelopes per call."""

    cid: str
    envelope_json: str
    received_at: int
    source: str
    pinned: bool = False

    @classmethod
    def from_envelope(
        cls,
        cid: str,
        envelope: dict[str, Any],
        received_at: int,
        source: str,
        pinned: bool = False,
    ) -> "StoredMessage":
        return cls(cid, envelope_text(envelope), received_at, source, pinned)

    @cached_property
    def envelope(self) -> dict[str, Any]:
        return json.loads(self.envelope_json)

    @property
    def board(self) -> str:
        return str(self.envelope["board"])

    @property
    def ts(self) -> int:
        return int(self.envelope["ts"])

    def to_json(self) -> dict[str, Any]:
        return {
            "cid": self.cid,
            "envelope": self.envelope,
            "receivedAt": self.received_at,
            "source": self.source,
            "pinned": self.pinned,
        }

    def to_json_text(self) -> str:
        """``json.dumps(self.to_json())`` without parsing the envelope."""
        return (
            f'{{"cid":{json.dumps(self.cid)},"envelope":{self.envelope_json},'
            f'"receivedAt":{int(self.received_at)},"source":{json.dumps(self.source)},'
            f'"pinned":{"true" if self.pinned else "false"}}}'
        )


@dataclass(frozen=True)
class NewMessage:
    """A verified envelope on its way into the index."""

    cid: str
    envelope: dict[str, Any]
    source: str
    received_at: int


@dataclass(frozen=True)
class Page:
    messages: list[StoredMessage]
    next_cursor: str | None


@dataclass(frozen=True)
class OutboxItem:
    cid: str
    attempts: int
    next_attempt_at: int
    last_error: str = ""


# Where a remote pin (IPFS Pinning Service API) stands. ``waiting``: not yet accepted by the
# service; ``queued``/``pinning``/``pinned``/``failed``: the service's own word; ``unpinning``:
# to be removed there. Every state but ``pinned`` is open (the worker comes back to it).
REMOTE_STATES = ("waiting", "queued", "pinning", "pinned", "failed", "unpinning")
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


@dataclass
class PeerStats:
    """What one libp2p peer relayed to us; reputation is computed from it in node/."""

    peer_id: str
    valid: int = 0
    invalid: int = 0
    first_deliveries: int = 0
    first_seen: int = 0
    last_seen: int = 0
    invalid_reasons: dict[str, int] = field(default_factory=dict)


class MessageIndex(Protocol):
    def add(self, messages: list[NewMessage], *, outbox_at: int | None = None) -> list[bool]:
        """Store envelopes by CID; True for each one that was new. With ``outbox_at`` (ms) the
        new ones also go into the outbox, due at that time, in the same transaction, so an
        accepted message is never stored without its pending pin and announcement."""

    def get(self, cid: str) -> StoredMessage | None: ...

    def has(self, cid: str) -> bool: ...

    def list_board(
        self, board: str, limit: int, before: str | None = None, max_bytes: int | None = None
    ) -> Page:
        """Newest first (by ``ts``); ``before`` is a cursor from a previous page. With
        ``max_bytes`` the page stops (with a cursor) before its envelopes pass that size."""

    def list_since(
        self, board: str, since: str | None, limit: int, max_bytes: int | None = None
    ) -> Page:
        """Messages in the order this node received them, oldest first, after ``since`` (a
        cursor from ``list_since`` or ``latest_cursor``; None means from the beginning).
        ``next_cursor`` is the position after the last one returned (or ``since`` when none
        are), so a live client that reconnects with it misses nothing."""

    def latest_cursor(self, board: str) -> str | None:
        """The ``list_since`` position after the newest message received on the board."""

    def count(self, board: str | None = None) -> int: ...

    def mark_pinned(self, cid: str) -> None:
        """The message's block is pinned on our daemon; it leaves the replica queue."""

    def unpinned(self, after: str, limit: int) -> list[tuple[str, str]]:
        """The durable replica queue: messages received from peers (added without
        ``outbox_at``) and not pinned yet, oldest first, as ``(position, cid)`` after the
        position ``after`` ("" for the start). Local messages are the outbox's to pin."""

    def outbox_due(self, now_ms: int, limit: int) -> list[OutboxItem]: ...

    def outbox_reschedule(self, cid: str, next_attempt_at: int, error: str) -> None: ...

    def outbox_done(self, cid: str) -> None: ...

    def outbox_size(self) -> int: ...

    def remote_pin_want(self, cid: str, kind: str, at: int) -> None:
        """Queue a remote pin of ``cid`` due at ``at`` (ms). Idempotent: a known pin keeps its
        state, except one being unpinned, which is wanted again (``waiting``)."""

    def remote_pin_resend(self, cid: str, kind: str, at: int) -> None:
        """Queue ``cid`` as never sent (``waiting``, no request id, due at ``at``), whatever
        it was: PIN_SERVICE_URL now names another service, which has none of the old one's
        pins."""

    def remote_pin_release(self, cid: str, at: int) -> None:
        """Queue the removal of ``cid``'s remote pin. One never sent to the service (waiting,
        no request id) is simply forgotten; an unknown CID is a no-op."""

    def remote_pin_get(self, cid: str) -> RemotePin | None: ...

    def remote_pin_due(self, now_ms: int, limit: int) -> list[RemotePin]:
        """Open remote pins due by ``now_ms``, due first."""

    def remote_pin_update(self, pin: RemotePin, expected_state: str) -> bool:
        """Store ``pin`` (state, request id, attempts, due time, error) if the stored one is
        still in ``expected_state``; False when something else changed it meanwhile."""

    def remote_pin_forget(self, cid: str, expected_state: str) -> bool:
        """Drop the entry if it is still in ``expected_state`` (an unpin that completed)."""

    def remote_pin_counts(self) -> dict[str, int]:
        """How many remote pins are in each open state (``pinned`` is not counted)."""

    def record_peer(self, stats: PeerStats) -> None:
        """Add the counters in ``stats`` to the stored ones (reasons too) and update times."""

    def peer_stats(self) -> dict[str, PeerStats]: ...

    def forget_peers(self, peer_ids: list[str]) -> None:
        """Delete these peers' counters (the node keeps a bounded peer table)."""

    def meta_get(self, key: str) -> str | None:
        """Small node state that must survive restarts (for example a board's head CID)."""

    def meta_set(self, key: str, value: str) -> None: ...

    def meta_scan(self, prefix: str) -> dict[str, str]:
        """Every meta entry whose key starts with ``prefix`` (for example each chain's sync
        frontier, ``sync:<board>:<peer>``), so a restarted node or the next Lambda run resumes
        every walk it had not finished."""

    def size_bytes(self) -> int: ...

    def close(self) -> None: ...


# Every cursor holds integers (ts, seq) that fit SQLite's and DynamoDB's number types.
MAX_CURSOR_INT = 2**63 - 1
MAX_CURSOR_CHARS = 256


def fits(sizes: list[int], max_bytes: int | None) -> int:
    """How many of the first ``sizes`` stay within ``max_bytes`` (always at least one, so a
    page always moves on)."""
    if max_bytes is None:
        return len(sizes)
    total = 0
    for kept, size in enumerate(sizes):
        total += size
        if total > max_bytes:
            return max(kept, 1)
    return len(sizes)


def encode_cursor(values: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).rstrip(b"=").decode()


def refuse_ahead(after: int, newest: int) -> None:
    """A cursor past the board's newest position came from another node (or a reset one):
    following it would skip every message until this node caught up, so refuse it."""
    if after > newest:
        raise InvalidCursor(
            f"cursor is ahead of this node (its newest position on this board is {newest}):"
            " cursors belong to the node that handed them out; start again without it"
            " (live: from now; /api/messages: the newest page)"
        )


def decode_cursor(cursor: str, length: int) -> list[Any]:
    if len(cursor) > MAX_CURSOR_CHARS or not cursor.isascii():
        raise InvalidCursor("cursor is not one this node handed out")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise InvalidCursor("cursor is not one this node handed out") from exc
    if not isinstance(values, list) or len(values) != length:
        raise InvalidCursor("cursor is not one this node handed out")
    if not all(type(v) is int and 0 <= v <= MAX_CURSOR_INT for v in values):
        raise InvalidCursor("cursor is not one this node handed out")
    return values
