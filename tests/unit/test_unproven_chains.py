"""Peers that serve nothing cannot hold catch-up (``node.network.walk_scheduler``): a burst of
heads nobody serves, announced by throw-away peer ids, delays neither a peer that has served
pages nor, for long, a new honest peer; such a chain is dropped after its first unserved step
and its peer refused for a while, and nothing of it comes back after a restart. A chain that
served its head and nothing more gives up its table entry and queue place to a new chain, and
once stalled for ``STALLED_SECONDS`` it is dropped with its frontier and not resumed."""

import asyncio
import json
import time

from crypto import cid_for_bytes, parse_cid
from node.network import walk_scheduler
from node.network.frontier import Chain, Gap
from node.network.frontier_store import FrontierStore
from node.network.walk_scheduler import MAX_QUEUE, MAX_UNPROVEN
from node.protocol.envelope import now_ms
from node.protocol.manifest import PAGE_MESSAGES
from node.toolkit.worker import deadline_in
from tests.unit.test_sync_slots import (  # noqa: F401  (the syncer fixture)
    KEY,
    another,
    chain,
    setup,
    versions,
)

UNSERVED = 0.2  # what FETCH_TIMEOUT (10 s) is to a daemon


async def test_heads_nobody_serves_do_not_hold_back_honest_peers(setup):  # noqa: F811
    store, syncer, db = setup
    store.unserved_after = UNSERVED
    older, newer = versions(store, "known", [2, 4])
    syncer.offer(older, "known", "served-before")
    assert await syncer.run_until(deadline_in(5))
    syncer.resume()

    throwaway = [f"throwaway-{n}" for n in range(MAX_QUEUE + 50)]
    for n, peer in enumerate(throwaway):
        syncer.offer(cid_for_bytes(f"nobody serves {n}".encode()), "general", peer)
    syncer.offer(newer, "known", "served-before")
    honest = chain(store, "general", 3)
    started, unproven, done = time.monotonic(), 0, {}
    while len(done) < 2 and time.monotonic() - started < 10:
        syncer.offer(honest, "general", "honest-new")  # announced again and again, as peers do
        records = syncer.scheduler.records.values()
        unproven = max(unproven, sum(1 for r in records if r.unproven))
        for board, count in (("known", 4), ("general", 3)):
            if board not in done and db.messages.count(board) == count * PAGE_MESSAGES:
                done[board] = time.monotonic() - started
        await asyncio.sleep(0.02)
    print(f"\nafter {len(throwaway)} unserved heads: {done}")
    # A peer that served pages is not kept waiting at all; a new one for a round of probes.
    assert done.get("known", 99) < 4 * UNSERVED
    assert done.get("general", 99) < MAX_UNPROVEN / 8 * UNSERVED + 1.0
    assert unproven <= MAX_UNPROVEN
    assert syncer.counters.chains_expired >= MAX_UNPROVEN
    assert syncer.counters.unproven_dropped >= len(throwaway) - MAX_UNPROVEN

    # A throw-away peer whose head was not served is refused for a while, holding nothing.
    dropped = syncer.counters.unproven_dropped
    expired = next(p for p in throwaway if (p, "general") not in syncer.scheduler.records)
    syncer.offer(cid_for_bytes(b"another"), "general", expired)
    assert syncer.counters.unproven_dropped == dropped + 1
    await syncer.run_until(deadline_in(1))
    # Nothing of them was kept: the restarted node resumes nothing.
    assert another(store, syncer, db).resume() == 0


def stuck_chain(peer: str) -> Chain:
    """A chain whose head was walked and whose next page nobody serves."""
    gone = str(cid_for_bytes(f"gone {peer}".encode()))
    return Chain(peer, "general", KEY.public_hex, gaps=[Gap(gone, 5)], stalled_since=now_ms())


async def test_stalled_chains_give_up_their_places_to_a_new_chain(setup, monkeypatch):  # noqa: F811
    store, syncer, db = setup
    monkeypatch.setattr(walk_scheduler, "MAX_CHAINS", 4)
    monkeypatch.setattr(walk_scheduler, "MAX_QUEUE", 3)
    for n in range(4):
        FrontierStore(db.frontiers).save(stuck_chain(f"stuck-{n}"))
    syncer = another(store, syncer, db, concurrency=0)  # nothing walks yet
    assert syncer.resume() == 4
    assert syncer.queued() == 3 and syncer.counters.queue_dropped == 1
    syncer.offer(chain(store, "general", 3), "general", "honest-new")
    records = syncer.scheduler.records
    assert ("honest-new", "general") in records and len(records) == 4
    assert syncer.queued() == 3 and syncer.counters.queue_dropped == 1
    syncer.scheduler.concurrency = 4
    assert await syncer.run_until(deadline_in(5))
    assert db.messages.count("general") == 3 * PAGE_MESSAGES


async def test_a_chain_stalled_for_good_is_dropped_and_not_resumed(setup, monkeypatch):  # noqa: F811
    store, syncer, db = setup
    head = chain(store, "general", 3)
    page = parse_cid(json.loads(store.blocks[head.to_bytes()])["prev"]).to_bytes()
    missing = store.blocks.pop(page)
    syncer.offer(head, "general", "peer")
    await syncer.run_until(deadline_in(5))  # its head walked, its next page served by nobody
    saved = Chain.from_json(db.frontiers.get("general", "peer"))
    assert saved.gaps and saved.stalled_since
    assert another(store, syncer, db).resume() == 1  # stalled for less than a day

    monkeypatch.setattr(walk_scheduler, "STALLED_SECONDS", 0.0)
    restarted = another(store, syncer, db)
    assert restarted.resume() == 0
    restarted.offer(head, "general", "peer")  # its peer announces it again: tried once more
    await restarted.run_until(deadline_in(5))
    assert restarted.counters.chains_expired == 1
    saved = Chain.from_json(db.frontiers.get("general", "peer"))
    assert saved == Chain("peer", "general")

    store.blocks[page] = missing  # served again: the chain is walked whole
    restarted.resume()
    restarted.offer(head, "general", "peer")
    assert await restarted.run_until(deadline_in(5))
    assert db.messages.count("general") == 3 * PAGE_MESSAGES


async def test_a_peer_s_first_unproven_chain_takes_the_place_of_another_s_fifth(setup):  # noqa: F811
    store, syncer, db = setup
    syncer = another(store, syncer, db, concurrency=0)  # nothing walks: chains keep waiting
    for n in range(MAX_UNPROVEN):  # four peers, four boards each, nobody serving
        syncer.offer(cid_for_bytes(f"unserved {n}".encode()), f"board-{n % 4}", f"hoarder-{n // 4}")
    records = syncer.scheduler.records
    assert len(records) == MAX_UNPROVEN and syncer.counters.unproven_dropped == 0
    syncer.offer(cid_for_bytes(b"a hoarder's fifth"), "board-4", "hoarder-0")
    assert ("hoarder-0", "board-4") not in records and syncer.counters.unproven_dropped == 1
    syncer.offer(cid_for_bytes(b"new peer"), "general", "newcomer")
    assert ("newcomer", "general") in records and len(records) == MAX_UNPROVEN
    assert ("hoarder-3", "board-3") not in records and syncer.counters.unproven_dropped == 2
