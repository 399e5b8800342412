"""Peer accounting that cannot be gamed: the peer table is bounded (least recently seen
forgotten, in memory and in the store), /api/peers is paged, the replication queue is bounded.
(Replays earning nothing: tests/hardening/test_strict_input.py.)"""

from pathlib import Path

from node.network.peerbook import PeerBook
from node.network.replicator import REPLICAS_DROPPED, Replicator
from node.runtime.ports import free_port
from storage.ipfs import IpfsClient
from storage.ports.peers import PeerStats
from storage.sqlite.store import SqliteStore
from tests.hardening.conftest import ON
from tests.support.processes import NodeProcess


async def test_peer_table_keeps_the_most_recently_seen(tmp_path):
    store = SqliteStore(tmp_path / "index.sqlite3")
    book = PeerBook(store.peers, max_peers=5)
    book.valid("12D3KooWHonest")
    for i in range(50):
        book.invalid(f"12D3KooWSybil{i}", "invalid_json")
        if i % 3 == 0:
            book.seen("12D3KooWHonest")
    await book.flush()
    kept = set(book.snapshot())
    assert len(kept) == 5 and "12D3KooWHonest" in kept and "12D3KooWSybil49" in kept
    assert set(store.peers.all()) == kept
    assert book.evicted == 46
    store.close()


def test_replication_queue_is_bounded_and_counts_what_it_drops(tmp_path):
    store = SqliteStore(tmp_path / "index.sqlite3")
    replicator = Replicator(store.messages, IpfsClient("http://127.0.0.1:9"), max_queue=3)
    before = REPLICAS_DROPPED.get()
    for i in range(5):
        replicator.submit(f"cid-{i}")
    assert replicator.backlog() == 3 and REPLICAS_DROPPED.get() - before == 2
    store.close()


def seed_peers(data_dir: Path, count: int) -> None:
    data_dir.mkdir(parents=True)
    store = SqliteStore(data_dir / "index.sqlite3")
    for i in range(count):
        store.peers.record(PeerStats(f"12D3KooWPeer{i:03d}", valid=i, last_seen=1_000 + i))
    store.close()


def test_peers_are_paged_and_the_table_is_bounded_at_start(tmp_path):
    data_dir = tmp_path / "node"
    seed_peers(data_dir, 30)
    api = f"/ip4/127.0.0.1/tcp/{free_port()}/http"
    node = NodeProcess(data_dir, api, {**ON, "PEER_TABLE_MAX": "20"}).start()
    try:
        listed, cursor = [], None
        for _ in range(10):
            params = {"limit": "7", **({"after": cursor} if cursor else {})}
            page = node.get("/api/peers", params=params).json()
            assert len(page["peers"]) <= 7 and page["total"] == 20
            listed += [peer["id"] for peer in page["peers"]]
            cursor = page["nextCursor"]
            if cursor is None:
                break
        # The 20 most recently seen of the 30 remain, each listed once.
        assert listed == [f"12D3KooWPeer{i:03d}" for i in range(10, 30)]
        assert node.get("/api/peers", params={"limit": "501"}).status_code == 400
    finally:
        node.stop()
