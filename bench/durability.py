"""What the fsync of every accept costs: accept transactions (message + outbox row) with
synchronous=FULL, as the node runs them, vs the same inserts without the outbox row, which
commit with NORMAL (no fsync), on the same disk."""

import time

from bench.broadcast import envelopes
from bench.env import BenchEnv
from bench.rows import Row, ratio
from crypto import canonical_bytes, cid_for_bytes
from storage.ports.messages import MessageStore, NewMessage
from storage.sqlite.store import SqliteStore


def _rate(index: MessageStore, messages: list[NewMessage], durable: bool) -> float:
    started = time.perf_counter()
    for message in messages:
        index.add([message], outbox_at=1 if durable else None)
    return len(messages) / (time.perf_counter() - started)


def durability_rows(env: BenchEnv, quick: bool) -> list[Row]:
    batch = envelopes(300 if quick else 2000, "durable")
    messages = [NewMessage(str(cid_for_bytes(canonical_bytes(e))), e, "local", 1) for e in batch]
    half = len(messages) // 2
    store = SqliteStore(env.root / "durability" / "index.sqlite3")
    try:
        normal = _rate(store.messages, messages[:half], durable=False)
        full = _rate(store.messages, messages[half:], durable=True)
    finally:
        store.close()
    return [
        Row(
            row="durability: accept transaction with synchronous=FULL (fsync before the answer)",
            node=round(full),
            baseline=round(normal),
            ratio=ratio(full, normal),
            unit="accepts/s",
            goal="> broadcast throughput",
            holds=None,
            note="one transaction per post, as /api/broadcast runs it; baseline NORMAL",
        )
    ]
