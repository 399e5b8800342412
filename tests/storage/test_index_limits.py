"""The index contract for what the open-network limits need, on SQLite and DynamoDB alike:
forgetting evicted peers and pages bounded in bytes that still walk every message."""

import pytest

from crypto import NodeKey, canonical_bytes, cid_for_bytes
from storage.index import NewMessage, PeerStats
from tests.conftest import signed_envelope
from tests.storage.test_index_contract import aws_env, dynamodb_table, moto_server, open_index

__all__ = ["aws_env", "dynamodb_table", "moto_server", "open_index"]

KEY = NodeKey.generate()


@pytest.fixture
def index(open_index):
    return open_index()


def test_forget_peers(index):
    for name in ("a", "b", "c"):
        index.record_peer(PeerStats(f"peer-{name}", valid=1, last_seen=1))
    index.forget_peers(["peer-a", "peer-c"])
    assert set(index.peer_stats()) == {"peer-b"}


def test_pages_are_bounded_in_bytes(index):
    envelopes = [signed_envelope(KEY, f"{i} " + "x" * 3_000, ts=1_000 + i) for i in range(6)]
    index.add(
        [NewMessage(str(cid_for_bytes(canonical_bytes(e))), e, "local", 1) for e in envelopes]
    )
    seen, cursor = [], None
    while True:
        page = index.list_board("general", 200, cursor, max_bytes=7_000)
        assert 1 <= len(page.messages) <= 2
        seen += [m.envelope["content"][0] for m in page.messages]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == ["5", "4", "3", "2", "1", "0"]
    since = index.list_since("general", None, 50, max_bytes=7_000)
    assert len(since.messages) == 2
    rest = index.list_since("general", since.next_cursor, 50)
    assert len(rest.messages) == 4
