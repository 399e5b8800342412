from typing import Any

from crypto.canonical import canonical_bytes
from crypto.keys import NodeKey, verify_signature


def sign_envelope(unsigned: dict[str, Any], key: NodeKey) -> dict[str, Any]:
    """Return the envelope with ``pubkey`` set to the key's and ``sig`` over the rest."""
    body = {k: v for k, v in unsigned.items() if k != "sig"}
    body["pubkey"] = key.public_hex
    return {**body, "sig": key.sign(canonical_bytes(body))}


def verify_envelope(envelope: dict[str, Any]) -> bool:
    """True when ``sig`` signs the canonical bytes of the envelope without ``sig``."""
    body = {k: v for k, v in envelope.items() if k != "sig"}
    return verify_signature(envelope["pubkey"], canonical_bytes(body), envelope["sig"])
