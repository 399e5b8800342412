"""What Kubo does differently from js-ipfs, each point of the source review confirmed (or not)
on a running Kubo: every test here starts Kubo daemons whatever ``--daemon`` says."""

import base64
import contextlib
import socket
import threading

import httpx
import pytest

from crypto import cid_for_bytes
from node.network.mesh import MeshDoctor
from node.runtime.local_ipfs import KUBO
from storage.errors import IpfsError, IpfsUnavailable, PubsubDisabled
from storage.ipfs import IpfsClient
from tests.conftest import signed_envelope
from tests.support.daemons import new_daemon
from tests.support.network import wait_mesh, wait_subscribed
from tests.support.processes import connect_daemons, wait_until

TOPIC = "onusone/v1/board/kubo-test"


def kubo_with(tmp_path, name: str, config: dict[str, object]):
    """A Kubo configured first, as an operator would with ``ipfs config --json``; not
    started (``started`` starts and stops it)."""
    daemon = new_daemon(tmp_path / name, KUBO)
    for key, value in config.items():
        daemon.set_config(key, value)
    return daemon


@contextlib.contextmanager
def started(*daemons):
    try:
        yield [d.start() for d in daemons]
    finally:
        for daemon in daemons:
            daemon.stop()


def rpc(daemon, path: str, **params) -> httpx.Response:
    return httpx.post(f"{daemon.api_url}/api/v0/{path}", params=params, timeout=30)


# 1. Pubsub disabled (Kubo's default)


def test_pubsub_disabled_is_told_once_shown_in_status_and_posts_still_pin(
    tmp_path, daemon_factory, node_factory
):
    daemon = kubo_with(tmp_path, "no-pubsub", {"Pubsub.Enabled": False})
    with started(daemon):
        node = node_factory(daemon.api_multiaddr)
        status = wait_until(
            lambda: (
                (s := node.get("/api/status").json())["networkHealth"] == "pubsub_disabled" and s
            ),
            20,
            what="status to say pubsub is disabled",
        )
        assert status["subscriptions"] == {"general": "pubsub_disabled"}
        response = node.post("/api/broadcast", json=signed_envelope_for_test())
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["pinned"] is True and body["announced"] is False
        assert node.get("/api/status").json()["outbox"] == 0, "no retry loop in the outbox"
        log = node.log()
        assert log.count("Pubsub.Enabled true") == 1, log
        assert "subscription to general lost" not in log


def signed_envelope_for_test() -> dict:
    from crypto import NodeKey

    return signed_envelope(NodeKey.generate(), "pinned, not announced")


async def test_the_adapter_raises_pubsub_disabled_for_every_pubsub_call(tmp_path, daemon_factory):
    daemon = kubo_with(tmp_path, "no-pubsub", {"Pubsub.Enabled": False})
    with started(daemon):
        ipfs = IpfsClient(daemon.api_multiaddr)
        try:
            for call in (ipfs.publish(TOPIC, b"x"), ipfs.pubsub_peers(TOPIC)):
                with pytest.raises(PubsubDisabled):
                    await call
            with pytest.raises(PubsubDisabled):
                async for _ in ipfs.subscribe(TOPIC):
                    pass
        finally:
            await ipfs.aclose()


# 2. Publishing to nobody answers 200 on Kubo


def test_a_post_on_a_kubo_with_no_board_peers_says_announced_to_nobody(
    daemon_factory, node_factory
):
    node = node_factory(daemon_factory(KUBO).api_multiaddr)
    wait_subscribed(node)
    body = node.post("/api/broadcast", json=signed_envelope_for_test()).json()
    assert body["pinned"] is True
    assert body["announced"] is False and body["broadcastTo"] == 0


# 3. Per-peer seqno validation: concurrent publishes


def test_fifty_concurrent_broadcasts_on_kubo_are_all_announced(daemon_factory, node_factory):
    from concurrent.futures import ThreadPoolExecutor

    from crypto import NodeKey

    a, b = daemon_factory(KUBO), daemon_factory(KUBO)
    connect_daemons(a, b)
    node_a = node_factory(a.api_multiaddr)
    node_b = node_factory(b.api_multiaddr)
    for node in (node_a, node_b):
        wait_subscribed(node)
    wait_mesh(a, [b])
    key = NodeKey.generate()
    envelopes = [signed_envelope(key, f"concurrent {i}") for i in range(50)]
    with httpx.Client(timeout=30) as client, ThreadPoolExecutor(max_workers=50) as pool:
        answers = list(
            pool.map(lambda e: client.post(f"{node_a.url}/api/broadcast", json=e), envelopes)
        )
    assert [r.status_code for r in answers] == [200] * 50, [r.text for r in answers]
    assert all(r.json()["announced"] for r in answers), [r.json() for r in answers]
    cids = {r.json()["cid"] for r in answers}
    wait_until(lambda: cids <= listed_cids(node_b), 30, what="every message on B")


def test_a_burst_of_100_between_two_kubo_nodes_arrives_live_or_by_sync(
    daemon_factory, node_factory
):
    """Reports how many of a 100-message burst B heard live (pubsub) and how many by sync."""
    from crypto import NodeKey

    a, b = daemon_factory(KUBO), daemon_factory(KUBO)
    connect_daemons(a, b)
    env = {"HEAD_INTERVAL": "1"}
    node_a, node_b = node_factory(a.api_multiaddr, env), node_factory(b.api_multiaddr, env)
    for node in (node_a, node_b):
        wait_subscribed(node)
    wait_mesh(a, [b])
    key = NodeKey.generate()
    with httpx.Client(timeout=30) as client:
        cids = {
            client.post(f"{node_a.url}/api/broadcast", json=signed_envelope(key, f"b{i}")).json()[
                "cid"
            ]
            for i in range(100)
        }
    wait_until(lambda: cids <= listed_cids(node_b), 60, what="the whole burst on B")
    sources: dict[str, int] = {}
    for cid in cids:
        source = node_b.get(f"/api/messages/{cid}").json()["source"]
        kind = source.split(":")[0]  # "pubsub:<peer>" or "sync:<peer>"
        sources[kind] = sources.get(kind, 0) + 1
    print(f"\n100-message burst A→B on Kubo: {sources}")
    assert sum(sources.values()) == 100


def listed_cids(node) -> set[str]:
    found: set[str] = set()
    params = {"board": "general", "limit": "200"}
    while True:
        body = node.get("/api/messages", params=params).json()
        found.update(m["cid"] for m in body["messages"])
        if not body["nextCursor"]:
            return found
        params["before"] = body["nextCursor"]


# 4. The CID does not depend on Kubo's Import config


async def test_cid_is_the_local_one_under_trickle_layout_and_a_small_chunker(
    tmp_path, daemon_factory, node_factory
):
    config = {"Import.UnixFSDAGLayout": "trickle", "Import.UnixFSChunker": "size-65536"}
    daemon = kubo_with(tmp_path, "trickle", config)
    with started(daemon):
        ipfs = IpfsClient(daemon.api_multiaddr)
        try:
            for size in (10, 1_000, 65_536, 65_537, 200_000):
                data = bytes(range(256)) * (size // 256) + b"x" * (size % 256)
                assert await ipfs.add(data) == cid_for_bytes(data)
            # What the old `add` call made of the same bytes under this config:
            old = httpx.post(
                f"{daemon.api_url}/api/v0/add",
                params={"cid-version": "1", "raw-leaves": "true", "pin": "false"},
                files={"file": ("d", b"hello trickle")},
                timeout=10,
            ).json()["Hash"]
            print(f"\nadd under trickle: {old}, block/put: {cid_for_bytes(b'hello trickle')}")
        finally:
            await ipfs.aclose()
        node = node_factory(daemon.api_multiaddr)
        response = node.post("/api/broadcast", json=signed_envelope_for_test())
        assert response.status_code == 200 and response.json()["pinned"] is True, response.text


# 5. repo/stat with size-only


async def test_repo_size_on_a_repo_of_ten_thousand_blocks(daemon_factory):
    daemon = daemon_factory(KUBO)
    parts = [("file", (f"b{i}", f"block {i}".encode())) for i in range(10_000)]
    put = httpx.post(f"{daemon.api_url}/api/v0/block/put", files=parts, timeout=120)
    put.raise_for_status()
    full = rpc(daemon, "repo/stat").json()
    size_only = rpc(daemon, "repo/stat", **{"size-only": "true"}).json()
    assert full["NumObjects"] >= 10_000, "without size-only Kubo counts every block"
    assert not size_only.get("NumObjects"), "with size-only it does not"
    ipfs = IpfsClient(daemon.api_multiaddr)
    try:
        assert await ipfs.repo_size() == size_only["RepoSize"] > 0
    finally:
        await ipfs.aclose()


# 6 and 7. Mesh healing by peer id; strangers neither healed nor counted


def test_strangers_on_a_kubo_are_not_counted_as_board_peers(daemon_factory, node_factory):
    a, board_peer = daemon_factory(KUBO), daemon_factory(KUBO)
    strangers = [daemon_factory(KUBO) for _ in range(3)]
    for other in [board_peer, *strangers]:
        connect_daemons(other, a)  # inbound at A, like a public Kubo's peers
    node = node_factory(a.api_multiaddr)
    node_b = node_factory(board_peer.api_multiaddr)
    for n in (node, node_b):
        wait_subscribed(n)
    wait_mesh(a, [board_peer])
    status = wait_until(
        lambda: (s := node.get("/api/status").json())["connectedPeers"] == 1 and s,
        20,
        what="one board peer",
    )
    assert status["swarmPeers"] == 4
    assert status["networkHealth"] == "fair"


async def test_the_mesh_doctor_leaves_strangers_alone(daemon_factory):
    a, board_peer = daemon_factory(KUBO), daemon_factory(KUBO)
    strangers = [daemon_factory(KUBO) for _ in range(3)]
    for other in [board_peer, *strangers]:
        connect_daemons(other, a)
    ipfs = IpfsClient(a.api_multiaddr)
    try:
        doctor = MeshDoctor(ipfs, ["general"], [board_peer.swarm_multiaddr], stale_seconds=0)
        assert await doctor.check() == [board_peer.peer_id], "the configured peer is healed"
        connected = {p.peer_id for p in await ipfs.swarm_peers()}
        assert {s.peer_id for s in strangers} <= connected, "no stranger was disconnected"
        assert await doctor.check() == []
    finally:
        await ipfs.aclose()


async def test_disconnect_by_peer_id_closes_an_inbound_connection(daemon_factory):
    a, other = daemon_factory(KUBO), daemon_factory(KUBO)
    connect_daemons(other, a)  # inbound at A: its remote address is an ephemeral port
    ipfs = IpfsClient(a.api_multiaddr)
    try:
        assert other.peer_id in {p.peer_id for p in await ipfs.swarm_peers()}
        await ipfs.swarm_disconnect(other.peer_id)
        assert other.peer_id not in {p.peer_id for p in await ipfs.swarm_peers()}
    finally:
        await ipfs.aclose()


# 8. Auth: Kubo's own secret formats, 403 text/plain, AllowedPaths


async def test_ipfs_api_auth_in_kubos_own_secret_forms(tmp_path, daemon_factory):
    authorizations = {
        "bearer": {"AuthSecret": "bearer:tok-123", "AllowedPaths": ["/api/v0"]},
        "basic": {"AuthSecret": "basic:alice:s3cret", "AllowedPaths": ["/api/v0"]},
        "narrow": {"AuthSecret": "bearer:narrow-1", "AllowedPaths": ["/api/v0/id"]},
    }
    daemon = kubo_with(tmp_path, "auth", {"API.Authorizations": authorizations})
    b64 = base64.b64encode(b"alice:s3cret").decode()
    with started(daemon):
        for secret in (
            "bearer:tok-123",
            "tok-123",
            "basic:alice:s3cret",
            f"basic:{b64}",
            "alice:s3cret",
        ):
            ipfs = IpfsClient(daemon.api_multiaddr, secret)
            try:
                assert (await ipfs.info()).peer_id == daemon.peer_id, secret
                assert await ipfs.add(b"authorized") == cid_for_bytes(b"authorized")
            finally:
                await ipfs.aclose()
        refused = httpx.post(
            f"{daemon.api_url}/api/v0/id", headers={"Authorization": "Bearer wrong"}, timeout=5
        )
        assert refused.status_code == 403
        assert refused.headers["content-type"].startswith("text/plain")
        for secret in ("bearer:wrong", None):
            ipfs = IpfsClient(daemon.api_multiaddr, secret)
            try:
                with pytest.raises(IpfsError) as info:
                    await ipfs.add(b"x")
                assert not isinstance(info.value, IpfsUnavailable)
                assert "403" in str(info.value)
            finally:
                await ipfs.aclose()
        narrow = IpfsClient(daemon.api_multiaddr, "bearer:narrow-1")
        try:
            with pytest.raises(IpfsError, match="403"):
                await narrow.add(b"not allowed here")
            body = await narrow._post_json("id")
            assert body["ID"] == daemon.peer_id
        finally:
            await narrow.aclose()


# 9. swarm/connect with a server-side timeout


@pytest.fixture
def mute_peer():
    """Accepts TCP connections and never speaks: a dial there hangs in the handshake."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        sock.settimeout(0.2)
        while not stop.is_set():
            with contextlib.suppress(OSError):
                held.append(sock.accept()[0])

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield sock.getsockname()[1]
    stop.set()
    thread.join(timeout=2)
    for conn in held:
        conn.close()
    sock.close()


async def test_a_slow_dial_is_a_failed_dial_not_a_daemon_that_is_down(daemon_factory, mute_peer):
    daemon = daemon_factory(KUBO)
    ipfs = IpfsClient(daemon.api_multiaddr, call_timeout=3.0)
    fake_peer = "12D3KooWJ8Xb6jMyRDZ4i1Nj2t7xYyA3FQyZ8ssbsGTTqj7NLN8Q"
    try:
        with pytest.raises(IpfsError) as info:
            await ipfs.swarm_connect(f"/ip4/127.0.0.1/tcp/{mute_peer}/p2p/{fake_peer}", timeout=1)
        assert not isinstance(info.value, IpfsUnavailable), info.value
        assert (await ipfs.info()).peer_id == daemon.peer_id
    finally:
        await ipfs.aclose()


# 10. Errors after streaming began: cat checks X-Content-Length


async def test_a_cat_that_fails_midway_is_an_error_not_short_content(daemon_factory):
    daemon = daemon_factory(KUBO)
    data = b"".join(f"{i:08d}".encode() for i in range(4_000))  # 32 kB in 1 kB chunks
    added = httpx.post(
        f"{daemon.api_url}/api/v0/add",
        params={"chunker": "size-1024", "pin": "false", "cid-version": "1", "raw-leaves": "true"},
        files={"file": ("d", data)},
        timeout=30,
    ).json()["Hash"]
    links = rpc(daemon, "dag/get", arg=added).json()["Links"]
    rpc(daemon, "block/rm", arg=links[-1]["Hash"]["/"]).raise_for_status()
    ipfs = IpfsClient(daemon.api_multiaddr)
    try:
        from crypto import parse_cid

        with pytest.raises(IpfsError, match="stream failed"):
            await ipfs.cat(parse_cid(added), timeout=1)
    finally:
        await ipfs.aclose()


# 11. Timeouts clamped to whole seconds ≥ 1 s; empty answers are errors


async def test_sub_second_timeouts_still_reach_kubo_as_a_valid_duration(daemon_factory):
    daemon = daemon_factory(KUBO)
    ipfs = IpfsClient(daemon.api_multiaddr)
    try:
        data = b"short timeout"
        cid = await ipfs.add(data)
        assert await ipfs.cat(cid, timeout=0.2) == data
        empty = rpc(daemon, "cat", arg=str(cid), timeout="0.2")
        assert empty.status_code == 200 and empty.content == b"", "what Kubo does with '0.2'"
    finally:
        await ipfs.aclose()
