"""Out of storage budget, a node refuses new posts with 507 storage_full and says why in
/api/status, instead of failing when the disk fills; it keeps serving what it has."""

from crypto import NodeKey
from node.guards.storage_budget import StorageBudget
from tests.conftest import signed_envelope
from tests.support.processes import wait_until

KEY = NodeKey.generate()


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
