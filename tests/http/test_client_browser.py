"""The client SDK in headless Chromium against real nodes, from a front end on another origin
(a plain static site): the ``<onusone-status>`` widget on a plain page, and the React hook in a
small React app three ways, all from npm (client/package-lock.json) and no CDN: bundled by
esbuild with React 19, and without any build step on React 18's UMD build (React 19 ships only
CommonJS, which no browser loads), either passing ``window.React`` to ``createUseOnusOne`` or
mapping ``react`` in an import map to a three-line module re-exporting it."""

import json
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest
from playwright.sync_api import BrowserContext, Page, Route, expect

from crypto import verify_envelope
from tests.http.conftest import NodeWithDaemon, field, post
from tests.support.js_runner import CLIENT_DIR
from tests.support.processes import NodeProcess
from tests.support.static_site import static_site

PROTOTYPE_FIELDS = (
    "isConnected isConnecting connectionError networkStatus peers peerCount"
    " connect disconnect broadcastMessage refreshNetworkInfo"
).split()

WIDGET_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>A board front end</title>
<style>
  body {{ font-family: sans-serif; background: #f4f5f7; margin: 0; padding: 16px; width: 380px; }}
  onusone-status {{ margin-bottom: 12px; }}
  #styled {{ --onusone-accent: rgb(200, 0, 100); }}
  #styled::part(state) {{ text-transform: uppercase; }}
</style>
<script type="module" src="{node}/client/widget.js"></script></head>
<body>
  <onusone-status id="full" node="{node}" board="general"></onusone-status>
  <onusone-status id="compact" node="{node}" board="general" compact></onusone-status>
  <onusone-status id="styled" node="{node}" board="general" compact manual></onusone-status>
</body></html>
"""

HOOK_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>React hook</title>
{head}</head>
<body><div id="root"></div></body></html>
"""
UMD_REACT = """<script src="node_modules/react18/umd/react.production.min.js"></script>
<script src="node_modules/react-dom18/umd/react-dom.production.min.js"></script>
"""
# How a page without a bundler uses the hook (docs/CLIENT.md, "The hook without a bundler").
HOOK_HEADS = {
    "bundled": '<script type="module" src="hook-bundled.js"></script>',
    "injected": UMD_REACT
    + """<script type="module">
  import { browserSigner } from "{node}/client/index.js";
  import { createUseOnusOne } from "{node}/client/react-factory.js";
  import { mountApp } from "./hook-app.js";
  const useOnusOne = createUseOnusOne(window.React);
  mountApp({ React, createRoot: ReactDOM.createRoot, useOnusOne, signer: browserSigner() });
</script>""",
    "import-map": UMD_REACT
    + """<script type="importmap">{"imports": {
  "react": "./react-global.js",
  "@onusone/client": "{node}/client/index.js",
  "@onusone/client/react": "{node}/client/react.js"
}}</script>
<script type="module">
  import * as React from "react";
  import { browserSigner } from "@onusone/client";
  import { useOnusOne } from "@onusone/client/react";
  import { mountApp } from "./hook-app.js";
  mountApp({ React, createRoot: ReactDOM.createRoot, useOnusOne, signer: browserSigner() });
</script>""",
}
REACT_MAJOR = {"bundled": "19", "injected": "18", "import-map": "18"}


def screenshot_path(tmp_path: Path, name: str) -> Path:
    """docs/<name> when UPDATE_SCREENSHOT=1 (so an ordinary run leaves tracked files alone)."""
    if os.environ.get("UPDATE_SCREENSHOT") == "1":
        return Path(__file__).resolve().parents[2] / "docs" / name
    return tmp_path / name


@pytest.fixture
def context(browser) -> Iterator[BrowserContext]:
    context = browser.new_context(viewport={"width": 420, "height": 900})
    yield context
    context.close()


@pytest.fixture
def site(tmp_path) -> Iterator[tuple[Path, str]]:
    """A front end's own origin: a folder and the URL of the static server serving it."""
    folder = tmp_path / "site"
    folder.mkdir()
    with static_site(folder) as url:
        yield folder, url


def widget_page(context: BrowserContext, site: tuple[Path, str], node: NodeProcess) -> Page:
    folder, url = site
    (folder / "widget.html").write_text(WIDGET_PAGE.format(node=node.url))
    page = context.new_page()
    page.goto(f"{url}/widget.html")
    return page


@pytest.fixture
def on_live_node(context, site, live_node) -> Page:
    return widget_page(context, site, live_node.node)


def test_widget_shows_the_node_status_and_follows_new_messages(live_node, on_live_node, author_key):
    page = on_live_node
    for widget in ("full", "compact"):
        expect(page.locator(f"#{widget}")).to_have_attribute("data-state", "websocket")
        expect(field(page, widget, "state")).to_have_text("Live (WebSocket)")
    status = live_node.node.get("/api/status").json()
    expect(field(page, "full", "nodeId")).to_have_text(status["nodeId"])
    expect(field(page, "full", "storage")).to_have_text(f"{status['storageUsed']} MB")
    expect(field(page, "compact", "health")).to_have_text(status["networkHealth"])
    expect(field(page, "compact", "peers")).to_have_text(str(status["connectedPeers"]))
    # The node reports catch-up per board (issue 13): the widget shows it as reported.
    assert "general" in status["catchUp"]
    expect(field(page, "full", "catchup")).to_contain_text("general")

    post(live_node.node, author_key, "counted by the widget")
    on_board = live_node.node.get("/api/status").json()["boardMessages"]["general"]
    for widget in ("full", "compact"):
        expect(field(page, widget, "messages")).to_have_text(f"{on_board} on general")
    expect(field(page, "full", "nodeId")).to_be_visible()
    expect(field(page, "compact", "nodeId")).to_be_hidden()


def test_widget_connects_and_disconnects_from_the_keyboard(on_live_node):
    page = on_live_node
    compact = page.locator("#compact")
    expect(compact).to_have_attribute("data-state", "websocket")
    expect(compact.get_by_role("region", name="Network status")).to_be_visible()
    expect(compact.get_by_role("status")).to_have_text("Live (WebSocket)")
    toggle = compact.get_by_role("button", name="Disconnect")
    toggle.focus()
    page.keyboard.press("Enter")
    expect(compact).to_have_attribute("data-state", "disconnected")
    expect(compact.get_by_role("status")).to_have_text("Disconnected")
    connect = compact.get_by_role("button", name="Connect")
    expect(connect).to_be_focused()
    page.keyboard.press("Space")
    expect(compact).to_have_attribute("data-state", "websocket")
    expect(page.locator("#full")).to_have_attribute("data-state", "websocket")


def test_widget_is_styled_from_outside_and_waits_when_manual(on_live_node):
    page = on_live_node
    styled = page.locator("#styled")
    expect(styled).to_have_attribute("data-state", "disconnected")
    button = styled.get_by_role("button", name="Connect")
    assert button.evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(200, 0, 100)"
    state = field(page, "styled", "state")
    assert state.evaluate("s => getComputedStyle(s).textTransform") == "uppercase"
    button.click()
    expect(styled).to_have_attribute("data-state", "websocket")


def test_widget_renders_catch_up_per_board_when_the_node_reports_it(live_node, context, site):
    """The node's own /api/status answer, with the catchUp field that nodes with issue 13's
    catch-up progress add (`{"<board>": {caughtUp, pagesPending, messagesPending, rate}}`)."""

    def with_catch_up(route: Route) -> None:
        answer = route.fetch()
        status = answer.json()
        status["catchUp"] = {
            "general": {"caughtUp": True, "pagesPending": 0, "messagesPending": 0, "rate": 0.0},
            "news": {"caughtUp": False, "pagesPending": 3, "messagesPending": None, "rate": 41.6},
        }
        route.fulfill(response=answer, body=json.dumps(status))

    context.route(re.compile(r".*/api/status$"), with_catch_up)
    page = widget_page(context, site, live_node.node)
    box = field(page, "full", "catchup")
    expect(box.locator('li[data-board="general"]')).to_have_text("general: caught up")
    expect(box.locator('li[data-board="news"]')).to_have_text(
        "news: catching up: 3 page(s) pending · 42 msg/s"
    )


def test_widget_counts_down_to_its_next_retry_while_the_node_is_down(
    ipfs_daemon, node_factory, context, site
):
    node = node_factory(ipfs_daemon.api_multiaddr)
    page = widget_page(context, site, node)
    full = page.locator("#full")
    expect(full).to_have_attribute("data-state", "websocket")
    node.stop()
    expect(full).to_have_attribute("data-state", "offline")
    expect(field(page, "full", "state")).to_have_text("Offline")
    detail = field(page, "full", "detail")
    expect(detail).to_have_text(re.compile(r"retry [2-9] in \d+ s"), timeout=15_000)
    # "Retry now" tries at once and starts the backoff over (the node is still down).
    full.get_by_role("button", name="Retry now").click()
    expect(detail).to_have_text(re.compile(r"retry 1 in \d+ s"))
    node.start()
    expect(full).to_have_attribute("data-state", "websocket", timeout=20_000)
    expect(full.get_by_role("button", name="Retry now")).to_be_hidden()


def test_widget_full_and_compact_views_with_peers(node_pair, context, site, tmp_path):
    here, there = node_pair
    page = widget_page(context, site, here.node)
    full = page.locator("#full")
    expect(full).to_have_attribute("data-state", "websocket")
    peer = full.locator(f'li[data-peer="{there.daemon.peer_id}"]')
    expect(peer).to_contain_text("reputation")
    expect(peer.get_by_role("meter")).to_have_attribute("aria-valuenow", re.compile(r"^\d+$"))
    expect(field(page, "compact", "peers")).not_to_have_text("0")
    page.locator("#styled").evaluate("el => el.remove()")
    shots = {
        "body": screenshot_path(tmp_path, "status-widget.png"),
        "#compact": tmp_path / "status-widget-compact.png",
    }
    for selector, shot in shots.items():
        page.locator(selector).screenshot(path=shot)
        assert shot.stat().st_size > 3_000


@pytest.fixture(scope="module")
def hook_bundle(tmp_path_factory) -> Path:
    """The React test app bundled by esbuild from client/node_modules (React 19)."""
    bundle = tmp_path_factory.mktemp("hook-bundle") / "hook-bundled.js"
    subprocess.run(
        [
            str(CLIENT_DIR / "node_modules" / ".bin" / "esbuild"),
            "test/browser/hook-bundled.js",
            "--bundle",
            "--format=esm",
            '--define:process.env.NODE_ENV="production"',
            f"--outfile={bundle}",
            "--log-level=warning",
        ],
        cwd=CLIENT_DIR,
        check=True,
        timeout=60,
    )
    return bundle


@pytest.fixture(params=list(HOOK_HEADS))
def hook_site(request, site, hook_bundle) -> tuple[str, Path, str]:
    """A front end's site for the React test app, one way of loading React: (way, folder, URL).
    ``node_modules/`` is client/node_modules itself, as a site without a build step serves it."""
    folder, url = site
    (folder / "hook-bundled.js").symlink_to(hook_bundle)
    (folder / "hook-app.js").symlink_to(CLIENT_DIR / "test" / "browser" / "hook-app.js")
    (folder / "react-global.js").symlink_to(CLIENT_DIR / "test" / "browser" / "react-global.js")
    (folder / "node_modules").symlink_to(CLIENT_DIR / "node_modules")
    return request.param, folder, url


def open_hook_page(
    context: BrowserContext, hook_site: tuple[str, Path, str], pair: NodeWithDaemon
) -> Page:
    """The app on its page, connected; every request it made went to 127.0.0.1 (no CDN)."""
    way, folder, url = hook_site
    head = HOOK_HEADS[way].replace("{node}", pair.node.url)
    (folder / "hook.html").write_text(HOOK_PAGE.replace("{head}", head))
    page = context.new_page()
    hosts: set[str] = set()
    page.on("request", lambda request: hosts.add(urlparse(request.url).hostname or ""))
    page.goto(f"{url}/hook.html?node={pair.node.url}")
    expect(page.locator("#app")).to_have_attribute("data-connected", "true")
    expect(page.locator("#react-version")).to_have_text(re.compile(rf"^{REACT_MAJOR[way]}\."))
    assert hosts == {"127.0.0.1"}, hosts
    return page


def test_react_hook_gives_the_prototype_fields_from_a_real_node(node_pair, context, hook_site):
    here, there = node_pair
    page = open_hook_page(context, hook_site, here)
    status = here.node.get("/api/status").json()
    expect(page.locator("#node-id")).to_have_text(status["nodeId"])
    expect(page.locator("#health")).to_have_text(status["networkHealth"])
    expect(page.locator("#peer-count")).to_have_text(str(status["connectedPeers"]))
    expect(page.locator("#peers")).to_contain_text(f"{there.daemon.peer_id}:")
    fields = page.locator("#fields").text_content().split()
    assert set(PROTOTYPE_FIELDS) <= set(fields), fields


def test_react_hook_broadcasts_signed_in_the_browser_and_streams_the_board(
    node_pair, context, hook_site, author_key
):
    here, there = node_pair
    page = open_hook_page(context, hook_site, here)
    cid = post(there.node, author_key, "from the other node, into React")
    expect(page.locator(f'#messages li[data-cid="{cid}"]')).to_have_text(
        "alice: from the other node, into React"
    )

    page.fill("#text", "sent with broadcastMessage ✓")
    page.click("#send")
    expect(page.locator("#result")).to_have_text(re.compile(r"^baf"))
    sent = page.locator("#result").text_content()
    expect(page.locator(f'#messages li[data-cid="{sent}"]')).to_have_text(
        "hook-user: sent with broadcastMessage ✓"
    )
    stored = here.node.get(f"/api/messages/{sent}").json()["envelope"]
    assert stored["author"] == "hook-user" and verify_envelope(stored)

    page.click("#send-bad")
    expect(page.locator("#result")).to_have_text("failed")
    expect(page.locator("#error")).to_have_text(re.compile(r"^BadRequestError \w+"))

    page.click("#disconnect")
    expect(page.locator("#app")).to_have_attribute("data-connected", "false")
    page.click("#connect")
    expect(page.locator("#app")).to_have_attribute("data-connected", "true")
    expect(page.locator("#error")).to_have_text("")


@pytest.mark.parametrize("hook_site", ["injected"], indirect=True)
def test_react_hook_shows_a_rate_limited_broadcast_as_a_typed_error(
    ipfs_daemon, node_factory, context, hook_site
):
    """A node whose post limit is one a minute: the second broadcastMessage resolves to false
    and connectionError is the RateLimitedError, in a page without a build step."""
    node = node_factory(
        ipfs_daemon.api_multiaddr, {"RATE_LIMITS": "on", "RATE_LIMIT_ADDRESS": "1/minute"}
    )
    page = open_hook_page(context, hook_site, NodeWithDaemon(node, ipfs_daemon))
    page.fill("#text", "the one post this minute")
    page.click("#send")
    expect(page.locator("#result")).to_have_text(re.compile(r"^baf"))
    page.click("#send")
    expect(page.locator("#result")).to_have_text("failed")
    expect(page.locator("#error")).to_have_text("RateLimitedError rate_limited")
