"""Idempotency of the plain message's client ``id``: a board back end that retries a request
(its answer was lost) must get the first message's CID back, not a second message. The node
signs plain messages with a fresh ``ts``, so a retry would otherwise be a new envelope.

A claim is keyed by the API token (hashed: the index never holds a token) and the id, and
holds for ``WINDOW_MS``; after it, the same id posts a new message. Claims live in the index's
meta entries, so they survive restarts and are shared by every Lambda on one table."""

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from storage.index import MessageIndex

WINDOW_MS = 24 * 60 * 60 * 1000
PREFIX = "clientid:"


@dataclass(frozen=True)
class Claim:
    cid: str
    same_body: bool


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _key(token: str, client_id: str) -> str:
    return f"{PREFIX}{_digest(token)}:{_digest(client_id)}"


def _body_digest(plain: dict[str, Any]) -> str:
    return _digest(json.dumps(plain, sort_keys=True, ensure_ascii=False))


def claimed(index: MessageIndex, token: str, plain: dict[str, Any], now: int) -> Claim | None:
    """The message this token already posted with this ``id`` within the window, if any."""
    if not isinstance(plain.get("id"), str):
        return None
    raw = index.meta_get(_key(token, plain["id"]))
    if raw is None:
        return None
    entry = json.loads(raw)
    if now - entry["at"] > WINDOW_MS:
        return None
    return Claim(entry["cid"], entry["body"] == _body_digest(plain))


def claim(index: MessageIndex, token: str, plain: dict[str, Any], cid: str, now: int) -> None:
    """Remember that this token's ``id`` is ``cid`` (no-op for a message without an id)."""
    if isinstance(plain.get("id"), str):
        entry = {"cid": cid, "at": now, "body": _body_digest(plain)}
        index.meta_set(_key(token, plain["id"]), json.dumps(entry))
