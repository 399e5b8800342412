"""The core node against a real daemon (Kubo by default), through a real node process over HTTP."""

import httpx
import pytest

from crypto import canonical_bytes, cid_for_bytes, parse_cid, verify_envelope
from tests.conftest import signed_envelope
from tests.support.processes import wait_until

TOKEN = "test-token-123"
PROTOTYPE_BODY = {"id": "test", "type": "message", "content": "Hello P2P!", "author": "testuser"}


@pytest.fixture
def node(ipfs_daemon, node_factory):
    return node_factory(ipfs_daemon.api_multiaddr, {"API_TOKENS": TOKEN})


def cat(daemon, cid: str) -> bytes:
    response = httpx.post(f"{daemon.api_url}/api/v0/cat", params={"arg": cid}, timeout=10)
    response.raise_for_status()
    return response.content


def pinned(daemon) -> set[bytes]:
    response = httpx.post(
        f"{daemon.api_url}/api/v0/pin/ls", params={"type": "recursive"}, timeout=10
    )
    return {parse_cid(key).to_bytes() for key in response.json()["Keys"]}


def test_prototype_curl_broadcast_is_signed_pinned_and_listed(node, ipfs_daemon):
    response = node.post(
        "/api/broadcast", json=PROTOTYPE_BODY, headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["success"] is True and body["pinned"] is True
    assert set(body) >= {"success", "cid", "broadcastTo", "pinned", "announced"}
    cid = parse_cid(body["cid"])
    assert body["cid"].startswith("bafkrei")

    stored_bytes = cat(ipfs_daemon, body["cid"])
    envelope = canonical_bytes_roundtrip(stored_bytes)
    assert cid_for_bytes(stored_bytes) == cid
    assert verify_envelope(envelope)
    assert envelope["content"] == "Hello P2P!" and envelope["author"] == "testuser"
    assert envelope["id"] == "test"
    status = node.get("/api/status").json()
    assert envelope["pubkey"] == status["nodeId"]
    assert cid.to_bytes() in pinned(ipfs_daemon)

    listed = node.get("/api/messages", params={"board": "general"}).json()["messages"]
    assert [m["cid"] for m in listed] == [body["cid"]]
    one = node.get(f"/api/messages/{cid.base58btc()}").json()
    assert one["envelope"] == envelope and one["pinned"] is True


def canonical_bytes_roundtrip(data: bytes) -> dict:
    import json

    envelope = json.loads(data)
    assert canonical_bytes(envelope) == data, "pinned bytes are not the canonical envelope"
    return envelope


def test_client_signed_envelope_needs_no_token_and_cid_matches(node, ipfs_daemon, user_key):
    envelope = signed_envelope(user_key, "signed by the client", id="c-1")
    response = node.post("/api/broadcast", json=envelope)
    assert response.status_code == 200, response.text
    expected = cid_for_bytes(canonical_bytes(envelope))
    assert parse_cid(response.json()["cid"]) == expected
    assert response.json()["cid"] == str(expected)
    assert cat(ipfs_daemon, str(expected)) == canonical_bytes(envelope)
    again = node.post("/api/broadcast", json=envelope)
    assert again.status_code == 200 and again.json()["duplicate"] is True
    assert node.get("/api/status").json()["messagesSynced"] == 1


def test_status_is_computed_from_the_daemon(node, ipfs_daemon):
    status = node.get("/api/status").json()
    assert status["ipfs"]["reachable"] is True
    assert status["ipfs"]["peerId"] == ipfs_daemon.peer_id
    assert status["connectedPeers"] == 0
    assert status["networkHealth"] == "isolated"
    assert status["storageUsed"] > 0
    assert status["boards"] == ["general"]
    assert node.get("/health").status_code == 200


def test_daemon_down_queues_then_delivers_after_node_and_daemon_restart(
    node, ipfs_daemon, user_key
):
    ipfs_daemon.stop()
    wait_until(
        lambda: node.get("/api/status").json()["networkHealth"] == "offline",
        timeout=10,
        what="status to show the daemon offline",
    )
    envelope = signed_envelope(user_key, "written while the daemon is down")
    response = node.post("/api/broadcast", json=envelope)
    assert response.status_code == 202, response.text
    assert response.json()["queued"] is True
    cid = response.json()["cid"]
    assert node.get("/api/status").json()["outbox"] == 1

    node.stop()
    node.start()
    assert node.get(f"/api/messages/{cid}").json()["pinned"] is False
    ipfs_daemon.start()

    wait_until(
        lambda: node.get(f"/api/messages/{cid}").json()["pinned"],
        timeout=30,
        what="the queued message to be pinned",
    )
    assert parse_cid(cid).to_bytes() in pinned(ipfs_daemon)
    assert cat(ipfs_daemon, cid) == canonical_bytes(envelope)
    assert node.get("/api/status").json()["outbox"] == 0
    listed = node.get("/api/messages").json()["messages"]
    assert [m["cid"] for m in listed] == [cid]
