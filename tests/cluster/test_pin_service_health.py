"""``networkHealth`` and ``pinService.health`` follow the pinning service: a real IPFS Cluster
whose peer (the one the node talks to) is stopped in the middle of the test, then started."""

from tests.cluster.nodes import OPERATOR, PIN_TIMEOUT, pin_service, post, remote_status, start_node
from tests.support.processes import NodeProcess, wait_until

HEALTHY = "onusone_remote_pin_healthy"


def health(node: NodeProcess) -> tuple[str, str]:
    status = node.get("/api/status").json()  # as anyone sees it: no token
    return status["networkHealth"], status["pinService"]["health"]


def metric(node: NodeProcess, sample: str) -> float:
    """One sample of ``/metrics`` by its name and labels, e.g. ``onusone_remote_pin_healthy``."""
    metrics = node.get("/metrics", headers={"Authorization": f"Bearer {OPERATOR}"}).text
    (line,) = [m for m in metrics.splitlines() if m.split(" ")[0] == sample]
    return float(line.split()[-1])


def test_network_health_is_degraded_while_the_pin_service_is_down_and_recovers(
    ipfs_cluster, ipfs_daemon, node_factory, user_key
):
    node = start_node(node_factory, ipfs_daemon, ipfs_cluster)
    # Nothing to pin yet: the start's probe alone tells the service answers.
    probed = wait_until(
        lambda: (s := pin_service(node))["state"] == "ok" and s, PIN_TIMEOUT, 0.2, "probe"
    )
    assert probed["requests"] == 1 and probed["backlog"] == 0
    cid, _ = post(node, user_key, "pinned while the service is up")
    wait_until(lambda: remote_status(node, cid) == "pinned", PIN_TIMEOUT, 0.2, "pinned")
    # A node without board peers is "isolated" at best: the service does not change that.
    assert health(node) == ("isolated", "ok") and metric(node, HEALTHY) == 1

    service = ipfs_cluster.peers[0]
    service.stop_service()
    try:
        during, _ = post(node, user_key, "posted while the service is down")
        wait_until(
            lambda: health(node) == ("degraded", "unreachable"),
            PIN_TIMEOUT,
            0.2,
            "degraded health while the service is down",
        )
        status = pin_service(node)
        assert status["state"] == "unreachable" and status["backlog"] >= 1
        assert "ConnectError" in status["lastError"]
        assert metric(node, HEALTHY) == 0
        assert metric(node, 'onusone_remote_pins{state="waiting"}') >= 1
    finally:
        service.start()
    wait_until(lambda: remote_status(node, during) == "pinned", PIN_TIMEOUT, 0.2, "queued pin")
    wait_until(lambda: health(node) == ("isolated", "ok"), PIN_TIMEOUT, 0.2, "health back")
    assert metric(node, HEALTHY) == 1
    assert metric(node, "onusone_remote_pin_pinned_total") >= 2
    assert metric(node, "onusone_remote_pin_retries_total") >= 1
    ipfs_cluster.wait_whole()  # leave the shared cluster as it was found
