"""The mesh doctor against real daemons: a connection that carries no pubsub for our boards is
dropped and dialled back (the cure for js-ipfs's dead meshes); a working one is left alone."""

import asyncio
import contextlib

from node.announcement import topic_for
from node.network.mesh import MeshDoctor
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


async def addresses(ipfs: IpfsClient) -> dict[str, str]:
    return {p.peer_id: p.multiaddr for p in await ipfs.swarm_peers()}


async def test_silent_connection_is_recycled_and_a_subscriber_left_alone(daemon_factory):
    a, silent, subscriber = daemon_factory(), daemon_factory(), daemon_factory()
    connect_daemons(silent, a)  # dialled by the peer: A sees it on an ephemeral inbound port
    connect_daemons(subscriber, a)
    ipfs_a, ipfs_sub = IpfsClient(a.api_multiaddr), IpfsClient(subscriber.api_multiaddr)

    async def listen() -> None:
        async for _ in ipfs_sub.subscribe(topic_for("general")):
            pass

    listening = asyncio.create_task(listen())
    try:
        await eventually(lambda: subscriber.peer_id in topic_peers(a), "the subscriber in A's mesh")
        await eventually(
            lambda: ipfs_a.peer_addresses(silent.peer_id), "A to learn the peer's listen address"
        )
        before = await addresses(ipfs_a)
        listen_addr = f"/ip4/127.0.0.1/tcp/{silent.swarm_port}"
        assert not before[silent.peer_id].startswith(listen_addr)

        doctor = MeshDoctor(ipfs_a, ["general"], [], stale_seconds=0)
        assert await doctor.check() == [silent.peer_id]
        after = await addresses(ipfs_a)
        assert after[silent.peer_id].startswith(listen_addr), "A dialled the peer back"
        assert after[subscriber.peer_id] == before[subscriber.peer_id]
        assert await doctor.check() == [], "the next healing waits for its backoff"
    finally:
        listening.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await listening
        await ipfs_a.aclose()
        await ipfs_sub.aclose()
