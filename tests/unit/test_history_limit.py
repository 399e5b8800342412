"""The per-author limit on history brought in by sync: counted per window of the messages' own
timestamps, so an honest backlog passes and a stranger's pages of one fresh author do not; on
the syncer, what is over it is dropped and counted against the peer that served it."""

from crypto import NodeKey
from node.guards.history_limit import HistoryLimit
from node.protocol.manifest import build_manifest
from node.toolkit.worker import deadline_in
from tests.conftest import signed_envelope
from tests.unit.test_sync_slots import KEY, another, setup  # noqa: F401  (the syncer fixture)

MINUTE = 60_000
T0 = 1_700_000_000_000 - 1_700_000_000_000 % (60 * MINUTE)


def take(limit: HistoryLimit, author: str, ts: int) -> bool:
    if not limit.allows(author, ts):
        return False
    limit.record(author, ts)
    return True


def test_an_author_gets_its_budget_per_window_of_message_time():
    limit = HistoryLimit("3/minute;5/hour")
    assert [take(limit, "a", T0 + i) for i in range(4)] == [True, True, True, False]
    assert take(limit, "b", T0)  # another author: its own budget
    assert take(limit, "a", T0 + MINUTE) and take(limit, "a", T0 + 2 * MINUTE)
    assert not take(limit, "a", T0 + 3 * MINUTE)  # the hour's 5 are used
    assert take(limit, "a", T0 + 60 * MINUTE)  # the next hour of ts


def test_a_refused_check_counts_nothing_and_off_allows_everything():
    limit = HistoryLimit("1/minute")
    assert limit.allows("a", T0) and limit.allows("a", T0)  # checking is not taking
    limit.record("a", T0)
    assert not limit.allows("a", T0)
    off = HistoryLimit("1/minute", enabled=False)
    assert all(take(off, "a", T0) for _ in range(100))


def test_memory_is_bounded():
    limit = HistoryLimit("1/minute", max_entries=10)
    for n in range(100):
        limit.record(f"author-{n}", T0)
    assert len(limit._counts) == 10


async def test_sync_drops_an_authors_messages_over_the_limit_and_counts_them(setup):  # noqa: F811
    store, syncer, db = setup
    syncer = another(store, syncer, db, history=HistoryLimit("10/minute"))
    fresh, other = NodeKey.generate(), NodeKey.generate()
    packed = [signed_envelope(fresh, f"packed {i}", ts=T0 + i) for i in range(30)]
    later = [signed_envelope(fresh, f"later {i}", ts=T0 + MINUTE + i) for i in range(3)]
    others = [signed_envelope(other, f"other {i}", ts=T0 + i) for i in range(5)]
    head = store.put(build_manifest(KEY, "general", 0, 1, None, packed + later + others))
    syncer.offer(head, "general", "stuffing-peer")
    assert await syncer.run_until(deadline_in(5))
    stored = {m.envelope["content"] for m in db.messages.list_board("general", 100).messages}
    assert {m["content"] for m in later + others} <= stored
    assert len({m["content"] for m in packed} & stored) == 10
    stats = syncer.peers.snapshot()["stuffing-peer"]
    assert stats.invalid_reasons == {"rate_limited": 20}
