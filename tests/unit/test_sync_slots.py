"""The syncer's bounds with an in-process page store standing in for the daemon: one slow peer
holds one walk slot, not all of them; the queue of chains is bounded and counts what it drops;
a step has a deadline and leaves the chain pending, its frontier saved; the history horizon."""

import asyncio
import json

import pytest

from crypto import Cid, NodeKey, cid_for_bytes, parse_cid
from node.envelope import now_ms
from node.events import MessageBus
from node.network import sync
from node.network.frontier import Chain, meta_key
from node.network.ingest import Ingestor
from node.network.manifest import PAGE_MESSAGES, build_manifest
from node.network.peerbook import PeerBook
from node.network.replicator import Replicator
from node.network.sync import MAX_QUEUE, HeadSyncer
from storage.errors import IpfsError
from storage.ipfs import IpfsClient
from storage.sqlite_index import SqliteMessageIndex
from tests.conftest import signed_envelope

KEY, AUTHOR = NodeKey.generate(), NodeKey.generate()


class PageStore:
    """``cat`` from a dict; CIDs in ``slow`` never answer (a peer that stalls every fetch)."""

    def __init__(self) -> None:
        self.blocks: dict[bytes, bytes] = {}
        self.slow: set[bytes] = set()

    def put(self, data: bytes) -> Cid:
        cid = cid_for_bytes(data)
        self.blocks[cid.to_bytes()] = data
        return cid

    async def cat(self, cid: Cid, timeout: float, max_bytes: int | None = None) -> bytes:
        if cid.to_bytes() in self.slow:
            await asyncio.sleep(3600)
        if cid.to_bytes() not in self.blocks:
            raise IpfsError(f"{cid} not found")
        return self.blocks[cid.to_bytes()]


@pytest.fixture
def setup(tmp_path):
    index = SqliteMessageIndex(tmp_path / "index.sqlite3")
    store = PageStore()
    peers = PeerBook(index)
    ingest = Ingestor(
        index, MessageBus(), peers, Replicator(index, IpfsClient("http://127.0.0.1:9"))
    )
    syncer = HeadSyncer(store, ingest, peers, index, depth=4, rate=1000.0)  # type: ignore[arg-type]
    yield store, syncer, index
    index.close()


def chain(store: PageStore, board: str, pages: int) -> Cid:
    """A chain of full pages; returns its head."""
    prev: list[Cid] = []
    for seq in range(pages):
        messages = [signed_envelope(AUTHOR, f"{seq}.{i}", board) for i in range(PAGE_MESSAGES)]
        data = build_manifest(KEY, board, seq, 1, prev[0] if prev else None, messages, prev[:32])
        prev.insert(0, store.put(data))
    return prev[0]


async def test_a_slow_peer_holds_one_slot_and_the_others_complete(setup):
    store, syncer, index = setup
    for board in ("b1", "b2", "b3", "b4"):
        head = store.put(build_manifest(KEY, board, 0, 1, None, []))
        store.slow.add(head.to_bytes())
        syncer.offer(head, board, "slow-peer")
    honest = chain(store, "general", 3)
    syncer.offer(honest, "general", "honest-peer")
    for _ in range(200):
        await asyncio.sleep(0.01)
        if index.count("general") == 3 * PAGE_MESSAGES:
            break
    assert index.count("general") == 3 * PAGE_MESSAGES
    status = syncer.status(["b1", "b2", "b3", "b4"])
    assert sum(board["walking"] for board in status.values()) == 1
    await syncer.settle(0.1)


async def test_the_queue_is_bounded_and_counts_what_it_drops(setup):
    store, syncer, _ = setup
    syncer.concurrency = 0  # nothing starts: every chain waits in the queue
    for n in range(MAX_QUEUE + 10):
        syncer.offer(store.put(f"head {n}".encode()), "general", f"peer-{n}")
    assert syncer.queued() == MAX_QUEUE
    assert syncer.counters.queue_dropped == 10
    # A newer head of a queued chain replaces the one waiting: no new entry.
    syncer.offer(store.put(b"newer"), "general", "peer-0")
    assert syncer.queued() == MAX_QUEUE and syncer.counters.queue_dropped == 10


async def test_a_step_past_its_deadline_keeps_its_frontier(setup, monkeypatch):
    store, syncer, index = setup
    monkeypatch.setattr(sync, "WALK_DEADLINE", 0.3)
    head = chain(store, "general", 3)
    second = json.loads(store.blocks[head.to_bytes()])["prev"]
    store.slow.add(parse_cid(second).to_bytes())
    syncer.offer(head, "general", "peer")
    for _ in range(100):
        await asyncio.sleep(0.01)
        if syncer.counters.step_timeouts:
            break
    assert syncer.counters.step_timeouts == 1
    saved = Chain.from_json(index.meta_get(meta_key("general", "peer")))
    assert saved.gaps and saved.gaps[0].next == second and saved.gaps[0].seq == 1
    assert syncer.status(["general"])["general"]["caughtUp"] is False
    assert index.count("general") == PAGE_MESSAGES
    await syncer.settle(0.1)


async def test_pages_older_than_the_horizon_are_not_walked(setup):
    store, syncer, index = setup
    store_syncer = HeadSyncer(
        store,  # type: ignore[arg-type]
        syncer.ingest,
        syncer.peers,
        index,
        depth=10,
        rate=1000.0,
        horizon_days=1.0,
    )
    old = [signed_envelope(AUTHOR, f"old {i}") for i in range(PAGE_MESSAGES)]
    first = store.put(build_manifest(KEY, "general", 0, 1, None, old))
    recent = [signed_envelope(AUTHOR, f"recent {i}") for i in range(3)]
    head = store.put(build_manifest(KEY, "general", 1, now_ms(), first, recent, [first]))
    store_syncer.offer(head, "general", "peer")
    assert await store_syncer.settle(5)
    assert index.count("general") == 3
    assert store_syncer.status(["general"])["general"]["pagesPending"] == 0
