"""The dashboard in headless Chromium against a real node: live status, posting signed in the
browser, polling when WebSocket is blocked, byte-exact canonical JSON, phone width."""

import json
import re

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from crypto import canonical_bytes, cid_for_bytes, verify_envelope
from tests.http.conftest import field, message_item, open_dashboard, post

TRICKY = (
    'héllo ✓ 😀 «» "quoted" back\\slash / \n newline \r\t tab \b\f \x00 \x01 \x1f \x7f'
    " \u2028 \u2029 </script> \ufeff 𝄞 日本語"
)

# What a person types: a textarea turns "\r" into "\n" by the HTML spec, so the byte-level
# cases (control characters and all) are checked directly against canonical.js below.
TYPED = 'héllo ✓ 😀 «» "quoted" back\\slash\nsecond line\ttab </script> 𝄞 日本語'


@pytest.fixture
def context(browser) -> BrowserContext:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    yield context
    context.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


def test_page_shows_live_node_status_and_messages(live_node, page, author_key):
    open_dashboard(page, live_node.node)
    expect(page.locator("#connection")).to_have_attribute("data-state", "websocket")
    expect(page.locator('#connection [data-field="state"]')).to_have_text("Live (WebSocket)")
    status = live_node.node.get("/api/status").json()
    expect(field(page, "network", "nodeId")).to_have_text(status["nodeId"])
    expect(field(page, "network", "health")).to_have_text(status["networkHealth"])
    expect(field(page, "connection", "health")).to_have_text(status["networkHealth"])
    expect(field(page, "network", "storage")).to_have_text(f"{status['storageUsed']} MB")
    cid = post(live_node.node, author_key, "pushed to the page")
    expect(message_item(page, cid)).to_contain_text("pushed to the page")
    on_board = live_node.node.get("/api/status").json()["boardMessages"]["general"]
    expect(field(page, "network", "messages")).to_have_text(f"{on_board} on general")
    expect(field(page, "connection", "messages")).to_have_text(f"{on_board} on general")


def test_reloading_the_dashboard_never_runs_into_the_read_rate_limit(
    ipfs_daemon, node_factory, browser
):
    """A page load fetches about ten modules at once; they are not counted as reads, so a
    person reloading (or opening several tabs) gets a whole page every time (with the
    default rate limits on, as a person runs the node)."""
    node = node_factory(
        ipfs_daemon.api_multiaddr, {"RATE_LIMITS": "", "LIVE_CLIENTS_PER_ADDRESS": ""}
    )
    refused: list[str] = []
    for _ in range(4):
        context = browser.new_context()
        try:
            page = context.new_page()
            page.on("response", lambda r: r.status == 429 and refused.append(r.url))
            open_dashboard(page, node)
            assert refused == []
        finally:
            context.close()


def test_the_message_count_is_the_shown_board_s(ipfs_daemon, node_factory, page, author_key):
    node = node_factory(ipfs_daemon.api_multiaddr, {"BOARDS": "general,other"})
    for i in range(2):
        post(node, author_key, f"elsewhere {i}", board="other")
    post(node, author_key, "here")
    assert node.get("/api/status").json()["messagesSynced"] == 3
    open_dashboard(page, node)
    expect(field(page, "network", "messages")).to_have_text("1 on general")
    page.fill("#board", "other")
    page.press("#board", "Enter")
    expect(field(page, "network", "messages")).to_have_text("2 on other")


def test_the_post_result_says_what_its_number_counts(live_node, page):
    open_dashboard(page, live_node.node)
    page.fill("#author", "Zoë")
    page.fill("#content", "how far did this go?")
    page.click("#post-button")
    expect(page.locator("#post-result")).to_contain_text("neighbour(s) of this node subscribed")
    expect(page.locator("#post-result")).not_to_contain_text("peer(s)")


def test_post_form_signs_in_the_browser_with_a_key_kept_there(live_node, page, author_key):
    open_dashboard(page, live_node.node)
    pubkey = page.locator("#user-key").get_attribute("data-pubkey")
    page.fill("#author", "Zoë")
    page.fill("#content", TYPED)
    page.click("#post-button")
    expect(page.locator("#post-result")).to_contain_text("Posted")
    item = page.locator("#messages li", has_text="Zoë").first
    expect(item).to_contain_text("😀 «»")
    cid = item.get_attribute("data-cid")
    stored = live_node.node.get(f"/api/messages/{cid}").json()["envelope"]
    assert stored["content"] == TYPED
    assert stored["pubkey"] == pubkey and stored["author"] == "Zoë"
    assert verify_envelope(stored)
    assert str(cid_for_bytes(canonical_bytes(stored))) == cid

    page.reload()
    expect(page.locator("#user-key")).to_have_attribute("data-pubkey", pubkey)
    expect(page.locator("#author")).to_have_value("Zoë")
    expect(message_item(page, cid)).to_be_visible()


def test_falls_back_to_polling_when_websocket_is_blocked(live_node, context, author_key):
    context.route_web_socket("**/ws?*", lambda ws: ws.close())
    page = context.new_page()
    open_dashboard(page, live_node.node)
    expect(page.locator("#connection")).to_have_attribute("data-state", "polling", timeout=15_000)
    expect(field(page, "connection", "state")).to_have_text("Live (HTTP polling)")
    for text in ["arrives by polling", "and the next one too"]:
        cid = post(live_node.node, author_key, text)
        expect(message_item(page, cid)).to_contain_text(text)
    expect(page.locator("#connection")).to_have_attribute("data-state", "polling")


CANONICAL_CASES = [
    {"content": TRICKY},
    {"b": 1, "a": [1, "x", None, True, False], "é": {"z": "", "A": -5}},
    {"\U0001d11e": 1, "\uffff": 2, "~": 3},
    {
        "v": 1,
        "type": "message",
        "board": "general",
        "content": TRICKY,
        "author": 'Zoë "Z" ✓',
        "ts": 1_764_000_000_000,
        "pubkey": "ab" * 32,
        "id": "c-1",
    },
]


def test_browser_canonical_bytes_equal_python_bytes(live_node, page):
    open_dashboard(page, live_node.node)
    for case in CANONICAL_CASES:
        in_browser = page.evaluate(
            """async (value) => {
                const { canonicalBytes } = await import("/client/canonical.js");
                return Array.from(canonicalBytes(value));
            }""",
            case,
        )
        assert bytes(in_browser) == canonical_bytes(case), json.dumps(case)


def test_browser_refuses_values_python_would_encode_differently(live_node, page):
    open_dashboard(page, live_node.node)
    refused = page.evaluate(
        """async () => {
            const { canonicalJson } = await import("/client/canonical.js");
            const values = [{ content: "a\\ud800b" }, { ts: 1.5 }, { ts: 2 ** 60 }];
            return values.map((value) => {
                try { canonicalJson(value); return null; } catch (error) { return error.name; }
            });
        }"""
    )
    assert refused == ["TypeError", "TypeError", "TypeError"]


def test_browser_signed_envelope_verifies_in_python(live_node, page):
    open_dashboard(page, live_node.node)
    envelope = page.evaluate(
        """async (content) => {
            const { signEnvelope, browserSigner } = await import("/client/signers.js");
            const unsigned = { v: 1, type: "message", board: "general", content,
                               author: "Zoë", ts: 1764000000000 };
            return signEnvelope(unsigned, browserSigner());
        }""",
        TRICKY,
    )
    assert envelope["content"] == TRICKY
    assert len(envelope["sig"]) == 128 and len(envelope["pubkey"]) == 64
    assert verify_envelope(envelope)
    assert not verify_envelope({**envelope, "content": TRICKY + " "})


def test_readable_on_a_phone_width_screen(live_node, browser, tmp_path, author_key):
    post(live_node.node, author_key, "a message, so that the list is not empty")
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    try:
        page = context.new_page()
        open_dashboard(page, live_node.node)
        expect(page.locator("#connection")).to_have_attribute("data-state", "websocket")
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0
        assert page.locator("#post-form").bounding_box()["width"] <= 390
        # The status cards come before the message list, not below all of it.
        network = page.locator("#network").bounding_box()
        messages = page.locator(".message-list").bounding_box()
        assert network["y"] + network["height"] <= messages["y"], (network, messages)
        assert page.locator("#post-form").bounding_box()["y"] < network["y"]
        expect(page.locator('#connection [data-action="retry"]')).to_be_hidden()
        page.screenshot(path=str(tmp_path / "phone.png"), full_page=True)
    finally:
        context.close()


def test_shows_offline_with_backoff_and_reconnects_when_the_node_is_back(
    ipfs_daemon, node_factory, page, author_key
):
    node = node_factory(ipfs_daemon.api_multiaddr)
    open_dashboard(page, node)
    connection = page.locator("#connection")
    expect(connection).to_have_attribute("data-state", "websocket")
    node.stop()
    expect(connection).to_have_attribute("data-state", "offline")
    expect(field(page, "connection", "detail")).to_have_text(re.compile(r"retry \d+ in \d+ s"))
    node.start()
    expect(connection).to_have_attribute("data-state", "websocket", timeout=20_000)
    cid = post(node, author_key, "back after a restart")
    expect(message_item(page, cid)).to_contain_text("back after a restart")
