"""``GET /api/poll``, the long-poll fallback, against a real node process and daemon."""

import asyncio
import json
import socket
import threading
import time

import httpx
import pytest
import websockets
import websockets.sync.client

from node.http.live_hub import PAGE_SIZE as PAGE
from node.http.poll import MAX_WAIT
from node.settings import Limits
from tests.http.conftest import hello, next_event, post
from tests.support.processes import wait_until


def poll(node, **params):
    response = httpx.get(
        f"{node.url}/api/poll", params={"board": "general", **params}, timeout=MAX_WAIT + 10
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_without_since_answers_at_once_with_the_cursor_to_start_from(live_node, author_key):
    post(live_node.node, author_key, "before the poller came")
    started = time.monotonic()
    body = poll(live_node.node, wait=MAX_WAIT)
    assert time.monotonic() - started < MAX_WAIT / 2, "it waited instead of answering"
    assert body["messages"] == [] and body["cursor"]
    assert poll(live_node.node, since=body["cursor"], wait=0)["messages"] == []


def test_answers_at_once_when_messages_are_after_since(live_node, author_key):
    start = poll(live_node.node, wait=0)["cursor"]
    cids = [post(live_node.node, author_key, f"waiting {i}") for i in range(3)]
    started = time.monotonic()
    body = poll(live_node.node, since=start, wait=MAX_WAIT)
    assert time.monotonic() - started < MAX_WAIT / 2
    assert [m["cid"] for m in body["messages"]] == cids
    assert poll(live_node.node, since=body["cursor"], wait=0) == {
        "board": "general",
        "messages": [],
        "cursor": body["cursor"],
    }


def test_returns_a_message_posted_while_it_waits(live_node, author_key):
    start = poll(live_node.node, wait=0)["cursor"]
    posted: list[str] = []
    poster = threading.Timer(
        0.5, lambda: posted.append(post(live_node.node, author_key, "while you wait ✓"))
    )
    started = time.monotonic()
    poster.start()
    body = poll(live_node.node, since=start, wait=MAX_WAIT)
    elapsed = time.monotonic() - started
    poster.join()
    assert [m["cid"] for m in body["messages"]] == posted
    assert 0.4 < elapsed < MAX_WAIT / 2, elapsed
    assert body["messages"][0]["envelope"]["content"] == "while you wait ✓"


def test_returns_empty_on_timeout(live_node):
    start = poll(live_node.node, wait=0)["cursor"]
    started = time.monotonic()
    body = poll(live_node.node, since=start, wait=1)
    assert time.monotonic() - started >= 1
    assert body == {"board": "general", "messages": [], "cursor": start}


def test_answers_at_most_a_page_and_the_next_poll_gets_the_rest(live_node, author_key):
    start = poll(live_node.node, board="poll-pages", wait=0)["cursor"]
    cids = [post(live_node.node, author_key, f"page {i}", "poll-pages") for i in range(PAGE + 5)]
    first = poll(live_node.node, board="poll-pages", since=start, wait=0)
    assert [m["cid"] for m in first["messages"]] == cids[:PAGE]
    rest = poll(live_node.node, board="poll-pages", since=first["cursor"], wait=0)
    assert [m["cid"] for m in rest["messages"]] == cids[PAGE:]


async def test_a_poller_that_disconnects_gives_its_live_client_place_back(live_node):
    """With every place taken, one of them by a long-poll, the poll's client going away frees
    its place at once, not when its ``wait`` would have ended."""
    since = poll(live_node.node, board="poll-slot", wait=0)["cursor"]
    held = [(await hello(live_node.ws_url))[0] for _ in range(Limits.live_clients - 1)]
    poller = socket.create_connection(("127.0.0.1", live_node.node.port))
    try:
        poller.sendall(
            f"GET /api/poll?board=poll-slot&since={since}&wait={MAX_WAIT:g} HTTP/1.1\r\n"
            "Host: 127.0.0.1\r\n\r\n".encode()
        )
        await asyncio.to_thread(wait_until, lambda: not ws_accepted(live_node), 10, 0.2)
        disconnected = time.monotonic()
        poller.close()
        await asyncio.to_thread(wait_until, lambda: ws_accepted(live_node), 10, 0.2)
        assert time.monotonic() - disconnected < MAX_WAIT / 2
    finally:
        poller.close()
        await asyncio.gather(*(ws.close() for ws in held))


def ws_accepted(live_node) -> bool:
    """Whether a new WebSocket client gets a place now (hello) rather than 1013 busy."""
    with websockets.sync.client.connect(f"{live_node.ws_url}?board=poll-slot") as ws:
        try:
            return json.loads(ws.recv(timeout=10))["type"] == "hello"
        except websockets.ConnectionClosed:
            assert ws.close_code == 1013
            return False


async def test_poll_and_websocket_share_cursor_and_message_shape(live_node, author_key):
    ws, first = await hello(live_node.ws_url)
    async with ws:
        cid = post(live_node.node, author_key, "same shape")
        event = await next_event(ws, "messages")
    body = poll(live_node.node, since=first["cursor"], wait=0)
    assert body["cursor"] == event["cursor"]
    assert [m["cid"] for m in body["messages"]] == [cid]
    assert set(body["messages"][0]) == set(event["messages"][0])
    assert body["messages"][0]["envelope"] == event["messages"][0]["envelope"]


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"wait": "soon"}, "bad_request"),
        ({"wait": "31"}, "bad_request"),
        ({"wait": "-1"}, "bad_request"),
        ({"wait": "nan"}, "bad_request"),
        ({"board": "No/Board"}, "invalid_board"),
        ({"since": "not-a-cursor"}, "bad_cursor"),
        ({"since": "WyJ4Il0"}, "bad_cursor"),
    ],
)
def test_bad_input_is_a_400_and_the_endpoint_keeps_working(live_node, params, code):
    response = live_node.node.get("/api/poll", params={"board": "general", "wait": 0, **params})
    assert response.status_code == 400, response.text
    assert response.json()["error"] == code and response.json()["detail"]
    assert poll(live_node.node, wait=0)["cursor"]
