"""The flood: one process floods HTTP (fresh keys from one address; one key from many loopback
addresses) and hostile peers flood pubsub (junk, invalid Unicode, deep JSON, replays, from
several peer ids), while an honest client posts from another address and an honest peer
relays. Every honest message is accepted and delivered, the attackers are throttled and lose
standing, the node's memory stays bounded and /health answers throughout. Loopback only,
bounded in count and time."""

import asyncio
import json
import time

import httpx

from crypto import NodeKey, canonical_bytes, cid_for_bytes
from node.protocol.announcement import message_announcement, topic_for
from storage.ipfs import IpfsClient
from tests.conftest import signed_envelope
from tests.hardening.conftest import ON
from tests.support.processes import connect_daemons, wait_until

TOPIC = topic_for("general")
HONEST = 10


def rss_mb(pid: int) -> float:
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


async def until_true(ask, timeout: float, what: str) -> None:
    """``wait_until`` for a coroutine-returning condition."""
    deadline = time.monotonic() + timeout
    while not await ask():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.2)


def client(url: str, address: str) -> httpx.AsyncClient:
    transport = httpx.AsyncHTTPTransport(local_address=address)
    return httpx.AsyncClient(base_url=url, transport=transport, timeout=30)


def junk(i: int, replay: dict) -> bytes:
    """A rotation of what a hostile peer sends."""
    envelope = signed_envelope(NodeKey.generate(), f"junk {i}")
    kinds = [
        b"\xff\xfe not even UTF-8",
        b'{"kind":' * 500 + b"1" + b"}" * 500,
        json.dumps(envelope).replace(f'"junk {i}"', '"\\ud800"').encode(),
        message_announcement(cid_for_bytes(canonical_bytes(replay)), replay),
        json.dumps({"kind": "message", "cid": "nope", "envelope": envelope}).encode(),
        b"[]",
    ]
    return kinds[i % len(kinds)]


async def health_watch(url: str, stop: asyncio.Event) -> list[float]:
    """/health latencies from an address of its own, every 100 ms until stopped."""
    latencies = []
    async with client(url, "127.0.0.8") as http:
        while not stop.is_set():
            started = time.monotonic()
            response = await http.get("/health")
            assert response.status_code == 200
            latencies.append(time.monotonic() - started)
            await asyncio.sleep(0.1)
    return latencies


async def test_flood(daemon_factory, node_factory):
    target_daemon, honest_daemon = daemon_factory(), daemon_factory()
    hostile_daemons = [daemon_factory(), daemon_factory()]
    for other in (honest_daemon, *hostile_daemons):
        connect_daemons(other, target_daemon)
    target = node_factory(target_daemon.api_multiaddr, ON, name="target")
    relay = node_factory(honest_daemon.api_multiaddr, ON, name="relay")
    hostile = [IpfsClient(d.api_multiaddr) for d in hostile_daemons]
    honest_ipfs = IpfsClient(honest_daemon.api_multiaddr)
    for peer in (*hostile, honest_ipfs):
        await until_true(lambda p=peer: p.pubsub_peers(TOPIC), 30, "the board topic's mesh")
    await honest_ipfs.aclose()
    rss_before = rss_mb(target.process.pid)
    stop = asyncio.Event()
    watch = asyncio.create_task(health_watch(target.url, stop))
    started = time.monotonic()
    replay = signed_envelope(NodeKey.generate(), "replayed")

    async def fresh_keys_one_address() -> list[int]:
        """120 posts at once from one address: past the address's share of connections the
        node refuses the connection itself (503, or closed before the request was read)."""

        async def post(http: httpx.AsyncClient, i: int) -> int:
            envelope = signed_envelope(NodeKey.generate(), f"f{i}")
            try:
                return (await http.post("/api/broadcast", json=envelope)).status_code
            except httpx.TransportError:
                return 503

        async with client(target.url, "127.0.0.50") as http:
            return await asyncio.gather(*(post(http, i) for i in range(120)))

    async def one_key_many_addresses() -> list[int]:
        key, statuses = NodeKey.generate(), []
        for i in range(45):
            async with client(target.url, f"127.0.{7 + i // 200}.{100 + i % 100}") as http:
                statuses.append(
                    (
                        await http.post("/api/broadcast", json=signed_envelope(key, f"k{i}"))
                    ).status_code
                )
        return statuses

    async def pubsub_flood(ipfs: IpfsClient, offset: int) -> None:
        for i in range(400):
            await ipfs.publish(TOPIC, junk(offset + i, replay))

    async def honest(url: str, address: str, tag: str) -> list[str]:
        """A person posting at a person's pace from their own address."""
        key, cids = NodeKey.generate(), []
        async with client(url, address) as http:
            for i in range(HONEST):
                answer = await http.post("/api/broadcast", json=signed_envelope(key, f"{tag}{i}"))
                assert answer.status_code == 200, answer.text
                cids.append(answer.json()["cid"])
                await asyncio.sleep(0.2)
        return cids

    fresh, one_key, _, _, mine, relayed = await asyncio.gather(
        fresh_keys_one_address(),
        one_key_many_addresses(),
        pubsub_flood(hostile[0], 0),
        pubsub_flood(hostile[1], 1),
        honest(target.url, "127.0.0.9", "h"),
        honest(relay.url, "127.0.0.10", "r"),  # reaches the target over pubsub
    )
    flood_seconds = time.monotonic() - started

    # Throttled: 30 a minute from one address (and its share of connections), 20 a minute for
    # one key.
    assert fresh.count(200) + fresh.count(202) <= 30, fresh
    assert fresh.count(429) + fresh.count(503) >= 90, fresh
    assert one_key.count(200) <= 20 and one_key.count(429) >= 25, one_key

    # Every honest message accepted (above) and delivered both ways.
    def listed(node) -> set[str]:
        page = node.get("/api/messages", params={"limit": "200"}).json()["messages"]
        return {m["cid"] for m in page}

    await asyncio.to_thread(
        wait_until,
        lambda: set(relayed) <= listed(target) and set(mine) <= listed(relay),
        30,
        what="every honest message on both nodes",
    )

    # The hostile peers lost their standing; the honest relay did not.
    peers = {p["id"]: p for p in target.get("/api/peers", params={"limit": "500"}).json()["peers"]}
    for daemon in hostile_daemons:
        stats = peers[daemon.peer_id]
        assert stats["reputation"] < 25 and stats["invalidMessages"] >= 3, stats
        assert stats["ignoredFor"] > 0, stats
    assert peers[honest_daemon.peer_id]["reputation"] >= 50
    metrics = target.get("/metrics").text
    assert 'onusone_pubsub_drops_total{reason="invalid_json"}' in metrics

    stop.set()
    latencies = await watch
    assert latencies and max(latencies) < 5.0, max(latencies)
    assert rss_mb(target.process.pid) - rss_before < 150
    assert "Traceback" not in target.log()
    assert flood_seconds < 45
    for ipfs in hostile:
        await ipfs.aclose()
