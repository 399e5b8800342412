"""``GET /api/poll``, the long-poll fallback, against a real node process and daemon."""

import threading
import time

import httpx
import pytest

from node.http.poll import MAX_WAIT
from tests.http.conftest import hello, next_event, post


def poll(node, **params):
    response = httpx.get(
        f"{node.url}/api/poll", params={"board": "general", **params}, timeout=MAX_WAIT + 10
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_without_since_answers_at_once_with_the_cursor_to_start_from(live_node, author_key):
    post(live_node.node, author_key, "before the poller came")
    body = poll(live_node.node, wait=MAX_WAIT)
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
    body = poll(live_node.node, since=start, wait=20)
    elapsed = time.monotonic() - started
    poster.join()
    assert [m["cid"] for m in body["messages"]] == posted
    assert 0.4 < elapsed < 5, elapsed
    assert body["messages"][0]["envelope"]["content"] == "while you wait ✓"


def test_returns_empty_on_timeout(live_node):
    start = poll(live_node.node, wait=0)["cursor"]
    started = time.monotonic()
    body = poll(live_node.node, since=start, wait=1)
    assert time.monotonic() - started >= 1
    assert body == {"board": "general", "messages": [], "cursor": start}


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
