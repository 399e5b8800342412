"""The messages port: envelopes by CID, listed per board, with the replica queue of messages
received from peers and not pinned on our daemon yet."""

import json
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Protocol


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


class MessageStore(Protocol):
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
