"""``OutboxQueue`` on both stores: entries come only with their new message, due first,
rescheduled with their attempts counted, done once."""

from tests.storage.conftest import message


def test_outbox_due_reschedule_done(store):
    messages, outbox = store.messages, store.outbox
    a, b, c = message("a"), message("b"), message("c")
    assert messages.add([a, b], outbox_at=1_000) == [True, True]
    messages.add([c], outbox_at=5_000)
    # A duplicate never re-enters the outbox nor moves its due time.
    messages.add([a], outbox_at=0)
    assert outbox.size() == 3
    assert outbox.due(999, 10) == []
    due = outbox.due(1_000, 10)
    assert sorted(item.cid for item in due) == sorted([a.cid, b.cid])
    assert all(item.attempts == 0 and item.next_attempt_at == 1_000 for item in due)
    assert len(outbox.due(10_000, 2)) == 2

    outbox.reschedule(a.cid, 7_000, "daemon down " + "x" * 600)
    assert [item.cid for item in outbox.due(6_000, 10)] == [b.cid, c.cid]
    (item,) = [i for i in outbox.due(7_000, 10) if i.cid == a.cid]
    assert item.attempts == 1 and item.next_attempt_at == 7_000
    assert item.last_error.startswith("daemon down") and len(item.last_error) == 500
    outbox.reschedule(a.cid, 8_000, "again")
    assert [i.attempts for i in outbox.due(8_000, 10) if i.cid == a.cid] == [2]

    outbox.done(b.cid)
    outbox.done(b.cid)
    outbox.reschedule(b.cid, 1, "gone")
    assert outbox.size() == 2
    assert [item.cid for item in outbox.due(10_000, 10)] == [c.cid, a.cid]
    messages.add([message("no outbox")])
    assert outbox.size() == 2
