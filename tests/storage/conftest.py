"""Every storage port runs against both stores: SQLite (a real file) and DynamoDB (a real moto
server over HTTP), so both behave the same for the node."""

from collections.abc import Callable, Iterator

import pytest

from crypto import canonical_bytes, cid_for_bytes
from storage.dynamodb.store import DynamoStore
from storage.ports.messages import NewMessage
from storage.ports.store import Store
from storage.sqlite.store import SqliteStore
from tests.support import moto as moto_support

# The moto fixtures, shared with the other AWS tests.
moto_server = moto_support.moto_server
aws_env = moto_support.aws_env
dynamodb_table = moto_support.dynamodb_table

Opener = Callable[[], Store]


@pytest.fixture(params=["sqlite", "dynamodb"])
def open_store(request: pytest.FixtureRequest, tmp_path) -> Iterator[Opener]:
    """Opens the same store each time it is called, so tests can check what survives."""
    opened: list[Store] = []

    if request.param == "sqlite":

        def make() -> Store:
            return SqliteStore(tmp_path / "index.sqlite3")
    else:
        table = request.getfixturevalue("dynamodb_table")

        def make() -> Store:
            return DynamoStore(table)

    def opener() -> Store:
        opened.append(make())
        return opened[-1]

    yield opener
    for store in opened:
        store.close()


@pytest.fixture
def store(open_store: Opener) -> Store:
    return open_store()


def message(content: str, ts: int = 1_700_000_000_000, board: str = "general") -> NewMessage:
    envelope = {"v": 1, "type": "message", "board": board, "content": content, "ts": ts}
    cid = str(cid_for_bytes(canonical_bytes(envelope)))
    return NewMessage(cid, envelope, source="local", received_at=ts + 5)
