"""What a hostile peer serves as head-manifest pages, through a real daemon to a real node:
hostile JSON (nesting past the recursion limit, lone surrogates, numbers past 2**53) is a bad
page counted against that peer, never a traceback; and many messages of one fresh author
packed into a valid page are held to the per-author limit of history
(``RATE_LIMIT_SYNC_AUTHOR``), the rest dropped and counted against the peer."""

import asyncio
import json
from collections.abc import Iterator

import pytest

from crypto import Cid, NodeKey, canonical_bytes, cid_for_bytes
from node.protocol.announcement import head_announcement, message_announcement
from node.protocol.manifest import build_manifest
from storage.ipfs import IpfsClient
from tests.conftest import signed_envelope
from tests.support.network import Network, message_cids, publish_raw, topic_peers, wait_subscribed
from tests.support.processes import wait_until

MINUTE = 60_000
LIMIT = 10


@pytest.fixture
def hostile(tmp_path) -> Iterator[Network]:
    """Hostile J (a bare daemon: it publishes by gossipsub fanout) next to B."""
    network = Network(tmp_path)
    try:
        network.add_daemons(["b", "j"])
        network.connect("j", "b")
        yield network
    finally:
        network.stop()


def add_blocks(network: Network, blocks: list[bytes]) -> list[Cid]:
    async def add() -> list[Cid]:
        ipfs = IpfsClient(network.daemons["j"].api_multiaddr)
        try:
            return [await ipfs.add(block) for block in blocks]
        finally:
            await ipfs.aclose()

    return asyncio.run(add())


def publish(network: Network, board: str, data: bytes) -> None:
    """Once J knows that B listens on ``board``, J publishes ``data`` there."""
    j, b_peer = network.daemons["j"], network.daemons["b"].peer_id
    wait_until(lambda: b_peer in topic_peers(j, board), 20, what=f"J to know B is on {board}")
    publish_raw(j, board, data)


def hostile_reasons(network: Network) -> dict[str, int]:
    peers = {p["id"]: p for p in network.nodes["b"].get("/api/peers").json()["peers"]}
    return peers.get(network.daemons["j"].peer_id, {}).get("invalidReasons", {})


def cid(envelope: dict) -> Cid:
    return cid_for_bytes(canonical_bytes(envelope))


def signed_page(key: NodeKey, board: str, **fields) -> dict:
    body = json.loads(build_manifest(key, board, 0, 1, None, []))
    unsigned = {k: v for k, v in body.items() if k != "sig"} | fields
    return {**unsigned, "sig": key.sign(canonical_bytes(unsigned))}


def with_raw(page: dict, field: str, raw: str) -> bytes:
    """A page's text with one field replaced by raw JSON text json.dumps cannot write."""
    return json.dumps({**page, field: "@raw@"}).replace('"@raw@"', raw).encode()


def test_hostile_json_pages_are_counted_against_the_peer_never_a_traceback(hostile):
    key = NodeKey.generate()
    pages = {
        "deep": b"[" * 120_000 + b"]" * 120_000,
        "surrogate": with_raw(signed_page(key, "surrogate"), "messages", '["\\ud800"]'),
        "surrogate-key": with_raw(signed_page(key, "surrogate-key"), "messages", '[{"\\udc00":1}]'),
        "huge-seq": canonical_bytes(signed_page(key, "huge-seq", seq=10**300)),
        "overflow": with_raw(signed_page(key, "overflow"), "messages", "[1e400]"),
    }
    heads = dict(zip(pages, add_blocks(hostile, list(pages.values())), strict=True))
    b = hostile.start_node("b", {"BOARDS": ",".join(pages)})
    wait_subscribed(b)
    # First J earns some standing, so that five bad pages do not put it in cool-down (which
    # would drop its later heads unwalked) and each one is seen to be counted.
    honest = [signed_envelope(key, f"honest {i}", board="deep") for i in range(20)]
    for envelope in honest:
        publish(hostile, "deep", message_announcement(cid(envelope), envelope))
    wait_until(
        lambda: {cid(m).to_bytes() for m in honest} <= message_cids(b, "deep"),
        30,
        what="J's honest messages",
    )
    for board, head in heads.items():
        publish(hostile, board, head_announcement(board, head))
    wait_until(
        lambda: hostile_reasons(hostile).get("bad_manifest", 0) == len(pages),
        60,
        what="each hostile page counted against J",
    )
    assert hostile_reasons(hostile) == {"bad_manifest": len(pages)}
    assert "Traceback" not in b.log()
    catch_up = b.get("/api/status").json()["catchUp"]
    assert all(catch_up[board]["pagesPending"] == 0 for board in pages)
    assert b.get("/health").status_code == 200


def test_one_authors_messages_packed_into_a_page_are_held_to_the_history_limit(hostile):
    key, fresh, other = NodeKey.generate(), NodeKey.generate(), NodeKey.generate()
    now = signed_envelope(fresh)["ts"]
    start = now - now % MINUTE - 10 * MINUTE  # a whole minute of ts, in the past
    packed = [signed_envelope(fresh, f"packed {i}", ts=start + i) for i in range(40)]
    next_minute = [signed_envelope(fresh, f"next {i}", ts=start + MINUTE + i) for i in range(3)]
    others = [signed_envelope(other, f"other {i}", ts=start + i) for i in range(5)]
    page = build_manifest(key, "general", 0, 1, None, packed + next_minute + others)
    (head,) = add_blocks(hostile, [page])
    b = hostile.start_node("b", {"RATE_LIMITS": "", "RATE_LIMIT_SYNC_AUTHOR": f"{LIMIT}/minute"})
    wait_subscribed(b)
    publish(hostile, "general", head_announcement("general", head))

    wanted = {cid(m).to_bytes() for m in next_minute + others}
    wait_until(lambda: wanted <= message_cids(b), 60, what="the messages within the limit")
    wait_until(
        lambda: hostile_reasons(hostile).get("rate_limited", 0) == len(packed) - LIMIT,
        30,
        what="the messages over the limit counted against J",
    )
    assert len({cid(m).to_bytes() for m in packed} & message_cids(b)) == LIMIT
    assert "Traceback" not in b.log()
