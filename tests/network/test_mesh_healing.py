"""The mesh doctor against real daemons: a board peer's connection that carries no pubsub for
our boards is dropped and dialled back (the cure for js-ipfs's dead meshes); a working one is
left alone."""

import asyncio
import contextlib

import httpx

from node.network.mesh import MeshDoctor
from node.protocol.announcement import topic_for
from storage.ipfs import IpfsClient
from tests.support.network import topic_peers
from tests.support.processes import connect_daemons


async def eventually(check, what: str, timeout: float = 20.0) -> None:
    """Poll ``check`` (sync or async) without blocking the loop the daemons' clients use."""
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def connection(daemon, peer_id: str) -> tuple[str, object]:
    """How ``daemon`` is connected to a peer: its remote address and, where the daemon says
    (Kubo), its direction (1 inbound, 2 outbound). Kubo dials from its listen port, so only the
    direction shows a redial there; js-ipfs shows an ephemeral inbound port."""
    response = httpx.post(
        f"{daemon.api_url}/api/v0/swarm/peers", params={"direction": "true"}, timeout=10
    )
    peers = {p["Peer"]: p for p in response.json().get("Peers") or []}
    return peers[peer_id]["Addr"], peers[peer_id].get("Direction")


def dialled_by_a(address_and_direction: tuple[str, object], listen_addr: str) -> bool:
    address, direction = address_and_direction
    return direction == 2 if direction is not None else address.startswith(listen_addr)


async def test_silent_board_peer_is_recycled_and_a_subscriber_left_alone(daemon_factory):
    a, silent, subscriber = daemon_factory(), daemon_factory(), daemon_factory()
    connect_daemons(silent, a)  # dialled by the peer: an inbound connection at A
    connect_daemons(subscriber, a)
    ipfs_a, ipfs_sub = IpfsClient(a.api_multiaddr), IpfsClient(subscriber.api_multiaddr)

    async def listen() -> None:
        async for _ in ipfs_sub.subscribe(topic_for("general")):
            pass

    listening = asyncio.create_task(listen())
    try:
        await eventually(lambda: subscriber.peer_id in topic_peers(a), "the subscriber in A's mesh")
        listen_addr = f"/ip4/127.0.0.1/tcp/{silent.swarm_port}"
        assert not dialled_by_a(connection(a, silent.peer_id), listen_addr)
        kept = connection(a, subscriber.peer_id)

        # The silent peer is one of A's configured PEERS (strangers are never recycled).
        doctor = MeshDoctor(ipfs_a, ["general"], [silent.swarm_multiaddr], stale_seconds=0)
        assert await doctor.check() == [silent.peer_id]
        await eventually(
            lambda: dialled_by_a(connection(a, silent.peer_id), listen_addr),
            "A to have dropped the connection and dialled the peer back",
        )
        assert connection(a, subscriber.peer_id) == kept
        assert await doctor.check() == [], "the next healing waits for its backoff"
    finally:
        listening.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await listening
        await ipfs_a.aclose()
        await ipfs_sub.aclose()
