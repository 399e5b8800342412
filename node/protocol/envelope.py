"""The envelope schema and limits (docs/PROTOCOL.md, "Envelopes"), shared by the HTTP API and pubsub
ingest so that both refuse exactly the same things."""

import re
import time
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from crypto import Cid, CryptoError, canonical_bytes, cid_for_bytes, parse_cid, verify_envelope
from node.errors import NodeError
from node.protocol import strict_json
from node.settings import BOARD_PATTERN

MAX_CONTENT_BYTES = 16 * 1024
MAX_ENVELOPE_BYTES = 64 * 1024
MAX_ID_CHARS = 128
MAX_AUTHOR_CHARS = 128
MAX_FUTURE_SKEW_MS = 5 * 60 * 1000
MAX_POST_AGE_MS = 60 * 60 * 1000

REQUIRED_FIELDS = {"v", "type", "board", "content", "author", "ts", "pubkey", "sig"}
OPTIONAL_FIELDS = {"id", "parent"}
PLAIN_FIELDS = {"id", "type", "content", "author", "board"}
HEX64 = re.compile(r"[0-9a-f]{64}")
HEX128 = re.compile(r"[0-9a-f]{128}")


class InvalidMessage(NodeError, ValueError):
    """Why a message was refused: ``code`` is stable (used for counting), ``detail`` is for
    people. Over HTTP a 400, or a 413 when it is too large."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.status = 413 if code == "too_large" else 400


@dataclass(frozen=True)
class VerifiedEnvelope:
    envelope: dict[str, Any]
    data: bytes
    cid: Cid


def now_ms() -> int:
    return int(time.time() * 1000)


def parse_json_object(data: bytes) -> dict[str, Any]:
    if len(data) > MAX_ENVELOPE_BYTES:
        raise InvalidMessage("too_large", f"message is over {MAX_ENVELOPE_BYTES} bytes")
    try:
        obj = strict_json.loads(data)
    except strict_json.JsonRefused as exc:
        raise InvalidMessage(exc.code, str(exc)) from None
    if not isinstance(obj, dict):
        raise InvalidMessage("invalid_json", "body must be a JSON object")
    return obj


def _check_text(obj: dict[str, Any], name: str, max_chars: int) -> None:
    value = obj.get(name)
    if not isinstance(value, str):
        raise InvalidMessage("invalid_field", f"{name} must be a string")
    if len(value) > max_chars:
        raise InvalidMessage("invalid_field", f"{name} is longer than {max_chars} characters")
    if strict_json.has_surrogate(value):
        raise InvalidMessage("invalid_utf8", f"{name} holds a lone UTF-16 surrogate")


def _check_common(obj: dict[str, Any]) -> None:
    if obj.get("type") != "message":
        raise InvalidMessage("invalid_field", 'type must be "message"')
    board = obj.get("board")
    if not isinstance(board, str) or not BOARD_PATTERN.fullmatch(board):
        raise InvalidMessage("invalid_board", "board must match [a-z0-9-]{1,64}")
    content = obj.get("content")
    if not isinstance(content, str):
        raise InvalidMessage("invalid_field", "content must be a string")
    if strict_json.has_surrogate(content):
        raise InvalidMessage("invalid_utf8", "content holds a lone UTF-16 surrogate")
    if len(content.encode("utf-8")) > MAX_CONTENT_BYTES:
        raise InvalidMessage("content_too_large", f"content is over {MAX_CONTENT_BYTES} bytes")
    _check_text(obj, "author", MAX_AUTHOR_CHARS)
    if "id" in obj:
        _check_text(obj, "id", MAX_ID_CHARS)


def check_schema(obj: dict[str, Any]) -> None:
    """Exactly the envelope fields, each of the right type and within limits."""
    unknown = set(obj) - REQUIRED_FIELDS - OPTIONAL_FIELDS
    if unknown:
        raise InvalidMessage("unknown_fields", f"unknown fields: {', '.join(sorted(unknown))}")
    missing = REQUIRED_FIELDS - set(obj)
    if missing:
        raise InvalidMessage("missing_fields", f"missing fields: {', '.join(sorted(missing))}")
    if type(obj["v"]) is not int or obj["v"] != 1:
        raise InvalidMessage("invalid_field", "v must be the integer 1")
    _check_common(obj)
    ts = obj["ts"]
    if not isinstance(ts, int) or isinstance(ts, bool) or ts < 0:
        raise InvalidMessage("invalid_field", "ts must be a non-negative integer (ms since epoch)")
    if not isinstance(obj["pubkey"], str) or not HEX64.fullmatch(obj["pubkey"]):
        raise InvalidMessage("invalid_field", "pubkey must be 64 lowercase hex characters")
    if not isinstance(obj["sig"], str) or not HEX128.fullmatch(obj["sig"]):
        raise InvalidMessage("invalid_field", "sig must be 128 lowercase hex characters")
    if "parent" in obj:
        try:
            parse_cid(obj["parent"])
        except CryptoError as exc:
            raise InvalidMessage("invalid_field", f"parent is not a CID: {exc}") from None


def check_clock(ts: int, now: int, *, new_post: bool) -> None:
    if ts > now + MAX_FUTURE_SKEW_MS:
        raise InvalidMessage("clock_skew", "ts is more than 5 minutes in the future")
    if new_post and ts < now - MAX_POST_AGE_MS:
        raise InvalidMessage("clock_skew", "ts is more than 1 hour in the past for a new post")


def verify(obj: dict[str, Any], *, new_post: bool, now: int | None = None) -> VerifiedEnvelope:
    """Schema, clock, size and signature; returns the canonical bytes and their CID."""
    check_schema(obj)
    check_clock(obj["ts"], now_ms() if now is None else now, new_post=new_post)
    data = canonical_bytes(obj)
    if len(data) > MAX_ENVELOPE_BYTES:
        raise InvalidMessage("too_large", f"envelope is over {MAX_ENVELOPE_BYTES} bytes")
    try:
        valid = verify_envelope(obj)
    except CryptoError as exc:
        raise InvalidMessage("bad_signature", str(exc)) from None
    if not valid:
        raise InvalidMessage("bad_signature", "signature does not match the envelope")
    return VerifiedEnvelope(obj, data, cid_for_bytes(data))


def check_served(board: str, served: Collection[str]) -> None:
    """A node stores and pins only the boards it serves (``BOARDS``): a post to any other
    would be kept forever and replicated by nobody."""
    if board not in served:
        raise InvalidMessage(
            "unknown_board",
            f"this node does not serve board {board!r}; it serves: {', '.join(served)}",
        )


def unsigned_from_plain(obj: dict[str, Any], default_board: str, now: int) -> dict[str, Any]:
    """The prototype's ``{"id","type","content","author","board"?}`` as an envelope to sign."""
    unknown = set(obj) - PLAIN_FIELDS
    if unknown:
        raise InvalidMessage("unknown_fields", f"unknown fields: {', '.join(sorted(unknown))}")
    plain = {"board": default_board, **obj}
    _check_common(plain)
    unsigned = {
        "v": 1,
        "type": "message",
        "board": plain["board"],
        "content": plain["content"],
        "author": plain["author"],
        "ts": now,
    }
    if "id" in plain:
        unsigned["id"] = plain["id"]
    return unsigned
