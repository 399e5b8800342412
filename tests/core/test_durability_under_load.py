"""Nothing accepted is lost when the daemon dies in the middle of a burst of broadcasts."""

import asyncio
import itertools
from collections import Counter

import httpx

from crypto import NodeKey, parse_cid
from tests.conftest import signed_envelope
from tests.support.processes import wait_until

CONCURRENCY = 16
STOP_AFTER = 40
QUEUED_WANTED = 20
LIMIT = 1000


async def burst(url: str, key: NodeKey, stop) -> list[httpx.Response]:
    """Post with CONCURRENCY in flight; after STOP_AFTER answers, stop the daemon in the
    background while the posts go on, until QUEUED_WANTED answers were 202 (queued)."""
    responses: list[httpx.Response] = []
    codes: Counter[int] = Counter()
    numbers = itertools.count()
    stopping: list[asyncio.Task] = []

    async with httpx.AsyncClient(timeout=30) as client:

        async def worker() -> None:
            while codes[202] < QUEUED_WANTED and len(responses) < LIMIT:
                envelope = signed_envelope(key, f"burst {next(numbers)}")
                response = await client.post(f"{url}/api/broadcast", json=envelope)
                responses.append(response)
                codes[response.status_code] += 1
                if len(responses) == STOP_AFTER:
                    stopping.append(asyncio.create_task(asyncio.to_thread(stop)))

        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
        await asyncio.gather(*stopping)
    return responses


def test_burst_with_daemon_killed_midway_loses_nothing(ipfs_daemon, node_factory):
    node = node_factory(ipfs_daemon.api_multiaddr)
    responses = asyncio.run(burst(node.url, NodeKey.generate(), ipfs_daemon.stop))

    codes = Counter(r.status_code for r in responses)
    assert set(codes) <= {200, 202}, [r.text for r in responses if r.status_code not in (200, 202)]
    assert codes[200] >= STOP_AFTER and codes[202] >= QUEUED_WANTED, codes
    cids = {r.json()["cid"] for r in responses}
    assert len(cids) == len(responses)

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
    listed, cursor = [], None
    while True:
        params = {"limit": 200, **({"before": cursor} if cursor else {})}
        page = node.get("/api/messages", params=params).json()
        listed += page["messages"]
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert {m["cid"] for m in listed} == cids
    assert all(m["pinned"] for m in listed)
