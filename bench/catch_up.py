"""Catch-up: a node offline while 1,000 messages are posted; time from its restart until it
lists all of them (process start included). OrbitDB needs ~20 s for 1,000 entries on localhost."""

import asyncio
import time

import httpx

from bench.broadcast import CONCURRENCY, envelopes
from bench.env import BenchEnv
from bench.load import run_concurrently
from bench.rows import Row
from tests.support.network import wait_subscribed
from tests.support.processes import wait_until

GOAL_SECONDS = 5.0
# Gossipsub replays recent messages to a peer that rejoins; wait them out so what the node
# gets comes from head manifests.
GOSSIP_HISTORY_SECONDS = 6


async def _post_all(url: str, batch: list[dict]) -> None:
    async with httpx.AsyncClient(timeout=30) as client:

        async def post(envelope: dict) -> None:
            response = await client.post(f"{url}/api/broadcast", json=envelope)
            assert response.status_code == 200, response.text

        await run_concurrently(batch, post, CONCURRENCY)


def catch_up_rows(env: BenchEnv, quick: bool) -> list[Row]:
    count = 300 if quick else 1000
    a, c = env.daemon(), env.daemon()
    env.connect(a, c)
    sender = env.node(a.api_multiaddr, name="catch-up-a")
    receiver = env.node(c.api_multiaddr, name="catch-up-c")
    wait_subscribed(sender)
    wait_subscribed(receiver)
    receiver.stop()
    asyncio.run(_post_all(sender.url, envelopes(count, "catch-up")))
    time.sleep(GOSSIP_HISTORY_SECONDS)
    started = time.monotonic()
    receiver.start(timeout=60)
    wait_until(
        lambda: receiver.get("/api/status").json()["messagesSynced"] >= count,
        timeout=120,
        interval=0.05,
        what="the restarted node to list every message",
    )
    elapsed = time.monotonic() - started
    return [
        Row(
            row=f"catch-up {count:,}",
            node=round(elapsed, 2),
            baseline=None,
            unit="s",
            goal=f"<= {GOAL_SECONDS:.0f} s",
            holds=elapsed <= GOAL_SECONDS,
            note="restart (process start included) until all listed; default HEAD_INTERVAL=30,"
            " heads come from the hello exchange",
        )
    ]
