"""CIDs and keys at their edges: multi-byte varints, over-long and truncated varints, other
hash functions, the CIDv0 codec, unpadded base32, strict base64 seeds, and every refusal with a
message (written from the survivors of a mutation run: see docs/TESTING.md)."""

import base64
import hashlib

import pytest

from crypto import CryptoError, NodeKey, cid_for_bytes, parse_cid
from crypto.cid import DAG_PB_CODEC, Cid, cid_from_bytes
from crypto.keys import verify_signature

SHA256_OF_X = bytes([0x12, 32]) + hashlib.sha256(b"x").digest()


def refused(call, *args) -> CryptoError:
    with pytest.raises(CryptoError) as info:
        call(*args)
    assert str(info.value), "a refusal says why"
    return info.value


@pytest.mark.parametrize(
    ("codec", "varint"), [(0x0129, b"\xa9\x02"), (0x300000, b"\x80\x80\xc0\x01")]
)
def test_codecs_of_several_varint_bytes_round_trip(codec, varint):
    cid = Cid(1, codec, SHA256_OF_X)
    assert cid.to_bytes() == b"\x01" + varint + SHA256_OF_X
    assert cid_from_bytes(cid.to_bytes()) == cid
    assert parse_cid(str(cid)) == cid and parse_cid(cid.base58btc()) == cid


def test_other_hash_functions_are_accepted_and_sha256_must_be_32_bytes():
    sha512 = bytes([0x13, 64]) + hashlib.sha512(b"x").digest()
    assert cid_from_bytes(b"\x01\x55" + sha512).multihash == sha512
    refused(cid_from_bytes, b"\x01\x55" + bytes([0x12, 20]) + b"\x00" * 20)
    refused(cid_from_bytes, b"\x01\x55" + bytes([0x12, 32]) + b"\x00" * 31)


def test_truncated_and_over_long_varints_are_refused():
    refused(cid_from_bytes, b"\x01\x80")
    refused(cid_from_bytes, b"\x01")
    # Ten varint bytes (70 bits) never make a codec, even with a valid multihash after them.
    refused(cid_from_bytes, b"\x01" + b"\xff" * 9 + b"\x01" + SHA256_OF_X)
    refused(cid_from_bytes, b"\x02\x55" + SHA256_OF_X)


def test_cidv0_is_dag_pb_and_prints_as_itself():
    v0 = parse_cid("QmNLei78zWmzUdbeRB3CiUfAizWUrbeeZh5K1rhAQKCh51")
    assert v0.version == 0 and v0.codec == DAG_PB_CODEC
    assert str(v0) == v0.base58btc() == "QmNLei78zWmzUdbeRB3CiUfAizWUrbeeZh5K1rhAQKCh51"


def test_base32_is_unpadded_lowercase():
    cid = cid_for_bytes(b"x")
    text = str(cid)
    assert text.startswith("b") and "=" not in text and text == text.lower()
    body = base64.b32encode(cid.to_bytes()).decode().lower().rstrip("=")
    assert text == "b" + body


def test_a_46_character_cidv1_that_is_not_qm_is_read_by_its_multibase():
    identity = Cid(1, 0x55, bytes([0x00, 24]) + b"i" * 24)
    text = str(identity)
    assert len(text) == 46 and not text.startswith("Qm")
    assert parse_cid(text) == identity


def test_refusals_say_why():
    refused(parse_cid, "x")
    refused(parse_cid, "Qm" + "0" * 44)  # '0' is not base58
    refused(parse_cid, "?abcdef")
    refused(parse_cid, "b!!!!!!!")
    refused(NodeKey.from_seed, b"short")
    refused(verify_signature, "zz", b"data", "00")


def test_seed_base64_is_strict(tmp_path):
    key = NodeKey.generate()
    assert NodeKey.from_base64(key.seed_base64() + "\n").public_hex == key.public_hex
    refused(NodeKey.from_base64, key.seed_base64() + "!")
    refused(NodeKey.from_base64, "not base64 at all")
    refused(NodeKey.load, tmp_path / "missing.key")


def test_save_creates_missing_folders_with_a_private_file(tmp_path):
    key = NodeKey.generate()
    path = tmp_path / "a" / "b" / "node.key"
    key.save(path)
    assert NodeKey.load(path).public_hex == key.public_hex
    assert path.stat().st_mode & 0o777 == 0o600
