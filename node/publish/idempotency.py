"""Idempotency of the plain message's client ``id``: a board back end that retries a request
(its answer was lost) must get the first message's CID back, not a second message. The node
signs plain messages with a fresh ``ts``, so a retry would otherwise be a new envelope.

A claim is keyed by the API token (hashed: the store never holds a token) and the id, and
holds for ``WINDOW_MS``; after it, the same id posts a new message. Claims live in the store
(``ClientIdClaims``), so they survive restarts and are shared by every Lambda on one table."""

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from storage.ports.claims import ClientIdClaim, ClientIdClaims

WINDOW_MS = 24 * 60 * 60 * 1000


@dataclass(frozen=True)
class Claim:
    cid: str
    same_body: bool


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _body_digest(plain: dict[str, Any]) -> str:
    return _digest(json.dumps(plain, sort_keys=True, ensure_ascii=False))


def claimed(claims: ClientIdClaims, token: str, plain: dict[str, Any], now: int) -> Claim | None:
    """The message this token already posted with this ``id`` within the window, if any."""
    if not isinstance(plain.get("id"), str):
        return None
    entry = claims.get(_digest(token), _digest(plain["id"]))
    if entry is None or now - entry.at > WINDOW_MS:
        return None
    return Claim(entry.cid, entry.body == _body_digest(plain))


def claim(claims: ClientIdClaims, token: str, plain: dict[str, Any], cid: str, now: int) -> None:
    """Remember that this token's ``id`` is ``cid`` (no-op for a message without an id)."""
    if isinstance(plain.get("id"), str):
        entry = ClientIdClaim(cid, now, _body_digest(plain))
        claims.put(_digest(token), _digest(plain["id"]), entry)
