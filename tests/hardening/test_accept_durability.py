"""An accepted post is on disk before the answer: its transaction commits with
synchronous=FULL (the WAL is fsynced), while ingest batches keep NORMAL."""

from crypto import NodeKey, canonical_bytes, cid_for_bytes
from storage.ports.messages import NewMessage
from storage.sqlite.store import SqliteStore
from tests.conftest import signed_envelope

KEY = NodeKey.generate()


def new(content: str) -> NewMessage:
    envelope = signed_envelope(KEY, content)
    return NewMessage(str(cid_for_bytes(canonical_bytes(envelope))), envelope, "local", 1)


def statements_of(store: SqliteStore, message: NewMessage, **kwargs) -> list[str]:
    """The statements one ``add`` runs; the trace is the only view of the level at commit."""
    statements: list[str] = []
    store.db.writer.set_trace_callback(statements.append)
    store.messages.add([message], **kwargs)
    store.db.writer.set_trace_callback(None)
    return [s for s in statements if s.startswith(("PRAGMA", "BEGIN", "COMMIT"))]


def test_accept_commits_with_full_sync_and_ingest_with_normal(tmp_path):
    store = SqliteStore(tmp_path / "index.sqlite3")
    try:
        accepted = statements_of(store, new("posted here"), outbox_at=5)
        assert accepted == [
            "PRAGMA synchronous=FULL",
            "BEGIN IMMEDIATE",
            "COMMIT",
            "PRAGMA synchronous=NORMAL",
        ]
        assert statements_of(store, new("from a peer")) == ["BEGIN IMMEDIATE", "COMMIT"]
        assert store.db.writer.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
    finally:
        store.close()
