"""Ingest of pubsub announcements against a real SQLite store: what is accepted, what is
dropped with which reason code, batching, and the ingest rate."""

import json
import time

import pytest

from crypto import NodeKey, canonical_bytes, cid_for_bytes
from node.domain_events import HelloHeard
from node.network.ingest import Ingestor
from node.network.peerbook import PeerBook
from node.network.replicator import Replicator
from node.protocol.announcement import MAX_ANNOUNCEMENT_BYTES, message_announcement
from node.toolkit.events import MessageBus
from storage.ipfs import IpfsClient, PubsubMessage
from storage.sqlite.messages import SqliteMessages
from storage.sqlite.store import SqliteStore
from tests.conftest import signed_envelope

KEY = NodeKey.generate()
PEER = "12D3KooWPeer"


class CountingMessages(SqliteMessages):
    """The real SQLite messages, counting their write transactions."""

    adds = 0

    def add(self, messages, *, outbox_at=None):
        self.adds += 1
        return super().add(messages, outbox_at=outbox_at)


@pytest.fixture
def ingest(tmp_path):
    store = SqliteStore(tmp_path / "index.sqlite3")
    messages = CountingMessages(store.db)
    ipfs = IpfsClient("http://127.0.0.1:9")  # never called: replicas only queue here
    ingestor = Ingestor(
        messages,
        MessageBus(),
        PeerBook(store.peers),
        Replicator(messages, ipfs),
        own_peer_id=lambda: "12D3KooWSelf",
    )
    yield ingestor
    store.close()


def announcement(envelope: dict, cid=None) -> bytes:
    return message_announcement(cid or cid_for_bytes(canonical_bytes(envelope)), envelope)


def msg(data: bytes, sender: str = PEER) -> PubsubMessage:
    return PubsubMessage(sender=sender, data=data, seqno=1)


async def test_valid_announcement_is_indexed_pushed_and_queued_for_a_replica(ingest):
    live = ingest.bus.subscribe("general")
    envelope = signed_envelope(KEY, "hello")
    assert ingest.receive(msg(announcement(envelope)), "general") == "accepted"
    assert ingest.receive(msg(announcement(envelope), "12D3KooWOther"), "general") == "duplicate"
    assert await ingest.flush() == 1
    cid = str(cid_for_bytes(canonical_bytes(envelope)))
    stored = ingest.messages.get(cid)
    assert stored.envelope == envelope and stored.source == f"pubsub:{PEER}"
    assert (await live.queue.get())["message"]["cid"] == cid
    assert ingest.replicator.backlog() == 1
    stats = ingest.peers.snapshot()[PEER]
    assert (stats.valid, stats.first_deliveries, stats.invalid) == (1, 1, 0)


def bad_inputs() -> list[tuple[str, bytes]]:
    forged = {**signed_envelope(KEY, "x"), "content": "changed"}
    victim, other = signed_envelope(KEY, "a"), signed_envelope(KEY, "b")
    unknown = {**signed_envelope(KEY, "c"), "extra": 1}
    elsewhere = signed_envelope(KEY, "d", board="other")
    return [
        ("too_large", b"{" + b" " * MAX_ANNOUNCEMENT_BYTES + b"}"),
        ("invalid_json", b"\xff\xfe not json"),
        ("bad_announcement", b"[1,2]"),
        ("bad_announcement", json.dumps({"kind": "gossip", "cid": "x"}).encode()),
        ("bad_cid", json.dumps({"kind": "message", "cid": "zzz", "envelope": victim}).encode()),
        ("bad_signature", announcement(forged)),
        ("cid_mismatch", announcement(victim, cid_for_bytes(canonical_bytes(other)))),
        ("unknown_fields", announcement(unknown)),
        ("wrong_board", announcement(elsewhere)),
    ]


@pytest.mark.parametrize(("code", "data"), bad_inputs())
async def test_bad_input_is_dropped_with_its_reason_and_counted(ingest, code, data):
    assert ingest.receive(msg(data), "general") == code
    assert await ingest.flush() == 0 and ingest.messages.count() == 0
    stats = ingest.peers.snapshot()[PEER]
    assert stats.invalid == 1 and stats.invalid_reasons == {code: 1} and stats.valid == 0


async def test_own_messages_are_not_counted_as_relayed(ingest):
    data = announcement(signed_envelope(KEY, "mine"))
    assert ingest.receive(msg(data, sender="12D3KooWSelf"), "general") == "own"
    assert await ingest.flush() == 0 and ingest.peers.snapshot() == {}


async def test_a_peer_far_below_the_others_is_ignored(ingest):
    ingest.receive(msg(announcement(signed_envelope(KEY, "good"))), "general")
    for _ in range(3):
        ingest.receive(msg(b"junk", sender="12D3KooWBad"), "general")
    assert ingest.peers.ignored("12D3KooWBad") and not ingest.peers.ignored(PEER)
    valid = announcement(signed_envelope(KEY, "valid but from a peer in cool-down"))
    assert ingest.receive(msg(valid, sender="12D3KooWBad"), "general") == "ignored"
    assert ingest.peers.snapshot()["12D3KooWBad"].invalid == 3


async def test_writes_are_batched_and_ingest_is_fast(ingest):
    datas = [announcement(signed_envelope(KEY, f"message {i}")) for i in range(5000)]
    started = time.perf_counter()
    for data in datas:
        ingest.receive(msg(data), "general")
    await ingest.flush()
    rate = len(datas) / (time.perf_counter() - started)
    print(f"\ningest: {rate:,.0f} announcements/s (verify + index, one process)")
    assert ingest.messages.count() == 5000
    assert ingest.messages.adds <= 5000 // ingest.batch + 1
    assert ingest.peers.snapshot()[PEER].first_deliveries == 5000


async def test_hello_asks_for_heads_and_a_malformed_one_is_counted(ingest):
    asked: list[str] = []
    ingest.events.subscribe(HelloHeard, lambda event: asked.append(event.board))
    assert (
        ingest.receive(msg(json.dumps({"kind": "hello", "board": "general"}).encode()), "general")
        == "hello"
    )
    assert asked == ["general"]
    other_board = json.dumps({"kind": "hello", "board": "other"}).encode()
    assert ingest.receive(msg(other_board), "general") == "bad_announcement"
    extra = json.dumps({"kind": "hello", "board": "general", "x": 1}).encode()
    assert ingest.receive(msg(extra), "general") == "bad_announcement"
    assert asked == ["general"] and ingest.peers.snapshot()[PEER].invalid == 2
