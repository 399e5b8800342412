"""The plain message's client ``id`` is an idempotency key per API token: a board back end
that retries a request gets the first message's CID back instead of a second message."""

import pytest

TOKENS = ("board-backend", "other-backend")
BODY = {"id": "retry-me", "type": "message", "content": "Hello P2P!", "author": "testuser"}


@pytest.fixture
def node(ipfs_daemon, node_factory):
    return node_factory(ipfs_daemon.api_multiaddr, {"API_TOKENS": ",".join(TOKENS)})


def post(node, body: dict, token: str = TOKENS[0]):
    return node.post("/api/broadcast", json=body, headers={"Authorization": f"Bearer {token}"})


def board_cids(node) -> list[str]:
    listed = node.get("/api/messages", params={"board": "general"}).json()["messages"]
    return [m["cid"] for m in listed]


def test_a_retried_plain_message_gets_the_same_cid_back(node):
    first = post(node, BODY)
    assert first.status_code == 200, first.text
    assert "duplicate" not in first.json()
    again = post(node, BODY)
    assert again.status_code == 200, again.text
    assert again.json()["cid"] == first.json()["cid"] and again.json()["duplicate"] is True
    assert board_cids(node) == [first.json()["cid"]]


def test_the_id_is_per_token_and_a_reused_id_with_another_body_is_refused(node):
    first = post(node, BODY).json()["cid"]
    other_token = post(node, BODY, TOKENS[1])
    assert other_token.status_code == 200, other_token.text
    assert other_token.json()["cid"] != first and "duplicate" not in other_token.json()
    changed = post(node, {**BODY, "content": "something else"})
    assert changed.status_code == 409, changed.text
    assert changed.json()["error"] == "id_reused" and first in changed.json()["detail"]
    assert post(node, {**BODY, "id": "a-new-id"}).json()["cid"] not in (first,)
    assert len(board_cids(node)) == 3


def test_messages_without_an_id_are_never_deduplicated(node):
    body = {k: v for k, v in BODY.items() if k != "id"}
    cids = {post(node, body).json()["cid"] for _ in range(2)}
    assert len(cids) == 2
