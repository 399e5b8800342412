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
