"""A node accepts, stores and pins only the boards in BOARDS, over HTTP and pubsub."""

from crypto import NodeKey, canonical_bytes, cid_for_bytes
from node.protocol.announcement import message_announcement
from storage.ipfs import PubsubMessage
from tests.conftest import signed_envelope

KEY = NodeKey.generate()


def test_http_refuses_boards_it_does_not_serve(offline_factory):
    node = offline_factory({"BOARDS": "general,dev"})
    refused = node.post("/api/broadcast", json=signed_envelope(KEY, "x", board="elsewhere"))
    assert refused.status_code == 400, refused.text
    assert refused.json()["error"] == "unknown_board"
    assert "general, dev" in refused.json()["detail"]
    assert node.post("/api/broadcast", json=signed_envelope(KEY, "y", board="dev")).status_code in (
        200,
        202,
    )
    for path in ("/api/messages?board=elsewhere", "/api/poll?board=elsewhere&wait=0"):
        answer = node.get(path)
        assert answer.status_code == 400 and answer.json()["error"] == "unknown_board", path
    assert node.get("/api/status").json()["messagesSynced"] == 1


async def test_pubsub_drops_and_counts_boards_it_does_not_serve(ingest):
    envelope = signed_envelope(KEY, "z", board="elsewhere")
    data = message_announcement(cid_for_bytes(canonical_bytes(envelope)), envelope)
    message = PubsubMessage(sender="12D3KooWPeer", data=data, seqno=1)
    assert ingest.receive(message, "elsewhere") == "unknown_board"
    await ingest.flush()
    assert ingest.messages.count() == 0
    stats = ingest.peers.snapshot()["12D3KooWPeer"]
    assert stats.invalid == 1 and stats.invalid_reasons == {"unknown_board": 1}
