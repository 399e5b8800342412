"""The outbox's scheduled drain against a real SQLite store and an in-process pipeline whose
daemon refuses chosen messages: the whole backlog, each entry once, inside the deadline."""

import asyncio

from node.publish.outbox import BATCH, OutboxWorker
from storage.errors import IpfsError, IpfsUnavailable
from storage.ports.messages import NewMessage
from storage.sqlite.store import SqliteStore


class Pipeline:
    """What ``OutboxWorker`` needs of ``BroadcastPipeline``: ``deliver``."""

    def __init__(self, store: SqliteStore, refused: set[str], down_after: int = -1):
        self.store = store
        self.refused = refused
        self.down_after = down_after
        self.attempts: list[str] = []

    async def deliver(self, cid: str) -> None:
        self.attempts.append(cid)
        if len(self.attempts) == self.down_after:
            raise IpfsUnavailable("daemon went away")
        if cid in self.refused:
            raise IpfsError("daemon refused it")
        self.store.outbox.done(cid)


def queue(store: SqliteStore, count: int) -> list[str]:
    messages = [
        NewMessage(f"cid-{i:04d}", {"board": "general", "ts": i}, "local", i) for i in range(count)
    ]
    store.messages.add(messages, outbox_at=0)
    return [m.cid for m in messages]


def far_future() -> float:
    return asyncio.get_running_loop().time() + 60


async def test_drain_delivers_past_a_batch_of_refused_entries_trying_each_once(tmp_path):
    store = SqliteStore(tmp_path / "index.sqlite3")
    cids = queue(store, 3 * BATCH)
    refused = set(cids[: BATCH + 1])  # the whole first batch and one more are refused
    pipeline = Pipeline(store, refused)
    assert await OutboxWorker(pipeline, store.outbox).run_until(far_future()) == 2 * BATCH - 1
    assert sorted(pipeline.attempts) == sorted(cids)
    assert {item.cid for item in store.outbox.due(2**62, 10 * BATCH)} == refused
    assert all(item.attempts == 1 for item in store.outbox.due(2**62, 10 * BATCH))


async def test_drain_stops_at_the_deadline_and_leaves_the_rest_queued(tmp_path):
    store = SqliteStore(tmp_path / "index.sqlite3")
    queue(store, 10)
    pipeline = Pipeline(store, set())
    assert (
        await OutboxWorker(pipeline, store.outbox).run_until(asyncio.get_running_loop().time()) == 0
    )
    assert pipeline.attempts == [] and store.outbox.size() == 10


async def test_drain_stops_when_the_daemon_goes_down(tmp_path):
    store = SqliteStore(tmp_path / "index.sqlite3")
    cids = queue(store, BATCH + 10)
    pipeline = Pipeline(store, set(), down_after=BATCH + 3)
    assert await OutboxWorker(pipeline, store.outbox).run_until(far_future()) == BATCH + 2
    assert len(pipeline.attempts) == BATCH + 3
    assert store.outbox.size() == len(cids) - (BATCH + 2)
