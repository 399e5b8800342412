"""Nothing accepted is lost when the daemon dies in the middle of a burst of broadcasts."""

import asyncio

import httpx

from crypto import NodeKey, parse_cid
from tests.conftest import signed_envelope
from tests.support.processes import wait_until

MESSAGES = 120
CONCURRENCY = 16


async def post_all(url: str, envelopes: list[dict], stop_after: int, stop) -> list[httpx.Response]:
    sent = 0
    lock = asyncio.Lock()

    async with httpx.AsyncClient(timeout=30) as client:

        async def post(envelope: dict) -> httpx.Response:
            nonlocal sent
            response = await client.post(f"{url}/api/broadcast", json=envelope)
            async with lock:
                sent += 1
                if sent == stop_after:
                    await asyncio.to_thread(stop)
            return response

        semaphore = asyncio.Semaphore(CONCURRENCY)

        async def bounded(envelope: dict) -> httpx.Response:
            async with semaphore:
                return await post(envelope)

        return await asyncio.gather(*(bounded(e) for e in envelopes))


def test_burst_with_daemon_killed_midway_loses_nothing(ipfs_daemon, node_factory):
    node = node_factory(ipfs_daemon.api_multiaddr)
    key = NodeKey.generate()
    envelopes = [signed_envelope(key, f"burst {i}") for i in range(MESSAGES)]
    responses = asyncio.run(post_all(node.url, envelopes, MESSAGES // 3, ipfs_daemon.stop))

    codes = {r.status_code for r in responses}
    assert codes <= {200, 202}, [r.text for r in responses if r.status_code not in (200, 202)]
    assert 202 in codes, "the daemon was stopped mid-burst, so some answers must be queued"
    cids = {r.json()["cid"] for r in responses}
    assert len(cids) == MESSAGES

    ipfs_daemon.start()
    wait_until(
        lambda: node.get("/api/status").json()["outbox"] == 0,
        timeout=60,
        what="the outbox to drain",
    )
    keys = httpx.post(
        f"{ipfs_daemon.api_url}/api/v0/pin/ls", params={"type": "recursive"}, timeout=10
    ).json()["Keys"]
    pinned = {parse_cid(k).to_bytes() for k in keys}
    assert all(parse_cid(cid).to_bytes() in pinned for cid in cids)
    listed = node.get("/api/messages", params={"limit": 200}).json()["messages"]
    assert {m["cid"] for m in listed} == cids
    assert all(m["pinned"] for m in listed)
