"""A board's history written straight into a node's state: signed envelopes in its index and
its head chain built on its daemon, as if it had accepted them one by one. Posting 100,000
messages over HTTP takes ~10 minutes; this takes seconds, and what a peer catching up sees (the
chain of head manifests) is exactly what the node would have published."""

import asyncio
from pathlib import Path

from crypto import NodeKey, canonical_bytes, cid_for_bytes, sign_envelope
from node.network.heads import HeadPublisher
from node.protocol.envelope import now_ms
from node.runtime.keys import load_node_key
from node.settings import Settings
from node.toolkit.events import MessageBus
from storage.ipfs import IpfsClient
from storage.ports.messages import NewMessage
from storage.sqlite.store import SqliteStore

BATCH = 2_000


def history_envelopes(count: int, label: str, board: str = "general") -> list[dict]:
    author = NodeKey.generate()
    ts = now_ms() - 60_000
    return [
        sign_envelope(
            {
                "v": 1,
                "type": "message",
                "board": board,
                "content": f"{label} #{i}",
                "author": "history",
                "ts": ts + i // 100,
            },
            author,
        )
        for i in range(count)
    ]


def seed_history(
    data_dir: Path, ipfs_api: str, envelopes: list[dict], board: str = "general"
) -> set[bytes]:
    """Store ``envelopes`` as accepted by the node of ``data_dir`` (stopped) and publish its
    chain for them on its daemon; returns their CIDs as bytes."""
    data_dir.mkdir(parents=True, exist_ok=True)
    key = load_node_key(Settings(data_dir=data_dir))
    cids = insert_history(data_dir, envelopes)
    store = SqliteStore(data_dir / "index.sqlite3")
    try:
        asyncio.run(_publish(store, ipfs_api, key, board))
    finally:
        store.close()
    return cids


async def _publish(store: SqliteStore, ipfs_api: str, key: NodeKey, board: str) -> None:
    ipfs = IpfsClient(ipfs_api)
    heads = HeadPublisher(store.messages, store.heads, ipfs, key, [board], MessageBus(), 1.0)
    try:
        head = None
        while (new := await heads.update(board)) != head:
            head = new
    finally:
        await ipfs.aclose()


def insert_history(data_dir: Path, envelopes: list[dict]) -> set[bytes]:
    """Store ``envelopes`` in the index of a *running* node (SQLite in WAL mode takes a second
    writer), as if it had accepted them while its peers were away: nothing is announced, and
    the node adds them to its head chain on its next round. Returns their CIDs as bytes."""
    store = SqliteStore(data_dir / "index.sqlite3")
    cids = [cid_for_bytes(canonical_bytes(e)) for e in envelopes]
    try:
        for start in range(0, len(envelopes), BATCH):
            batch = zip(cids[start : start + BATCH], envelopes[start : start + BATCH], strict=True)
            store.messages.add([NewMessage(str(c), e, "local", now_ms()) for c, e in batch])
    finally:
        store.close()
    return {cid.to_bytes() for cid in cids}
