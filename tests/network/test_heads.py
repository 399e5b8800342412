"""This node's head chain on a real daemon: full pages linked by ``prev``, the open page
rewritten (old version unpinned), and the chain continued after a restart."""

from crypto import NodeKey, canonical_bytes, cid_for_bytes
from node.network.heads import HeadPublisher
from node.protocol.envelope import now_ms
from node.protocol.manifest import PAGE_MESSAGES, parse_manifest
from node.toolkit.events import MessageBus
from storage.ipfs import IpfsClient
from storage.ports.messages import NewMessage
from storage.sqlite.store import SqliteStore
from tests.conftest import signed_envelope
from tests.support.network import pinned

KEY = NodeKey.generate()


def store(index, count: int, start: int = 0) -> None:
    envelopes = [signed_envelope(KEY, f"m{i}") for i in range(start, start + count)]
    cids = [str(cid_for_bytes(canonical_bytes(e))) for e in envelopes]
    index.add([NewMessage(c, e, "local", now_ms()) for c, e in zip(cids, envelopes, strict=True)])


async def chain(ipfs, head) -> list:
    pages = []
    while head is not None:
        page = parse_manifest(await ipfs.cat(head), head, "general")
        pages.append(page)
        head = page.prev
    return pages


async def test_pages_fill_up_link_back_and_survive_a_restart(ipfs_daemon, tmp_path):
    db = SqliteStore(tmp_path / "index.sqlite3")
    index = db.messages
    ipfs = IpfsClient(ipfs_daemon.api_multiaddr)
    heads = HeadPublisher(index, db.heads, ipfs, KEY, ["general"], MessageBus(), 1.0)
    try:
        store(index, 10)
        first = await heads.update("general")
        store(index, 590, start=10)
        head = await heads.update("general")
        pages = await chain(ipfs, head)
        assert [len(p.messages) for p in pages] == [600 - 2 * PAGE_MESSAGES] + [PAGE_MESSAGES] * 2
        assert [p.seq for p in pages] == [2, 1, 0]
        contents = [m["content"] for p in reversed(pages) for m in p.messages]
        assert contents == [f"m{i}" for i in range(600)]
        assert first.to_bytes() not in pinned(ipfs_daemon), "the replaced open page is unpinned"
        assert head.to_bytes() in pinned(ipfs_daemon)
        assert await heads.update("general") == head, "no new message, same head"

        restarted = HeadPublisher(index, db.heads, ipfs, KEY, ["general"], MessageBus(), 1.0)
        store(index, 5, start=600)
        after = await restarted.update("general")
        pages = await chain(ipfs, after)
        assert len(pages) == 3 and len(pages[0].messages) == 600 - 2 * PAGE_MESSAGES + 5
        assert pages[0].prev == parse_manifest(await ipfs.cat(head), head, "general").prev
    finally:
        await ipfs.aclose()
        db.close()


async def test_walk_chain_visits_every_page_once_then_only_what_came_after(ipfs_daemon, tmp_path):
    """The remote-pin backfill's walk: the whole chain the first time, then back to the newest
    sealed page the previous walk returned."""
    db = SqliteStore(tmp_path / "index.sqlite3")
    index = db.messages
    ipfs = IpfsClient(ipfs_daemon.api_multiaddr)
    heads = HeadPublisher(index, db.heads, ipfs, KEY, ["general"], MessageBus(), 1.0)
    try:
        assert await heads.walk_chain("general", None, lambda cid: None) is None, "no chain"
        store(index, 600)
        head = await heads.update("general")
        expected = [head, *[p.prev for p in (await chain(ipfs, head))[:-1]]]
        visited: list = []
        sealed = await heads.walk_chain("general", None, visited.append)
        assert [c.to_bytes() for c in visited] == [c.to_bytes() for c in expected]
        assert sealed == expected[1], "the head's prev: sealed, never rewritten"

        store(index, 2 * PAGE_MESSAGES, start=600)
        new_head = await heads.update("general")
        since: list = []
        boundary = await heads.walk_chain("general", sealed, since.append)
        pages = await chain(ipfs, new_head)
        new_pages = [new_head, *[p.prev for p in pages[:2]]]
        assert [c.to_bytes() for c in since] == [c.to_bytes() for c in new_pages]
        assert sealed not in since and boundary == pages[0].prev
    finally:
        await ipfs.aclose()
        db.close()
