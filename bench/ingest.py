"""Ingest in one process: parse, verify, CID, batched index write of prepared announcements,
vs PyNaCl verification alone of the same envelopes (the floor no ingest path can beat)."""

import asyncio
import time

from bench.broadcast import envelopes
from bench.env import BenchEnv
from bench.rows import Row, ratio
from crypto import canonical_bytes, cid_for_bytes, verify_envelope
from node.network.ingest import Ingestor
from node.network.peerbook import PeerBook
from node.network.replicator import Replicator
from node.protocol.announcement import message_announcement
from node.toolkit.events import MessageBus
from storage.ipfs import IpfsClient, PubsubMessage
from storage.sqlite.store import SqliteStore

GOAL = 5000
PEER = "12D3KooWBenchPeer"


async def _ingest_rate(env: BenchEnv, messages: list[PubsubMessage]) -> float:
    store = SqliteStore(env.root / "ingest" / "index.sqlite3")
    # Replication is queued, not run: this row measures the receive path, not the daemon.
    replicator = Replicator(store.messages, IpfsClient("http://127.0.0.1:9"))
    ingest = Ingestor(store.messages, MessageBus(), PeerBook(store.peers), replicator)
    started = time.perf_counter()
    for message in messages:
        ingest.receive(message, "general")
    ingest.flush()
    elapsed = time.perf_counter() - started
    assert store.messages.count() == len(messages), "every prepared announcement must be indexed"
    store.close()
    return len(messages) / elapsed


def ingest_rows(env: BenchEnv, quick: bool) -> list[Row]:
    batch = envelopes(4000 if quick else 20_000, "ingest")
    messages = [
        PubsubMessage(PEER, message_announcement(cid_for_bytes(canonical_bytes(e)), e), i + 1)
        for i, e in enumerate(batch)
    ]
    started = time.perf_counter()
    assert all(verify_envelope(e) for e in batch)
    verify_rate = len(batch) / (time.perf_counter() - started)
    rate = asyncio.run(_ingest_rate(env, messages))
    return [
        Row(
            row="ingest",
            node=round(rate),
            baseline=round(verify_rate),
            ratio=ratio(rate, verify_rate),
            unit="msg/s",
            goal=f">= {GOAL:,} msg/s",
            holds=rate >= GOAL,
            note=f"{len(batch):,} announcements in-process; baseline is PyNaCl verify alone",
        )
    ]
