"""Fixtures for the live board: one node (and its daemon) shared by the package, a node whose
daemon is down, a pair of nodes on two connected daemons, headless Chromium, and helpers."""

import asyncio
import json
import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import websockets
from playwright.sync_api import Locator, Page, expect

from crypto import NodeKey
from node.runtime.local_ipfs import LocalIpfsDaemon
from node.runtime.ports import free_port
from tests.conftest import signed_envelope
from tests.support.browser import local_chromium
from tests.support.daemons import start_daemon
from tests.support.network import wait_mesh, wait_subscribed
from tests.support.processes import NodeProcess, connect_daemons

HEX64 = re.compile(r"^[0-9a-f]{64}$")


LIVE_BOARDS = "general,flood,idle,news,poll-pages,poll-slot"


@dataclass
class NodeWithDaemon:
    node: NodeProcess
    daemon: LocalIpfsDaemon

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.node.port}/ws"


@pytest.fixture(scope="package")
def live_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NodeWithDaemon]:
    root = tmp_path_factory.mktemp("live")
    daemon = start_daemon(root / "ipfs")
    # The boards the tests of this package post to (a node serves only its BOARDS).
    node = NodeProcess(root / "node", daemon.api_multiaddr, {"BOARDS": LIVE_BOARDS})
    try:
        yield NodeWithDaemon(node.start(), daemon)
    finally:
        node.stop()
        daemon.stop()


@pytest.fixture(scope="module")
def offline_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NodeProcess]:
    """A node whose daemon is down: it accepts posts into its outbox (202) and streams them."""
    node = NodeProcess(
        tmp_path_factory.mktemp("offline"),
        f"/ip4/127.0.0.1/tcp/{free_port()}/http",
        {"BOARDS": LIVE_BOARDS},
    )
    try:
        yield node.start()
    finally:
        node.stop()


@pytest.fixture(scope="module")
def node_pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[NodeWithDaemon]]:
    """Two nodes on two connected daemons, with pubsub on the board proven to work."""
    root = tmp_path_factory.mktemp("pair")
    started: list[Any] = []
    try:
        daemons = [start_daemon(root / f"ipfs-{i}") for i in range(2)]
        started += daemons
        connect_daemons(daemons[0], daemons[1])
        nodes = [NodeProcess(root / f"node-{i}", d.api_multiaddr) for i, d in enumerate(daemons)]
        for node in nodes:
            started.append(node.start())
        pair = [NodeWithDaemon(node, daemon) for node, daemon in zip(nodes, daemons, strict=True)]
        for node in nodes:
            wait_subscribed(node)
        wait_mesh(daemons[0], [daemons[1]])
        wait_mesh(daemons[1], [daemons[0]])
        yield pair
    finally:
        for thing in reversed(started):
            thing.stop()


@pytest.fixture(scope="module")
def browser():
    """Per module, and only in modules of plain (sync) tests: Playwright's sync API runs its
    own event loop, which must not be alive while pytest-asyncio runs another."""
    with local_chromium() as chromium:
        yield chromium


@pytest.fixture
def author_key() -> NodeKey:
    return NodeKey.generate()


def post(node: NodeProcess, key: NodeKey, content: str, board: str = "general") -> str:
    response = node.post("/api/broadcast", json=signed_envelope(key, content, board=board))
    assert response.status_code in (200, 202), response.text
    return response.json()["cid"]


async def next_event(ws: Any, kind: str, timeout: float = 10.0) -> dict[str, Any]:
    """The next event of ``kind``, skipping others (status, ping)."""
    deadline = time.monotonic() + timeout
    while True:
        event = json.loads(await asyncio.wait_for(ws.recv(), deadline - time.monotonic()))
        if event["type"] == kind:
            return event


async def hello(url: str, **params: str) -> tuple[Any, dict[str, Any]]:
    query = "&".join(f"{key}={value}" for key, value in {"board": "general", **params}.items())
    ws = await websockets.connect(f"{url}?{query}")
    first = json.loads(await asyncio.wait_for(ws.recv(), 10))
    assert first["type"] == "hello", first
    return ws, first


def open_dashboard(page: Page, node: NodeProcess) -> None:
    """Load the dashboard and wait until the browser has its Ed25519 key."""
    page.goto(node.url + "/")
    expect(page.locator("#user-key")).to_have_attribute("data-pubkey", HEX64)


def field(page: Page, widget: str, name: str) -> Locator:
    """A value shown by the ``<onusone-status id=widget>`` status widget (inside its shadow
    root, which Playwright's CSS locators pierce)."""
    return page.locator(f'#{widget} [data-field="{name}"]')


def message_item(page: Page, cid: str) -> Locator:
    return page.locator(f'#messages li[data-cid="{cid}"]')


def dashboard_path(tmp_path: Path) -> Path:
    """docs/API.md's screenshot (docs/dashboard.png) when UPDATE_SCREENSHOT=1, so that an
    ordinary test run does not rewrite a tracked file; a temporary file otherwise."""
    if os.environ.get("UPDATE_SCREENSHOT") == "1":
        return Path(__file__).resolve().parents[2] / "docs" / "dashboard.png"
    return tmp_path / "dashboard.png"
