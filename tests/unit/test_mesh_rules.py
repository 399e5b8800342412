"""When the mesh doctor heals: silent long enough, and not again until its backoff passed."""

from node.network.mesh import STALE_SECONDS, MeshDoctor
from storage.ipfs import IpfsClient


def test_a_connected_peer_silent_on_every_topic_is_due_after_the_stale_time():
    doctor = MeshDoctor(IpfsClient("http://127.0.0.1:9"), ["general"], [])
    assert doctor.due({"a", "b"}, {"a"}, 100.0) == []
    assert doctor.due({"a", "b"}, {"a"}, 100.0 + STALE_SECONDS) == ["b"]
    assert doctor.due({"a", "b"}, {"a", "b"}, 200.0) == []
    assert doctor.due({"a", "b"}, {"a"}, 201.0) == []
