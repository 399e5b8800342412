"""Multi-node networks of real IPFS daemons (Kubo, js-ipfs or both) and real node processes,
in any topology.

Used by the network tests, the benchmarks and the dashboard tests: ``start_network`` starts the
daemons (concurrently), connects the given edges, starts one node per daemon, and ``stop``
stops every node and daemon it started, by PID. Everything listens on 127.0.0.1 only.
"""

import base64
import contextlib
import json
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from crypto import parse_cid
from node.protocol.announcement import parse_announcement, topic_for
from node.runtime.local_ipfs import LocalIpfsDaemon
from storage.multibase import decode_u
from tests.support.daemons import new_daemon
from tests.support.processes import NodeProcess, connect_daemons, wait_until

# Small intervals so that catch-up happens within a test's patience.
NODE_ENV = {"HEAD_INTERVAL": "1", "SYNC_DEPTH": "20"}


@dataclass
class Network:
    root: Path
    env: dict[str, str] = field(default_factory=lambda: dict(NODE_ENV))
    daemons: dict[str, LocalIpfsDaemon] = field(default_factory=dict)
    nodes: dict[str, NodeProcess] = field(default_factory=dict)

    def add_daemons(self, names: list[str], kinds: dict[str, str] | None = None) -> None:
        """Start daemons concurrently (js-ipfs takes seconds to boot), each of the session's
        implementation unless ``kinds`` names another for it (a mixed network)."""
        for name in names:
            kind = (kinds or {}).get(name)
            self.daemons[name] = new_daemon(self.root / f"ipfs-{name}", kind)
        with ThreadPoolExecutor(max_workers=len(names) or 1) as pool:
            list(pool.map(lambda name: self.daemons[name].start(), names))

    def connect(self, a: str, b: str) -> None:
        connect_daemons(self.daemons[a], self.daemons[b])

    def start_node(self, name: str, env: dict[str, str] | None = None) -> NodeProcess:
        api = self.daemons[name].api_multiaddr
        node = NodeProcess(self.root / f"node-{name}", api, {**self.env, **(env or {})})
        self.nodes[name] = node
        return node.start()

    def stop(self) -> None:
        for node in self.nodes.values():
            node.stop()
        for daemon in self.daemons.values():
            daemon.stop()


def start_network(
    root: Path,
    names: list[str],
    edges: list[tuple[str, str]],
    node_names: list[str] | None = None,
    node_env: dict[str, dict[str, str]] | None = None,
) -> Network:
    """Daemons ``names`` connected along ``edges``, with a node on each of ``node_names``
    (default: every daemon), each node subscribed before this returns."""
    network = Network(root)
    try:
        network.add_daemons(names)
        for a, b in edges:
            network.connect(a, b)
        for name in names if node_names is None else node_names:
            network.start_node(name, (node_env or {}).get(name))
        for node in network.nodes.values():
            wait_subscribed(node)
    except BaseException:
        network.stop()
        raise
    return network


def wait_subscribed(node: NodeProcess, timeout: float = 20.0) -> dict[str, str]:
    def states() -> dict[str, str] | None:
        subscriptions = node.get("/api/status").json()["subscriptions"]
        ok = subscriptions and all(s == "subscribed" for s in subscriptions.values())
        return subscriptions if ok else None

    return wait_until(states, timeout, what="the node's subscriptions")


def topic_peers(daemon: LocalIpfsDaemon, board: str = "general") -> set[str]:
    response = httpx.post(
        f"{daemon.api_url}/api/v0/pubsub/peers", params={"arg": u_topic(board)}, timeout=10
    )
    response.raise_for_status()
    return set(response.json().get("Strings") or [])


def wait_mesh(daemon: LocalIpfsDaemon, peers: list[LocalIpfsDaemon], timeout: float = 20.0):
    """Until ``daemon`` sees each of ``peers`` subscribed to the board topic."""
    wanted = {p.peer_id for p in peers}
    return wait_until(
        lambda: wanted <= topic_peers(daemon), timeout, what=f"pubsub peers {sorted(wanted)}"
    )


def u_topic(board: str) -> str:
    return "u" + base64.urlsafe_b64encode(topic_for(board).encode()).rstrip(b"=").decode()


def publish_raw(daemon: LocalIpfsDaemon, board: str, data: bytes) -> None:
    """Publish bytes on a board topic straight through a daemon's RPC, as any peer could."""
    response = httpx.post(
        f"{daemon.api_url}/api/v0/pubsub/pub",
        params={"arg": u_topic(board)},
        files={"file": ("data", data, "application/octet-stream")},
        timeout=10,
    )
    response.raise_for_status()


@contextlib.contextmanager
def raw_subscription(daemon: LocalIpfsDaemon, board: str = "general") -> Iterator[list[str]]:
    """Keep a bare daemon subscribed to a board (as any peer on it would be), no node needed;
    yields the list the lines it receives are appended to."""
    client = httpx.Client(timeout=httpx.Timeout(None, connect=5))
    opened = threading.Event()
    received: list[str] = []

    def hold() -> None:
        url = f"{daemon.api_url}/api/v0/pubsub/sub"
        with contextlib.suppress(httpx.HTTPError):
            with client.stream("POST", url, params={"arg": u_topic(board)}) as response:
                opened.set()
                for line in response.iter_lines():
                    received.append(line)

    thread = threading.Thread(target=hold, daemon=True)
    thread.start()
    try:
        assert opened.wait(10), "the daemon did not open the subscription"
        yield received
    finally:
        client.close()
        thread.join(timeout=5)


def heard_messages(lines: list[str], board: str = "general") -> set[bytes]:
    """CIDs (as bytes) of the message announcements among a raw subscription's lines."""
    cids: set[bytes] = set()
    for line in list(lines):
        raw = json.loads(line) if line.strip() else {}
        if "data" not in raw:
            continue  # the daemon's first, empty line
        announcement = parse_announcement(decode_u(raw["data"]), board)
        if announcement.kind == "message" and announcement.cid is not None:
            cids.add(announcement.cid.to_bytes())
    return cids


def pinned(daemon: LocalIpfsDaemon) -> set[bytes]:
    """Recursive pins as CID bytes (js-ipfs prints base58btc, the API base32)."""
    response = httpx.post(
        f"{daemon.api_url}/api/v0/pin/ls", params={"type": "recursive"}, timeout=10
    )
    response.raise_for_status()
    return {parse_cid(key).to_bytes() for key in response.json()["Keys"]}


def swarm_peer_ids(daemon: LocalIpfsDaemon) -> set[str]:
    response = httpx.post(f"{daemon.api_url}/api/v0/swarm/peers", timeout=10)
    response.raise_for_status()
    return {p["Peer"] for p in response.json().get("Peers") or []}


def message_cids(node: NodeProcess, board: str = "general") -> set[bytes]:
    """Every message CID the node serves on a board (following pages), as bytes."""
    found: set[bytes] = set()
    params = {"board": board, "limit": "200"}
    while True:
        body = node.get("/api/messages", params=params).json()
        found.update(parse_cid(m["cid"]).to_bytes() for m in body["messages"])
        if not body["nextCursor"]:
            return found
        params["before"] = body["nextCursor"]
