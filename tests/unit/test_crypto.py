import base64
import os
import stat

import pytest

from crypto import (
    CryptoError,
    NodeKey,
    canonical_bytes,
    cid_for_bytes,
    parse_cid,
    sign_envelope,
    verify_envelope,
)

HELLO = b"hello world\n"
HELLO_BASE32 = "bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei4"
HELLO_BASE58 = "zb2rhi36Gc9GJWijLEL6zW45MBux5FcFv5gJmjXA7VAMozEXY"
HELLO_V0 = "QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o"


def test_cid_of_bytes_matches_what_kubo_and_js_ipfs_print():
    cid = cid_for_bytes(HELLO)
    assert str(cid) == HELLO_BASE32
    assert cid.base58btc() == HELLO_BASE58
    assert parse_cid(HELLO_BASE58) == cid == parse_cid(HELLO_BASE32)
    assert str(cid_for_bytes(b"")) == "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"


def test_cidv0_parses_and_round_trips():
    cid = parse_cid(HELLO_V0)
    assert cid.version == 0 and str(cid) == HELLO_V0
    assert cid != cid_for_bytes(HELLO)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "x",
        "bafk!!!",
        "zb2rhi36Gc9GJWijLEL6zW45MBux5FcFv5gJmjXA7VAMozEX0",
        "Qm" + "1" * 44,
        "bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2deve",
        "mAXASIA",
        42,
        None,
    ],
)
def test_malformed_cids_raise_crypto_error(text):
    with pytest.raises(CryptoError):
        parse_cid(text)


def test_canonical_bytes_sort_keys_no_spaces_utf8():
    assert canonical_bytes({"b": 1, "a": 'é\n"x"'}) == '{"a":"é\\n\\"x\\"","b":1}'.encode()


def test_sign_and_verify_envelope_and_tampering():
    key = NodeKey.generate()
    envelope = sign_envelope({"v": 1, "content": "hi", "ts": 1}, key)
    assert envelope["pubkey"] == key.public_hex and len(envelope["sig"]) == 128
    assert verify_envelope(envelope)
    assert not verify_envelope({**envelope, "content": "changed"})
    other = NodeKey.generate()
    assert not verify_envelope({**envelope, "pubkey": other.public_hex})


@pytest.mark.parametrize(
    "change", [{"sig": "zz" * 64}, {"pubkey": "00"}, {"sig": "ab"}, {"pubkey": "g" * 64}]
)
def test_malformed_signature_or_key_raises_crypto_error(change):
    envelope = sign_envelope({"v": 1}, NodeKey.generate())
    with pytest.raises(CryptoError):
        verify_envelope({**envelope, **change})


def test_key_file_is_0600_and_world_readable_key_is_refused(tmp_path):
    key = NodeKey.generate()
    path = tmp_path / "k" / "node.key"
    key.save(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert NodeKey.load(path).public_hex == key.public_hex
    os.chmod(path, 0o644)
    with pytest.raises(CryptoError, match="readable by other users"):
        NodeKey.load(path)


@pytest.mark.parametrize("text", ["not base64!", "AAAA", ""])
def test_bad_inline_keys_raise_crypto_error(text):
    with pytest.raises(CryptoError):
        NodeKey.from_base64(text)


def test_missing_key_file_raises_crypto_error(tmp_path):
    with pytest.raises(CryptoError):
        NodeKey.load(tmp_path / "absent.key")


B58BTC = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
B58FLICKR = "123456789abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ"


def _int_encode(data: bytes, alphabet: str) -> str:
    num, out = int.from_bytes(data, "big"), ""
    while num:
        num, rem = divmod(num, len(alphabet))
        out = alphabet[rem] + out
    return alphabet[0] * (len(data) - len(data.lstrip(b"\x00"))) + out


def _every_base(data: bytes) -> dict[str, str]:
    """The same CID bytes in every multibase ``parse_cid`` takes, encoded here independently."""
    b32 = base64.b32encode(data).decode()
    b32hex = base64.b32hexencode(data).decode()
    b64 = base64.b64encode(data).decode()
    b64url = base64.urlsafe_b64encode(data).decode()
    zbase32 = b32.rstrip("=").translate(
        str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", "ybndrfg8ejkmcpqxot1uwisza345h769")
    )
    b36 = "0123456789abcdefghijklmnopqrstuvwxyz"
    return {
        "base2": "0" + "".join(f"{byte:08b}" for byte in data),
        "base10": "9" + _int_encode(data, "0123456789"),
        "base16": "f" + data.hex(),
        "base16upper": "F" + data.hex().upper(),
        "base32": "b" + b32.lower().rstrip("="),
        "base32upper": "B" + b32.rstrip("="),
        "base32pad": "c" + b32.lower(),
        "base32padupper": "C" + b32,
        "base32hex": "v" + b32hex.lower().rstrip("="),
        "base32hexupper": "V" + b32hex.rstrip("="),
        "base32hexpad": "t" + b32hex.lower(),
        "base32hexpadupper": "T" + b32hex,
        "base32z": "h" + zbase32,
        "base36": "k" + _int_encode(data, b36),
        "base36upper": "K" + _int_encode(data, b36).upper(),
        "base58btc": "z"
        + _int_encode(data, "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"),
        "base58flickr": "Z"
        + _int_encode(data, "123456789abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ"),
        "base64": "m" + b64.rstrip("="),
        "base64pad": "M" + b64,
        "base64url": "u" + b64url.rstrip("="),
        "base64urlpad": "U" + b64url,
    }


@pytest.mark.parametrize("base", sorted(_every_base(b"x")))
def test_a_cid_parses_in_every_multibase(base):
    cid = cid_for_bytes(b"any base will do")
    text = _every_base(cid.to_bytes())[base]
    assert parse_cid(text) == cid, text
    assert str(parse_cid(text)) == str(cid)


@pytest.mark.parametrize("text", ["fzz", "k!", "m***", "0101", "x" + "a" * 50, "U===="])
def test_bad_multibase_text_is_a_crypto_error(text):
    with pytest.raises(CryptoError):
        parse_cid(text)
