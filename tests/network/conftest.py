"""Multi-node fixtures: real daemons (Kubo by default) wired in a topology, one node process on
each.

Module-scoped (a network takes seconds to start); each test posts its own messages and checks
for those, so the tests of a module share one network without depending on each other's data.
"""

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.network import (
    Network,
    raw_subscription,
    start_network,
    wait_mesh,
    wait_subscribed,
)


@pytest.fixture(scope="module")
def line_network(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Network]:
    """A–B–C in a line (A and C not connected), a node on each daemon."""
    root: Path = tmp_path_factory.mktemp("line")
    network = start_network(root, ["a", "b", "c"], [("a", "b"), ("b", "c")])
    try:
        daemons = network.daemons
        wait_mesh(daemons["b"], [daemons["a"], daemons["c"]])
        wait_mesh(daemons["a"], [daemons["b"]])
        wait_mesh(daemons["c"], [daemons["b"]])
        yield network
    finally:
        network.stop()


@pytest.fixture(scope="module")
def guarded_network(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Network]:
    """Nodes on A and B, B dialling A only through ``PEERS``; J is a bare daemon next to B,
    subscribed to the board like any peer, that the tests use as a hostile peer."""
    network = Network(tmp_path_factory.mktemp("guarded"))
    try:
        network.add_daemons(["a", "b", "j"])
        network.connect("j", "b")
        with raw_subscription(network.daemons["j"]):
            network.start_node("a")
            network.start_node("b", {"PEERS": network.daemons["a"].swarm_multiaddr})
            for node in network.nodes.values():
                wait_subscribed(node)
            daemons = network.daemons
            wait_mesh(daemons["a"], [daemons["b"]])
            wait_mesh(daemons["b"], [daemons["a"], daemons["j"]])
            yield network
    finally:
        network.stop()
