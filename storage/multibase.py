"""The ``u`` (base64url, unpadded) multibase that pubsub topics and payloads use on the RPC wire
since Kubo 0.11 and in js-ipfs."""

import base64
import binascii

from storage.errors import IpfsError


def encode_u(data: bytes) -> str:
    return "u" + base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def decode_u(text: str) -> bytes:
    if not isinstance(text, str) or not text.startswith("u"):
        raise IpfsError(f"expected base64url multibase, got {str(text)[:20]!r}")
    body = text[1:]
    try:
        return base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except (binascii.Error, ValueError) as exc:
        raise IpfsError("undecodable base64url multibase") from exc
