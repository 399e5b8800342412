"""One contract for every ``MessageIndex``: the same tests against SQLite (a real file) and
DynamoDB (a real moto server over HTTP), so both stores behave the same for the node."""

from collections.abc import Callable
from dataclasses import replace

import pytest

from crypto import canonical_bytes, cid_for_bytes
from storage.dynamodb_index import DynamoMessageIndex
from storage.errors import InvalidCursor
from storage.index import NEVER, MessageIndex, NewMessage, PeerStats, RemotePin, encode_cursor
from storage.sqlite_index import SqliteMessageIndex
from tests.support import moto as moto_support

# The moto fixtures, shared with the other AWS tests.
moto_server = moto_support.moto_server
aws_env = moto_support.aws_env
dynamodb_table = moto_support.dynamodb_table

Opener = Callable[[], MessageIndex]


@pytest.fixture(params=["sqlite", "dynamodb"])
def open_index(request, tmp_path) -> Opener:
    """Opens the same store each time it is called, so tests can check what survives."""
    opened: list[MessageIndex] = []

    if request.param == "sqlite":

        def make() -> MessageIndex:
            return SqliteMessageIndex(tmp_path / "index.sqlite3")
    else:
        table = request.getfixturevalue("dynamodb_table")

        def make() -> MessageIndex:
            return DynamoMessageIndex(table)

    def opener() -> MessageIndex:
        opened.append(make())
        return opened[-1]

    yield opener
    for index in opened:
        index.close()


@pytest.fixture
def index(open_index: Opener) -> MessageIndex:
    return open_index()


def message(content: str, ts: int = 1_700_000_000_000, board: str = "general") -> NewMessage:
    envelope = {"v": 1, "type": "message", "board": board, "content": content, "ts": ts}
    cid = str(cid_for_bytes(canonical_bytes(envelope)))
    return NewMessage(cid, envelope, source="local", received_at=ts + 5)


def contents(page) -> list[str]:
    return [m.envelope["content"] for m in page.messages]


def test_add_is_idempotent_per_message_and_counted(index):
    a, b, c = message("a"), message("b"), message("c", board="other")
    assert index.add([a, b]) == [True, True]
    assert index.add([a, c, b]) == [False, True, False]
    assert index.count() == 3
    assert index.count("general") == 2 and index.count("other") == 1
    assert index.count("empty") == 0
    stored = index.get(a.cid)
    assert stored is not None
    assert (stored.cid, stored.envelope, stored.received_at) == (a.cid, a.envelope, a.received_at)
    assert stored.source == "local" and stored.pinned is False
    assert index.has(a.cid) and not index.has(message("never added").cid)
    assert index.get(message("never added").cid) is None


def test_envelope_comes_back_exactly(index):
    m = message('ünïcødé ✓ and "quotes" and a big int')
    m.envelope["ts"] = 2**53 + 1
    index.add([m])
    assert index.get(m.cid).envelope == m.envelope


def test_contents_survive_reopening(open_index):
    first = open_index()
    m = message("durable")
    first.add([m], outbox_at=10)
    first.meta_set("head:general", "bafk-head")
    first.close()
    again = open_index()
    assert again.get(m.cid).envelope == m.envelope
    assert again.count() == 1 and again.outbox_size() == 1
    assert again.meta_get("head:general") == "bafk-head"


def test_mark_pinned(index):
    m = message("to pin")
    index.add([m])
    index.mark_pinned(m.cid)
    assert index.get(m.cid).pinned is True
    index.mark_pinned(message("unknown").cid)
    assert not index.has(message("unknown").cid)


def test_replica_queue_holds_received_messages_until_pinned_across_reopening(open_index):
    first = open_index()
    received = [message(f"received {i}", ts=1_000 + i) for i in range(5)]
    local = message("posted here", ts=999)
    first.add(received)
    first.add([local], outbox_at=10)
    first.add(received[:2])  # a duplicate does not queue twice
    first.mark_pinned(received[1].cid)
    first.close()

    again = open_index()
    # Oldest first, local messages (the outbox's to pin) and pinned ones left out; paged.
    page = again.unpinned("", 2)
    assert [cid for _, cid in page] == [received[0].cid, received[2].cid]
    rest = again.unpinned(page[-1][0], 10)
    assert [cid for _, cid in rest] == [received[3].cid, received[4].cid]
    assert again.unpinned(rest[-1][0], 10) == []
    for m in received:
        again.mark_pinned(m.cid)
    assert again.unpinned("", 10) == []
    assert again.outbox_size() == 1


def test_board_pages_newest_first_with_cursor(index):
    # Equal timestamps tie-break by arrival, newest first, and no page repeats or skips one.
    added = [message(f"m{i}", ts=1_000 + (i // 2)) for i in range(7)]
    index.add(added)
    index.add([message("elsewhere", ts=5_000, board="other")])
    first = index.list_board("general", 3)
    assert contents(first) == ["m6", "m5", "m4"]
    second = index.list_board("general", 3, first.next_cursor)
    assert contents(second) == ["m3", "m2", "m1"]
    third = index.list_board("general", 3, second.next_cursor)
    assert contents(third) == ["m0"] and third.next_cursor is None


def test_full_last_page_hands_out_a_cursor_to_an_empty_page(index):
    index.add([message(f"m{i}", ts=10 + i) for i in range(4)])
    first = index.list_board("general", 2)
    second = index.list_board("general", 2, first.next_cursor)
    assert contents(second) == ["m1", "m0"]
    assert second.next_cursor is not None
    end = index.list_board("general", 2, second.next_cursor)
    assert end.messages == [] and end.next_cursor is None
    assert index.list_board("empty", 5).messages == []


@pytest.mark.parametrize(
    ("listing", "cursor"),
    [
        ("board", "not base64 json!"),
        ("board", encode_cursor(["x", 1])),
        ("board", encode_cursor([1])),
        ("board", encode_cursor({"a": 1})),
        ("since", "not base64 json!"),
        ("since", encode_cursor(["x"])),
        ("since", encode_cursor([1, 2])),
    ],
)
def test_bad_cursor_is_refused(index, listing, cursor):
    index.add([message("a")])
    with pytest.raises(InvalidCursor):
        if listing == "board":
            index.list_board("general", 5, cursor)
        else:
            index.list_since("general", cursor, 5)


def test_list_since_is_receipt_order_and_resumes(index):
    # Received out of timestamp order: list_since follows arrival, not ts.
    index.add([message("late", ts=9_000), message("early", ts=1_000)])
    index.add([message("elsewhere", board="other")])
    page = index.list_since("general", None, 1)
    assert contents(page) == ["late"]
    page = index.list_since("general", page.next_cursor, 10)
    assert contents(page) == ["early"]
    empty = index.list_since("general", page.next_cursor, 10)
    assert empty.messages == []
    index.add([message("new", ts=5_000)])
    assert contents(index.list_since("general", empty.next_cursor, 10)) == ["new"]


def test_latest_cursor_skips_history(index):
    assert index.list_since("general", index.latest_cursor("general"), 10).messages == []
    index.add([message("old 1"), message("old 2")])
    cursor = index.latest_cursor("general")
    assert index.list_since("general", cursor, 10).messages == []
    index.add([message("old 1"), message("after")])
    assert contents(index.list_since("general", cursor, 10)) == ["after"]


def test_outbox_due_reschedule_done(index):
    a, b, c = message("a"), message("b"), message("c")
    assert index.add([a, b], outbox_at=1_000) == [True, True]
    index.add([c], outbox_at=5_000)
    # A duplicate never re-enters the outbox nor moves its due time.
    index.add([a], outbox_at=0)
    assert index.outbox_size() == 3
    assert index.outbox_due(999, 10) == []
    due = index.outbox_due(1_000, 10)
    assert sorted(item.cid for item in due) == sorted([a.cid, b.cid])
    assert all(item.attempts == 0 and item.next_attempt_at == 1_000 for item in due)
    assert len(index.outbox_due(10_000, 2)) == 2

    index.outbox_reschedule(a.cid, 7_000, "daemon down " + "x" * 600)
    assert [item.cid for item in index.outbox_due(6_000, 10)] == [b.cid, c.cid]
    (item,) = [i for i in index.outbox_due(7_000, 10) if i.cid == a.cid]
    assert item.attempts == 1 and item.next_attempt_at == 7_000
    assert item.last_error.startswith("daemon down") and len(item.last_error) == 500
    index.outbox_reschedule(a.cid, 8_000, "again")
    assert [i.attempts for i in index.outbox_due(8_000, 10) if i.cid == a.cid] == [2]

    index.outbox_done(b.cid)
    index.outbox_done(b.cid)
    index.outbox_reschedule(b.cid, 1, "gone")
    assert index.outbox_size() == 2
    assert [item.cid for item in index.outbox_due(10_000, 10)] == [c.cid, a.cid]
    index.add([message("no outbox")])
    assert index.outbox_size() == 2


def test_peer_stats_accumulate(index):
    index.record_peer(PeerStats("peer-a", valid=2, first_seen=100, last_seen=150))
    index.record_peer(
        PeerStats("peer-a", valid=1, invalid=2, first_deliveries=1, last_seen=120,
                  invalid_reasons={"bad_sig": 1, "too_large": 1})
    )  # fmt: skip
    index.record_peer(
        PeerStats("peer-a", invalid=1, first_seen=90, last_seen=300,
                  invalid_reasons={"bad_sig": 1})
    )  # fmt: skip
    index.record_peer(PeerStats("peer-b", valid=1, last_seen=500))
    stats = index.peer_stats()
    assert set(stats) == {"peer-a", "peer-b"}
    assert stats["peer-a"] == PeerStats("peer-a", 3, 3, 1, 100, 300, {"bad_sig": 2, "too_large": 1})
    assert stats["peer-b"] == PeerStats("peer-b", 1, 0, 0, 500, 500, {})


def test_meta(index):
    assert index.meta_get("head:general") is None
    index.meta_set("head:general", "one")
    index.meta_set("head:general", "two")
    index.meta_set("other", "x")
    assert index.meta_get("head:general") == "two" and index.meta_get("other") == "x"


def test_size_is_a_number(index):
    index.add([message("a")])
    assert isinstance(index.size_bytes(), int) and index.size_bytes() >= 0


def test_meta_scan_lists_one_prefix_and_survives_reopening(open_index):
    first = open_index()
    assert first.meta_scan("sync:") == {}
    first.meta_set("sync:general:peer-a", '{"gaps": 1}')
    first.meta_set("sync:general:peer-b", "b")
    first.meta_set("sync:general:peer-a", '{"gaps": 0}')
    first.meta_set("sync:other:peer-a", "o")
    first.meta_set("head:general", "not a frontier")
    first.meta_set("sync_%:general", "a LIKE pattern would match this")
    first.close()
    again = open_index()
    assert again.meta_scan("sync:general:") == {
        "sync:general:peer-a": '{"gaps": 0}',
        "sync:general:peer-b": "b",
    }
    assert set(again.meta_scan("sync:")) == {
        "sync:general:peer-a",
        "sync:general:peer-b",
        "sync:other:peer-a",
    }
    assert again.meta_scan("nothing:") == {}


def test_remote_pins_queue_follow_and_release(open_index):
    index = open_index()
    a, b, c = (message(name).cid for name in ("a", "b", "c"))
    assert index.remote_pin_get(a) is None and index.remote_pin_counts() == {}
    index.remote_pin_want(a, "message", 1_000)
    index.remote_pin_want(b, "manifest", 2_000)
    index.remote_pin_want(a, "message", 5)  # idempotent: keeps its due time
    assert index.remote_pin_get(a) == RemotePin(a, "message", "waiting", "", 0, 1_000, "", 1_000)
    assert index.remote_pin_due(999, 10) == []
    assert [p.cid for p in index.remote_pin_due(2_000, 10)] == [a, b]
    assert index.remote_pin_counts() == {"waiting": 2}

    # Accepted by the service, then followed to pinned; a stale writer loses.
    queued = RemotePin(a, "message", "queued", a, 0, 3_000, "", 1_100)
    assert index.remote_pin_update(queued, "waiting")
    assert not index.remote_pin_update(replace(queued, state="failed"), "waiting")
    pinned = replace(queued, state="pinned", next_attempt_at=NEVER, updated_at=3_100)
    assert index.remote_pin_update(pinned, "queued")
    assert index.remote_pin_get(a) == pinned
    assert [p.cid for p in index.remote_pin_due(NEVER, 10)] == [b]
    assert index.remote_pin_counts() == {"waiting": 1}

    # Release: a pin never sent is forgotten; a pinned one goes to unpinning, and survives.
    index.remote_pin_release(b, 4_000)
    index.remote_pin_release(c, 4_000)
    assert index.remote_pin_get(b) is None and index.remote_pin_get(c) is None
    index.remote_pin_release(a, 4_000)
    index.close()
    again = open_index()
    unpinning = again.remote_pin_get(a)
    assert (unpinning.state, unpinning.request_id, unpinning.next_attempt_at) == (
        "unpinning",
        a,
        4_000,
    )
    assert [p.cid for p in again.remote_pin_due(4_000, 10)] == [a]
    assert again.remote_pin_counts() == {"unpinning": 1}
    # Wanted again while unpinning: back to waiting; then released and removed for good.
    again.remote_pin_want(a, "message", 4_500)
    assert again.remote_pin_get(a).state == "waiting"
    assert again.remote_pin_update(replace(unpinning, state="unpinning"), "waiting")
    assert not again.remote_pin_forget(a, "queued")
    assert again.remote_pin_forget(a, "unpinning")
    assert again.remote_pin_get(a) is None and again.remote_pin_counts() == {}


def test_remote_pin_sent_again_is_unpinned_on_release(index):
    cid = message("resent").cid
    index.remote_pin_want(cid, "manifest", 1_000)
    resent = RemotePin(cid, "manifest", "waiting", "request-1", 4, 2_000, "", 1_500)
    assert index.remote_pin_update(resent, "waiting")
    index.remote_pin_release(cid, 3_000)
    released = index.remote_pin_get(cid)
    assert (released.state, released.request_id) == ("unpinning", "request-1")


def test_remote_pin_resend_forgets_what_the_old_service_said(index):
    pinned, fresh = message("at the old service").cid, message("never sent").cid
    index.remote_pin_want(pinned, "message", 1_000)
    done = RemotePin(pinned, "message", "pinned", "old-request", 3, NEVER, "", 1_500)
    assert index.remote_pin_update(done, "waiting")
    assert index.remote_pin_due(NEVER - 1, 10) == []
    index.remote_pin_resend(pinned, "message", 2_000)
    index.remote_pin_resend(fresh, "manifest", 2_000)
    assert index.remote_pin_get(pinned) == RemotePin(
        pinned, "message", "waiting", "", 0, 2_000, "", 2_000
    )
    assert index.remote_pin_get(fresh) == RemotePin(
        fresh, "manifest", "waiting", "", 0, 2_000, "", 2_000
    )
    assert {p.cid for p in index.remote_pin_due(2_000, 10)} == {pinned, fresh}
    assert index.remote_pin_counts() == {"waiting": 2}


def test_cursor_ahead_of_the_board_is_refused(index):
    """A cursor from another node (further along than this one) would silently skip every
    message until this node caught up: it is refused, naming what to do instead."""
    index.add([message("a"), message("b")])
    newest = index.latest_cursor("general")
    assert index.list_since("general", newest, 5).messages == []
    with pytest.raises(InvalidCursor, match="ahead of this node.*start again without it"):
        index.list_since("general", encode_cursor([42]), 5)
    with pytest.raises(InvalidCursor, match="ahead"):
        index.list_since("empty", encode_cursor([1]), 5)
    with pytest.raises(InvalidCursor, match="ahead"):
        index.list_board("general", 5, encode_cursor([1_700_000_000_000, 42]))
    page = index.list_board("general", 1)
    assert contents(index.list_board("general", 5, page.next_cursor)) == ["a"]
