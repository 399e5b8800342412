"""Propagation A→B and A→C (two hops) at 50 msg/s, timed from the POST on A's node to arrival
on B's and C's live streams, vs raw pub→sub on the same daemons."""

import asyncio
import json
import time
from typing import Any

import httpx
import websockets

from bench.broadcast import envelopes
from bench.env import BenchEnv
from bench.load import percentile
from bench.rows import Row
from storage.ipfs import IpfsClient
from tests.support.processes import wait_until

RATE = 50
RAW_TOPIC = "onusone/bench/raw-propagation"


async def _paced(count: int, send) -> None:
    """Start ``send(i)`` at RATE per second without waiting for earlier sends to finish."""
    started = time.perf_counter()
    tasks = []
    for i in range(count):
        delay = started + i / RATE - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(send(i)))
    await asyncio.gather(*tasks)


async def _latencies(
    sent: dict[Any, float], arrivals: list[dict[Any, float]], tasks: list[asyncio.Task], count: int
) -> list[list[float]]:
    """Wait (30 s at most) until every receiver has every message, stop listening, and return
    each receiver's latencies."""
    deadline = time.monotonic() + 30
    while any(len(got) < count for got in arrivals) and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    for task in tasks:
        task.cancel()
    return [[got[key] - sent[key] for key in got if key in sent] for got in arrivals]


async def _collect_ws(url: str, arrivals: dict[str, float], ready: asyncio.Event) -> None:
    async with websockets.connect(url.replace("http", "ws", 1) + "/ws?board=general") as ws:
        ready.set()
        async for raw in ws:
            event = json.loads(raw)
            for message in event.get("messages", []):
                arrivals.setdefault(message["envelope"]["content"], time.perf_counter())


async def _node_run(sender: str, receivers: list[str], count: int) -> list[list[float]]:
    batch = envelopes(count, "prop")
    sent: dict[str, float] = {}
    arrivals: list[dict[str, float]] = [{} for _ in receivers]
    readies = [asyncio.Event() for _ in receivers]
    collectors = [
        asyncio.create_task(_collect_ws(url, got, ready))
        for url, got, ready in zip(receivers, arrivals, readies, strict=True)
    ]
    await asyncio.gather(*(r.wait() for r in readies))
    async with httpx.AsyncClient(timeout=30) as client:

        async def send(i: int) -> None:
            sent[batch[i]["content"]] = time.perf_counter()
            response = await client.post(f"{sender}/api/broadcast", json=batch[i])
            assert response.status_code == 200, response.text

        await _paced(count, send)
    return await _latencies(sent, arrivals, collectors, count)


async def _raw_run(sender_api: str, receiver_apis: list[str], count: int) -> list[list[float]]:
    sender = IpfsClient(f"{sender_api}")
    receivers = [IpfsClient(api) for api in receiver_apis]
    sent: dict[bytes, float] = {}
    arrivals: list[dict[bytes, float]] = [{} for _ in receivers]

    async def listen(ipfs: IpfsClient, got: dict[bytes, float]) -> None:
        async for message in ipfs.subscribe(RAW_TOPIC):
            got.setdefault(message.data, time.perf_counter())

    listeners = [
        asyncio.create_task(listen(r, g)) for r, g in zip(receivers, arrivals, strict=True)
    ]
    deadline = time.monotonic() + 30
    while len(await sender.pubsub_peers(RAW_TOPIC)) < 1 and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
    await asyncio.sleep(2)

    async def send(i: int) -> None:
        payload = f"raw {i}".encode()
        sent[payload] = time.perf_counter()
        await sender.publish(RAW_TOPIC, payload)

    await _paced(count, send)
    latencies = await _latencies(sent, arrivals, listeners, count)
    for client in [sender, *receivers]:
        await client.aclose()
    return latencies


def propagation_rows(env: BenchEnv, quick: bool) -> list[Row]:
    count = 100 if quick else 500
    a, b, c = env.daemon(), env.daemon(), env.daemon()
    env.connect(a, b)
    env.connect(b, c)
    nodes = [env.node(d.api_multiaddr, name=f"prop-{n}") for d, n in ((a, "a"), (b, "b"), (c, "c"))]
    wait_until(
        lambda: all(
            n.get("/api/status").json()["subscriptions"].get("general") == "subscribed"
            for n in nodes
        ),
        timeout=30,
        what="every node to subscribe",
    )
    raw = asyncio.run(_raw_run(a.api_url, [b.api_url, c.api_url], count))
    node = asyncio.run(_node_run(nodes[0].url, [nodes[1].url, nodes[2].url], count))
    rows = []
    for name, node_lat, raw_lat in (("A→B", node[0], raw[0]), ("A→C", node[1], raw[1])):
        node_p50, node_p99 = (percentile(node_lat, p) * 1000 for p in (50, 99))
        raw_p50, raw_p99 = (percentile(raw_lat, p) * 1000 for p in (50, 99))
        rows.append(
            Row(
                row=f"propagation {name} p99",
                node=round(node_p99, 1),
                baseline=round(raw_p99, 1),
                ratio=round(node_p99 / raw_p99, 2) if raw_p99 else None,
                unit="ms",
                goal="<= raw p99 + 20 ms",
                holds=len(node_lat) == count and node_p99 <= raw_p99 + 20,
                note=f"p50 node {node_p50:.1f} ms vs raw {raw_p50:.1f} ms; "
                f"{len(node_lat)}/{count} arrived (raw {len(raw_lat)}/{count}); {RATE} msg/s",
            )
        )
    return rows
