"""``MessageStore`` on both stores: idempotent adds and counts, board pages, receipt order,
cursors, and the replica queue."""

import pytest

from crypto import NodeKey, canonical_bytes, cid_for_bytes
from storage.cursors import encode_cursor
from storage.errors import InvalidCursor
from storage.ports.messages import NewMessage
from tests.conftest import signed_envelope
from tests.storage.conftest import message

KEY = NodeKey.generate()


@pytest.fixture
def messages(store):
    return store.messages


def contents(page) -> list[str]:
    return [m.envelope["content"] for m in page.messages]


def test_add_is_idempotent_per_message_and_counted(messages):
    a, b, c = message("a"), message("b"), message("c", board="other")
    assert messages.add([a, b]) == [True, True]
    assert messages.add([a, c, b]) == [False, True, False]
    assert messages.count() == 3
    assert messages.count("general") == 2 and messages.count("other") == 1
    assert messages.count("empty") == 0
    stored = messages.get(a.cid)
    assert stored is not None
    assert (stored.cid, stored.envelope, stored.received_at) == (a.cid, a.envelope, a.received_at)
    assert stored.source == "local" and stored.pinned is False
    assert messages.has(a.cid) and not messages.has(message("never added").cid)
    assert messages.get(message("never added").cid) is None


def test_envelope_comes_back_exactly(messages):
    m = message('ünïcødé ✓ and "quotes" and a big int')
    m.envelope["ts"] = 2**53 + 1
    messages.add([m])
    assert messages.get(m.cid).envelope == m.envelope


def test_mark_pinned(messages):
    m = message("to pin")
    messages.add([m])
    messages.mark_pinned(m.cid)
    assert messages.get(m.cid).pinned is True
    messages.mark_pinned(message("unknown").cid)
    assert not messages.has(message("unknown").cid)


def test_replica_queue_holds_received_messages_until_pinned_across_reopening(open_store):
    first = open_store()
    received = [message(f"received {i}", ts=1_000 + i) for i in range(5)]
    local = message("posted here", ts=999)
    first.messages.add(received)
    first.messages.add([local], outbox_at=10)
    first.messages.add(received[:2])  # a duplicate does not queue twice
    first.messages.mark_pinned(received[1].cid)
    first.close()

    again = open_store()
    # Oldest first, local messages (the outbox's to pin) and pinned ones left out; paged.
    page = again.messages.unpinned("", 2)
    assert [cid for _, cid in page] == [received[0].cid, received[2].cid]
    rest = again.messages.unpinned(page[-1][0], 10)
    assert [cid for _, cid in rest] == [received[3].cid, received[4].cid]
    assert again.messages.unpinned(rest[-1][0], 10) == []
    for m in received:
        again.messages.mark_pinned(m.cid)
    assert again.messages.unpinned("", 10) == []
    assert again.outbox.size() == 1


def test_board_pages_newest_first_with_cursor(messages):
    # Equal timestamps tie-break by arrival, newest first, and no page repeats or skips one.
    added = [message(f"m{i}", ts=1_000 + (i // 2)) for i in range(7)]
    messages.add(added)
    messages.add([message("elsewhere", ts=5_000, board="other")])
    first = messages.list_board("general", 3)
    assert contents(first) == ["m6", "m5", "m4"]
    second = messages.list_board("general", 3, first.next_cursor)
    assert contents(second) == ["m3", "m2", "m1"]
    third = messages.list_board("general", 3, second.next_cursor)
    assert contents(third) == ["m0"] and third.next_cursor is None


def test_full_last_page_hands_out_a_cursor_to_an_empty_page(messages):
    messages.add([message(f"m{i}", ts=10 + i) for i in range(4)])
    first = messages.list_board("general", 2)
    second = messages.list_board("general", 2, first.next_cursor)
    assert contents(second) == ["m1", "m0"]
    assert second.next_cursor is not None
    end = messages.list_board("general", 2, second.next_cursor)
    assert end.messages == [] and end.next_cursor is None
    assert messages.list_board("empty", 5).messages == []


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
def test_bad_cursor_is_refused(messages, listing, cursor):
    messages.add([message("a")])
    with pytest.raises(InvalidCursor):
        if listing == "board":
            messages.list_board("general", 5, cursor)
        else:
            messages.list_since("general", cursor, 5)


def test_list_since_is_receipt_order_and_resumes(messages):
    # Received out of timestamp order: list_since follows arrival, not ts.
    messages.add([message("late", ts=9_000), message("early", ts=1_000)])
    messages.add([message("elsewhere", board="other")])
    page = messages.list_since("general", None, 1)
    assert contents(page) == ["late"]
    page = messages.list_since("general", page.next_cursor, 10)
    assert contents(page) == ["early"]
    empty = messages.list_since("general", page.next_cursor, 10)
    assert empty.messages == []
    messages.add([message("new", ts=5_000)])
    assert contents(messages.list_since("general", empty.next_cursor, 10)) == ["new"]


def test_latest_cursor_skips_history(messages):
    assert messages.list_since("general", messages.latest_cursor("general"), 10).messages == []
    messages.add([message("old 1"), message("old 2")])
    cursor = messages.latest_cursor("general")
    assert messages.list_since("general", cursor, 10).messages == []
    messages.add([message("old 1"), message("after")])
    assert contents(messages.list_since("general", cursor, 10)) == ["after"]


def test_cursor_ahead_of_the_board_is_refused(messages):
    """A cursor from another node (further along than this one) would silently skip every
    message until this node caught up: it is refused, naming what to do instead."""
    messages.add([message("a"), message("b")])
    newest = messages.latest_cursor("general")
    assert messages.list_since("general", newest, 5).messages == []
    with pytest.raises(InvalidCursor, match="ahead of this node.*start again without it"):
        messages.list_since("general", encode_cursor([42]), 5)
    with pytest.raises(InvalidCursor, match="ahead"):
        messages.list_since("empty", encode_cursor([1]), 5)
    with pytest.raises(InvalidCursor, match="ahead"):
        messages.list_board("general", 5, encode_cursor([1_700_000_000_000, 42]))
    page = messages.list_board("general", 1)
    assert contents(messages.list_board("general", 5, page.next_cursor)) == ["a"]


def test_pages_are_bounded_in_bytes(messages):
    envelopes = [signed_envelope(KEY, f"{i} " + "x" * 3_000, ts=1_000 + i) for i in range(6)]
    messages.add(
        [NewMessage(str(cid_for_bytes(canonical_bytes(e))), e, "local", 1) for e in envelopes]
    )
    seen, cursor = [], None
    while True:
        page = messages.list_board("general", 200, cursor, max_bytes=7_000)
        assert 1 <= len(page.messages) <= 2
        seen += [m.envelope["content"][0] for m in page.messages]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == ["5", "4", "3", "2", "1", "0"]
    since = messages.list_since("general", None, 50, max_bytes=7_000)
    assert len(since.messages) == 2
    rest = messages.list_since("general", since.next_cursor, 50)
    assert len(rest.messages) == 4
