"""The SQLite file every port of ``SqliteStore`` shares: its schema, one writer connection and
one reader connection."""

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# The tables and names of v0.2.0: a file written by it opens as it is.
SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    cid TEXT NOT NULL UNIQUE,
    board TEXT NOT NULL,
    ts INTEGER NOT NULL,
    envelope TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    source TEXT NOT NULL,
    pinned INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS messages_board_ts ON messages (board, ts DESC, seq DESC);
CREATE TABLE IF NOT EXISTS outbox (
    cid TEXT PRIMARY KEY,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS messages_board_seq ON messages (board, seq);
-- The replica queue: only unpinned rows are in it, so it stays as small as the backlog.
CREATE INDEX IF NOT EXISTS messages_unpinned ON messages (seq) WHERE pinned = 0;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
-- COUNT(*) walks the whole table (tens of ms at a million rows); /api/status asks every call.
CREATE TABLE IF NOT EXISTS board_counts (board TEXT PRIMARY KEY, n INTEGER NOT NULL);
CREATE TRIGGER IF NOT EXISTS messages_count AFTER INSERT ON messages BEGIN
    INSERT INTO board_counts (board, n) VALUES (NEW.board, 1)
    ON CONFLICT(board) DO UPDATE SET n = n + 1;
END;
CREATE TABLE IF NOT EXISTS peers (
    peer_id TEXT PRIMARY KEY,
    valid INTEGER NOT NULL DEFAULT 0,
    invalid INTEGER NOT NULL DEFAULT 0,
    first_deliveries INTEGER NOT NULL DEFAULT 0,
    first_seen INTEGER NOT NULL DEFAULT 0,
    last_seen INTEGER NOT NULL DEFAULT 0,
    invalid_reasons TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS remote_pins (
    cid TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    state TEXT NOT NULL,
    request_id TEXT NOT NULL DEFAULT '',
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error TEXT NOT NULL DEFAULT '',
    updated_at INTEGER NOT NULL
);
-- Pinned entries are the bulk and never due: the open ones get their own small index.
CREATE INDEX IF NOT EXISTS remote_pins_open ON remote_pins (next_attempt_at)
    WHERE state <> 'pinned';
"""


class Database:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self.writer = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self.write_lock = threading.Lock()
        self.writer.execute("PRAGMA journal_mode=WAL")
        self.writer.execute("PRAGMA synchronous=NORMAL")
        self.writer.executescript(SCHEMA)
        # Reads get a connection of their own: in WAL mode they see every committed
        # transaction without waiting for a writer's fsync (an accept's commit is FULL).
        self._reader = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._read_lock = threading.Lock()

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        with self._read_lock:
            return self._reader.execute(sql, params).fetchall()

    def write(self, sql: str, params: tuple = ()) -> int:
        """Run one statement; returns how many rows it changed."""
        with self.write_lock:
            return self.writer.execute(sql, params).rowcount

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` … ``COMMIT`` (or ``ROLLBACK``); the caller holds ``write_lock``."""
        self.writer.execute("BEGIN IMMEDIATE")
        try:
            yield self.writer
            self.writer.execute("COMMIT")
        except BaseException:
            self.writer.execute("ROLLBACK")
            raise

    def size_bytes(self) -> int:
        return sum(p.stat().st_size for p in (self.path, Path(f"{self.path}-wal")) if p.exists())

    def close(self) -> None:
        with self._read_lock:
            self._reader.close()
        with self.write_lock:
            self.writer.close()
