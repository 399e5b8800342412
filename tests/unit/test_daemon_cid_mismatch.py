"""A daemon that stores bytes under another CID than the one computed here is not believed:
neither the broadcast pipeline nor the replicator marks the message pinned, and the outbox
keeps the message for another try (real SQLite index, in-process daemon)."""

import pytest

from crypto import NodeKey, cid_for_bytes
from node.network.replicator import Replicator
from node.protocol.envelope import verify
from node.publish.pipeline import BroadcastPipeline
from node.toolkit.events import MessageBus
from storage.errors import IpfsError
from storage.ports.messages import NewMessage
from storage.sqlite.store import SqliteStore
from tests.conftest import signed_envelope


class LyingDaemon:
    """Answers every add with the CID of other bytes; publishing works."""

    def __init__(self) -> None:
        self.added = 0

    async def add(self, data: bytes):
        self.added += 1
        return cid_for_bytes(data + b" but not quite")

    async def publish(self, topic: str, data: bytes) -> None:
        pass

    async def pubsub_peers(self, topic: str) -> list[str]:
        return []


@pytest.fixture
def store(tmp_path):
    store = SqliteStore(tmp_path / "index.sqlite3")
    yield store
    store.close()


async def test_pipeline_refuses_another_cid_and_keeps_the_outbox_entry(store):
    daemon = LyingDaemon()
    pipeline = BroadcastPipeline(store.messages, store.outbox, daemon, MessageBus())  # type: ignore[arg-type]
    verified = verify(signed_envelope(NodeKey.generate()), new_post=True)
    assert await pipeline.accept(verified)
    with pytest.raises(IpfsError, match="expected"):
        await pipeline.deliver(str(verified.cid))
    assert daemon.added == 1
    assert store.messages.get(str(verified.cid)).pinned is False
    assert [item.cid for item in store.outbox.due(2**62, 10)] == [str(verified.cid)]


async def test_replicator_refuses_another_cid_and_leaves_the_replica_queued(store):
    daemon = LyingDaemon()
    verified = verify(signed_envelope(NodeKey.generate()), new_post=False)
    cid = str(verified.cid)
    store.messages.add([NewMessage(cid, verified.envelope, "pubsub:peer", 1)])
    with pytest.raises(IpfsError, match="daemon stored"):
        await Replicator(store.messages, daemon).pin(cid)  # type: ignore[arg-type]
    assert store.messages.get(cid).pinned is False
    assert [queued for _, queued in store.messages.unpinned("", 10)] == [cid]
