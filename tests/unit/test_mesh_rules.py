"""When the mesh doctor heals: a board peer silent long enough, and not again until its
backoff passed, which doubles per healing up to its cap and resets once the peer is back on a
topic; strangers (on none of our topics, not configured) never."""

import pytest

from node.network import mesh as mesh_module
from node.network.mesh import (
    FIRST_BACKOFF_SECONDS,
    MAX_BACKOFF_SECONDS,
    STALE_SECONDS,
    MeshDoctor,
)
from storage.ipfs import IpfsClient, SwarmPeer

PEER_B = "/ip4/127.0.0.1/tcp/4001/p2p/b"


def doctor(bootstrap: list[str]) -> MeshDoctor:
    return MeshDoctor(IpfsClient("http://127.0.0.1:9"), ["general"], bootstrap)


def test_a_configured_peer_silent_on_every_topic_is_due_after_the_stale_time():
    mesh = doctor([PEER_B])
    assert mesh.due({"a", "b"}, {"a"}, 100.0) == []
    assert mesh.due({"a", "b"}, {"a"}, 100.0 + STALE_SECONDS - 0.1) == []
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


class Daemon:
    """The few RPC answers the doctor reads, as an in-process daemon: ``b`` is connected and
    on no topic until ``in_mesh`` says otherwise; dials are recorded."""

    def __init__(self) -> None:
        self.in_mesh: list[str] = []
        self.dialled: list[str] = []

    async def swarm_peers(self) -> list[SwarmPeer]:
        return [SwarmPeer("b", PEER_B)]

    async def pubsub_peers(self, topic: str) -> list[str]:
        return list(self.in_mesh)

    async def peer_addresses(self, peer_id: str) -> list[str]:
        return [f"/ip4/127.0.0.1/tcp/4001/p2p/{peer_id}"]

    async def swarm_disconnect(self, address: str) -> None:
        pass

    async def swarm_connect(self, address: str) -> None:
        self.dialled.append(address)


@pytest.fixture
def clock(monkeypatch) -> list[float]:
    now = [1000.0]
    monkeypatch.setattr(mesh_module.time, "monotonic", lambda: now[0])
    return now


async def heal_times(doctor: MeshDoctor, daemon: Daemon, clock: list[float], until: float):
    """Run a check every second up to ``until``; the times at which ``b`` was healed."""
    healed = []
    while clock[0] <= until:
        if await doctor.check():
            healed.append(clock[0])
        clock[0] += 1.0
    return healed


async def test_healing_backs_off_doubling_to_the_cap_and_resets_when_the_peer_is_back(clock):
    daemon = Daemon()
    doctor = MeshDoctor(daemon, ["general"], [PEER_B])  # type: ignore[arg-type]
    start = clock[0]
    healed = await heal_times(doctor, daemon, clock, start + 4000)
    gaps = [later - earlier for earlier, later in zip(healed, healed[1:], strict=False)]
    expected = [FIRST_BACKOFF_SECONDS * 2**i for i in range(len(gaps))]
    assert healed[0] == start + STALE_SECONDS
    assert gaps == [min(MAX_BACKOFF_SECONDS, gap) for gap in expected]
    assert gaps[-1] == MAX_BACKOFF_SECONDS and len(daemon.dialled) == len(healed)

    daemon.in_mesh = ["b"]  # the peer is back on a topic: its backoff is forgotten
    await heal_times(doctor, daemon, clock, clock[0] + MAX_BACKOFF_SECONDS)
    daemon.in_mesh = []
    silent_from = clock[0]
    again = await heal_times(doctor, daemon, clock, silent_from + STALE_SECONDS + 60)
    assert again[:2] == [silent_from + STALE_SECONDS, silent_from + STALE_SECONDS + 30]
