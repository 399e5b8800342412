"""Fair slots and timeouts: a connection that does not send its request head or body in time,
or does not read its answer, is closed; open connections are capped (503), in all and per
address; and long-poll and WebSocket clients are capped per address below the global cap."""

import asyncio
import json
import socket
import time

import httpx
import pytest
import websockets

from crypto import NodeKey
from tests.conftest import signed_envelope
from tests.hardening.conftest import from_address
from tests.support.processes import wait_until


def read_until_closed(sock: socket.socket, timeout: float) -> tuple[bytes, float]:
    """Everything the server sends until it closes, and how long that took."""
    started = time.monotonic()
    sock.settimeout(timeout)
    data = b""
    while True:
        chunk = sock.recv(4096)
        if not chunk:
            return data, time.monotonic() - started
        data += chunk


@pytest.fixture
def node(offline_factory):
    return offline_factory({"HEADER_TIMEOUT": "1", "BODY_TIMEOUT": "1"})


def test_half_a_request_line_is_answered_408_and_closed(node):
    with socket.create_connection(("127.0.0.1", node.port), timeout=10) as sock:
        sock.sendall(b"GET /heal")
        data, took = read_until_closed(sock, 10)
    assert data.startswith(b"HTTP/1.1 408"), data
    assert json.loads(data.split(b"\r\n\r\n", 1)[1])["error"] == "timeout"
    assert took < 5
    assert node.get("/health").status_code == 200


def test_a_body_that_trickles_is_cut_off(node):
    with socket.create_connection(("127.0.0.1", node.port), timeout=10) as sock:
        sock.sendall(
            b"POST /api/broadcast HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 1000\r\n\r\n{"
        )
        data, took = read_until_closed(sock, 10)
    assert took < 5 and b"HTTP/1.1 500" not in data
    assert "Traceback" not in node.log()


def test_an_idle_connection_after_a_request_does_not_stay_open(node):
    with socket.create_connection(("127.0.0.1", node.port), timeout=10) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\nGET /he")
        data, took = read_until_closed(sock, 15)
    assert data.startswith(b"HTTP/1.1 200") and took < 8


def test_open_connections_are_capped_with_503(offline_factory):
    node = offline_factory({"MAX_CONNECTIONS": "10", "HEADER_TIMEOUT": "30"})
    held = [socket.create_connection(("127.0.0.1", node.port), timeout=10) for _ in range(10)]
    try:
        with socket.create_connection(("127.0.0.1", node.port), timeout=10) as extra:
            data, _ = read_until_closed(extra, 10)
        assert data.startswith(b"HTTP/1.1 503") and b'"busy"' in data
    finally:
        for sock in held:
            sock.close()
    wait_until(lambda: node.get("/health").status_code == 200, 10, what="the node to recover")


def held_poll(port: int, address: str, since: str) -> socket.socket:
    """A long poll from ``address`` that waits until the socket is closed."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10, source_address=(address, 0))
    sock.sendall(f"GET /api/poll?since={since}&wait=30 HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    return sock


def test_long_polls_are_capped_per_address(offline_factory):
    node = offline_factory({"LIVE_CLIENTS_PER_ADDRESS": "3"})
    since = node.get("/api/poll", params={"wait": "0"}).json()["cursor"]
    held = [held_poll(node.port, "127.0.5.1", since) for _ in range(3)]
    try:
        with from_address(node, "127.0.5.1") as greedy:
            refused = wait_until(
                lambda: (
                    (r := greedy.get("/api/poll", params={"since": since, "wait": "0"})).status_code
                    == 503
                    and r
                ),
                10,
                what="a fourth poll from one address to be refused",
            )
        assert refused.json()["error"] == "busy" and "per address" in refused.json()["detail"]
        with from_address(node, "127.0.5.2") as other:
            assert other.get("/api/poll", params={"since": since, "wait": "0"}).status_code == 200
    finally:
        for sock in held:
            sock.close()


async def test_websockets_are_capped_per_address(offline_factory):
    node = offline_factory({"LIVE_CLIENTS_PER_ADDRESS": "2"})
    url = f"ws://127.0.0.1:{node.port}/ws"
    first = await websockets.connect(url)
    second = await websockets.connect(url)
    try:
        async with websockets.connect(url) as third:
            with pytest.raises(websockets.ConnectionClosed) as closed:
                while True:
                    await asyncio.wait_for(third.recv(), 10)
        assert closed.value.rcvd.code == 1013 and "per address" in closed.value.rcvd.reason
    finally:
        await first.close()
        await second.close()


def test_one_address_cannot_take_every_connection(offline_factory):
    """One address holding connections (unused, or with answers it never reads) keeps only its
    share: a client on another address is still served."""
    node = offline_factory(
        {"MAX_CONNECTIONS": "20", "MAX_CONNECTIONS_PER_ADDRESS": "5", "HEADER_TIMEOUT": "30"}
    )
    held = [
        socket.create_connection(
            ("127.0.0.1", node.port), timeout=10, source_address=("127.0.7.1", 0)
        )
        for _ in range(20)
    ]
    try:
        refused = held[-1].recv(4096)
        assert refused.startswith(b"HTTP/1.1 503") and b"share" in refused, refused
        with from_address(node, "127.0.7.2") as other:
            assert other.get("/health").status_code == 200
    finally:
        for sock in held:
            sock.close()


def stalled_reader(port: int, address: str, path: str, times: int) -> socket.socket:
    """A client that asks for ``path`` ``times`` times in a row (pipelined) and then never
    reads the answers."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.bind((address, 0))
    sock.connect(("127.0.0.1", port))
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode() * times)
    return sock


def test_a_client_that_stops_reading_its_answer_loses_its_connection(offline_factory):
    """Answers of about 3 MB each, more than the kernel's socket buffers hold, stall; after
    WRITE_TIMEOUT with no progress the node drops the connection, which frees the node's only
    slot."""
    node = offline_factory(
        {"RATE_LIMITS": "off", "WRITE_TIMEOUT": "1", "MAX_CONNECTIONS": "1", "HEADER_TIMEOUT": "60"}
    )
    key = NodeKey.generate()
    with httpx.Client(base_url=node.url, timeout=30) as client:
        for n in range(200):
            envelope = signed_envelope(key, f"{n:05d}" + "x" * 15_000)
            assert client.post("/api/broadcast", json=envelope).status_code == 202
    path = "/api/messages?limit=200"
    stalled = stalled_reader(node.port, "127.0.7.3", path, times=4)
    try:

        def served() -> bool:
            with from_address(node, "127.0.7.4") as again:
                return again.get("/health").status_code == 200

        wait_until(served, 15, 0.5, "the stalled connection to be closed")
    finally:
        stalled.close()
