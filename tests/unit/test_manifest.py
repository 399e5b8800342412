"""Head manifests: signed, bound to their CID and board, envelopes inline."""

import json

import pytest

from crypto import NodeKey, canonical_bytes, cid_for_bytes
from node.network.heads import PAGE_BUDGET, OpenPage
from node.protocol.envelope import InvalidMessage
from node.protocol.manifest import (
    MAX_MANIFEST_BYTES,
    PAGE_MESSAGES,
    SKIP_PAGES,
    build_manifest,
    parse_manifest,
)
from tests.conftest import signed_envelope

KEY = NodeKey.generate()


def test_roundtrip():
    messages = [signed_envelope(KEY, f"m{i}") for i in range(3)]
    prev = cid_for_bytes(b"previous page")
    data = build_manifest(KEY, "general", 4, 123, prev, messages)
    manifest = parse_manifest(data, cid_for_bytes(data), "general")
    assert manifest.messages == messages and manifest.prev == prev and manifest.seq == 4
    assert manifest.pubkey == KEY.public_hex


def refused(data: bytes, cid=None, board: str = "general") -> str:
    with pytest.raises(InvalidMessage) as info:
        parse_manifest(data, cid or cid_for_bytes(data), board)
    return info.value.code


def test_refusals():
    data = build_manifest(KEY, "general", 0, 1, None, [signed_envelope(KEY, "x")])
    assert refused(data, cid_for_bytes(b"other")) == "bad_manifest"
    assert refused(data, board="other") == "bad_manifest"
    tampered = json.loads(data)
    tampered["seq"] = 5
    assert refused(canonical_bytes(tampered)) == "bad_manifest"
    assert refused(b"not json") == "bad_manifest"
    assert refused(b"x" * (MAX_MANIFEST_BYTES + 1)) == "bad_manifest"


def test_a_full_page_stays_one_block():
    page = OpenPage()
    big = signed_envelope(KEY, "y" * 16_000)
    while page.fits(big):
        page.append(big)
    assert len(page.messages) < PAGE_MESSAGES
    data = build_manifest(KEY, "general", 0, 1, None, page.messages)
    assert len(data) <= MAX_MANIFEST_BYTES and page.size <= PAGE_BUDGET


def test_skip_list_roundtrip_and_pages_without_one_stay_valid():
    earlier = [cid_for_bytes(f"page {i}".encode()) for i in range(3)]
    data = build_manifest(KEY, "general", 3, 1, earlier[0], [], earlier)
    assert parse_manifest(data, cid_for_bytes(data), "general").pages == earlier
    # A page written before skip lists existed: exactly the old fields, no "pages".
    old = build_manifest(KEY, "general", 3, 1, earlier[0], [])
    assert "pages" not in json.loads(old)
    manifest = parse_manifest(old, cid_for_bytes(old), "general")
    assert manifest.pages == [] and manifest.prev == earlier[0]


def test_skip_list_refusals():
    earlier = [cid_for_bytes(f"page {i}".encode()) for i in range(SKIP_PAGES + 1)]
    cases = [
        (5, earlier[0], [earlier[1], earlier[0]]),  # does not start at prev
        (2, earlier[0], earlier[:3]),  # lists more pages than there are before seq 2
        (40, earlier[0], earlier[: SKIP_PAGES + 1]),  # longer than SKIP_PAGES
        (5, earlier[0], [earlier[0], earlier[0]]),  # one page twice
        (5, None, [earlier[0]]),  # a first page that lists earlier pages
    ]
    for seq, prev, pages in cases:
        assert refused(build_manifest(KEY, "general", seq, 1, prev, [], pages)) == "bad_manifest"
    body = json.loads(build_manifest(KEY, "general", 2, 1, earlier[0], [], earlier[:1]))
    for bad in ([7], "not a list", ["not a cid"]):
        unsigned = {k: v for k, v in body.items() if k != "sig"} | {"pages": bad}
        signed = canonical_bytes({**unsigned, "sig": KEY.sign(canonical_bytes(unsigned))})
        assert refused(signed) == "bad_manifest"
    unknown = {k: v for k, v in body.items() if k != "sig"} | {"extra": 1}
    signed = canonical_bytes({**unknown, "sig": KEY.sign(canonical_bytes(unknown))})
    assert refused(signed) == "bad_manifest"


def test_only_a_full_page_counts_as_sealed():
    one = build_manifest(KEY, "general", 1, 1, None, [signed_envelope(KEY, "x")])
    assert not parse_manifest(one, cid_for_bytes(one), "general").full
    full = [signed_envelope(KEY, f"m{i}") for i in range(PAGE_MESSAGES)]
    data = build_manifest(KEY, "general", 1, 1, None, full)
    assert parse_manifest(data, cid_for_bytes(data), "general").full


def signed_page(**fields) -> dict:
    """A valid page's fields with ``fields`` replaced, re-signed (as a hostile peer would)."""
    body = json.loads(build_manifest(KEY, "general", 1, 1, None, [signed_envelope(KEY, "ok")]))
    unsigned = {k: v for k, v in body.items() if k != "sig"} | fields
    return {**unsigned, "sig": KEY.sign(canonical_bytes(unsigned))}


def raw_page(**raw_fields: str) -> bytes:
    """A signed page's text with fields replaced by raw JSON text (what json.dumps cannot
    write: lone surrogates, 1e400, NaN, integers of thousands of digits)."""
    text = json.dumps(signed_page(**{name: f"@{name}@" for name in raw_fields}))
    for name, raw in raw_fields.items():
        text = text.replace(f'"@{name}@"', raw)
    return text.encode()


HOSTILE_PAGES = {
    "nested past the recursion limit": b"[" * 120_000 + b"]" * 120_000,
    "nested objects": b'{"a":' * 40_000 + b"1" + b"}" * 40_000,
    "a signed page with messages nested 40 deep": canonical_bytes(
        signed_page(messages=[json.loads("[" * 40 + "]" * 40)])
    ),
    "a lone surrogate in a message": raw_page(messages='["\\ud800"]'),
    "a lone surrogate in a key": raw_page(messages='[{"\\udc00": 1}]'),
    "a lone surrogate in the board": raw_page(board='"\\ud800"'),
    "a number overflowing to infinity": raw_page(messages="[1e400]"),
    "NaN": raw_page(ts="NaN"),
    "an integer of 5000 digits": raw_page(seq="9" * 5000),
    "a signed seq of 10**300": canonical_bytes(signed_page(seq=10**300)),
    "a signed ts past 2**53": canonical_bytes(signed_page(ts=2**53)),
    "invalid UTF-8": b'{"v": 1, "kind": "\xff\xfe"}',
    "a page that is a list": b"[1, 2, 3]",
}


@pytest.mark.parametrize("name", list(HOSTILE_PAGES))
def test_hostile_json_pages_are_bad_manifests_never_crashes(name):
    assert refused(HOSTILE_PAGES[name]) == "bad_manifest"


def test_an_honest_page_at_the_limits_still_parses():
    data = canonical_bytes(signed_page(seq=2**53 - 1, ts=2**53 - 1))
    assert parse_manifest(data, cid_for_bytes(data), "general").seq == 2**53 - 1
