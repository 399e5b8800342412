"""Head manifests: signed, bound to their CID and board, envelopes inline."""

import json

import pytest

from crypto import NodeKey, canonical_bytes, cid_for_bytes
from node.envelope import InvalidMessage
from node.network.heads import PAGE_BUDGET, OpenPage
from node.network.manifest import MAX_MANIFEST_BYTES, PAGE_MESSAGES, build_manifest, parse_manifest
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
