"""Three daemons in a line A–B–C: multi-hop gossip, replicas, peers, catch-up by head manifests.

The tests of this module share one network and pass in any order: each posts its own messages
and waits for those; the ones that add a daemon connect it to C, the end of the line, so that B
keeps exactly A and C as peers.
"""

import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass

from crypto import Cid, canonical_bytes, cid_for_bytes, parse_cid
from node.runtime.scheduled import catch_up
from node.runtime.services import NodeServices
from node.settings import Settings
from tests.conftest import signed_envelope
from tests.support.network import (
    Network,
    heard_messages,
    message_cids,
    pinned,
    raw_subscription,
    swarm_peer_ids,
    wait_mesh,
    wait_subscribed,
)
from tests.support.processes import NodeProcess, wait_until

# Several HEAD_INTERVALs (1 s here), so that heads are heard even on a busy machine.
LISTEN_SECONDS = 4.0


def post(node, key, content: str) -> Cid:
    envelope = signed_envelope(key, content)
    response = node.post("/api/broadcast", json=envelope)
    assert response.status_code == 200, response.text
    cid = parse_cid(response.json()["cid"])
    assert cid == cid_for_bytes(canonical_bytes(envelope))
    return cid


# How long a line the daemon delivered to both subscriptions may take to reach the raw one.
RAW_LAG_SECONDS = 10.0
# How long the stopped node's daemon is given to hear the posts live before the restart.
SETTLE_SECONDS = 10.0


@dataclass
class Offline:
    """A stopped node whose daemon stays on the board: ``lines`` of a raw subscription held
    from the stop until the block ends, so it hears everything the daemon delivers live, before
    and after ``restart``."""

    node: NodeProcess
    lines: list[str]
    heard_before_restart: set[bytes] | None = None

    def restart(self, posted: set[bytes]) -> None:
        """Start the node again once its daemon heard the posts live, or after
        ``SETTLE_SECONDS``: a daemon that joined the board's mesh just now gets relayed posts
        by gossip a heartbeat or more later (a post heard only after the restart cannot show
        that sync brought it), and Kubo drops some for good (its seqno check)."""
        deadline = time.monotonic() + SETTLE_SECONDS
        while not posted <= heard_messages(self.lines) and time.monotonic() < deadline:
            time.sleep(0.05)
        self.heard_before_restart = heard_messages(self.lines)
        self.node.start()
        wait_subscribed(self.node)

    def only_by_sync(self, posted: set[bytes]) -> set[bytes]:
        """The posts the restarted node cannot have had from pubsub: a daemon delivers a
        message once, to every subscription it has at that moment, so the node had by pubsub
        only what this subscription heard after the restart (waited for, as its reader may lag
        behind the node's)."""
        assert self.heard_before_restart is not None, "the node was not restarted"

        def heard_after() -> set[bytes]:
            return heard_messages(self.lines) - self.heard_before_restart

        live = {cid for cid, source in listed_sources(self.node).items() if source == "pubsub"}
        deadline = time.monotonic() + RAW_LAG_SECONDS
        while not (live & posted) <= heard_after() and time.monotonic() < deadline:
            time.sleep(0.05)
        return posted - heard_after()


@contextlib.contextmanager
def offline(network: Network, name: str, neighbour: str) -> Iterator[Offline]:
    """Stop a node for the block; the block posts, calls ``restart`` and checks. The node is
    started again if the block did not get that far, as the network is shared."""
    node: NodeProcess = network.nodes[name]
    node.stop()
    with raw_subscription(network.daemons[name]) as lines:
        away = Offline(node, lines)
        try:
            wait_mesh(network.daemons[neighbour], [network.daemons[name]])
            yield away
        finally:
            if away.heard_before_restart is None:
                away.restart(set())


def listed_sources(node: NodeProcess) -> dict[bytes, str]:
    """CID bytes → how the node got the message (``pubsub``, ``sync``, ``local``)."""
    listed = node.get("/api/messages", params={"limit": "200"}).json()["messages"]
    return {parse_cid(m["cid"]).to_bytes(): m["source"].split(":")[0] for m in listed}


def sources(node: NodeProcess, cids: set[bytes]) -> set[str]:
    return {source for cid, source in listed_sources(node).items() if cid in cids}


def test_post_on_a_reaches_c_through_b_and_c_pins_a_replica(line_network, user_key):
    a, b, c = (line_network.nodes[n] for n in "abc")
    daemons = line_network.daemons
    assert daemons["a"].peer_id not in swarm_peer_ids(daemons["c"])
    assert daemons["c"].peer_id not in swarm_peer_ids(daemons["a"])

    started = time.monotonic()
    cid = post(a, user_key, "from A to everyone")
    wait_until(
        lambda: cid.to_bytes() in message_cids(c), timeout=15, interval=0.02, what="C to index"
    )
    print(f"\npropagation A→C, post to C's API listing it: {time.monotonic() - started:.3f}s")
    assert cid.to_bytes() in message_cids(b)

    wait_until(lambda: cid.to_bytes() in pinned(daemons["c"]), timeout=20, what="C's replica")
    print(f"A→C replica pinned on C's daemon: {time.monotonic() - started:.3f}s")
    on_c = wait_until(
        lambda: (m := c.get(f"/api/messages/{cid}").json())["pinned"] and m,
        timeout=20,
        what="C's index to mark the replica pinned",
    )
    assert on_c["envelope"]["content"] == "from A to everyone"
    assert on_c["source"] == f"pubsub:{daemons['a'].peer_id}"


def test_b_lists_a_and_c_with_their_peer_ids(line_network, user_key):
    b = line_network.nodes["b"]
    daemons = line_network.daemons
    cid = post(line_network.nodes["c"], user_key, "from C, so that B has counted C")
    wait_until(lambda: cid.to_bytes() in message_cids(b), timeout=15, what="B to index C's post")
    peers = wait_until(
        lambda: (
            (body := b.get("/api/peers").json())["peers"]
            and all(p["messagesRelayed"] for p in body["peers"] if p["connected"])
            and body
        ),
        timeout=10,
        what="B's peer stats to count both",
    )
    listed = {p["id"]: p for p in peers["peers"] if p["connected"]}
    assert set(listed) == {daemons["a"].peer_id, daemons["c"].peer_id}
    assert peers["count"] == 2
    for name in "ac":
        peer = listed[daemons[name].peer_id]
        assert peer["multiaddr"].endswith(f"/p2p/{daemons[name].peer_id}")
        assert peer["invalidMessages"] == 0 and peer["reputation"] > 50
        assert peer["lastSeen"] is not None
    # The status comes from a cached daemon snapshot: wait for one taken with both connected.
    status = wait_until(
        lambda: (s := b.get("/api/status").json())["connectedPeers"] == 2 and s,
        timeout=10,
        what="B's status to count A and C",
    )
    assert status["networkHealth"] == "good"
    assert status["subscriptions"] == {"general": "subscribed"}


def test_stopped_node_catches_up_from_head_manifests(line_network, user_key):
    a, c = line_network.nodes["a"], line_network.nodes["c"]
    with offline(line_network, "c", "b") as away:
        posted = {post(a, user_key, f"while C was away #{i}").to_bytes() for i in range(20)}
        away.restart(posted)
        started = time.monotonic()
        wait_until(lambda: posted <= message_cids(c), timeout=90, interval=0.2, what="C catch-up")
        print(f"\ncatch-up of 20 missed messages after restart: {time.monotonic() - started:.2f}s")
        by_sync = away.only_by_sync(posted)
        assert by_sync, "every post reached C's daemon after C's node was back: nothing to sync"
        assert sources(c, by_sync) == {"sync"}


def test_brand_new_node_gets_the_history(line_network, user_key):
    a = line_network.nodes["a"]
    own = {post(a, user_key, f"before D existed #{i}").to_bytes() for i in range(5)}
    wait_until(lambda: own <= message_cids(line_network.nodes["c"]), timeout=20, what="C")
    history = message_cids(a)
    line_network.add_daemons(["d"])
    line_network.connect("d", "c")
    started = time.monotonic()
    d = line_network.start_node("d")
    wait_until(lambda: history <= message_cids(d), timeout=90, interval=0.2, what="D history")
    print(f"\nnew node history ({len(history)} messages): {time.monotonic() - started:.2f}s")
    wait_mesh(line_network.daemons["d"], [line_network.daemons["c"]])
    assert line_network.daemons["a"].peer_id not in swarm_peer_ids(line_network.daemons["d"])


async def test_catch_up_without_background_loops_as_on_lambda(line_network, tmp_path, user_key):
    """``node.runtime.scheduled.catch_up`` (what the scheduled Lambda event runs) on a node with
    no loops."""
    a, c = line_network.nodes["a"], line_network.nodes["c"]
    own = {post(a, user_key, f"before E existed #{i}").to_bytes() for i in range(5)}
    wait_until(lambda: own <= message_cids(c), timeout=20, what="C to have them")
    history = message_cids(c)
    line_network.add_daemons(["e"])
    line_network.connect("e", "c")
    daemon = line_network.daemons["e"]
    settings = Settings(
        ipfs_api=daemon.api_multiaddr, ipfs_api_set=True, data_dir=tmp_path, head_interval=1
    )
    services = NodeServices.from_settings(settings)
    try:
        started = time.monotonic()
        caught_up = await catch_up(services, listen_seconds=LISTEN_SECONDS)
        elapsed = time.monotonic() - started
        have = {
            parse_cid(m.cid).to_bytes()
            for m in services.store.messages.list_board("general", 500).messages
        }
        assert own <= have and caught_up == len(have) and history <= have
        assert history <= pinned(daemon)
        print(f"\ncatch_up({LISTEN_SECONDS}s) indexed and pinned {caught_up}: {elapsed:.2f}s")
    finally:
        await services.stop()


def test_c_credits_the_publisher_a_not_the_neighbour_b_that_relayed(line_network, user_key):
    """Pubsub ``from`` is the original publisher: C, which only B is connected to, lists A (not
    connected) as the publisher of A's post; ``connectedCount`` says what ``count`` counts."""
    a, c = line_network.nodes["a"], line_network.nodes["c"]
    daemons = line_network.daemons
    cid = post(a, user_key, "published by A, relayed by B")
    wait_until(lambda: cid.to_bytes() in message_cids(c), timeout=15, what="C to index A's post")
    body = wait_until(
        lambda: (
            (page := c.get("/api/peers").json())
            and any(p["id"] == daemons["a"].peer_id for p in page["peers"])
            and page
        ),
        timeout=10,
        what="C's peer stats to list A",
    )
    by_id = {p["id"]: p for p in body["peers"]}
    publisher = by_id[daemons["a"].peer_id]
    assert publisher["connected"] is False and publisher["multiaddr"] is None
    assert publisher["messagesPublished"] >= 1
    assert publisher["messagesRelayed"] == publisher["messagesPublished"]
    connected = [p for p in body["peers"] if p["connected"]]
    # B for sure; other tests of this module attach new daemons at C.
    assert body["connectedCount"] == body["count"] == len(connected) >= 1
    assert daemons["b"].peer_id in {p["id"] for p in connected}
    assert body["total"] >= 2
    for peer in connected:
        assert peer["multiaddr"].count("/p2p/") == 1, peer["multiaddr"]
