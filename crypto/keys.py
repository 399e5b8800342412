"""The node's Ed25519 key: where it comes from and how it is kept."""

import base64
import binascii
import os
import stat
from pathlib import Path

import nacl.exceptions
import nacl.signing

from crypto.errors import CryptoError

SEED_BYTES = 32


class NodeKey:
    """An Ed25519 signing key, kept as its 32-byte seed."""

    def __init__(self, signing_key: nacl.signing.SigningKey) -> None:
        self._signing_key = signing_key
        self.public_hex = signing_key.verify_key.encode().hex()

    @classmethod
    def generate(cls) -> "NodeKey":
        return cls(nacl.signing.SigningKey.generate())

    @classmethod
    def from_seed(cls, seed: bytes) -> "NodeKey":
        if len(seed) != SEED_BYTES:
            raise CryptoError(f"an Ed25519 seed is {SEED_BYTES} bytes, got {len(seed)}")
        return cls(nacl.signing.SigningKey(seed))

    @classmethod
    def from_base64(cls, text: str) -> "NodeKey":
        try:
            seed = base64.b64decode(text.strip(), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise CryptoError("key is not valid base64") from exc
        return cls.from_seed(seed)

    @classmethod
    def load(cls, path: Path) -> "NodeKey":
        """Read a key file, refusing one that other users can read: it signs as this node."""
        try:
            mode = path.stat().st_mode
        except OSError as exc:
            raise CryptoError(f"cannot read key file {path}: {exc.strerror}") from exc
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise CryptoError(
                f"key file {path} is readable by other users (mode {stat.S_IMODE(mode):o});"
                " run: chmod 600 " + str(path)
            )
        return cls.from_base64(path.read_text())

    def save(self, path: Path) -> None:
        """Write the seed as base64 to a new file created with mode 0600."""
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(self.seed_base64() + "\n")

    def seed_base64(self) -> str:
        return base64.b64encode(bytes(self._signing_key)).decode()

    def sign(self, data: bytes) -> str:
        return self._signing_key.sign(data).signature.hex()


def verify_signature(public_hex: str, data: bytes, signature_hex: str) -> bool:
    """True when the signature is valid; malformed hex or keys raise CryptoError."""
    try:
        verify_key = nacl.signing.VerifyKey(bytes.fromhex(public_hex))
        signature = bytes.fromhex(signature_hex)
    except (ValueError, TypeError, nacl.exceptions.CryptoError) as exc:
        raise CryptoError("malformed public key or signature") from exc
    try:
        verify_key.verify(data, signature)
    except nacl.exceptions.BadSignatureError:
        return False
    except (ValueError, nacl.exceptions.CryptoError) as exc:
        raise CryptoError("malformed signature") from exc
    return True
