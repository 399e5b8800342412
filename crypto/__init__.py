"""Keys, canonical encoding, signatures and content ids: everything that must agree byte for byte
between nodes."""

from crypto.canonical import canonical_bytes
from crypto.cid import Cid, cid_for_bytes, parse_cid
from crypto.errors import CryptoError
from crypto.keys import NodeKey
from crypto.signing import sign_envelope, verify_envelope

__all__ = [
    "Cid",
    "CryptoError",
    "NodeKey",
    "canonical_bytes",
    "cid_for_bytes",
    "parse_cid",
    "sign_envelope",
    "verify_envelope",
]
