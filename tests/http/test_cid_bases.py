"""``GET /api/messages/{cid}`` takes the CID in any multibase, as docs/API.md says."""

import base64

import pytest

from crypto import parse_cid
from tests.http.conftest import post


def in_base(cid_bytes: bytes, base: str) -> str:
    b32 = base64.b32encode(cid_bytes).decode().rstrip("=")
    return {
        "base32": "b" + b32.lower(),
        "base32upper": "B" + b32,
        "base16": "f" + cid_bytes.hex(),
        "base16upper": "F" + cid_bytes.hex().upper(),
        "base36": "k" + base36(cid_bytes),
        "base64": "m" + base64.b64encode(cid_bytes).decode().rstrip("="),
        "base64url": "u" + base64.urlsafe_b64encode(cid_bytes).decode().rstrip("="),
        "base58btc": parse_cid("b" + b32.lower()).base58btc(),
    }[base]


def base36(data: bytes) -> str:
    num, out = int.from_bytes(data, "big"), ""
    while num:
        num, rem = divmod(num, 36)
        out = "0123456789abcdefghijklmnopqrstuvwxyz"[rem] + out
    return out


@pytest.mark.parametrize(
    "base",
    [
        "base32",
        "base32upper",
        "base16",
        "base16upper",
        "base36",
        "base64",
        "base64url",
        "base58btc",
    ],
)
def test_one_message_by_its_cid_in_any_base(live_node, author_key, base):
    cid = post(live_node.node, author_key, f"fetched by a {base} CID")
    text = in_base(parse_cid(cid).to_bytes(), base)
    response = live_node.node.get(f"/api/messages/{text}")
    assert response.status_code == 200, (text, response.text)
    assert response.json()["cid"] == cid
