"""The IPFS adapter against a real daemon (Kubo by default), and against daemons that
misbehave."""

import asyncio
import http.server
import socket
import time

import httpx
import pytest

from crypto import cid_for_bytes
from node.runtime.ports import free_port
from storage.errors import IpfsError, IpfsUnavailable, NoPubsubPeers
from storage.ipfs import IpfsClient
from tests.support.local_http import serving
from tests.support.processes import connect_daemons

TOPIC = "onusone/v1/board/adapter-test"


async def test_add_cat_pin_and_info_on_a_real_daemon(ipfs_daemon):
    ipfs = IpfsClient(ipfs_daemon.api_multiaddr)
    data = b'{"hello":"ipfs"}'
    cid = await ipfs.add(data)
    assert cid == cid_for_bytes(data)
    assert await ipfs.cat(cid) == data
    assert cid in await ipfs.pinned()
    await ipfs.pin_rm(cid)
    assert cid not in await ipfs.pinned()
    # The node never pins by CID alone (it adds the bytes it verified); re-pin over the RPC.
    url = f"{ipfs_daemon.api_url}/api/v0/pin/add"
    httpx.post(url, params={"arg": str(cid)}, timeout=10).raise_for_status()
    assert cid in await ipfs.pinned()
    info = await ipfs.info()
    assert info.peer_id == ipfs_daemon.peer_id and info.version
    assert await ipfs.repo_size() > 0
    assert await ipfs.swarm_peers() == []
    assert await ipfs.pubsub_peers(TOPIC) == []
    await ipfs.aclose()


async def test_publish_to_nobody_is_an_error_on_js_ipfs_and_a_200_on_kubo(daemon_factory):
    """Why the pipeline decides "announced to nobody" from the topic's peer count."""
    for kind, refused in (("jsipfs", True), ("kubo", False)):
        ipfs = IpfsClient(daemon_factory(kind).api_multiaddr)
        try:
            if refused:
                with pytest.raises(NoPubsubPeers):
                    await ipfs.publish(TOPIC, b"nobody listens")
            else:
                await ipfs.publish(TOPIC, b"nobody listens")
            assert await ipfs.pubsub_peers(TOPIC) == []
        finally:
            await ipfs.aclose()


async def test_pubsub_between_two_connected_daemons(daemon_factory):
    a, b = daemon_factory(), daemon_factory()
    connect_daemons(a, b)
    ipfs_a, ipfs_b = IpfsClient(a.api_multiaddr), IpfsClient(b.api_multiaddr)
    received: asyncio.Queue = asyncio.Queue()

    async def listen() -> None:
        async for message in ipfs_b.subscribe(TOPIC):
            await received.put(message)

    task = asyncio.create_task(listen())
    try:
        deadline = time.monotonic() + 15
        while b.peer_id not in await ipfs_a.pubsub_peers(TOPIC):
            assert time.monotonic() < deadline, "pubsub mesh did not form"
            await asyncio.sleep(0.2)
        assert [p.peer_id for p in await ipfs_a.swarm_peers()] == [b.peer_id]
        payload = "é\x00binary\n".encode()
        await ipfs_a.publish(TOPIC, payload)
        message = await asyncio.wait_for(received.get(), 10)
        assert message.data == payload and message.sender == a.peer_id and message.seqno > 0
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await ipfs_a.aclose()
        await ipfs_b.aclose()


async def test_daemon_down_raises_unavailable_promptly():
    ipfs = IpfsClient(f"/ip4/127.0.0.1/tcp/{free_port()}/http")
    started = time.monotonic()
    for call in (ipfs.info(), ipfs.add(b"x"), ipfs.publish(TOPIC, b"x"), ipfs.swarm_peers()):
        with pytest.raises(IpfsUnavailable):
            await call
    with pytest.raises(IpfsUnavailable):
        async for _ in ipfs.subscribe(TOPIC):
            pass
    assert time.monotonic() - started < 5
    await ipfs.aclose()


class _GarbageHandler(http.server.BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        body = b"<html>not an ipfs daemon</html>"
        self.send_response(200 if "/id" in self.path or "/add" in self.path else 500)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def garbage_server():
    with serving(_GarbageHandler) as url:
        yield url


async def test_garbage_answers_raise_ipfs_error(garbage_server):
    ipfs = IpfsClient(garbage_server)
    for call in (
        ipfs.info(),
        ipfs.add(b"x"),
        ipfs.pubsub_peers(TOPIC),
        ipfs.cat(cid_for_bytes(b"x")),
    ):
        with pytest.raises(IpfsError) as info:
            await call
        assert not isinstance(info.value, IpfsUnavailable)
    await ipfs.aclose()


@pytest.fixture
def silent_server():
    """Accepts connections and never answers: a hung daemon."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    sock.close()


async def test_hung_daemon_times_out_as_unavailable(silent_server):
    ipfs = IpfsClient(silent_server, call_timeout=0.5)
    started = time.monotonic()
    with pytest.raises(IpfsUnavailable):
        await ipfs.info()
    with pytest.raises(IpfsUnavailable):
        await ipfs.pubsub_peers(TOPIC)
    assert time.monotonic() - started < 5
    await ipfs.aclose()


class _EmptyHandler(http.server.BaseHTTPRequestHandler):
    """200 with an empty body: what Kubo answers to a ``timeout`` it cannot parse."""

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


async def test_empty_answers_raise_ipfs_error_not_a_library_assertion():
    with serving(_EmptyHandler) as url:
        ipfs = IpfsClient(url)
        try:
            for call in (
                ipfs.info(),
                ipfs.pin_rm(cid_for_bytes(b"x")),
                ipfs.add(b"x"),
                ipfs.pinned(),
            ):
                with pytest.raises(IpfsError) as info:
                    await call
                assert not isinstance(info.value, IpfsUnavailable)
        finally:
            await ipfs.aclose()
