"""``kill -9`` right after a node answered a burst of posts loses nothing it accepted: after a
restart every accepted message is listed and pinned, the ones that were still in flight when
it died included (the outbox delivers those after its grace period)."""

import asyncio
import itertools

import httpx

from crypto import NodeKey, parse_cid
from tests.conftest import signed_envelope
from tests.support.network import message_cids, pinned
from tests.support.processes import NodeProcess, wait_until

CONCURRENCY = 16
KILL_AFTER = 80


async def burst_then_kill(node: NodeProcess, key: NodeKey) -> list[httpx.Response]:
    """Post with CONCURRENCY in flight and SIGKILL the node the moment KILL_AFTER posts were
    answered; the posts still in flight then fail. Returns the answers."""
    answers: list[httpx.Response] = []
    numbers = itertools.count()

    async with httpx.AsyncClient(timeout=30) as client:

        async def worker() -> None:
            while len(answers) < KILL_AFTER:
                envelope = signed_envelope(key, f"crash {next(numbers)}")
                try:
                    response = await client.post(f"{node.url}/api/broadcast", json=envelope)
                except httpx.HTTPError:
                    return  # the node is gone
                answers.append(response)
                if len(answers) == KILL_AFTER:
                    node.kill()

        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    return answers


def accepted_cids(answers: list[httpx.Response], status: int) -> set[bytes]:
    assert len(answers) >= KILL_AFTER
    assert {r.status_code for r in answers} == {status}, [r.text for r in answers][:3]
    return {parse_cid(r.json()["cid"]).to_bytes() for r in answers}


def wait_all_listed_and_pinned(node: NodeProcess, daemon, accepted: set[bytes]) -> None:
    def settled() -> bool:
        listed = message_cids(node)
        status = node.get("/api/status").json()
        return accepted <= listed and status["outbox"] == 0 and listed <= pinned(daemon)

    # Posts accepted but not answered before the kill wait out the outbox's 10 s grace.
    wait_until(settled, timeout=60, interval=0.5, what="every accepted message listed and pinned")
    listed = node.get("/api/messages", params={"limit": "200"}).json()["messages"]
    assert all(m["pinned"] for m in listed)


def test_sigkill_right_after_a_burst_answered_200_loses_nothing(
    ipfs_daemon, node_factory, user_key
):
    node = node_factory(ipfs_daemon.api_multiaddr, name="crashing")
    accepted = accepted_cids(asyncio.run(burst_then_kill(node, user_key)), 200)

    restarted = node_factory(ipfs_daemon.api_multiaddr, name="crashing")
    wait_all_listed_and_pinned(restarted, ipfs_daemon, accepted)


def test_sigkill_right_after_a_burst_answered_202_delivers_all_after_the_restart(
    ipfs_daemon, node_factory, user_key
):
    node = node_factory(ipfs_daemon.api_multiaddr, name="crashing")
    ipfs_daemon.stop()
    accepted = accepted_cids(asyncio.run(burst_then_kill(node, user_key)), 202)

    ipfs_daemon.start()
    restarted = node_factory(ipfs_daemon.api_multiaddr, name="crashing")
    wait_all_listed_and_pinned(restarted, ipfs_daemon, accepted)
