"""Nodes with the open-network limits on (the suite's default turns rate limits off)."""

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from node.network.ingest import Ingestor
from node.network.peerbook import PeerBook
from node.network.replicator import Replicator
from node.runtime.ports import free_port
from node.toolkit.events import MessageBus
from storage.ipfs import IpfsClient
from storage.sqlite.store import SqliteStore
from tests.support.processes import NodeProcess

# Empty means "not set": the node's own defaults, which have every limit on.
ON = {"RATE_LIMITS": "", "LIVE_CLIENTS_PER_ADDRESS": ""}


@pytest.fixture
def offline_factory(tmp_path: Path) -> Iterator[Callable[..., NodeProcess]]:
    """Nodes whose daemon address answers nothing: posts are accepted into the outbox (202),
    which is all an input or limit test needs, without a daemon to start."""
    started: list[NodeProcess] = []

    def start(env: dict[str, str] | None = None) -> NodeProcess:
        api = f"/ip4/127.0.0.1/tcp/{free_port()}/http"
        node = NodeProcess(tmp_path / f"node-{len(started)}", api, {**ON, **(env or {})})
        started.append(node)
        return node.start()

    yield start
    for node in started:
        node.stop()


def from_address(node: NodeProcess, address: str) -> httpx.Client:
    """An HTTP client whose requests leave from ``address`` (any 127.0.0.x on Linux)."""
    transport = httpx.HTTPTransport(local_address=address)
    return httpx.Client(base_url=node.url, transport=transport, timeout=30)


@pytest.fixture
def ingest(tmp_path):
    """An in-process ingestor serving the board ``general``, on a real SQLite file."""
    store = SqliteStore(tmp_path / "index.sqlite3")
    replicator = Replicator(store.messages, IpfsClient("http://127.0.0.1:9"))
    ingestor = Ingestor(
        store.messages, MessageBus(), PeerBook(store.peers), replicator, boards=["general"]
    )
    yield ingestor
    store.close()
