"""A page whose messages this node has no room for is not walked past: the chain stays pending
at that page, its frontier saved before it, and once there is room again (after a restart with
a larger budget, or later in the same run) the rest of the history is walked."""

from node.guards import storage_budget
from node.guards.storage_budget import MB, StorageBudget
from node.network.frontier import Chain
from node.protocol.manifest import PAGE_MESSAGES
from node.toolkit.worker import deadline_in
from tests.unit.test_sync_slots import another, chain, setup  # noqa: F401  (the syncer fixture)


async def test_a_page_refused_for_storage_leaves_its_chain_pending(
    setup,  # noqa: F811
    monkeypatch,
):
    store, syncer, db = setup
    monkeypatch.setattr(storage_budget, "CHECK_SECONDS", 0.0)
    # Full once the first page's messages are stored.
    used = lambda: 2 * MB if db.messages.count("general") >= PAGE_MESSAGES else 0  # noqa: E731
    syncer.ingest.budget = StorageBudget(used, None, budget_mb=1, min_free_disk_mb=0)
    head = chain(store, "general", 3)
    syncer.offer(head, "general", "peer")
    await syncer.run_until(deadline_in(5))
    assert db.messages.count("general") == PAGE_MESSAGES
    saved = Chain.from_json(db.frontiers.get("general", "peer"))
    assert not saved.complete and saved.gaps[0].seq == 1
    assert syncer.counters.storage_full_stops == 1
    assert syncer.status(["general"])["general"]["caughtUp"] is False

    syncer.ingest.budget = StorageBudget(used, None, budget_mb=0, min_free_disk_mb=0)
    again = another(store, syncer, db)  # restarted with room
    assert again.resume() == 1
    assert await again.run_until(deadline_in(5))
    assert db.messages.count("general") == 3 * PAGE_MESSAGES
    assert again.status(["general"])["general"]["pagesPending"] == 0
