"""The protocol test vectors (tests/vectors/, docs/PROTOCOL.md): the committed files are exactly
what the generator writes, and the node agrees with every entry. The JavaScript SDK checks the
same files in client/test/unit/vectors.test.js."""

import json
from pathlib import Path
from typing import Any

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
from node.protocol.announcement import (
    head_announcement,
    hello_announcement,
    message_announcement,
    parse_announcement,
    topic_for,
)
from node.protocol.envelope import InvalidMessage, parse_json_object, verify
from node.protocol.manifest import parse_manifest
from storage.multibase import decode_u, encode_u
from tests.vectors import generate

VECTORS = Path(generate.__file__).parent


def load(name: str) -> dict[str, Any]:
    return json.loads((VECTORS / name).read_text(encoding="utf-8"))


def test_the_committed_vectors_are_what_the_generator_writes():
    for name, text in generate.build().items():
        assert (VECTORS / name).read_text(encoding="utf-8") == text, (
            f"tests/vectors/{name} is out of date: run python -m tests.vectors.generate"
        )


def test_canonical_bytes():
    for case in load("canonical.json")["cases"]:
        data = canonical_bytes(case["value"])
        assert data.hex() == case["hex"], case["name"]
        assert data.decode("utf-8") == case["canonical"], case["name"]


def test_cids_of_bytes_print_base32_and_compare_by_bytes():
    vectors = load("cids.json")
    for case in vectors["cases"]:
        cid = cid_for_bytes(bytes.fromhex(case["bytes_hex"]))
        assert str(cid) == case["cid"] and cid.base58btc() == case["base58btc"]
        assert cid.to_bytes().hex() == case["cid_bytes_hex"]
        assert parse_cid(case["base58btc"]) == parse_cid(case["cid"])
    for case in vectors["parse"]:
        cid = parse_cid(case["text"])
        assert cid.to_bytes().hex() == case["cid_bytes_hex"], case["name"]
        assert str(cid) == case["prints"], case["name"]
    for case in vectors["parse_invalid"]:
        with pytest.raises(CryptoError):
            parse_cid(case["text"])


def test_keys_signatures_and_signed_envelopes():
    vectors = load("signatures.json")
    keys = {}
    for case in vectors["keys"]:
        key = NodeKey.from_seed(bytes.fromhex(case["seed_hex"]))
        assert key.public_hex == case["pubkey"]
        assert NodeKey.from_base64(case["seed_base64"]).public_hex == case["pubkey"]
        keys[case["name"]] = key
    for case in vectors["signatures"]:
        assert keys[case["key"]].sign(bytes.fromhex(case["message_hex"])) == case["sig"]
    for case in vectors["envelopes"]:
        envelope = sign_envelope(case["unsigned"], keys[case["key"]])
        assert envelope == case["envelope"]
        body = {k: v for k, v in envelope.items() if k != "sig"}
        assert canonical_bytes(body).decode() == case["signing_bytes"]
        assert canonical_bytes(envelope).decode() == case["canonical"]
        assert str(cid_for_bytes(canonical_bytes(envelope))) == case["cid"]
        assert verify_envelope(envelope)


def test_valid_envelopes():
    vectors = load("envelopes.json")
    for case in vectors["valid"]:
        data = case["canonical"].encode("utf-8")
        verified = verify(parse_json_object(data), new_post=case["new_post"], now=vectors["now"])
        assert verified.data == data and str(verified.cid) == case["cid"], case["name"]
        body = {k: v for k, v in case["envelope"].items() if k != "sig"}
        assert canonical_bytes(body).decode() == case["signing_bytes"]
        if not case["new_post"]:
            with pytest.raises(InvalidMessage) as refused:
                verify(case["envelope"], new_post=True, now=vectors["now"])
            assert refused.value.code == "clock_skew"


def test_invalid_envelopes_are_refused_with_their_code():
    vectors = load("envelopes.json")
    for case in vectors["invalid"]:
        with pytest.raises(InvalidMessage) as refused:
            obj = parse_json_object(generate.body_bytes(case))
            verify(obj, new_post=case["new_post"], now=vectors["now"])
        assert refused.value.code == case["code"], case["name"]


def test_head_manifests():
    vectors = load("manifests.json")
    for case in vectors["valid"]:
        data = case["bytes"].encode("utf-8")
        manifest = parse_manifest(data, parse_cid(case["cid"]), case["board"])
        assert str(cid_for_bytes(data)) == case["cid"]
        assert (manifest.seq, manifest.ts, manifest.pubkey) == (
            case["seq"],
            case["ts"],
            case["pubkey"],
        )
        assert (str(manifest.prev) if manifest.prev else None) == case["prev"]
        assert [str(p) for p in manifest.pages] == case["pages"]
        assert len(manifest.messages) == case["messages"]
        for envelope in manifest.messages:
            verify(envelope, new_post=False, now=generate.NOW)
    for case in vectors["invalid"]:
        with pytest.raises(InvalidMessage) as refused:
            parse_manifest(case["bytes"].encode("utf-8"), parse_cid(case["cid"]), case["board"])
        assert refused.value.code == case["code"], case["name"]


def test_pubsub_announcements():
    vectors = load("announcements.json")
    board = vectors["board"]
    assert topic_for(board) == vectors["topic"]
    assert encode_u(vectors["topic"].encode()) == vectors["topic_rpc"]
    for case in vectors["valid"]:
        data = case["data"].encode("utf-8")
        assert encode_u(data) == case["data_rpc"] and decode_u(case["data_rpc"]) == data
        announcement = parse_announcement(data, board)
        assert announcement.kind == case["kind"]
        if case["kind"] == "message":
            assert announcement.envelope is not None and announcement.cid is not None
            assert message_announcement(announcement.cid, announcement.envelope) == data
            verified = verify(announcement.envelope, new_post=False, now=generate.NOW)
            assert verified.cid == announcement.cid
        elif case["kind"] == "head":
            assert announcement.cid is not None
            assert head_announcement(board, announcement.cid) == data
        else:
            assert hello_announcement(board) == data
    for case in vectors["invalid"]:
        with pytest.raises(InvalidMessage) as refused:
            parse_announcement(generate.body_bytes(case), board)
        assert refused.value.code == case["code"], case["name"]
