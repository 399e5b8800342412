"""Catch-up that never gives up: a node that missed thousands of messages gets every one of
them (the oldest included), also when it is killed in the middle, and a brand-new node gets the
whole history. Before frontiers, a walk stopped after SYNC_DEPTH pages (20 x 256 messages) and
the older pages were never fetched.

The history is written straight into A's running index (``insert_history``): A adds it to its
head chain like any message it accepted, and nothing is announced, so the others have missed it.

Bound: 6,000 messages are 24 pages. Measured here (js-ipfs, 2 busy cores) B lists all of them
3-6 s after its process starts (about a second of that is start-up and the hello exchange); the
tests allow ``BOUND_SECONDS`` = 60 s, room for a page fetch that hits its 10 s timeout and is
retried, on a machine shared with other test runs.
"""

import os
import signal
import time
from collections.abc import Callable, Iterator

import pytest

from crypto import canonical_bytes, cid_for_bytes
from node.protocol.manifest import PAGE_MESSAGES
from tests.support.history import history_envelopes, insert_history
from tests.support.network import Network, message_cids, start_network, wait_subscribed
from tests.support.processes import NodeProcess, wait_until

SEEN = 100
MISSED = 6_000
BOUND_SECONDS = 60.0
# One board per test: each test's history is its own, whatever ran before it.
BOARDS = {"missed": "missed", "killed": "killed", "joined": "joined"}


@pytest.fixture(scope="module")
def star(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Network]:
    """A node on A; bare daemons B and C connected to A, for the nodes the tests start."""
    network = start_network(
        tmp_path_factory.mktemp("catch-up"),
        ["a", "b", "c"],
        [("a", "b"), ("a", "c")],
        ["a"],
        {"a": {"BOARDS": ",".join(BOARDS.values())}},
    )
    try:
        yield network
    finally:
        network.stop()


@pytest.fixture
def start(star: Network) -> Iterator[Callable[..., NodeProcess]]:
    """``start(daemon, board, env)``: a node process on one of the bare daemons serving one
    board, with a data dir of its own (per board), stopped when the test ends."""
    started: list[NodeProcess] = []

    def start_node(daemon: str, board: str, env: dict[str, str] | None = None) -> NodeProcess:
        api = star.daemons[daemon].api_multiaddr
        env = {**star.env, "BOARDS": board, **(env or {})}
        node = NodeProcess(star.root / f"node-{daemon}-{board}", api, env)
        started.append(node)
        node.start(timeout=60)
        wait_subscribed(node)
        return node

    yield start_node
    for node in started:
        node.stop()


def kill(node: NodeProcess) -> None:
    """SIGKILL, no shutdown: what the node saved is all it has."""
    process = node.process
    assert process is not None
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)
    node.process = None


def catch_up_status(node: NodeProcess) -> dict:
    (board,) = node.get("/api/status").json()["catchUp"].values()
    return board


def wait_complete(node: NodeProcess, board: str, cids: set[bytes], since: float) -> float:
    """Until the node says it is caught up and counts at least as many messages (cheap to ask:
    listing thousands of messages on every poll would slow the node down), then check that it
    lists every one of them. Returns the seconds since ``since``."""
    wait_until(
        lambda: (
            (status := node.get("/api/status").json())["catchUp"][board]["caughtUp"]
            and status["messagesSynced"] >= len(cids)
        ),
        BOUND_SECONDS,
        interval=0.2,
        what="the node to be caught up",
    )
    elapsed = time.monotonic() - since
    assert cids <= message_cids(node, board)
    return elapsed


def miss(network: Network, node: NodeProcess, board: str) -> tuple[set[bytes], bytes]:
    """Give A and ``node`` a few messages, stop ``node``, give A ``MISSED`` messages it never
    hears of; returns those and the oldest one's CID."""
    a = network.nodes["a"]
    insert_history(a.data_dir, history_envelopes(SEEN, "seen by both", board))
    wait_complete(node, board, message_cids(a, board), time.monotonic())
    node.stop()
    envelopes = history_envelopes(MISSED, "missed", board)
    missed = insert_history(network.nodes["a"].data_dir, envelopes)
    return missed, cid_for_bytes(canonical_bytes(envelopes[0])).to_bytes()


def test_node_that_missed_6000_messages_gets_every_one(star: Network, start):
    board = BOARDS["missed"]
    b = start("b", board)
    missed, oldest = miss(star, b, board)

    started = time.monotonic()
    b.start(timeout=60)
    elapsed = wait_complete(b, board, missed, started)
    print(f"\n{MISSED} missed messages complete {elapsed:.1f}s after the process started")
    assert oldest in message_cids(b, board)
    status = catch_up_status(b)
    assert status["pagesPending"] == 0 and status["messagesPending"] == 0
    assert status["pagesWalked"] >= MISSED // 256


def test_node_killed_in_the_middle_of_catching_up_resumes_from_its_frontier(star: Network, start):
    board = BOARDS["killed"]
    b = start("b", board)
    missed, oldest = miss(star, b, board)
    pages = -(-(SEEN + MISSED) // PAGE_MESSAGES)  # A's chain: full pages and the open one

    # Back on the same data dir at 3 pages a second: 24 pages take ~8 s, time to kill it.
    b = start("b", board, {"SYNC_RATE": "3"})
    walked_before = wait_until(
        lambda: (walked := catch_up_status(b)["pagesWalked"]) >= 4 and walked,
        BOUND_SECONDS,
        what="B to be part-way through",
    )
    assert not catch_up_status(b)["caughtUp"], "B finished before it could be killed"
    kill(b)

    started = time.monotonic()
    b = start("b", board)  # the same data dir, at the default rate
    elapsed = wait_complete(b, board, missed, started)
    print(f"\nafter SIGKILL: complete {elapsed:.1f}s after the restart")
    assert oldest in message_cids(b, board)
    walked_after = catch_up_status(b)["pagesWalked"]
    # The second process walked only what the first had not: no restart from the head. One
    # page more at most: A adds to its chain in rounds (4,096 messages each), so the head the
    # first process walked may have been open then, and sealed (a new page) since.
    assert walked_after + walked_before <= pages + 1, (walked_before, walked_after, pages)


def test_brand_new_node_gets_the_whole_history(star: Network, start):
    board, a = BOARDS["joined"], star.nodes["a"]
    insert_history(a.data_dir, history_envelopes(2_000, "before C existed", board))
    history = message_cids(a, board)
    started = time.monotonic()
    c = start("c", board)
    elapsed = wait_complete(c, board, history, started)
    print(f"\nnew node, {len(history)} messages: {elapsed:.1f}s")
    assert message_cids(c, board) == message_cids(a, board)
