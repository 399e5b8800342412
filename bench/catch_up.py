"""Catch-up rows.

- restart: a node offline while 1,000 messages are posted; time from its restart until it lists
  all of them (process start included). OrbitDB needs ~20 s for 1,000 entries on localhost.
- complete: a node that missed 10,000 / 100,000 messages, and a brand-new node joining a board
  of 100,000, from its process start until it is caught up and lists the last one; msg/s and
  the node's peak RSS. Farcaster's hubs reconciled at ~1,500 msg/s (their v2 diff sync).
  The history is written into A's index and chain while A is stopped (``seed_history``: the
  same chain A would have published; posting 100,000 over HTTP would take ~10 minutes).
"""

import asyncio
import time
from pathlib import Path

import httpx

from bench.broadcast import CONCURRENCY, envelopes
from bench.env import BenchEnv
from bench.load import run_concurrently
from bench.rows import Row, ratio
from node.runtime.local_ipfs import JSIPFS, KUBO
from tests.support.history import history_envelopes, seed_history
from tests.support.network import wait_subscribed
from tests.support.processes import NodeProcess, wait_until

GOAL_SECONDS = 5.0
# Gossipsub replays recent messages to a peer that rejoins; wait them out so what the node
# gets comes from head manifests.
GOSSIP_HISTORY_SECONDS = 6
FARCASTER_RATE = 1_500.0
GOAL_RATE = 1_700.0
COMPLETE_TIMEOUT = 900.0


async def _post_all(url: str, batch: list[dict]) -> None:
    async with httpx.AsyncClient(timeout=30) as client:

        async def post(envelope: dict) -> None:
            response = await client.post(f"{url}/api/broadcast", json=envelope)
            assert response.status_code == 200, response.text

        await run_concurrently(batch, post, CONCURRENCY)


def restart_row(env: BenchEnv, quick: bool) -> Row:
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
    return Row(
        row=f"catch-up {count:,}",
        node=round(elapsed, 2),
        baseline=None,
        unit="s",
        goal=f"<= {GOAL_SECONDS:.0f} s",
        holds=elapsed <= GOAL_SECONDS,
        note="restart (process start included) until all listed; default HEAD_INTERVAL=30,"
        " heads come from the hello exchange",
    )


def peak_rss_mb(node: NodeProcess) -> float:
    """The process's high-water resident set (VmHWM), in MB."""
    assert node.process is not None
    for line in Path(f"/proc/{node.process.pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    raise RuntimeError("no VmHWM in /proc status")


def complete_row(env: BenchEnv, kind: str, count: int, joining: bool) -> Row:
    """A (with the history) and B on two connected daemons of ``kind``; B either missed the
    history (it was there before, then stopped) or has never run."""
    a_daemon, b_daemon = env.daemon(), env.daemon()
    env.connect(a_daemon, b_daemon)
    name = f"{kind}-{count}-{'join' if joining else 'missed'}"
    a = env.node(a_daemon.api_multiaddr, name=f"{name}-a")
    b = None
    if not joining:
        b = env.node(b_daemon.api_multiaddr, name=f"{name}-b")
        wait_subscribed(b)
        b.stop()
    a.stop()
    seed_history(a.data_dir, a_daemon.api_multiaddr, history_envelopes(count, name))
    a.start(timeout=60)
    wait_subscribed(a)

    started = time.monotonic()
    if b is None:
        b = env.node(b_daemon.api_multiaddr, name=f"{name}-b")
    else:
        b.start(timeout=60)
    wait_until(
        lambda: (
            (status := b.get("/api/status").json())["catchUp"]["general"]["caughtUp"]
            and status["messagesSynced"] >= count
        ),
        timeout=COMPLETE_TIMEOUT,
        interval=0.25,
        what=f"{name}: B to list every message",
    )
    elapsed = time.monotonic() - started
    rate, rss = count / elapsed, peak_rss_mb(b)
    for process in (a, b, a_daemon, b_daemon):  # idle, they would still cost the next case
        process.stop()
    what = "brand-new node joining" if joining else "missed"
    return Row(
        row=f"catch-up complete, {what} {count:,} ({kind})",
        node=round(rate),
        baseline=FARCASTER_RATE,
        ratio=ratio(rate, FARCASTER_RATE),
        unit="msg/s",
        goal=f">= {GOAL_RATE:,.0f} msg/s" if kind == KUBO and count >= 100_000 else "—",
        holds=rate >= GOAL_RATE if kind == KUBO and count >= 100_000 else None,
        note=f"{elapsed:.1f} s from process start to the last listed; peak RSS {rss} MB;"
        " baseline: Farcaster v2 diff sync (published)",
    )


def catch_up_rows(env: BenchEnv, quick: bool) -> list[Row]:
    rows = [restart_row(env, quick)]
    big = 20_000 if quick else 100_000
    cases = [(KUBO, 10_000, False), (KUBO, big, False), (KUBO, big, True), (JSIPFS, 10_000, False)]
    if not quick:
        cases.append((JSIPFS, big, False))
    for kind, count, joining in cases:
        rows.append(complete_row(env, kind, count, joining))
    return rows
