"""Fixtures for real components: IPFS daemons on 127.0.0.1 (Kubo by default, js-ipfs with
``--daemon=jsipfs``), node processes, keys.

Every daemon and node a test starts is stopped by the fixture that started it, by its PID.
"""

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from crypto import NodeKey, sign_envelope
from node.protocol.envelope import now_ms
from node.runtime.local_ipfs import LocalIpfsDaemon
from tests.support import daemons
from tests.support.processes import UNLIMITED, NodeProcess

# The same for apps the tests build in-process (the Lambda handler, schemathesis' app).
for _name, _value in UNLIMITED.items():
    os.environ.setdefault(_name, _value)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--daemon",
        choices=daemons.KINDS,
        default=None,
        help="IPFS daemon implementation for the integration tests (default: kubo)",
    )


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("--daemon"):
        daemons.default_kind = config.getoption("--daemon")


def pytest_report_header(config: pytest.Config) -> str:
    return f"ipfs daemon: {daemons.default_kind}"


@pytest.fixture
def daemon_factory(tmp_path: Path) -> Iterator[Callable[..., LocalIpfsDaemon]]:
    """``start(kind=None)``: a started daemon of the session's implementation, or of ``kind``."""
    started: list[LocalIpfsDaemon] = []

    def start(kind: str | None = None) -> LocalIpfsDaemon:
        daemon = daemons.new_daemon(tmp_path / f"ipfs-{len(started)}", kind)
        started.append(daemon)
        return daemon.start()

    yield start
    for daemon in started:
        daemon.stop()


@pytest.fixture
def ipfs_daemon(daemon_factory: Callable[[], LocalIpfsDaemon]) -> LocalIpfsDaemon:
    return daemon_factory()


@pytest.fixture
def node_factory(tmp_path: Path) -> Iterator[Callable[..., NodeProcess]]:
    started: list[NodeProcess] = []

    def start(ipfs_api: str, env: dict[str, str] | None = None, name: str = "") -> NodeProcess:
        node = NodeProcess(tmp_path / (name or f"node-{len(started)}"), ipfs_api, env)
        started.append(node)
        return node.start()

    yield start
    for node in started:
        node.stop()


@pytest.fixture
def user_key() -> NodeKey:
    return NodeKey.generate()


def signed_envelope(key: NodeKey, content: str = "hello", board: str = "general", **extra) -> dict:
    unsigned = {
        "v": 1,
        "type": "message",
        "board": board,
        "content": content,
        "author": "alice",
        "ts": now_ms(),
        **extra,
    }
    return sign_envelope(unsigned, key)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test outside tests/unit talks to real daemons and servers: ``-m integration``
    selects them, ``-m "not integration"`` runs the in-process tests alone."""
    unit = Path(__file__).parent / "unit"
    for item in items:
        if unit not in item.path.parents:
            item.add_marker(pytest.mark.integration)
