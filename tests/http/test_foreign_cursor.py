"""Cursors belong to the node that handed them out: one further along than this node (another
node's, or docs/API.md's ``WzQyXQ`` on a young node) is refused with ``bad_cursor`` and what to
do, over every transport, instead of silently skipping messages until the node catches up."""

import asyncio
import base64
import json

import pytest
import websockets

from tests.http.conftest import post

DETAIL = "cursors belong to the node that handed them out"


def decode(cursor: str) -> list[int]:
    return json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))


def encode(values: list[int]) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).rstrip(b"=").decode()


@pytest.fixture
def ahead(live_node, author_key) -> str:
    """A ``since`` cursor 1000 positions past this node's newest message on the board."""
    post(live_node.node, author_key, "so the board has a position")
    cursor = live_node.node.get("/api/poll", params={"board": "general", "wait": 0}).json()
    (position,) = decode(cursor["cursor"])
    return encode([position + 1000])


def test_long_poll_refuses_a_cursor_ahead_of_the_node(live_node, ahead):
    response = live_node.node.get("/api/poll", params={"board": "general", "since": ahead})
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "bad_cursor"
    assert DETAIL in response.json()["detail"]


async def test_websocket_refuses_a_cursor_ahead_of_the_node(live_node, ahead):
    async with websockets.connect(f"{live_node.ws_url}?board=general&since={ahead}") as ws:
        with pytest.raises(websockets.ConnectionClosed):
            await asyncio.wait_for(ws.recv(), 10)
    assert ws.close_code == 4400
    assert ws.close_reason.startswith("bad_cursor: ") and "ahead of this node" in ws.close_reason


def test_history_refuses_a_page_cursor_ahead_of_the_node(live_node, author_key):
    post(live_node.node, author_key, "a page to walk")
    first = live_node.node.get("/api/messages", params={"board": "general", "limit": 1}).json()
    ts, seq = decode(first["nextCursor"])
    response = live_node.node.get(
        "/api/messages", params={"board": "general", "before": encode([ts, seq + 1000])}
    )
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "bad_cursor"
    assert DETAIL in response.json()["detail"]
    own = live_node.node.get(
        "/api/messages", params={"board": "general", "before": first["nextCursor"]}
    )
    assert own.status_code == 200, own.text
