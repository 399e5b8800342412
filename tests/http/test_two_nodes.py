"""Two nodes on two connected daemons: what one node accepts reaches the other node's live
clients (announced over IPFS pubsub, ingested by node/network/listener.py), in Python and in
Chromium."""

import json
import time

import pytest
from playwright.sync_api import expect
from websockets.sync.client import connect

from tests.http.conftest import dashboard_path, field, open_dashboard, post


def test_websocket_client_receives_a_message_from_another_node(node_pair, author_key):
    here, there = node_pair
    with connect(f"{here.ws_url}?board=general") as ws:
        assert json.loads(ws.recv(timeout=10))["type"] == "hello"
        started = time.monotonic()
        cid = post(there.node, author_key, "from the other node ✓")
        event = json.loads(ws.recv(timeout=10))
        while event["type"] != "messages":
            event = json.loads(ws.recv(timeout=10))
        print(f"\ncross-node delivery: {time.monotonic() - started:.3f}s")
    assert [m["cid"] for m in event["messages"]] == [cid]
    assert event["messages"][0]["source"] != "local"


@pytest.fixture
def two_pages(browser, node_pair):
    contexts = [browser.new_context(viewport={"width": 1280, "height": 900}) for _ in node_pair]
    yield [context.new_page() for context in contexts]
    for context in contexts:
        context.close()


def test_post_from_one_dashboard_appears_on_the_other_nodes_dashboard(
    node_pair, two_pages, tmp_path
):
    (here, there), (writer, reader) = node_pair, two_pages
    open_dashboard(writer, here.node)
    open_dashboard(reader, there.node)
    for page in (writer, reader):
        expect(page.locator("#connection")).to_have_attribute("data-state", "websocket")
    pubkey = writer.locator("#user-key").get_attribute("data-pubkey")
    assert pubkey != reader.locator("#user-key").get_attribute("data-pubkey")

    for author, text in [
        ("ada", "Hello from node one: signed in my browser, pinned on IPFS."),
        ("grace", "Replicated across nodes over pubsub — ✓ «live»"),
    ]:
        writer.fill("#author", author)
        writer.fill("#content", text)
        writer.click("#post-button")
        expect(writer.locator("#post-result")).to_contain_text("Posted")
        arrived = reader.locator("#messages li", has_text=text)
        expect(arrived).to_contain_text("from the network", timeout=10_000)
        expect(arrived).to_contain_text(author)

    writer_peer = here.daemon.peer_id
    expect(reader.locator(f'#network li[data-peer="{writer_peer}"]')).to_contain_text("reputation")
    expect(field(reader, "connection", "peers")).not_to_have_text("0")
    on_board = there.node.get("/api/status").json()["boardMessages"]["general"]
    expect(field(reader, "network", "messages")).to_have_text(f"{on_board} on general")
    shot = dashboard_path(tmp_path)
    reader.screenshot(path=shot, full_page=True)
    assert shot.stat().st_size > 10_000
