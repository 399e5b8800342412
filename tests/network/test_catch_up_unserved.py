"""Peers that serve nothing cannot hold catch-up: four hostile daemons next to B announce, again
and again, heads nobody serves on every board B serves (a new CID each time, so each looks like
news). B still walks a new honest peer's chain as soon as it hears its head, and after a restart
it holds nothing of the hostile chains.

Before the bound, the twenty hostile chains (four peers, five boards) took the four walk slots
for a 10 s fetch each, ahead of the honest chain: ~50 s before its first page was fetched."""

import os
import threading
import time
from collections.abc import Iterator

import pytest

from crypto import cid_for_bytes
from node.protocol.announcement import head_announcement
from tests.support.history import history_envelopes, insert_history
from tests.support.network import (
    Network,
    message_cids,
    publish_raw,
    topic_peers,
    wait_subscribed,
)
from tests.support.processes import wait_until

BOARDS = ["general", "b1", "b2", "b3", "b4"]
HOSTILE = ["j1", "j2", "j3", "j4"]
BOUND_SECONDS = 20.0


@pytest.fixture(scope="module")
def unserved_network(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Network]:
    """Honest A (its node started by the test, not connected to B yet) and bare hostile daemons
    J1–J4 connected to B."""
    network = Network(tmp_path_factory.mktemp("unserved"))
    try:
        network.add_daemons(["a", "b", *HOSTILE])
        for name in HOSTILE:
            network.connect(name, "b")
        yield network
    finally:
        network.stop()


def announce_unserved(network: Network, stop: threading.Event) -> None:
    """Every hostile daemon announces a new head nobody serves on every board, twice a second."""
    while not stop.is_set():
        for name in HOSTILE:
            for board in BOARDS:
                head = cid_for_bytes(os.urandom(32))
                publish_raw(network.daemons[name], board, head_announcement(board, head))
        stop.wait(0.5)


def test_heads_nobody_serves_do_not_delay_a_new_honest_peer(unserved_network: Network):
    network = unserved_network
    a = network.start_node("a")
    history = insert_history(a.data_dir, history_envelopes(1_500, "honest among unserved"))
    b = network.start_node("b", {"BOARDS": ",".join(BOARDS)})
    wait_subscribed(b)
    b_peer = network.daemons["b"].peer_id
    for name in HOSTILE:
        for board in BOARDS:
            wait_until(
                lambda name=name, board=board: b_peer in topic_peers(network.daemons[name], board),
                20,
                what=f"{name} to know that B listens on {board}",
            )
    stop = threading.Event()
    hostile = threading.Thread(target=announce_unserved, args=(network, stop), daemon=True)
    hostile.start()
    try:
        catch_up = lambda: b.get("/api/status").json()["catchUp"]  # noqa: E731
        wait_until(
            lambda: all(catch_up()[board]["chains"] for board in BOARDS),
            20,
            what="B to hear the hostile heads first",
        )
        network.connect("a", "b")
        started = time.monotonic()
        wait_until(
            lambda: history <= message_cids(b), BOUND_SECONDS, interval=0.5, what="A's history"
        )
        elapsed = time.monotonic() - started
        status = catch_up()
    finally:
        stop.set()
        hostile.join(timeout=10)
    print(f"\nA's history at B {elapsed:.1f}s after A connected, hostile heads all along")
    assert sum(status[board]["chains"] for board in BOARDS) <= 16 + 1  # unproven bound, and A

    b.stop()
    b.start()
    wait_subscribed(b)
    wait_until(lambda: all(catch_up()[board]["caughtUp"] for board in BOARDS), 30, what="caught up")
    # A's chain at most (its head is heard again): none of the hostile ones came back.
    assert sum(catch_up()[board]["chains"] for board in BOARDS) <= 1
    assert history <= message_cids(b)
