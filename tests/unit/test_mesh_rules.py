"""When the mesh doctor heals: a board peer silent long enough, and not again until its
backoff passed; strangers (on none of our topics, not configured) never."""

from node.network.mesh import STALE_SECONDS, MeshDoctor
from storage.ipfs import IpfsClient

PEER_B = "/ip4/127.0.0.1/tcp/4001/p2p/b"


def doctor(bootstrap: list[str]) -> MeshDoctor:
    return MeshDoctor(IpfsClient("http://127.0.0.1:9"), ["general"], bootstrap)


def test_a_configured_peer_silent_on_every_topic_is_due_after_the_stale_time():
    mesh = doctor([PEER_B])
    assert mesh.due({"a", "b"}, {"a"}, 100.0) == []
    assert mesh.due({"a", "b"}, {"a"}, 100.0 + STALE_SECONDS) == ["b"]
    assert mesh.due({"a", "b"}, {"a", "b"}, 200.0) == []
    assert mesh.due({"a", "b"}, {"a"}, 201.0) == []


def test_a_peer_once_seen_on_a_topic_is_healed_when_it_falls_silent():
    mesh = doctor([])
    assert mesh.due({"a", "b"}, {"a", "b"}, 100.0) == []
    assert mesh.due({"a", "b"}, {"a"}, 101.0) == []
    assert mesh.due({"a", "b"}, {"a"}, 101.0 + STALE_SECONDS) == ["b"]


def test_strangers_are_neither_healed_nor_board_peers():
    mesh = doctor([PEER_B])
    connected = {"a", "b"} | {f"stranger-{i}" for i in range(50)}
    assert mesh.due(connected, {"a"}, 100.0) == []
    assert mesh.due(connected, {"a"}, 100.0 + STALE_SECONDS) == ["b"]
    assert [p for p in connected if mesh.matters(p)] != [] and not mesh.matters("stranger-1")
    assert mesh.matters("a") and mesh.matters("b")
