"""A store written by v0.2.0 (tag ``v0.2.0``) keeps working after an upgrade in place: the
layout is unchanged, so its rows and items, written here as that release wrote them, are read
through the new ports."""

import hashlib
import json
import sqlite3

import boto3
import pytest

from node.publish import idempotency
from storage.dynamodb.store import DynamoStore
from storage.ports.state import HeadState, PinServiceHealth
from storage.sqlite.store import SqliteStore
from tests.storage.conftest import message

# v0.2.0's tables, as far as this test writes them (its storage/sqlite_index.py SCHEMA).
V020_TABLES = """
CREATE TABLE messages (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, cid TEXT NOT NULL UNIQUE, board TEXT NOT NULL,
    ts INTEGER NOT NULL, envelope TEXT NOT NULL, received_at INTEGER NOT NULL,
    source TEXT NOT NULL, pinned INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE outbox (
    cid TEXT PRIMARY KEY, attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL, last_error TEXT NOT NULL DEFAULT ''
);
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE board_counts (board TEXT PRIMARY KEY, n INTEGER NOT NULL);
"""

CHAIN = '{"peer":"12D3KooWPeer","board":"general","pubkey":null,"head":"bafk-peer-head"}'
PLAIN = {"id": "retry-me", "type": "message", "content": "hi", "author": "bob"}


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]


# The meta entries v0.2.0 wrote: node/network/frontier.py, node/network/heads.py,
# node/client_ids.py, node/remote_backfill.py and node/remote_pins.py of that release.
V020_META = {
    "sync:general:12D3KooWPeer": CHAIN,
    "sync_%:general": "a key a LIKE pattern would take for a frontier",
    "head:general": json.dumps({"head": "bafk-own-head", "cursor": "WzEyXQ"}),
    f"clientid:{digest('token-a')}:{digest('retry-me')}": json.dumps(
        {
            "cid": "bafk-claimed",
            "at": 1_000,
            "body": digest(json.dumps(PLAIN, sort_keys=True, ensure_ascii=False)),
        }
    ),
    "remotepin:service": "http://pins",
    "remotepin:resend": "",
    "remotepin:backfill:general": "WzVd",
    "remotepin:backfill-pages:general": "bafk-sealed",
    "remotepin:state": json.dumps(["unreachable", "503 from the service"]),
}


def write_v020_sqlite(path) -> str:
    """The file as v0.2.0 left it: one accepted message still in its outbox, and its meta."""
    m = message("accepted by v0.2.0")
    db = sqlite3.connect(str(path))
    db.executescript(V020_TABLES)
    db.execute(
        "INSERT INTO messages (cid, board, ts, envelope, received_at, source)"
        " VALUES (?, 'general', ?, ?, ?, 'local')",
        (m.cid, m.envelope["ts"], json.dumps(m.envelope), m.received_at),
    )
    db.execute("INSERT INTO board_counts VALUES ('general', 1)")
    db.execute("INSERT INTO outbox (cid, next_attempt_at) VALUES (?, 10)", (m.cid,))
    db.executemany("INSERT INTO meta VALUES (?, ?)", list(V020_META.items()))
    db.commit()
    db.close()
    return m.cid


def write_v020_dynamodb(table: str) -> str:
    """The table as v0.2.0 left it: an outbox entry and the meta items."""
    cid = message("accepted by v0.2.0").cid
    client = boto3.client("dynamodb")
    client.put_item(
        TableName=table,
        Item={
            "pk": {"S": f"outbox#{cid}"},
            "cid": {"S": cid},
            "attempts": {"N": "0"},
            "next_attempt_at": {"N": "10"},
            "last_error": {"S": ""},
            "gsi1pk": {"S": "outbox"},
            "gsi1sk": {"S": f"{10:020d}#{cid}"},
        },
    )
    for key, value in V020_META.items():
        item = {"pk": {"S": f"meta#{key}"}, "value": {"S": value}}
        item.update(gsi1pk={"S": "meta"}, gsi1sk={"S": key})
        client.put_item(TableName=table, Item=item)
    return cid


@pytest.fixture(params=["sqlite", "dynamodb"])
def upgraded(request: pytest.FixtureRequest, tmp_path):
    """A v0.2.0 store opened by this release, and the CID of the message in its outbox."""
    if request.param == "sqlite":
        path = tmp_path / "index.sqlite3"
        cid = write_v020_sqlite(path)
        store = SqliteStore(path)
    else:
        table = request.getfixturevalue("dynamodb_table")
        cid = write_v020_dynamodb(table)
        store = DynamoStore(table)
    yield store, cid
    store.close()


def test_state_written_by_v020_is_read_through_the_ports(upgraded):
    store, cid = upgraded
    assert [item.cid for item in store.outbox.due(10, 10)] == [cid]
    assert store.frontiers.all() == [CHAIN]
    assert store.frontiers.get("general", "12D3KooWPeer") == CHAIN
    assert store.heads.get("general") == HeadState("bafk-own-head", "WzEyXQ")
    claim = idempotency.claimed(store.claims, "token-a", PLAIN, 2_000)
    assert claim == idempotency.Claim("bafk-claimed", same_body=True)
    assert store.backfill.service() == "http://pins" and store.backfill.resending() is None
    assert store.backfill.cursor("general") == "WzVd"
    assert store.backfill.sealed_page("general") == "bafk-sealed"
    assert store.pin_service.get() == PinServiceHealth("unreachable", "503 from the service")


def test_a_v020_sqlite_file_takes_new_messages_and_keeps_counting(tmp_path):
    path = tmp_path / "index.sqlite3"
    old = write_v020_sqlite(path)
    store = SqliteStore(path)
    try:
        new = message("accepted after the upgrade")
        assert store.messages.add([new], outbox_at=20) == [True]
        assert store.messages.count("general") == 2 and store.outbox.size() == 2
        page = store.messages.list_since("general", None, 10)
        assert [m.cid for m in page.messages] == [old, new.cid]
    finally:
        store.close()
