"""The table of chains is bounded: a new chain makes room by forgetting a complete chain that
waits for nothing, record and all (its frontier stays saved and is read again when its peer
comes back); when every chain has work, the new one is dropped and counted."""

from node.network import walk_scheduler
from node.network.frontier import Chain
from node.network.frontier_store import FrontierStore
from tests.unit.test_sync_slots import another, setup  # noqa: F401  (the syncer fixture)


async def test_a_full_table_forgets_a_complete_chain_or_drops_the_new_one(
    setup,  # noqa: F811
    monkeypatch,
):
    store, syncer, db = setup
    monkeypatch.setattr(walk_scheduler, "MAX_CHAINS", 2)
    syncer = another(store, syncer, db, concurrency=0)  # nothing walks: chains keep work
    records = syncer.scheduler.records
    heads = {peer: store.put(peer.encode()) for peer in ("p1", "p2", "p3", "p4", "p5")}
    for peer in ("p1", "p2"):
        FrontierStore(db.frontiers).save(Chain(peer, "general", head=str(heads[peer])))
        syncer.offer(heads[peer], "general", peer)  # its head is walked already: complete
    records[("p1", "general")].stopped()
    assert set(records) == {("p1", "general"), ("p2", "general")} and syncer.queued() == 0

    syncer.offer(heads["p3"], "general", "p3")
    assert set(records) == {("p2", "general"), ("p3", "general")}
    syncer.offer(heads["p4"], "general", "p4")
    assert set(records) == {("p3", "general"), ("p4", "general")}
    syncer.offer(heads["p5"], "general", "p5")
    assert set(records) == {("p3", "general"), ("p4", "general")}
    assert syncer.counters.queue_dropped == 1 and syncer.queued() == 2

    monkeypatch.setattr(walk_scheduler, "MAX_CHAINS", 3)
    syncer.offer(heads["p1"], "general", "p1")  # back: its frontier is read, its backoff gone
    comeback = records[("p1", "general")]
    assert comeback.chain.complete and comeback.failures == 0 and syncer.queued() == 2
