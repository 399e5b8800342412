"""Out of storage budget, a node refuses new posts with 507 storage_full and says why in
/api/status, instead of failing when the disk fills; it keeps serving what it has. Catch-up
refused for lack of room is not lost: the chain stays pending until there is room."""

from crypto import NodeKey
from node.guards.storage_budget import StorageBudget
from tests.conftest import signed_envelope
from tests.hardening.test_metrics_and_logs import sample
from tests.support.history import history_envelopes, insert_history
from tests.support.network import Network, message_cids
from tests.support.processes import wait_until

KEY = NodeKey.generate()
HISTORY = 5_000  # 20 pages of 256 messages


def test_posts_are_refused_with_507_once_the_budget_is_used(offline_factory):
    # 0.5 MB: the empty SQLite index (WAL included) fits; a few dozen 15 KB posts do not.
    fast = {"RATE_LIMIT_ADDRESS": "1000/minute", "RATE_LIMIT_AUTHOR": "1000/minute"}
    node = offline_factory({"STORAGE_BUDGET_MB": "0.5", **fast})
    assert node.get("/api/status").json()["storageFull"] is None
    statuses = []
    for i in range(80):
        answer = node.post("/api/broadcast", json=signed_envelope(KEY, f"{i} " + "x" * 15_000))
        statuses.append(answer.status_code)
        if answer.status_code == 507:
            break
    assert statuses[0] == 202 and statuses[-1] == 507, statuses
    assert (
        answer.json()["error"] == "storage_full" and "STORAGE_BUDGET_MB" in answer.json()["detail"]
    )
    status = wait_until(lambda: node.get("/api/status").json()["storageFull"], 10, what="status")
    assert "budget" in status
    assert node.get("/api/messages").status_code == 200
    assert node.get("/health").status_code == 200


def test_free_disk_below_the_reserve_is_full(tmp_path):
    budget = StorageBudget(lambda: 0, tmp_path, budget_mb=0, min_free_disk_mb=10**12)
    assert "MIN_FREE_DISK_MB" in budget.full()
    assert StorageBudget(lambda: 0, tmp_path, budget_mb=0, min_free_disk_mb=1).full() is None


def test_history_refused_for_lack_of_room_is_walked_once_there_is_room(tmp_path):
    """The budget fills while B catches up from A: the walk stops at the page it had no room
    for, and after a restart with a larger budget (same DATA_DIR) B gets all of A's history."""
    network = Network(tmp_path)
    try:
        network.add_daemons(["a", "b"])
        a = network.start_node("a")
        history = insert_history(a.data_dir, history_envelopes(HISTORY, "refused for room"))
        b = network.start_node("b")  # not connected to A yet: what an empty node uses
        used = b.get("/api/status").json()["storageUsed"]
        b.stop()
        # Room for a few pages of A's history, walked slowly enough for the budget (checked
        # every second) to fill in the middle of the walk.
        b.env.update({"STORAGE_BUDGET_MB": str(used + 1.0), "SYNC_RATE": "2"})
        b.start()
        network.connect("a", "b")
        wait_until(lambda: b.get("/api/status").json()["storageFull"], 60, what="a full budget")
        stops = "onusone_sync_storage_full_stops_total"
        wait_until(lambda: sample(b.get("/metrics").text, stops) >= 1, 30, what="a walk stopped")
        missing = history - message_cids(b)
        assert missing, "the budget did not fill before the walk ended"
        assert not b.get("/api/status").json()["catchUp"]["general"]["caughtUp"]
        b.stop()

        b.env.update({"STORAGE_BUDGET_MB": str(used + 100.0), "SYNC_RATE": "50"})
        b.start()
        wait_until(lambda: history <= message_cids(b), 60, interval=0.5, what="A's history")
        print(f"\n{len(missing)} of {HISTORY} messages refused for room, all walked after")
    finally:
        network.stop()
