"""The syncer's bounds with an in-process page store standing in for the daemon: one slow peer
holds one walk slot, not all of them; the queue of chains is bounded and counts what it drops;
a step has a deadline and leaves the chain pending, its frontier saved; the history horizon.
And heads that come late or twice: pubsub may deliver an older head after a newer one, and a
peer announces its head again while it is being walked; neither makes the node re-walk."""

import asyncio
import json

import pytest

from crypto import Cid, NodeKey, cid_for_bytes, parse_cid
from node.network import walk_scheduler
from node.network.frontier import Chain
from node.network.frontier_store import FrontierStore
from node.network.ingest import Ingestor
from node.network.peerbook import PeerBook
from node.network.replicator import Replicator
from node.network.sync import HeadSyncer
from node.network.walk_scheduler import MAX_QUEUE
from node.protocol.envelope import now_ms
from node.protocol.manifest import PAGE_MESSAGES, build_manifest
from node.toolkit.events import MessageBus
from node.toolkit.worker import deadline_in
from storage.errors import IpfsError
from storage.ipfs import IpfsClient
from storage.sqlite.store import SqliteStore
from tests.conftest import signed_envelope

KEY, AUTHOR = NodeKey.generate(), NodeKey.generate()


class PageStore:
    """``cat`` from a dict; CIDs in ``slow`` never answer (a peer that stalls every fetch), and
    one not in the dict fails after ``unserved_after`` seconds (FETCH_TIMEOUT in a daemon)."""

    def __init__(self) -> None:
        self.blocks: dict[bytes, bytes] = {}
        self.slow: set[bytes] = set()
        self.held: dict[bytes, asyncio.Event] = {}  # fetches that answer once the event is set
        self.stalled = 0  # fetches of a slow or held CID that began
        self.unserved_after = 0.0  # how long a fetch of a CID nobody has takes to fail

    def put(self, data: bytes) -> Cid:
        cid = cid_for_bytes(data)
        self.blocks[cid.to_bytes()] = data
        return cid

    async def cat(self, cid: Cid, timeout: float, max_bytes: int | None = None) -> bytes:
        if cid.to_bytes() in self.slow:
            self.stalled += 1
            await asyncio.sleep(3600)
        if cid.to_bytes() in self.held:
            self.stalled += 1
            await self.held[cid.to_bytes()].wait()
        if cid.to_bytes() not in self.blocks:
            await asyncio.sleep(self.unserved_after)
            raise IpfsError(f"{cid} not found")
        return self.blocks[cid.to_bytes()]


@pytest.fixture
def setup(tmp_path):
    db = SqliteStore(tmp_path / "index.sqlite3")
    store = PageStore()
    peers = PeerBook(db.peers)
    replicator = Replicator(db.messages, IpfsClient("http://127.0.0.1:9"))
    ingest = Ingestor(db.messages, MessageBus(), peers, replicator)
    syncer = HeadSyncer(store, ingest, peers, db.frontiers, depth=4, rate=1000.0)  # type: ignore[arg-type]
    yield store, syncer, db
    db.close()


def another(store: PageStore, syncer: HeadSyncer, db: SqliteStore, **options) -> HeadSyncer:
    """A new syncer on the same page store, ingest and database: the node after a restart, or
    one with other ``options``."""
    options = {"depth": 4, "rate": 1000.0} | options
    return HeadSyncer(store, syncer.ingest, syncer.peers, db.frontiers, **options)  # type: ignore[arg-type]


def chain(store: PageStore, board: str, pages: int) -> Cid:
    """A chain of full pages; returns its head."""
    return versions(store, board, [pages])[0]


def versions(store: PageStore, board: str, sealed: list[int], key: NodeKey = KEY) -> list[Cid]:
    """One author's chain as it grows: for each count in ``sealed``, a version with that many
    full pages and an open head of three messages (none when it is the last version), written
    at ts 1000, 2000, ...; the sealed pages are shared. Returns each version's head."""
    pages: list[Cid] = []
    content = [
        [signed_envelope(AUTHOR, f"{s}.{i}", board) for i in range(PAGE_MESSAGES)]
        for s in range(max(sealed))
    ]
    heads = []
    for version, count in enumerate(sealed, start=1):
        ts = 1000 * version
        while len(pages) < count:
            seq = len(pages)
            data = build_manifest(
                key, board, seq, ts, pages[0] if pages else None, content[seq], pages[:32]
            )
            pages.insert(0, store.put(data))
        if version == len(sealed):
            heads.append(pages[0])
            break
        open_page = content[count][:3]
        data = build_manifest(key, board, count, ts, pages[0], open_page, pages[:32])
        heads.append(store.put(data))
    return heads


async def test_a_slow_peer_holds_one_slot_and_the_others_complete(setup):
    store, syncer, db = setup
    for board in ("b1", "b2", "b3", "b4"):
        head = store.put(build_manifest(KEY, board, 0, 1, None, []))
        store.slow.add(head.to_bytes())
        syncer.offer(head, board, "slow-peer")
    honest = chain(store, "general", 3)
    syncer.offer(honest, "general", "honest-peer")
    for _ in range(200):
        await asyncio.sleep(0.01)
        if db.messages.count("general") == 3 * PAGE_MESSAGES:
            break
    assert db.messages.count("general") == 3 * PAGE_MESSAGES
    status = syncer.status(["b1", "b2", "b3", "b4"])
    assert sum(board["walking"] for board in status.values()) == 1
    await syncer.run_until(deadline_in(0.1))


async def test_the_queue_is_bounded_and_counts_what_it_drops(setup):
    store, syncer, db = setup
    syncer = another(store, syncer, db, concurrency=0)  # nothing starts: every chain waits
    for n in range(MAX_QUEUE + 10):  # peers whose pages were walked before
        FrontierStore(db.frontiers).save(Chain(f"peer-{n}", "general", pubkey=KEY.public_hex))
        syncer.offer(store.put(f"head {n}".encode()), "general", f"peer-{n}")
    assert syncer.queued() == MAX_QUEUE
    assert syncer.counters.queue_dropped == 10
    # A newer head of a queued chain replaces the one waiting: no new entry.
    syncer.offer(store.put(b"newer"), "general", "peer-0")
    assert syncer.queued() == MAX_QUEUE and syncer.counters.queue_dropped == 10


async def test_a_step_past_its_deadline_keeps_its_frontier(setup, monkeypatch):
    store, syncer, db = setup
    monkeypatch.setattr(walk_scheduler, "WALK_DEADLINE", 0.3)
    head = chain(store, "general", 3)
    second = json.loads(store.blocks[head.to_bytes()])["prev"]
    store.slow.add(parse_cid(second).to_bytes())
    syncer.offer(head, "general", "peer")
    for _ in range(100):
        await asyncio.sleep(0.01)
        if syncer.counters.step_timeouts:
            break
    assert syncer.counters.step_timeouts == 1
    saved = Chain.from_json(db.frontiers.get("general", "peer"))
    assert saved.gaps and saved.gaps[0].next == second and saved.gaps[0].seq == 1
    assert syncer.status(["general"])["general"]["caughtUp"] is False
    assert db.messages.count("general") == PAGE_MESSAGES
    await syncer.run_until(deadline_in(0.1))


async def test_pages_older_than_the_horizon_are_not_walked(setup):
    store, syncer, db = setup
    store_syncer = another(store, syncer, db, depth=10, horizon_days=1.0)
    old = [signed_envelope(AUTHOR, f"old {i}") for i in range(PAGE_MESSAGES)]
    first = store.put(build_manifest(KEY, "general", 0, 1, None, old))
    recent = [signed_envelope(AUTHOR, f"recent {i}") for i in range(3)]
    head = store.put(build_manifest(KEY, "general", 1, now_ms(), first, recent, [first]))
    store_syncer.offer(head, "general", "peer")
    assert await store_syncer.run_until(deadline_in(5))
    assert db.messages.count("general") == 3
    assert store_syncer.status(["general"])["general"]["pagesPending"] == 0


async def wait_for(condition) -> None:
    for _ in range(500):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not reached")


async def test_an_older_head_delivered_after_a_restart_does_not_lose_the_frontier(setup):
    store, syncer, db = setup
    # The author's chain had 4 sealed pages and an open one (``older``); now 8 sealed pages.
    older, newest = versions(store, "general", [4, 8])
    page3 = json.loads(store.blocks[newest.to_bytes()])["pages"][3]
    store.slow.add(parse_cid(page3).to_bytes())
    syncer.offer(newest, "general", "peer")
    await wait_for(lambda: syncer.counters.pages_walked == 4)
    await syncer.run_until(deadline_in(0.1))  # stopped while fetching page 3: pages 7 to 4 walked
    store.slow.clear()

    again = another(store, syncer, db)  # restarted
    again.resume()
    again.offer(older, "general", "peer")  # the older head, delivered late
    again.offer(newest, "general", "peer")
    assert await again.run_until(deadline_in(5))
    assert db.messages.count("general") == 8 * PAGE_MESSAGES
    assert again.counters.pages_walked == 4  # pages 3 to 0, nothing twice
    assert again.status(["general"])["general"]["caughtUp"]


async def test_a_chain_its_author_rebuilt_is_walked_whole(setup):
    store, syncer, db = setup
    syncer.offer(chain(store, "general", 3), "general", "peer")
    assert await syncer.run_until(deadline_in(5))
    # The author lost its chain and wrote a new one, later, from seq 0: fewer pages, other
    # messages. Its head has a lower seq than the one walked, but a newer ts.
    rebuilt = versions(store, "general", [1, 2])[-1]
    syncer.resume()
    syncer.offer(rebuilt, "general", "peer")
    assert await syncer.run_until(deadline_in(5))
    assert syncer.counters.pages_walked == 3 + 2
    assert db.messages.count("general") == 5 * PAGE_MESSAGES


async def test_a_head_announced_again_during_its_walk_is_walked_once(setup):
    store, syncer, _ = setup
    head = chain(store, "general", 3)
    store.held[head.to_bytes()] = answer = asyncio.Event()
    syncer.offer(head, "general", "peer")
    await wait_for(lambda: store.stalled == 1)
    syncer.offer(head, "general", "peer")  # its next announcement, while we fetch it
    answer.set()
    assert await syncer.run_until(deadline_in(5))
    assert syncer.counters.pages_walked == 3
