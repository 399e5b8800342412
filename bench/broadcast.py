"""Broadcast throughput: POST /api/broadcast of client-signed envelopes vs the same RPC calls
made raw (block/put of the canonical bytes with pin, then pubsub pub)."""

import asyncio

import httpx

from bench.env import BenchEnv
from bench.load import run_concurrently
from bench.rows import Row, ratio
from crypto import NodeKey, canonical_bytes, cid_for_bytes, sign_envelope
from node.protocol.announcement import message_announcement, topic_for
from node.protocol.envelope import now_ms
from storage.multibase import encode_u
from tests.support.processes import wait_until

CONCURRENCY = 8
BOARD = "general"


def envelopes(count: int, tag: str) -> list[dict]:
    key = NodeKey.generate()
    return [
        sign_envelope(
            {
                "v": 1,
                "type": "message",
                "board": BOARD,
                "content": f"{tag} {i}",
                "author": "bench",
                "ts": now_ms(),
            },
            key,
        )
        for i in range(count)
    ]


async def _node_rate(url: str, batch: list[dict]) -> float:
    async with httpx.AsyncClient(timeout=30) as client:

        async def post(envelope: dict) -> None:
            response = await client.post(f"{url}/api/broadcast", json=envelope)
            assert response.status_code == 200, response.text

        return await run_concurrently(batch, post, CONCURRENCY)


async def _raw_rate(api_url: str, batch: list[dict]) -> float:
    params_add = {"cid-codec": "raw", "format": "raw", "mhtype": "sha2-256", "pin": "true"}
    params_pub = {"arg": encode_u(topic_for(BOARD).encode())}
    # Publishes one at a time, as the node does: Kubo (>= 0.40) ignores a publish that
    # overtakes a newer one from the same peer ("validation ignored").
    publishing = asyncio.Lock()
    async with httpx.AsyncClient(base_url=f"{api_url}/api/v0", timeout=30) as client:

        async def add_and_publish(envelope: dict) -> None:
            data = canonical_bytes(envelope)
            added = await client.post(
                "block/put",
                params=params_add,
                files={"file": ("data.bin", data, "application/octet-stream")},
            )
            added.raise_for_status()
            announcement = message_announcement(cid_for_bytes(data), envelope)
            async with publishing:
                published = await client.post(
                    "pubsub/pub",
                    params=params_pub,
                    files={"file": ("data.bin", announcement, "application/octet-stream")},
                )
            published.raise_for_status()

        return await run_concurrently(batch, add_and_publish, CONCURRENCY)


def broadcast_rows(env: BenchEnv, quick: bool) -> list[Row]:
    total = 400 if quick else 2000
    a, b = env.daemon(), env.daemon()
    env.connect(a, b)
    sender = env.node(a.api_multiaddr, name="broadcast-a")
    env.node(b.api_multiaddr, name="broadcast-b")
    topic = encode_u(topic_for(BOARD).encode())
    wait_until(
        lambda: (
            b.peer_id in httpx.post(f"{a.api_url}/api/v0/pubsub/peers", params={"arg": topic}).text
        ),
        timeout=30,
        what="B to subscribe to the board",
    )
    node_batches = [envelopes(total // 2, "node"), envelopes(total // 2, "node2")]
    raw_batches = [envelopes(total // 2, "raw"), envelopes(total // 2, "raw2")]
    node_rates, raw_rates = [], []
    for node_batch, raw_batch in zip(node_batches, raw_batches, strict=True):
        raw_rates.append(asyncio.run(_raw_rate(a.api_url, raw_batch)))
        node_rates.append(asyncio.run(_node_rate(sender.url, node_batch)))
    node_rate = total / sum(total / 2 / r for r in node_rates)
    raw_rate = total / sum(total / 2 / r for r in raw_rates)
    r = ratio(node_rate, raw_rate)
    return [
        Row(
            row="broadcast throughput",
            node=round(node_rate, 1),
            baseline=round(raw_rate, 1),
            ratio=r,
            unit="msg/s",
            goal="ratio >= 0.8",
            holds=r is not None and r >= 0.8,
            note=f"{total} client-signed envelopes per side, {CONCURRENCY} concurrent clients",
        )
    ]
