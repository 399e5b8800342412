"""The remote-pin backfill on a real IPFS Cluster: a node that already holds messages (and a
head page) when PIN_SERVICE_URL is set pins all of them there, at a bounded rate, and a backfill
killed half-way resumes from where it saved, not from the start."""

import json
import sqlite3
import time

import httpx

from tests.cluster.nodes import OPERATOR, PIN_TIMEOUT, pin_service, post, remote_status
from tests.support.processes import NodeProcess, wait_until


def own_head(node: NodeProcess, daemon, count: int) -> str | None:
    """The node's head page on the board once it lists ``count`` messages (read from the index
    the node keeps its head in, and the page itself from its daemon)."""
    db = sqlite3.connect(f"file:{node.data_dir / 'index.sqlite3'}?mode=ro", uri=True)
    try:
        row = db.execute("SELECT value FROM meta WHERE key = 'head:general'").fetchone()
    finally:
        db.close()
    if row is None:
        return None
    head = json.loads(row[0])["head"]
    page = httpx.post(f"{daemon.api_url}/api/v0/cat", params={"arg": head}, timeout=10).json()
    return head if len(page["messages"]) == count else None


def node_with_messages(node_factory, ipfs_daemon, user_key, count: int):
    """A node without a pin service that accepted ``count`` posts and published its head."""
    node = node_factory(ipfs_daemon.api_multiaddr, {"API_TOKENS": OPERATOR, "HEAD_INTERVAL": "1"})
    cids = [post(node, user_key, f"held before the pin service {i}")[0] for i in range(count)]
    assert all(node.get(f"/api/messages/{cid}").json()["pinned"] for cid in cids)
    head = wait_until(lambda: own_head(node, ipfs_daemon, count), PIN_TIMEOUT, 0.2, "head page")
    assert node.get("/api/status").json()["pinService"] == {"enabled": False}
    node.stop()
    return node, cids, head


def with_service(node: NodeProcess, cluster, **env: str) -> None:
    node.env.update(
        PIN_SERVICE_URL=cluster.peers[0].pinsvc_url, PIN_SERVICE_TOKEN=cluster.token(), **env
    )


def test_messages_and_head_page_held_before_the_service_end_pinned_in_the_cluster(
    ipfs_cluster, ipfs_daemon, node_factory, user_key
):
    count, rate = 12, 4
    node, cids, head = node_with_messages(node_factory, ipfs_daemon, user_key, count)
    with_service(node, ipfs_cluster, PIN_SERVICE_BACKFILL_RATE=str(rate))
    started = time.monotonic()
    node.start()
    backfill = wait_until(
        lambda: (b := pin_service(node)["backfill"])["done"] and b, PIN_TIMEOUT, 0.1, "backfill"
    )
    took = time.monotonic() - started
    print(f"backfill of {count} messages at {rate}/s took {took:.1f}s")
    assert took >= count / rate - 1, "the backfill keeps to PIN_SERVICE_BACKFILL_RATE"
    assert backfill["requested"] == count + 1  # every message and the one head page
    wait_until(
        lambda: all(remote_status(node, cid) == "pinned" for cid in cids),
        PIN_TIMEOUT,
        0.3,
        "every earlier message pinned at the service",
    )
    wait_until(
        lambda: all(len(ipfs_cluster.holders(cid)) == 2 for cid in cids),
        PIN_TIMEOUT,
        0.3,
        "every earlier message on 2 cluster daemons",
    )
    assert ipfs_cluster.service_pin(head).json()["pin"]["meta"]["kind"] == "manifest"
    wait_until(lambda: len(ipfs_cluster.holders(head)) == 2, PIN_TIMEOUT, 0.3, "head on 2 peers")

    # A restart walks only what came since (nothing) and the open head page: nothing is sent
    # but the start's probe.
    node.stop()
    node.start()
    again = wait_until(
        lambda: (s := pin_service(node))["backfill"]["done"] and s, PIN_TIMEOUT, 0.1, "backfill"
    )
    assert again["backfill"]["requested"] == 1 and again["requests"] <= 1
    assert again["backlog"] == 0


def test_a_backfill_killed_half_way_resumes_from_where_it_saved(
    ipfs_cluster, ipfs_daemon, node_factory, user_key
):
    count = 10
    node, cids, _ = node_with_messages(node_factory, ipfs_daemon, user_key, count)
    with_service(node, ipfs_cluster, PIN_SERVICE_BACKFILL_RATE="1")
    node.start()
    first = wait_until(
        lambda: (b := pin_service(node)["backfill"])["requested"] >= 3 and b,
        PIN_TIMEOUT,
        0.1,
        "part of the backfill",
    )
    assert not first["done"]
    node.kill()
    node.env["PIN_SERVICE_BACKFILL_RATE"] = "1000"
    node.start()
    second = wait_until(
        lambda: (b := pin_service(node)["backfill"])["done"] and b, PIN_TIMEOUT, 0.1, "backfill"
    )
    # At most the step in flight at the kill again, plus the head page: not the whole board.
    assert second["requested"] <= count - first["requested"] + 2
    wait_until(
        lambda: all(remote_status(node, cid) == "pinned" for cid in cids),
        PIN_TIMEOUT,
        0.3,
        "every message pinned at the service",
    )
    assert all(len(ipfs_cluster.holders(cid)) == 2 for cid in cids)
