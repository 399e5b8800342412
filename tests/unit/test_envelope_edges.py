"""The envelope rules at their exact edges, and every refusal with its stable code and a
sentence for people (written from the survivors of a mutation run: see docs/TESTING.md)."""

import time

import pytest

from crypto import NodeKey, canonical_bytes, sign_envelope
from node.network.reputation import FAR_BELOW, IGNORE_BELOW, baseline, earns_cool_down, reputation
from node.protocol.envelope import (
    MAX_AUTHOR_CHARS,
    MAX_CONTENT_BYTES,
    MAX_ENVELOPE_BYTES,
    MAX_FUTURE_SKEW_MS,
    MAX_ID_CHARS,
    MAX_POST_AGE_MS,
    InvalidMessage,
    check_schema,
    now_ms,
    parse_json_object,
    unsigned_from_plain,
    verify,
)
from storage.ports.peers import PeerStats
from tests.conftest import signed_envelope

KEY = NodeKey.generate()
NOW = 1_800_000_000_000


def signed(**fields) -> dict:
    return sign_envelope({**signed_envelope(KEY), **fields}, KEY)


def refusal(call, *args, **kwargs) -> InvalidMessage:
    with pytest.raises(InvalidMessage) as info:
        call(*args, **kwargs)
    exc = info.value
    assert exc.detail and isinstance(exc.detail, str) and str(exc) == exc.detail
    return exc


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"extra": 1}, "unknown_fields"),
        ({"type": "other"}, "invalid_field"),
        ({"board": "Bad"}, "invalid_board"),
        ({"content": 5}, "invalid_field"),
        ({"content": "x" * (MAX_CONTENT_BYTES + 1)}, "content_too_large"),
        ({"author": 5}, "invalid_field"),
        ({"author": "a" * (MAX_AUTHOR_CHARS + 1)}, "invalid_field"),
        ({"id": "i" * (MAX_ID_CHARS + 1)}, "invalid_field"),
        ({"v": 2}, "invalid_field"),
        ({"ts": -1}, "invalid_field"),
        ({"ts": True}, "invalid_field"),
        ({"pubkey": "AB" * 32}, "invalid_field"),
        ({"sig": "0" * 127}, "invalid_field"),
        ({"parent": "not a cid"}, "invalid_field"),
    ],
)
def test_every_schema_refusal_has_its_code_and_a_sentence(change, code):
    envelope = {**signed_envelope(KEY), **change}
    assert refusal(check_schema, envelope).code == code


def test_missing_fields_and_bad_signatures_and_clock_have_codes_and_sentences():
    envelope = signed_envelope(KEY)
    del envelope["author"]
    assert refusal(check_schema, envelope).code == "missing_fields"
    tampered = {**signed_envelope(KEY), "content": "changed"}
    assert refusal(verify, tampered, new_post=True).code == "bad_signature"
    not_a_point = {**signed_envelope(KEY), "pubkey": "0" * 64}
    assert refusal(verify, not_a_point, new_post=True).code == "bad_signature"
    assert refusal(verify, signed(ts=NOW), new_post=True, now=0).code == "clock_skew"
    late = signed(ts=NOW - MAX_POST_AGE_MS - 1)
    assert refusal(verify, late, new_post=True, now=NOW).code == "clock_skew"
    plain = {"content": "x", "nope": 1}
    assert refusal(unsigned_from_plain, plain, "general", NOW).code == "unknown_fields"


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"x" * (MAX_ENVELOPE_BYTES + 1), "too_large"),
        (b"{not json", "invalid_json"),
        (b"[1, 2]", "invalid_json"),
    ],
)
def test_body_refusals_have_codes_and_sentences(data, code):
    assert refusal(parse_json_object, data).code == code


def test_size_limits_are_inclusive():
    body = b'{"pad": "' + b"y" * (MAX_ENVELOPE_BYTES - 11) + b'"}'
    assert len(body) == MAX_ENVELOPE_BYTES and parse_json_object(body)["pad"]
    edge = signed(
        content="é" * (MAX_CONTENT_BYTES // 2),
        author="a" * MAX_AUTHOR_CHARS,
        id="i" * MAX_ID_CHARS,
    )
    assert verify(edge, new_post=True).envelope == edge


def test_ts_zero_is_a_valid_timestamp():
    check_schema(signed(ts=0))


def test_clock_bounds_are_inclusive_and_use_the_given_now():
    assert verify(signed(ts=NOW + MAX_FUTURE_SKEW_MS), new_post=True, now=NOW)
    assert refusal(verify, signed(ts=NOW + MAX_FUTURE_SKEW_MS + 1), new_post=True, now=NOW)
    assert verify(signed(ts=NOW - MAX_POST_AGE_MS), new_post=True, now=NOW)
    # An old message relayed by a peer (not a new post) is not refused for its age.
    assert verify(signed(ts=NOW - 10 * MAX_POST_AGE_MS), new_post=False, now=NOW)


def test_now_ms_is_the_wall_clock_in_milliseconds():
    before = time.time() * 1000
    assert before - 1 <= now_ms() <= time.time() * 1000 + 1


def test_cool_down_bounds_are_exact():
    # Exactly IGNORE_BELOW is not "below": no cool-down, however far from the others.
    at_limit = PeerStats("p", valid=6, invalid=4)
    assert reputation(at_limit) == IGNORE_BELOW
    assert not earns_cool_down(at_limit, baseline([100]))
    # Exactly FAR_BELOW under the others' median is far enough.
    low = PeerStats("p", invalid=3)
    assert earns_cool_down(low, baseline([reputation(low) + FAR_BELOW]))
    assert not earns_cool_down(low, baseline([reputation(low) + FAR_BELOW - 1]))


def test_the_envelope_size_limit_counts_canonical_bytes_and_is_inclusive():
    """Control characters are escaped in the canonical JSON (six bytes each), so content
    within its own 16 KiB can still make an envelope over 64 KiB."""
    base = len(canonical_bytes(signed(content="")))
    escapes, rest = divmod(MAX_ENVELOPE_BYTES - base, 6)
    at_limit = signed(content="\x01" * escapes + "a" * rest)
    assert len(canonical_bytes(at_limit)) == MAX_ENVELOPE_BYTES
    assert verify(at_limit, new_post=True).data == canonical_bytes(at_limit)
    over = signed(content="\x01" * escapes + "a" * (rest + 1))
    assert refusal(verify, over, new_post=True).code == "too_large"
