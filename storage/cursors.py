"""Pagination cursors: opaque to clients, a short list of integers to the stores."""

import base64
import binascii
import json
from typing import Any

from storage.errors import InvalidCursor

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
