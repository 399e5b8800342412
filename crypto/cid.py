"""CIDs computed and parsed locally.

A node checks that an announcement's bytes match its CID without asking a daemon, and daemons
print the same CID differently (js-ipfs base58btc ``zb2…``, Kubo base32 ``bafk…``, CIDv0
``Qm…``), so CIDs are compared by their decoded bytes and printed in one base (base32).
"""

import base64
import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from crypto.errors import CryptoError

RAW_CODEC = 0x55
DAG_PB_CODEC = 0x70
SHA2_256 = 0x12
_B58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX = {c: i for i, c in enumerate(_B58_ALPHABET)}


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _read_varint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while pos < len(data) and shift < 63:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7
    raise CryptoError("truncated varint in CID")


def _b58decode(text: str) -> bytes:
    num = 0
    for ch in text:
        if ch not in _B58_INDEX:
            raise CryptoError(f"invalid base58 character {ch!r} in CID")
        num = num * 58 + _B58_INDEX[ch]
    body = num.to_bytes((num.bit_length() + 7) // 8, "big") if num else b""
    zeros = len(text) - len(text.lstrip("1"))
    return b"\x00" * zeros + body


def _b58encode(data: bytes) -> str:
    num = int.from_bytes(data, "big")
    out = ""
    while num:
        num, rem = divmod(num, 58)
        out = _B58_ALPHABET[rem] + out
    zeros = len(data) - len(data.lstrip(b"\x00"))
    return "1" * zeros + out


@dataclass(frozen=True)
class Cid:
    """A decoded CID; equal CIDs are equal whatever base they were printed in."""

    version: int
    codec: int
    multihash: bytes

    def to_bytes(self) -> bytes:
        if self.version == 0:
            return self.multihash
        return _varint(1) + _varint(self.codec) + self.multihash

    def __str__(self) -> str:
        if self.version == 0:
            return _b58encode(self.multihash)
        return "b" + base64.b32encode(self.to_bytes()).decode().lower().rstrip("=")

    def base58btc(self) -> str:
        """The form js-ipfs prints, for talking to daemons that only match strings."""
        if self.version == 0:
            return str(self)
        return "z" + _b58encode(self.to_bytes())


def _parse_multihash(data: bytes, pos: int) -> bytes:
    code, after_code = _read_varint(data, pos)
    length, after_len = _read_varint(data, after_code)
    if len(data) - after_len != length:
        raise CryptoError("CID multihash length does not match its digest")
    if code == SHA2_256 and length != 32:
        raise CryptoError("sha2-256 digest must be 32 bytes")
    return data[pos:]


def cid_from_bytes(data: bytes) -> Cid:
    if len(data) == 34 and data[0] == SHA2_256 and data[1] == 32:
        return Cid(0, DAG_PB_CODEC, data)
    version, pos = _read_varint(data, 0)
    if version != 1:
        raise CryptoError(f"unsupported CID version {version}")
    codec, pos = _read_varint(data, pos)
    return Cid(1, codec, _parse_multihash(data, pos))


def _int_base(alphabet: str) -> Callable[[str], bytes]:
    """Decoder of a base whose digits are a big number, leading zero digits kept as zero
    bytes (base10, base36, base58)."""
    index = {c: i for i, c in enumerate(alphabet)}
    base = len(alphabet)

    def decode(text: str) -> bytes:
        num = 0
        for ch in text:
            if ch not in index:
                raise CryptoError(f"invalid character {ch!r} in CID")
            num = num * base + index[ch]
        body = num.to_bytes((num.bit_length() + 7) // 8, "big") if num else b""
        return b"\x00" * (len(text) - len(text.lstrip(alphabet[0]))) + body

    return decode


def _rfc4648(
    decode: Callable[[bytes], bytes], pad_to: int, fold: str = ""
) -> Callable[[str], bytes]:
    """Decoder of an RFC 4648 base: padding added back, case folded where the base has one."""

    def run(text: str) -> bytes:
        if fold == "upper":
            text = text.upper()
        elif fold == "lower":
            text = text.lower()
        text = text.rstrip("=")
        return decode((text + "=" * (-len(text) % pad_to)).encode())

    return run


def _base2(text: str) -> bytes:
    if len(text) % 8 or set(text) - {"0", "1"}:
        raise CryptoError("invalid base2 in CID")
    return int(text, 2).to_bytes(len(text) // 8, "big")


_B32HEX_TO_B32 = str.maketrans(
    "0123456789ABCDEFGHIJKLMNOPQRSTUV", "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
)
_ZBASE32_TO_B32 = str.maketrans(
    "ybndrfg8ejkmcpqxot1uwisza345h769", "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
)
_B36 = "0123456789abcdefghijklmnopqrstuvwxyz"

# Every multibase of the multibase table that a CID can be printed in (identity and
# base256emoji aside), by prefix; case-insensitive bases accept both cases under either prefix.
_DECODERS: dict[str, Callable[[str], bytes]] = {
    "0": _base2,
    "9": _int_base("0123456789"),
    "f": _rfc4648(base64.b16decode, 2, "upper"),
    "F": _rfc4648(base64.b16decode, 2, "upper"),
    "b": _rfc4648(base64.b32decode, 8, "upper"),
    "B": _rfc4648(base64.b32decode, 8, "upper"),
    "c": _rfc4648(base64.b32decode, 8, "upper"),
    "C": _rfc4648(base64.b32decode, 8, "upper"),
    "v": _rfc4648(base64.b32hexdecode, 8, "upper"),
    "V": _rfc4648(base64.b32hexdecode, 8, "upper"),
    "t": _rfc4648(base64.b32hexdecode, 8, "upper"),
    "T": _rfc4648(base64.b32hexdecode, 8, "upper"),
    "h": lambda text: base64.b32decode(
        (text.translate(_ZBASE32_TO_B32) + "=" * (-len(text) % 8)).encode()
    ),
    "k": lambda text: _int_base(_B36)(text.lower()),
    "K": lambda text: _int_base(_B36)(text.lower()),
    "z": _b58decode,
    "Z": _int_base("123456789abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ"),
    "m": _rfc4648(base64.b64decode, 4),
    "M": _rfc4648(base64.b64decode, 4),
    "u": _rfc4648(base64.urlsafe_b64decode, 4),
    "U": _rfc4648(base64.urlsafe_b64decode, 4),
}
MAX_CID_TEXT = 400  # a sha2-256 CIDv1 in base2, the longest base, is 289 characters


def parse_cid(text: str) -> Cid:
    """Parse a CIDv0 (``Qm…``) or a CIDv1 in any multibase (base32 ``b…``, base58btc ``z…``,
    base16 ``f…``, base36 ``k…``, base64 ``m…``/``u…``, …)."""
    if not isinstance(text, str) or not 2 <= len(text) <= MAX_CID_TEXT:
        raise CryptoError(f"CID must be a string of 2 to {MAX_CID_TEXT} characters")
    if text.startswith("Qm") and len(text) == 46:
        return cid_from_bytes(_b58decode(text))
    prefix, body = text[0], text[1:]
    decoder = _DECODERS.get(prefix)
    if decoder is None:
        raise CryptoError(f"unsupported CID multibase prefix {prefix!r}")
    try:
        raw = decoder(body)
    except (ValueError, TypeError) as exc:  # binascii.Error is a ValueError
        raise CryptoError(f"invalid multibase {prefix!r} text in CID") from exc
    return cid_from_bytes(raw)


def cid_for_bytes(data: bytes) -> Cid:
    """The CIDv1 (raw codec, sha2-256) of some bytes: what ``add --cid-version=1`` gives for a
    single-chunk file with raw leaves."""
    digest = hashlib.sha256(data).digest()
    return Cid(1, RAW_CODEC, bytes([SHA2_256, 32]) + digest)
