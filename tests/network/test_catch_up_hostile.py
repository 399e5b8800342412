"""A hostile peer's chains cannot make a node walk forever: an endless chain of tiny pages, a
skip list pointing at garbage, and a chain that loops back on itself (content addressing makes
a true cycle of CIDs impossible, so a loop is a page linking to one that claims the same place
in the chain). Each ends at its first bad page, is counted against the peer, and leaves the
board caught up, while the honest peer's chain is walked to its first page."""

import asyncio
import json
import os
import time
from collections.abc import Iterator

import pytest

from crypto import Cid, NodeKey, canonical_bytes, cid_for_bytes
from node.network.chain_walker import WINDOW
from node.protocol.announcement import head_announcement
from node.protocol.manifest import SKIP_PAGES, build_manifest
from storage.ipfs import IpfsClient
from tests.conftest import signed_envelope
from tests.support.history import history_envelopes, insert_history
from tests.support.network import (
    Network,
    message_cids,
    publish_raw,
    topic_peers,
    wait_subscribed,
)
from tests.support.processes import wait_until

BOARDS = ["general", "alt-a", "alt-b"]
TINY_PAGES = 60


@pytest.fixture(scope="module")
def hostile_network(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Network]:
    """Honest A and hostile J (a bare daemon: it publishes by gossipsub fanout, to the peers it
    knows are subscribed), both next to B."""
    network = Network(tmp_path_factory.mktemp("hostile"))
    try:
        network.add_daemons(["a", "b", "j"])
        network.connect("a", "b")
        network.connect("j", "b")
        network.start_node("a")
        wait_subscribed(network.nodes["a"])
        yield network
    finally:
        network.stop()


async def add_all(network: Network, blocks: list[bytes]) -> list[Cid]:
    ipfs = IpfsClient(network.daemons["j"].api_multiaddr)
    try:
        return [await ipfs.add(block) for block in blocks]
    finally:
        await ipfs.aclose()


def tiny_chain(key: NodeKey, author: NodeKey, board: str, pages: int) -> list[bytes]:
    """``pages`` signed pages of one message each, linked and skip-listed like a real chain."""
    blocks, cids = [], []
    for seq in range(pages):
        message = signed_envelope(author, f"tiny page {seq}", board=board)
        prev = cids[-1] if cids else None
        skip = list(reversed(cids))[:SKIP_PAGES]
        blocks.append(build_manifest(key, board, seq, 1, prev, [message], skip))
        cids.append(cid_for_bytes(blocks[-1]))
    return blocks


def test_hostile_chains_end_at_their_first_bad_page_and_the_honest_chain_completes(
    hostile_network: Network,
):
    a, j = hostile_network.nodes["a"], hostile_network.daemons["j"]
    history = insert_history(a.data_dir, history_envelopes(1_500, "honest history"))
    key, author = NodeKey.generate(), NodeKey.generate()

    tiny = tiny_chain(key, author, "general", TINY_PAGES)
    garbage = os.urandom(2_000)
    nowhere = [cid_for_bytes(os.urandom(64)) for _ in range(WINDOW)]
    garbage_head = build_manifest(
        key, "alt-a", 30, 1, cid_for_bytes(garbage), [], [cid_for_bytes(garbage), *nowhere]
    )
    looped = build_manifest(key, "alt-b", 10, 1, cid_for_bytes(b"x"), [])
    loop_head = build_manifest(key, "alt-b", 10, 2, cid_for_bytes(looped), [])
    cids = asyncio.run(add_all(hostile_network, [*tiny, garbage, garbage_head, looped, loop_head]))
    heads = {"general": cids[TINY_PAGES - 1], "alt-a": cids[-3], "alt-b": cids[-1]}

    b = hostile_network.start_node("b", {"BOARDS": ",".join(BOARDS)})
    wait_subscribed(b)
    b_peer = hostile_network.daemons["b"].peer_id
    for board in BOARDS:
        wait_until(
            lambda board=board: b_peer in topic_peers(j, board),
            20,
            what=f"J to know that B listens on {board}",
        )
    started = time.monotonic()
    for board, head in heads.items():
        publish_raw(j, board, head_announcement(board, head))

    def caught_up() -> dict | None:
        status = b.get("/api/status").json()["catchUp"]
        return status if all(status[board]["caughtUp"] for board in BOARDS) else None

    def hostile() -> dict:
        peers = {p["id"]: p for p in b.get("/api/peers").json()["peers"]}
        return peers.get(j.peer_id, {})

    wait_until(lambda: history <= message_cids(b), 60, interval=0.5, what="A's whole history")
    wait_until(
        lambda: hostile().get("invalidReasons", {}).get("bad_manifest", 0) >= 3,
        60,
        what="each hostile chain counted against J",
    )
    status = wait_until(caught_up, 30, what="every board caught up")
    print(f"\nhonest chain complete, hostile chains refused: {time.monotonic() - started:.1f}s")
    assert all(status[board]["pagesPending"] == 0 for board in BOARDS)
    tiny_messages = {
        cid_for_bytes(canonical_bytes(signed)).to_bytes()
        for signed in (m for block in tiny for m in _messages(block))
    }
    # The tiny chain's head (an open page may be small) and nothing behind it.
    assert len(tiny_messages & message_cids(b)) <= 1
    # A's 6 pages, J's head, and A's head again once A has taken J's head message in too.
    assert status["general"]["pagesWalked"] <= -(-1_500 // 256) + 4
    assert hostile()["reputation"] < 50
    assert b.get("/health").status_code == 200


def _messages(block: bytes) -> list[dict]:
    return json.loads(block)["messages"]
