"""Writes the protocol test vectors in this folder (see docs/PROTOCOL.md, "Test vectors").

    .venv/bin/python -m tests.vectors.generate          # rewrite the JSON files
    .venv/bin/python -m tests.vectors.generate --check  # exit 1 if they are out of date

Everything is computed by the node's own code (``crypto``, ``node.protocol``) from fixed seeds
and a fixed clock, so the output is the same on every run: Ed25519 signatures are
deterministic. ``tests/unit/test_vectors.py`` checks that the committed files are exactly what
this script writes and that the node agrees with every entry; ``client/test/unit/vectors.test.js``
checks the same files against the JavaScript SDK (canonical bytes, signatures) and an
independent CID computation. A change to any file here is a protocol change: read the
versioning rule in docs/PROTOCOL.md first.

Bodies that cannot be written as one JSON string (invalid UTF-8) are given as ``body_hex``;
long ones as ``body_parts``: strings and ``{"repeat": s, "times": n}`` pieces, concatenated.
"""

import base64
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

from crypto import NodeKey, canonical_bytes, cid_for_bytes, parse_cid, sign_envelope
from node.protocol import strict_json
from node.protocol.announcement import (
    MAX_ANNOUNCEMENT_BYTES,
    head_announcement,
    hello_announcement,
    message_announcement,
    parse_announcement,
    topic_for,
)
from node.protocol.envelope import (
    MAX_CONTENT_BYTES,
    MAX_ENVELOPE_BYTES,
    MAX_FUTURE_SKEW_MS,
    MAX_POST_AGE_MS,
    InvalidMessage,
    parse_json_object,
    verify,
)
from node.protocol.manifest import MAX_INTEGER, build_manifest, parse_manifest
from storage.multibase import encode_u

HERE = Path(__file__).resolve().parent
# The clock every vector is checked against (ms since the epoch): 2025-11-24T16:00:00Z.
NOW = 1_764_000_000_000
BOARD = "general"
SEEDS = {
    # RFC 8032, section 7.1, TEST 1: its public key and its signature of the empty message
    # are published there, so this vector is checked against a third party too.
    "rfc8032-test1": "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
    "counting": bytes(range(32)).hex(),
}
RFC8032_TEST1_PUBLIC = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
RFC8032_TEST1_SIGNATURE = (
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e"
    "39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
)


def key(name: str) -> NodeKey:
    return NodeKey.from_seed(bytes.fromhex(SEEDS[name]))


def text_of(data: bytes) -> str:
    return data.decode("utf-8")


def body_bytes(case: dict[str, Any]) -> bytes:
    """The bytes of a vector's body, from whichever form it is written in."""
    if "body_hex" in case:
        return bytes.fromhex(case["body_hex"])
    if "body_parts" in case:
        return "".join(
            part if isinstance(part, str) else part["repeat"] * part["times"]
            for part in case["body_parts"]
        ).encode("utf-8")
    return case["body"].encode("utf-8")


def independent_cid(data: bytes) -> str:
    """CIDv1, raw codec, sha2-256, base32: written out by hand, to cross-check the node's."""
    raw = bytes([0x01, 0x55, 0x12, 0x20]) + hashlib.sha256(data).digest()
    return "b" + base64.b32encode(raw).decode().lower().rstrip("=")


def error_code(run: Any) -> str:
    try:
        run()
    except InvalidMessage as exc:
        return exc.code
    except strict_json.JsonRefused as exc:
        return exc.code
    raise AssertionError("a vector meant to be refused was accepted")


# -- canonical bytes ------------------------------------------------------------------------


def canonical_vectors() -> dict[str, Any]:
    values = [
        (
            "an unsigned envelope: keys sorted, no spaces",
            {
                "v": 1,
                "type": "message",
                "board": "general",
                "content": "hello",
                "author": "ada",
                "ts": NOW,
            },
        ),
        (
            "non-ASCII text is written raw as UTF-8, never \\u-escaped",
            {"content": "héllo ✓ 日本語 😀", "author": "Zoë"},
        ),
        (
            'escapes: \\" \\\\ \\b \\f \\n \\r \\t and other control characters as lowercase'
            " \\u00xx; / DEL U+2028 U+2029 raw",
            {"s": '"\\/\b\f\n\r\t\x00\x01\x1f\x7f\u2028\u2029'},
        ),
        (
            "keys sort by Unicode code point (upper case before lower, U+FFFF before U+1F600)",
            {"b": 1, "a": 2, "B": 3, "é": 4, "\uffff": 5, "😀": 6, "aa": 7, "": 8},
        ),
        (
            "nested arrays and objects, booleans and null",
            {"list": [3, -1, 0, True, False, None, "x", {"z": 1, "y": []}], "obj": {}},
        ),
        (
            "integers up to 2**53 - 1 (no floats: they have no one canonical form)",
            {"max": MAX_INTEGER, "min": -MAX_INTEGER, "zero": 0},
        ),
    ]
    cases = []
    for name, value in values:
        data = canonical_bytes(value)
        cases.append({"name": name, "value": value, "canonical": text_of(data), "hex": data.hex()})
    return {
        "about": "canonical bytes: json.dumps(value, sort_keys=True, separators=(',', ':'),"
        " ensure_ascii=False).encode('utf-8')",
        "cases": cases,
    }


# -- CIDs -----------------------------------------------------------------------------------


def _b58(data: bytes, alphabet: str) -> str:
    num, out = int.from_bytes(data, "big"), ""
    while num:
        num, rem = divmod(num, len(alphabet))
        out = alphabet[rem] + out
    return alphabet[0] * (len(data) - len(data.lstrip(b"\x00"))) + out


B58BTC = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
B36 = "0123456789abcdefghijklmnopqrstuvwxyz"


def cid_vectors(envelope_bytes: bytes) -> dict[str, Any]:
    inputs = [
        ("empty", b""),
        ("hello", b"hello"),
        ("the canonical bytes of envelopes.json's first valid envelope", envelope_bytes),
    ]
    cases = []
    for name, data in inputs:
        cid = cid_for_bytes(data)
        assert str(cid) == independent_cid(data)
        cases.append(
            {
                "name": name,
                "bytes_hex": data.hex(),
                "cid": str(cid),
                "cid_bytes_hex": cid.to_bytes().hex(),
                "base58btc": cid.base58btc(),
            }
        )
    raw = cid_for_bytes(b"hello").to_bytes()
    forms = [
        ("base32 (how the node prints)", "b" + base64.b32encode(raw).decode().lower().rstrip("=")),
        ("base32 upper case", "B" + base64.b32encode(raw).decode().rstrip("=")),
        ("base58btc (how js-ipfs prints)", "z" + _b58(raw, B58BTC)),
        ("base16", "f" + raw.hex()),
        ("base36", "k" + _b58(raw, B36)),
        ("base64", "m" + base64.b64encode(raw).decode().rstrip("=")),
        ("base64url", "u" + base64.urlsafe_b64encode(raw).decode().rstrip("=")),
    ]
    parse = [
        {"name": n, "text": t, "cid_bytes_hex": raw.hex(), "prints": str(parse_cid(t))}
        for n, t in forms
    ]
    v0 = bytes([0x12, 0x20]) + hashlib.sha256(b"hello").digest()
    parse.append(
        {
            "name": "CIDv0 (dag-pb): equal only to itself, printed as base58btc Qm…",
            "text": _b58(v0, B58BTC),
            "cid_bytes_hex": v0.hex(),
            "prints": _b58(v0, B58BTC),
        }
    )
    invalid = [
        ("unknown multibase prefix", "x" + raw.hex()),
        ("CID version 2", "b" + base64.b32encode(b"\x02" + raw[1:]).decode().lower().rstrip("=")),
        (
            "sha2-256 digest of 31 bytes",
            "b" + base64.b32encode(raw[:3] + b"\x1f" + raw[4:-1]).decode().lower().rstrip("="),
        ),
        ("too short", "b"),
        ("not base58", "z0OIl"),
    ]
    for _, text in invalid:
        try:
            parse_cid(text)
        except ValueError:
            continue
        raise AssertionError(f"{text} parsed")
    return {
        "about": "CIDv1, raw codec (0x55), sha2-256: bytes 01 55 12 20 + sha256(data); printed"
        " base32 lower case with the multibase prefix 'b'. Compare CIDs by cid_bytes_hex,"
        " never as text.",
        "cases": cases,
        "parse": parse,
        "parse_invalid": [{"name": n, "text": t} for n, t in invalid],
    }


# -- keys and signatures ----------------------------------------------------------------------


def signature_vectors() -> tuple[dict[str, Any], dict[str, Any]]:
    keys = []
    for name, seed in SEEDS.items():
        node_key = key(name)
        keys.append(
            {
                "name": name,
                "seed_hex": seed,
                "seed_base64": node_key.seed_base64(),
                "pubkey": node_key.public_hex,
            }
        )
    assert key("rfc8032-test1").public_hex == RFC8032_TEST1_PUBLIC
    assert key("rfc8032-test1").sign(b"") == RFC8032_TEST1_SIGNATURE
    signatures = []
    for name in SEEDS:
        for message in (b"", b"onusone"):
            signatures.append(
                {"key": name, "message_hex": message.hex(), "sig": key(name).sign(message)}
            )
    unsigned = {
        "v": 1,
        "type": "message",
        "board": BOARD,
        "content": "hello from a fixed seed ✓",
        "author": "Zoë",
        "ts": NOW - 1000,
    }
    envelopes = []
    for name in SEEDS:
        envelope = sign_envelope(unsigned, key(name))
        body = {k: v for k, v in envelope.items() if k != "sig"}
        envelopes.append(
            {
                "key": name,
                "unsigned": unsigned,
                "signing_bytes": text_of(canonical_bytes(body)),
                "envelope": envelope,
                "canonical": text_of(canonical_bytes(envelope)),
                "cid": str(cid_for_bytes(canonical_bytes(envelope))),
            }
        )
    return (
        {
            "about": "Ed25519 (RFC 8032) keys from 32-byte seeds; a node key file holds the seed"
            " as base64. An envelope's sig signs the canonical bytes of the envelope without"
            " sig (pubkey included).",
            "keys": keys,
            "signatures": signatures,
            "envelopes": envelopes,
        },
        envelopes[1]["envelope"],
    )


# -- envelopes ------------------------------------------------------------------------------


def _signed(name: str = "counting", **fields: Any) -> dict[str, Any]:
    unsigned = {
        "v": 1,
        "type": "message",
        "board": BOARD,
        "content": "hello",
        "author": "ada",
        "ts": NOW - 1000,
        **fields,
    }
    return sign_envelope({k: v for k, v in unsigned.items() if v is not None}, key(name))


def _compact(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def envelope_vectors(parent: str) -> dict[str, Any]:
    valid_envelopes = [
        ("the fields every envelope has", _signed(), True),
        ("with the optional id and parent", _signed(id="client-id-1", parent=parent), True),
        (
            "text that needs escapes and raw UTF-8",
            _signed(content='line 1\nline 2\t"quoted" \\ \x01 😀 ✓', author="Zoë"),
            True,
        ),
        (
            "exactly 5 minutes ahead: the most clock skew allowed",
            _signed(ts=NOW + MAX_FUTURE_SKEW_MS),
            True,
        ),
        (
            "2 hours old: valid when relayed (pubsub, catch-up), refused as a new post",
            _signed(ts=NOW - 2 * 3_600_000),
            False,
        ),
    ]
    valid = []
    for name, envelope, new_post in valid_envelopes:
        data = canonical_bytes(envelope)
        verified = verify(envelope, new_post=new_post, now=NOW)
        body = {k: v for k, v in envelope.items() if k != "sig"}
        valid.append(
            {
                "name": name,
                "new_post": new_post,
                "envelope": envelope,
                "signing_bytes": text_of(canonical_bytes(body)),
                "canonical": text_of(data),
                "cid": str(verified.cid),
            }
        )
    good = _signed()
    tampered = {**good, "content": "hellO"}
    other_key = {**good, "pubkey": key("rfc8032-test1").public_hex}
    nested: str = '{"a":' + "[" * 16 + "]" * 16 + "}"
    invalid: list[dict[str, Any]] = [
        {"name": "a JSON array, not an object", "body": "[]"},
        {"name": "not JSON", "body": '{"v":1,'},
        {"name": "NaN", "body": '{"v":NaN}'},
        {"name": "a number that overflows to infinity", "body": '{"ts":1e400}'},
        {"name": "invalid UTF-8", "body_hex": b'{"content":"\xff"}'.hex()},
        {"name": "a lone UTF-16 surrogate", "body": '{"content":"\\ud800"}'},
        {"name": "nested deeper than 16 levels", "body": nested},
        {
            "name": f"a body over {MAX_ENVELOPE_BYTES} bytes (checked before parsing)",
            "body_parts": [
                '{"content":"',
                {"repeat": "a", "times": MAX_ENVELOPE_BYTES},
                '"}',
            ],
        },
        {"name": "an unknown field (a field added later)", "body": _compact({**good, "x": 1})},
        {
            "name": "a missing field",
            "body": _compact({k: v for k, v in good.items() if k != "ts"}),
        },
        {"name": "v 2 (a later version)", "body": _compact({**good, "v": 2})},
        {"name": "v true", "body": _compact({**good, "v": True})},
        {"name": "v 1.0 (a float)", "body": _compact(good).replace('"v":1', '"v":1.0')},
        {"name": "another type (a type added later)", "body": _compact(_signed(type="delete"))},
        {"name": "a board with capitals", "body": _compact(_signed(board="General"))},
        {"name": "a board of 65 characters", "body": _compact(_signed(board="b" * 65))},
        {
            "name": f"content over {MAX_CONTENT_BYTES} bytes of UTF-8",
            "body_parts": [
                _compact({**good, "content": "@"}).split("@")[0],
                {"repeat": "é", "times": MAX_CONTENT_BYTES // 2},
                "a" + _compact({**good, "content": "@"}).split("@")[1],
            ],
        },
        {"name": "content not a string", "body": _compact({**good, "content": 5})},
        {"name": "author over 128 characters", "body": _compact(_signed(author="a" * 129))},
        {"name": "id over 128 characters", "body": _compact(_signed(id="i" * 129))},
        {"name": "ts negative", "body": _compact({**good, "ts": -1})},
        {"name": "ts a string", "body": _compact({**good, "ts": str(NOW)})},
        {
            "name": "pubkey in upper case",
            "body": _compact({**good, "pubkey": good["pubkey"].upper()}),
        },
        {"name": "sig too short", "body": _compact({**good, "sig": good["sig"][:126]})},
        {"name": "parent not a CID", "body": _compact(_signed(parent="not-a-cid"))},
        {
            "name": "ts more than 5 minutes ahead",
            "body": _compact(_signed(ts=NOW + MAX_FUTURE_SKEW_MS + 1)),
        },
        {
            "name": "a new post more than 1 hour old",
            "body": _compact(_signed(ts=NOW - MAX_POST_AGE_MS - 1)),
            "new_post": True,
        },
        {"name": "content changed after signing", "body": _compact(tampered)},
        {"name": "signed by another key than pubkey", "body": _compact(other_key)},
    ]
    for case in invalid:
        case.setdefault("new_post", False)
        data = body_bytes(case)
        case["code"] = error_code(
            lambda data=data, case=case: verify(
                parse_json_object(data), new_post=case["new_post"], now=NOW
            )
        )
    return {
        "about": "A body is checked as the node checks POST /api/broadcast and a relayed"
        " envelope: size, strict JSON, a JSON object, exact fields, each field, clock (against"
        " now), size of the canonical bytes, signature. new_post: true for a post made to this"
        " node (ts at most 1 hour old), false for one relayed over pubsub or catch-up.",
        "now": NOW,
        "valid": valid,
        "invalid": invalid,
    }


# -- head manifests -------------------------------------------------------------------------


def _page(
    seq: int,
    prev: Any,
    messages: list[dict[str, Any]],
    pages: list[Any] | None,
    ts: int = NOW,
) -> bytes:
    return build_manifest(key("counting"), BOARD, seq, ts, prev, messages, pages)


def _resigned(data: bytes, change: dict[str, Any]) -> bytes:
    """A manifest with fields changed and signed again, so only the change is wrong."""
    obj = {**json.loads(data), **change}
    body = {k: v for k, v in obj.items() if k != "sig"}
    return canonical_bytes({**body, "sig": key("counting").sign(canonical_bytes(body))})


def manifest_vectors(messages: list[dict[str, Any]]) -> dict[str, Any]:
    first = _page(0, None, messages[:1], [])
    first_cid = cid_for_bytes(first)
    second = _page(1, first_cid, messages[1:], [first_cid])
    second_cid = cid_for_bytes(second)
    legacy = _page(1, first_cid, messages[1:], None)
    valid = []
    for name, data in [
        ("a chain's first page: seq 0, prev null, pages empty", first),
        ("the next page: prev and pages[0] are the first page", second),
        ("a page written before pages existed (first release): no pages field", legacy),
    ]:
        cid = cid_for_bytes(data)
        manifest = parse_manifest(data, cid, BOARD)
        valid.append(
            {
                "name": name,
                "board": BOARD,
                "bytes": text_of(data),
                "cid": str(cid),
                "seq": manifest.seq,
                "ts": manifest.ts,
                "prev": str(manifest.prev) if manifest.prev else None,
                "pages": [str(p) for p in manifest.pages],
                "messages": len(manifest.messages),
                "pubkey": manifest.pubkey,
            }
        )
    tampered = json.loads(second)
    tampered["ts"] += 1
    invalid_pages = [
        ("cid_mismatch", "bytes fetched under another page's CID", second, first_cid, BOARD),
        (
            "unknown_field",
            "an unknown field (a field added later)",
            _resigned(second, {"next": None}),
            None,
            BOARD,
        ),
        ("version", "v 2", _resigned(second, {"v": 2}), None, BOARD),
        ("kind", "another kind", _resigned(second, {"kind": "onusone/head2"}), None, BOARD),
        ("board", "fetched for another board", second, None, "other"),
        (
            "skip_list",
            "pages[0] is not prev",
            _resigned(second, {"pages": [str(second_cid)]}),
            None,
            BOARD,
        ),
        (
            "skip_list",
            "pages longer than seq",
            _resigned(first, {"pages": [str(second_cid)]}),
            None,
            BOARD,
        ),
        (
            "seq_range",
            "seq above 2**53 - 1",
            _resigned(second, {"seq": MAX_INTEGER + 1}),
            None,
            BOARD,
        ),
        ("signature", "ts changed after signing", canonical_bytes(tampered), None, BOARD),
        (
            "strict_json",
            "a message nested past 18 levels",
            _resigned(first, {"messages": [{"a": [[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]}]}),
            None,
            BOARD,
        ),
    ]
    invalid = []
    for reason, name, data, cid, board in invalid_pages:
        cid = cid or cid_for_bytes(data)
        code = error_code(lambda data=data, cid=cid, board=board: parse_manifest(data, cid, board))
        invalid.append(
            {
                "name": name,
                "reason": reason,
                "board": board,
                "bytes": text_of(data),
                "cid": str(cid),
                "code": code,
            }
        )
    return {
        "about": "Head manifest pages, signed by the 'counting' key of signatures.json. bytes"
        " are exactly what is stored on IPFS (canonical bytes, one raw block) and cid is their"
        " CID; sig signs the canonical bytes of the page without sig. A page is fetched by its"
        " CID for one board (board).",
        "valid": valid,
        "invalid": invalid,
    }


# -- pubsub announcements -------------------------------------------------------------------


def announcement_vectors(envelope: dict[str, Any], head: str) -> dict[str, Any]:
    cid = cid_for_bytes(canonical_bytes(envelope))
    topic = topic_for(BOARD)
    valid = []
    for kind, data in [
        ("message", message_announcement(cid, envelope)),
        ("head", head_announcement(BOARD, parse_cid(head))),
        ("hello", hello_announcement(BOARD)),
    ]:
        assert parse_announcement(data, BOARD).kind == kind
        valid.append({"kind": kind, "data": text_of(data), "data_rpc": encode_u(data)})
    hello = {"kind": "hello", "board": BOARD}
    invalid: list[dict[str, Any]] = [
        {
            "name": "an unknown kind (a kind added later)",
            "body": _compact({"kind": "ping", "board": BOARD}),
        },
        {"name": "no kind", "body": _compact({"board": BOARD})},
        {"name": "a hello with an extra field", "body": _compact({**hello, "v": 2})},
        {"name": "a hello for another board", "body": _compact({**hello, "board": "other"})},
        {
            "name": "a head with an extra field",
            "body": _compact({"kind": "head", "board": BOARD, "cid": head, "seq": 3}),
        },
        {
            "name": "a head whose cid is not a CID",
            "body": _compact({"kind": "head", "board": BOARD, "cid": "x"}),
        },
        {
            "name": "a message without an envelope",
            "body": _compact({"kind": "message", "cid": str(cid)}),
        },
        {
            "name": "a message with an extra field",
            "body": _compact({"kind": "message", "cid": str(cid), "envelope": envelope, "x": 1}),
        },
        {
            "name": "a message whose envelope is for another board than the topic",
            "body": _compact(
                {"kind": "message", "cid": str(cid), "envelope": {**envelope, "board": "other"}}
            ),
        },
        {"name": "not JSON", "body": "hello"},
        {
            "name": f"over {MAX_ANNOUNCEMENT_BYTES} bytes (checked before parsing)",
            "body_parts": [
                '{"kind":"hello","board":"',
                {"repeat": "a", "times": MAX_ANNOUNCEMENT_BYTES},
                '"}',
            ],
        },
    ]
    for case in invalid:
        data = body_bytes(case)
        case["code"] = error_code(lambda data=data: parse_announcement(data, BOARD))
    return {
        "about": "What nodes publish on a board's pubsub topic, as bytes (data) and as sent on"
        " the daemon's RPC (data_rpc and topic_rpc: multibase 'u' + base64url without"
        " padding). Invalid ones are refused by parse_announcement for board 'general' with"
        " code, and counted against the peer that published them.",
        "board": BOARD,
        "topic": topic,
        "topic_rpc": encode_u(topic.encode()),
        "valid": valid,
        "invalid": invalid,
    }


# -- all of it ------------------------------------------------------------------------------


def build() -> dict[str, str]:
    """File name → the exact text written there."""
    signatures, counting_envelope = signature_vectors()
    first = _signed()
    parent = str(cid_for_bytes(canonical_bytes(first)))
    envelopes = envelope_vectors(parent)
    page_messages = [v["envelope"] for v in envelopes["valid"][:3]]
    manifests = manifest_vectors(page_messages)
    documents = {
        "canonical.json": canonical_vectors(),
        "cids.json": cid_vectors(canonical_bytes(envelopes["valid"][0]["envelope"])),
        "signatures.json": signatures,
        "envelopes.json": envelopes,
        "manifests.json": manifests,
        "announcements.json": announcement_vectors(counting_envelope, manifests["valid"][1]["cid"]),
    }
    return {
        name: json.dumps(document, indent=1, ensure_ascii=False) + "\n"
        for name, document in documents.items()
    }


def main(argv: list[str]) -> int:
    stale = []
    for name, text in build().items():
        path = HERE / name
        if "--check" in argv:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(name)
        else:
            path.write_text(text, encoding="utf-8")
    if stale:
        print("out of date (run python -m tests.vectors.generate):", ", ".join(stale))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
