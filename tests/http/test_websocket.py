"""``WS /ws`` against a real node process and daemon: delivery, resume, errors, cap, slow
consumers, status and heartbeats."""

import asyncio
import socket
import struct
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import websockets

from crypto import NodeKey
from node.http.live import CLOSE_TOO_SLOW, HEARTBEAT_SECONDS, SEND_TIMEOUT, TOO_SLOW_REASON
from node.http.live_hub import PAGE_SIZE
from node.runtime.ports import free_port
from node.settings import Limits
from tests.http.conftest import hello, next_event, post
from tests.support.processes import wait_until

FLOOD = 300
BIG = "x" * 16_000


async def test_message_posted_through_the_api_arrives_live(live_node, author_key):
    ws, first = await hello(live_node.ws_url)
    async with ws:
        assert first["status"]["nodeId"] and first["cursor"]
        started = time.monotonic()
        cid = await asyncio.to_thread(post, live_node.node, author_key, 'live ✓ «quoted» "x"')
        event = await next_event(ws, "messages")
        print(f"\nPOST → WebSocket on one node: {time.monotonic() - started:.3f}s")
    assert [m["cid"] for m in event["messages"]] == [cid]
    assert event["messages"][0]["envelope"]["content"] == 'live ✓ «quoted» "x"'
    listed = live_node.node.get("/api/messages/" + cid).json()
    assert event["messages"][0] == {**listed, "pinned": event["messages"][0]["pinned"]}
    assert event["cursor"] != first["cursor"]


async def test_reconnecting_with_since_replays_what_was_missed(live_node, author_key):
    ws, first = await hello(live_node.ws_url)
    async with ws:
        seen = await asyncio.to_thread(post, live_node.node, author_key, "seen live")
        event = await next_event(ws, "messages")
        assert [m["cid"] for m in event["messages"]] == [seen]
        resume = event["cursor"]
    missed = [
        await asyncio.to_thread(post, live_node.node, author_key, f"missed {i}")
        for i in range(PAGE_SIZE + 5)
    ]
    ws, again = await hello(live_node.ws_url, since=resume)
    async with ws:
        assert again["cursor"] == resume
        replayed: list[str] = []
        while len(replayed) < len(missed):
            replayed += [m["cid"] for m in (await next_event(ws, "messages"))["messages"]]
        assert replayed == missed
        after = await asyncio.to_thread(post, live_node.node, author_key, "after the replay")
        assert [m["cid"] for m in (await next_event(ws, "messages"))["messages"]] == [after]


@pytest.mark.parametrize(
    ("query", "code", "reason"),
    [
        ("board=Not_A_Board", 4400, "invalid_board"),
        ("board=general&since=not-a-cursor", 4400, "bad_cursor"),
        ("board=general&since=" + "W" * 300, 4400, "bad_cursor"),
    ],
)
async def test_bad_board_or_cursor_closes_with_a_clear_code(live_node, query, code, reason):
    async with websockets.connect(f"{live_node.ws_url}?{query}") as ws:
        with pytest.raises(websockets.ConnectionClosed):
            await asyncio.wait_for(ws.recv(), 5)
    assert ws.close_code == code
    assert ws.close_reason.startswith(reason + ": ")
    ws, first = await hello(live_node.ws_url)
    await ws.close()


async def test_status_changes_are_pushed(live_node, author_key):
    ws, first = await hello(live_node.ws_url)
    async with ws:
        before = first["status"]["messagesSynced"]
        await asyncio.to_thread(post, live_node.node, author_key, "changes the status")
        deadline = time.monotonic() + 10
        while True:
            event = await next_event(ws, "status", timeout=deadline - time.monotonic())
            if event["status"]["messagesSynced"] == before + 1:
                break
        assert event["cursor"]


async def test_an_idle_connection_gets_heartbeats(offline_node):
    """On the node whose daemon is down nothing changes (no peers, no repo growing), so the
    connection is idle: status pushes of a live daemon's node would put the ping off."""
    ws, first = await hello(f"ws://127.0.0.1:{offline_node.port}/ws", board="idle")
    async with ws:
        ping = await next_event(ws, "ping", timeout=HEARTBEAT_SECONDS + 10)
    assert ping["cursor"] == first["cursor"] and ping["ts"] > 0


async def test_connections_over_the_cap_are_refused_and_the_node_keeps_serving(live_node):
    held = []
    try:
        for _ in range(Limits.live_clients):
            held.append((await hello(live_node.ws_url))[0])
        async with websockets.connect(f"{live_node.ws_url}?board=general") as extra:
            with pytest.raises(websockets.ConnectionClosed):
                await asyncio.wait_for(extra.recv(), 5)
        assert extra.close_code == 1013 and extra.close_reason.startswith("busy: ")
        async with httpx.AsyncClient(base_url=live_node.node.url) as client:
            busy = await client.get("/api/poll", params={"board": "general", "wait": 0})
        assert busy.status_code == 503 and busy.json()["error"] == "busy"
        await held.pop().close()
        ws, _ = await hello(live_node.ws_url)
        held.append(ws)
    finally:
        await asyncio.gather(*(ws.close() for ws in held))


def _slow_socket(port: int, query: str) -> socket.socket:
    """A WebSocket client that completes the handshake and then never reads."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    sock.sendall(
        f"GET /ws?{query} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
        "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        "Sec-WebSocket-Version: 13\r\n\r\n".encode()
    )
    return sock


def _closed_with_too_slow(sock: socket.socket, timeout: float) -> bool:
    """Read what the node sent until the stream ends; True when it ends with the 4408
    ``too_slow`` close frame, False when the stream ends (or stalls) without it."""
    reason = TOO_SLOW_REASON.encode()
    close_frame = bytes([0x88, 2 + len(reason)]) + struct.pack("!H", CLOSE_TOO_SLOW) + reason
    sock.settimeout(timeout)
    tail = b""
    try:
        while chunk := sock.recv(1 << 20):
            tail = (tail + chunk)[-len(close_frame) :]
            if tail == close_frame:
                return True
    except TimeoutError:
        pass
    return False


@pytest.fixture(scope="module")
def flooded_board(offline_node) -> str:
    """A board holding more than every buffer between the node and a client can take (the
    daemon is down, so posts are accepted at full speed); returns the cursor before it all."""
    key = NodeKey.generate()
    before = offline_node.get("/api/poll", params={"board": "flood", "wait": 0}).json()["cursor"]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda i: post(offline_node, key, f"{i} {BIG}", "flood"), range(FLOOD)))
    return before


async def test_a_consumer_that_never_reads_is_dropped_without_delaying_a_fast_one(
    offline_node, flooded_board, author_key
):
    query = f"board=flood&since={flooded_board}"
    slow = _slow_socket(offline_node.port, query)
    try:
        url = f"ws://127.0.0.1:{offline_node.port}/ws"
        fast, _ = await hello(url, board="flood", since=flooded_board)
        async with fast:
            replayed = 0
            while replayed < FLOOD:
                replayed += len((await next_event(fast, "messages"))["messages"])
            for i in range(5):
                started = time.monotonic()
                cid = await asyncio.to_thread(post, offline_node, author_key, f"live {i}", "flood")
                event = await next_event(fast, "messages")
                assert [m["cid"] for m in event["messages"]] == [cid]
                # A blocked send to the slow client would hold every client for SEND_TIMEOUT.
                assert time.monotonic() - started < SEND_TIMEOUT
        await asyncio.to_thread(
            wait_until,
            lambda: "dropping a live client of flood" in offline_node.log(),
            SEND_TIMEOUT + 10,
            what="the node to drop the client that never reads",
        )
        assert await asyncio.to_thread(_closed_with_too_slow, slow, 10)
    finally:
        slow.close()


async def test_resume_with_since_works_across_a_node_restart(node_factory, author_key):
    """The cursor is the index's, not the process's: a client that reconnects to the restarted
    node with its last cursor gets what it missed, before and after the restart."""
    node = node_factory(f"/ip4/127.0.0.1/tcp/{free_port()}/http", name="restarted")
    url = f"ws://127.0.0.1:{node.port}/ws"
    ws, _ = await hello(url)
    async with ws:
        seen = await asyncio.to_thread(post, node, author_key, "seen before the restart")
        event = await next_event(ws, "messages")
        assert [m["cid"] for m in event["messages"]] == [seen]
    missed = [await asyncio.to_thread(post, node, author_key, "missed before the restart")]
    await asyncio.to_thread(node.stop)
    await asyncio.to_thread(node.start)
    missed.append(await asyncio.to_thread(post, node, author_key, "missed after the restart"))
    ws, again = await hello(url, since=event["cursor"])
    async with ws:
        replayed: list[str] = []
        while len(replayed) < len(missed):
            replayed += [m["cid"] for m in (await next_event(ws, "messages"))["messages"]]
    assert replayed == missed
