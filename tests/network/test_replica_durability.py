"""A replica a node has indexed but not pinned yet survives ``kill -9``: the index is the
replica queue, so the restarted node pins what the killed one left unpinned."""

from crypto import parse_cid
from tests.conftest import signed_envelope
from tests.support.network import pinned, wait_mesh, wait_subscribed
from tests.support.processes import connect_daemons, wait_until
from tests.support.rpc_proxy import RpcProxy


def test_replica_indexed_before_a_sigkill_is_pinned_after_the_restart(
    tmp_path, daemon_factory, node_factory, user_key
):
    a_daemon, b_daemon = daemon_factory(), daemon_factory()
    connect_daemons(a_daemon, b_daemon)
    # B's daemon answers everything but the block/put that makes the replica: B ingests it
    # and then waits on the pin, and the kill lands exactly between the two.
    proxy = RpcProxy(b_daemon.api_url, ["/api/v0/block/put"], tmp_path / "proxy.log")
    proxy.start()
    try:
        a = node_factory(a_daemon.api_multiaddr, name="a")
        b = node_factory(proxy.url, name="b")
        wait_subscribed(a), wait_subscribed(b)
        wait_mesh(a_daemon, [b_daemon]), wait_mesh(b_daemon, [a_daemon])

        posted = a.post("/api/broadcast", json=signed_envelope(user_key, "replicate me"))
        assert posted.status_code == 200, posted.text
        cid = posted.json()["cid"]
        stored = wait_until(
            lambda: (r := b.get(f"/api/messages/{cid}")).status_code == 200 and r.json(),
            timeout=30,
            what="B to index the message",
        )
        assert stored["pinned"] is False and stored["source"].startswith("pubsub:")
        wait_until(lambda: proxy.held() >= 1, timeout=30, what="B's replica pin to start")
        b.kill()
    finally:
        proxy.stop()
    assert parse_cid(cid).to_bytes() not in pinned(b_daemon)

    restarted = node_factory(b_daemon.api_multiaddr, name="b")
    wait_until(
        lambda: restarted.get(f"/api/messages/{cid}").json()["pinned"],
        timeout=30,
        what="the restarted B to pin the replica",
    )
    assert parse_cid(cid).to_bytes() in pinned(b_daemon)
