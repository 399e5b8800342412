"""Replicated pinning past one machine, on a real IPFS Cluster: 3 cluster peers, each with its
own Kubo daemon, replication factor 2, and a real node process (with its own Kubo) that pins
through the cluster's Pinning Service API."""

import os
import subprocess
import time

import httpx

from crypto import canonical_bytes
from node.runtime.kubo import kubo_binary
from tests.cluster.nodes import (
    OPERATOR,
    PIN_TIMEOUT,
    manifest_pins,
    pin_service,
    post,
    remote_status,
    start_node,
)
from tests.support.network import start_network
from tests.support.processes import wait_until


def test_posted_message_is_pinned_on_two_cluster_daemons_and_node_reports_pinned(
    ipfs_cluster, ipfs_daemon, node_factory, user_key
):
    node = start_node(node_factory, ipfs_daemon, ipfs_cluster)
    cid, _ = post(node, user_key, "replicated by the cluster")

    holders = wait_until(
        lambda: len(ipfs_cluster.holders(cid)) >= 2 and ipfs_cluster.holders(cid),
        PIN_TIMEOUT,
        0.2,
        "2 cluster daemons to pin the message",
    )
    assert len(holders) == 2  # replication factor max 2 of 3 peers
    wait_until(lambda: remote_status(node, cid) == "pinned", PIN_TIMEOUT, 0.2, "pinned at service")
    assert ipfs_cluster.service_pin(cid).json()["status"] == "pinned"
    operator = {"Authorization": f"Bearer {OPERATOR}"}
    remote = node.get(f"/api/messages/{cid}", headers=operator).json()["remotePin"]
    assert remote["service"] == ipfs_cluster.peers[0].pinsvc_url and remote["requestId"]
    # Where the service is, and what it last answered, are for token holders (as in status).
    stranger = node.get(f"/api/messages/{cid}").json()["remotePin"]
    assert "service" not in stranger and "lastError" not in stranger
    assert stranger["status"] == "pinned" and stranger["requestId"] == remote["requestId"]
    status = wait_until(
        lambda: (s := pin_service(node))["backlog"] == 0 and s, PIN_TIMEOUT, 0.2, "empty backlog"
    )
    assert status["enabled"] and status["state"] == "ok" and status["failed"] == 0


def test_lost_cluster_peer_keeps_content_and_cluster_re_replicates(
    cluster_factory, ipfs_daemon, node_factory, user_key
):
    cluster = cluster_factory()
    node = start_node(node_factory, ipfs_daemon, cluster)
    cid, envelope = post(node, user_key, "survives a lost peer")
    holders = wait_until(
        lambda: len(cluster.holders(cid)) >= 2 and cluster.holders(cid), PIN_TIMEOUT, 0.2, "2 pins"
    )
    # The node talks to peer 0's API, so lose another peer that holds a copy.
    lost = next(i for i in holders if i != 0)
    survivor = next(i for i in holders if i != lost)
    cluster.peers[lost].stop()
    lost_at = time.monotonic()

    content = httpx.post(
        f"{cluster.peers[survivor].kubo.api_url}/api/v0/cat", params={"arg": cid}, timeout=30
    )
    assert content.content == canonical_bytes(envelope)
    # The node keeps accepting posts while the cluster is short of a peer.
    during = [post(node, user_key, f"posted while a peer is lost {i}")[0] for i in range(3)]

    alive = {i for i in range(3) if i != lost}
    wait_until(
        lambda: set(cluster.holders(cid)) == alive, PIN_TIMEOUT, 0.5, "re-replication to 2 copies"
    )
    re_replicated = time.monotonic() - lost_at
    print(f"re-replicated to 2 copies {re_replicated:.1f}s after losing a peer")
    assert re_replicated < PIN_TIMEOUT

    def all_pinned() -> bool:
        return all(remote_status(node, cid) == "pinned" for cid in during)

    try:
        wait_until(all_pinned, PIN_TIMEOUT, 0.2, "the posts made meanwhile pinned at the service")
    except AssertionError as exc:
        statuses = [node.get(f"/api/messages/{cid}").json()["remotePin"] for cid in during]
        raise AssertionError(f"{exc}; remote pins: {statuses}") from None
    wait_until(
        lambda: all(set(cluster.holders(new)) == alive for new in during),
        PIN_TIMEOUT,
        0.2,
        "the posts made meanwhile on both live peers",
    )


def test_service_down_posts_answer_queue_and_complete_after_return_across_restart(
    ipfs_cluster, ipfs_daemon, node_factory, user_key
):
    node = start_node(node_factory, ipfs_daemon, ipfs_cluster)
    service = ipfs_cluster.peers[0]
    service.stop_service()
    try:
        before = [post(node, user_key, f"while the service is down {i}") for i in range(2)]
        assert all(remote_status(node, cid) == "waiting" for cid, _ in before)
        status = wait_until(
            lambda: (s := pin_service(node))["state"] == "unreachable" and s,
            PIN_TIMEOUT,
            0.2,
            "unreachable service",
        )
        assert status["backlog"] >= 2 and status["lastError"]

        node.stop()
        node.start()
        after, _ = post(node, user_key, "after a node restart, service still down")
        assert remote_status(node, after) == "waiting"
        assert pin_service(node)["backlog"] >= 3
    finally:
        service.start()
    queued = [cid for cid, _ in before] + [after]
    wait_until(
        lambda: all(remote_status(node, cid) == "pinned" for cid in queued),
        PIN_TIMEOUT,
        0.2,
        "the queued pins to complete",
    )
    assert all(len(ipfs_cluster.holders(cid)) >= 2 for cid in queued)
    wait_until(lambda: pin_service(node)["backlog"] == 0, PIN_TIMEOUT, 0.2, "empty backlog")
    ipfs_cluster.wait_whole()  # leave the shared cluster as it was found


def test_bad_token_gives_a_clear_status_and_no_retry_storm(
    ipfs_cluster, ipfs_daemon, node_factory, user_key
):
    node = start_node(node_factory, ipfs_daemon, ipfs_cluster, token="not-a-valid-token")
    cid, _ = post(node, user_key, "bad token")
    status = wait_until(
        lambda: (s := pin_service(node))["state"] == "unauthorized" and s,
        PIN_TIMEOUT,
        0.2,
        "unauthorized state",
    )
    assert "401" in status["lastError"]
    sent = status["requests"]
    assert sent <= 2
    for i in range(5):
        post(node, user_key, f"more posts with a bad token {i}")
    # Observe a window (not a wait for a condition): a retry loop would send a request per
    # message and per backoff step; a paused worker sends none.
    window_end = time.monotonic() + 5
    while time.monotonic() < window_end:
        assert pin_service(node)["requests"] == sent
        time.sleep(0.5)
    final = pin_service(node)
    assert final["state"] == "unauthorized" and final["backlog"] >= 6
    assert remote_status(node, cid) == "waiting"
    assert ipfs_cluster.service_pin(cid).status_code == 404


def test_superseded_head_page_is_unpinned_at_the_service(
    ipfs_cluster, ipfs_daemon, node_factory, user_key
):
    node = start_node(node_factory, ipfs_daemon, ipfs_cluster, HEAD_INTERVAL="1")
    node_id = node.get("/api/status").json()["nodeId"]
    post(node, user_key, "first page version")
    (first,) = wait_until(
        lambda: manifest_pins(ipfs_cluster, node_id), PIN_TIMEOUT, 0.3, "first head page pinned"
    )
    wait_until(lambda: len(ipfs_cluster.holders(first)) >= 2, PIN_TIMEOUT, 0.3, "page on 2 peers")

    post(node, user_key, "second page version")
    (second,) = wait_until(
        lambda: (
            len(pins := manifest_pins(ipfs_cluster, node_id)) == 1 and first not in pins and pins
        ),
        PIN_TIMEOUT,
        0.3,
        "the new head page to replace the first",
    )
    assert second != first
    wait_until(
        lambda: ipfs_cluster.service_pin(first).status_code == 404,
        PIN_TIMEOUT,
        0.3,
        "the first page gone at the service",
    )
    wait_until(lambda: ipfs_cluster.holders(first) == [], PIN_TIMEOUT, 0.3, "unpinned on daemons")
    wait_until(lambda: len(ipfs_cluster.holders(second)) >= 2, PIN_TIMEOUT, 0.3, "new page pinned")


def test_kubo_itself_can_pin_at_the_cluster_with_pin_remote(ipfs_cluster, daemon_factory):
    """docs/NETWORK.md's alternative: the operator points Kubo at the service instead."""
    kubo = daemon_factory("kubo")

    def ipfs(*args: str) -> str:
        env = {**os.environ, "IPFS_PATH": str(kubo.repo_dir)}
        result = subprocess.run(
            [str(kubo_binary()), *args], env=env, capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    ipfs("pin", "remote", "service", "add", "cluster", ipfs_cluster.peers[0].pinsvc_url,
         ipfs_cluster.token())  # fmt: skip
    added = httpx.post(
        f"{kubo.api_url}/api/v0/add",
        params={"cid-version": 1},
        files={"file": b"pinned remotely by Kubo itself"},
        timeout=10,
    )
    cid = added.json()["Hash"]
    # --background: without it Kubo asks for the status at once, and Cluster may answer 404
    # until its peers have taken the pin up.
    ipfs("pin", "remote", "add", "--service=cluster", "--background", "--name=onusone", cid)
    # Cluster ignores the status filter when CIDs are given: read the status column.
    wait_until(
        lambda: f"{cid}\tpinned" in ipfs("pin", "remote", "ls", "--service=cluster",
                                         f"--cid={cid}", "--status=pinned"),
        PIN_TIMEOUT,
        0.3,
        "Kubo's remote pin to be pinned",
    )  # fmt: skip
    wait_until(lambda: len(ipfs_cluster.holders(cid)) == 2, PIN_TIMEOUT, 0.3, "2 copies")


def test_replicas_of_other_nodes_are_pinned_at_the_service_only_when_asked(
    ipfs_cluster, tmp_path, user_key
):
    service = {
        "PIN_SERVICE_URL": ipfs_cluster.peers[0].pinsvc_url,
        "PIN_SERVICE_TOKEN": ipfs_cluster.token(),
    }
    network = start_network(
        tmp_path,
        ["author", "keeper", "local"],
        [("author", "keeper"), ("author", "local")],
        node_env={"keeper": {**service, "PIN_SERVICE_REPLICAS": "true"}, "local": service},
    )
    try:
        cid, _ = post(network.nodes["author"], user_key, "kept remotely by another node")
        keeper, local = network.nodes["keeper"], network.nodes["local"]
        wait_until(lambda: remote_status(keeper, cid) == "pinned", PIN_TIMEOUT, 0.2, "replica")
        assert ipfs_cluster.service_pin(cid).json()["pin"]["meta"]["kind"] == "replica"
        wait_until(lambda: len(ipfs_cluster.holders(cid)) == 2, PIN_TIMEOUT, 0.3, "2 copies")
        wait_until(
            lambda: (
                (m := local.get(f"/api/messages/{cid}")).status_code == 200 and m.json()["pinned"]
            ),
            PIN_TIMEOUT,
            0.2,
            "the local replica on the node without PIN_SERVICE_REPLICAS",
        )
        assert local.get(f"/api/messages/{cid}").json()["remotePin"] is None
    finally:
        network.stop()
