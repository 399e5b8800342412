import pytest

from crypto import NodeKey, canonical_bytes, cid_for_bytes, sign_envelope
from node.protocol.envelope import (
    MAX_CONTENT_BYTES,
    InvalidMessage,
    now_ms,
    parse_json_object,
    unsigned_from_plain,
    verify,
)
from tests.conftest import signed_envelope

KEY = NodeKey.generate()


def refused(obj, **kwargs) -> str:
    with pytest.raises(InvalidMessage) as info:
        verify(obj, new_post=kwargs.pop("new_post", True), **kwargs)
    return info.value.code


def test_valid_envelope_gives_canonical_bytes_and_cid():
    envelope = signed_envelope(KEY, "hé", id="x", parent=str(cid_for_bytes(b"p")))
    verified = verify(envelope, new_post=True)
    assert verified.data == canonical_bytes(envelope)
    assert verified.cid == cid_for_bytes(verified.data)


@pytest.mark.parametrize(
    "change, code",
    [
        ({"extra": 1}, "unknown_fields"),
        ({"board": "Bad Board"}, "invalid_board"),
        ({"board": "x" * 65}, "invalid_board"),
        ({"content": "x" * (MAX_CONTENT_BYTES + 1)}, "content_too_large"),
        ({"type": "other"}, "invalid_field"),
        ({"v": 2}, "invalid_field"),
        ({"v": True}, "invalid_field"),
        ({"ts": "1"}, "invalid_field"),
        ({"ts": 1.5}, "invalid_field"),
        ({"id": "x" * 129}, "invalid_field"),
        ({"parent": "not-a-cid"}, "invalid_field"),
        ({"author": 7}, "invalid_field"),
        ({"pubkey": "AB" * 32}, "invalid_field"),
        ({"sig": "0" * 127}, "invalid_field"),
    ],
)
def test_schema_violations_are_refused_with_a_code(change, code):
    unsigned = {
        "v": 1,
        "type": "message",
        "board": "general",
        "content": "c",
        "author": "a",
        "ts": now_ms(),
    }
    envelope = {**sign_envelope(unsigned, KEY), **change}
    assert refused(envelope) == code


def test_missing_field_is_refused():
    envelope = signed_envelope(KEY)
    del envelope["author"]
    assert refused(envelope) == "missing_fields"


def test_tampered_content_fails_signature():
    assert refused({**signed_envelope(KEY), "content": "tampered"}) == "bad_signature"


def test_clock_skew_bounds():
    future = sign_envelope({**signed_envelope(KEY), "ts": now_ms() + 10 * 60_000}, KEY)
    assert refused(future) == "clock_skew"
    assert refused(future, new_post=False) == "clock_skew"
    old = sign_envelope({**signed_envelope(KEY), "ts": now_ms() - 2 * 3600_000}, KEY)
    assert refused(old) == "clock_skew"
    assert verify(old, new_post=False).envelope == old


@pytest.mark.parametrize("body", [b"{", b"[]", b"\xff\xfe", b'"text"', b"x" * (64 * 1024 + 1)])
def test_unparseable_bodies(body):
    with pytest.raises(InvalidMessage) as info:
        parse_json_object(body)
    assert info.value.code in {"invalid_json", "too_large"}


def test_plain_shape_becomes_an_unsigned_envelope_on_the_default_board():
    plain = {"id": "test", "type": "message", "content": "Hello P2P!", "author": "testuser"}
    unsigned = unsigned_from_plain(plain, "general", 123)
    assert unsigned == {
        "v": 1,
        "type": "message",
        "board": "general",
        "content": "Hello P2P!",
        "author": "testuser",
        "ts": 123,
        "id": "test",
    }
    with pytest.raises(InvalidMessage):
        unsigned_from_plain({**plain, "pubkey": "x"}, "general", 1)
