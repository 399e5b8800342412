"""The idempotency-claims port: which message an API token's client ``id`` already posted, so
that a retried request gets the same CID back (on every Lambda sharing one table too)."""

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class ClientIdClaim:
    """``body``: a digest of the request, to tell a retry from another message reusing the id;
    ``at``: when it was claimed (ms), for the claim's window."""

    cid: str
    at: int
    body: str


class ClientIdClaims(Protocol):
    """Claims are keyed by digests: the store never holds a token or a client's id."""

    def get(self, token_digest: str, id_digest: str) -> ClientIdClaim | None: ...

    def put(self, token_digest: str, id_digest: str, claim: ClientIdClaim) -> None: ...
