"""``MessageIndex`` in one SQLite file (WAL), the default store."""

import json
import sqlite3
import threading
from pathlib import Path

from storage.index import (
    NewMessage,
    OutboxItem,
    Page,
    PeerStats,
    RemotePin,
    StoredMessage,
    decode_cursor,
    encode_cursor,
    envelope_text,
    fits,
    refuse_ahead,
)

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

_COLUMNS = "cid, envelope, received_at, source, pinned"
_REMOTE_COLUMNS = "cid, kind, state, request_id, attempts, next_attempt_at, last_error, updated_at"


def _row_to_message(row: tuple) -> StoredMessage:
    cid, envelope, received_at, source, pinned = row
    return StoredMessage(cid, envelope, received_at, source, bool(pinned))


class SqliteMessageIndex:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)
        # Reads get a connection of their own: in WAL mode they see every committed
        # transaction without waiting for a writer's fsync (an accept's commit is FULL).
        self._reader = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._read_lock = threading.Lock()

    def add(self, messages: list[NewMessage], *, outbox_at: int | None = None) -> list[bool]:
        """With ``outbox_at`` (a post being accepted, answered 200 once this returns) the
        transaction commits with ``synchronous=FULL``: the WAL is fsynced before the answer, so
        an OS crash cannot lose it. Ingest batches keep NORMAL (a lost batch comes back by
        sync), and so do counters."""
        added = []
        durable = outbox_at is not None
        with self._lock:
            if durable:
                self._db.execute("PRAGMA synchronous=FULL")
            try:
                self._add(messages, outbox_at, added)
            finally:
                if durable:
                    self._db.execute("PRAGMA synchronous=NORMAL")
        return added

    def _add(self, messages: list[NewMessage], outbox_at: int | None, added: list[bool]) -> None:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            for m in messages:
                cursor = self._db.execute(
                    "INSERT OR IGNORE INTO messages"
                    " (cid, board, ts, envelope, received_at, source)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    (
                        m.cid,
                        m.envelope["board"],
                        m.envelope["ts"],
                        envelope_text(m.envelope),
                        m.received_at,
                        m.source,
                    ),
                )
                is_new = cursor.rowcount == 1
                if is_new and outbox_at is not None:
                    self._db.execute(
                        "INSERT OR IGNORE INTO outbox (cid, next_attempt_at) VALUES (?, ?)",
                        (m.cid, outbox_at),
                    )
                added.append(is_new)
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise

    def _query(self, sql: str, params: tuple = ()) -> list[tuple]:
        with self._read_lock:
            return self._reader.execute(sql, params).fetchall()

    def _write(self, sql: str, params: tuple = ()) -> None:
        with self._lock:
            self._db.execute(sql, params)

    def get(self, cid: str) -> StoredMessage | None:
        rows = self._query(f"SELECT {_COLUMNS} FROM messages WHERE cid = ?", (cid,))
        return _row_to_message(rows[0]) if rows else None

    def has(self, cid: str) -> bool:
        return bool(self._query("SELECT 1 FROM messages WHERE cid = ?", (cid,)))

    def list_board(
        self, board: str, limit: int, before: str | None = None, max_bytes: int | None = None
    ) -> Page:
        if before is None:
            rows = self._query(
                f"SELECT {_COLUMNS}, ts, seq FROM messages WHERE board = ?"
                " ORDER BY ts DESC, seq DESC LIMIT ?",
                (board, limit),
            )
        else:
            ts, seq = decode_cursor(before, 2)
            refuse_ahead(seq, self._newest_seq(board))
            rows = self._query(
                f"SELECT {_COLUMNS}, ts, seq FROM messages WHERE board = ? AND (ts, seq) < (?, ?)"
                " ORDER BY ts DESC, seq DESC LIMIT ?",
                (board, ts, seq, limit),
            )
        kept = fits([len(row[1]) for row in rows], max_bytes)
        more = kept < len(rows) or len(rows) == limit
        rows = rows[:kept]
        messages = [_row_to_message(row[:5]) for row in rows]
        next_cursor = encode_cursor(list(rows[-1][5:])) if more else None
        return Page(messages, next_cursor)

    def list_since(
        self, board: str, since: str | None, limit: int, max_bytes: int | None = None
    ) -> Page:
        after = 0
        if since is not None:
            (after,) = decode_cursor(since, 1)
            refuse_ahead(after, self._newest_seq(board))
        rows = self._query(
            f"SELECT {_COLUMNS}, seq FROM messages WHERE board = ? AND seq > ?"
            " ORDER BY seq LIMIT ?",
            (board, after, limit),
        )
        rows = rows[: fits([len(row[1]) for row in rows], max_bytes)]
        last = rows[-1][5] if rows else after
        return Page([_row_to_message(row[:5]) for row in rows], encode_cursor([last]))

    def latest_cursor(self, board: str) -> str | None:
        return encode_cursor([self._newest_seq(board)])

    def _newest_seq(self, board: str) -> int:
        rows = self._query("SELECT MAX(seq) FROM messages WHERE board = ?", (board,))
        return rows[0][0] or 0

    def count(self, board: str | None = None) -> int:
        if board is None:
            return self._query("SELECT COALESCE(SUM(n), 0) FROM board_counts")[0][0]
        rows = self._query("SELECT n FROM board_counts WHERE board = ?", (board,))
        return rows[0][0] if rows else 0

    def mark_pinned(self, cid: str) -> None:
        self._write("UPDATE messages SET pinned = 1 WHERE cid = ?", (cid,))

    def unpinned(self, after: str, limit: int) -> list[tuple[str, str]]:
        rows = self._query(
            "SELECT seq, cid FROM messages WHERE pinned = 0 AND seq > ?"
            " AND NOT EXISTS (SELECT 1 FROM outbox WHERE outbox.cid = messages.cid)"
            " ORDER BY seq LIMIT ?",
            (int(after or 0), limit),
        )
        return [(str(seq), cid) for seq, cid in rows]

    def outbox_due(self, now_ms: int, limit: int) -> list[OutboxItem]:
        rows = self._query(
            "SELECT cid, attempts, next_attempt_at, last_error FROM outbox"
            " WHERE next_attempt_at <= ? ORDER BY next_attempt_at LIMIT ?",
            (now_ms, limit),
        )
        return [OutboxItem(*row) for row in rows]

    def outbox_reschedule(self, cid: str, next_attempt_at: int, error: str) -> None:
        self._write(
            "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?, last_error = ?"
            " WHERE cid = ?",
            (next_attempt_at, error[:500], cid),
        )

    def outbox_done(self, cid: str) -> None:
        self._write("DELETE FROM outbox WHERE cid = ?", (cid,))

    def outbox_size(self) -> int:
        return self._query("SELECT COUNT(*) FROM outbox")[0][0]

    def remote_pin_want(self, cid: str, kind: str, at: int) -> None:
        self._write(
            "INSERT INTO remote_pins (cid, kind, state, next_attempt_at, updated_at)"
            " VALUES (?, ?, 'waiting', ?, ?) ON CONFLICT(cid) DO UPDATE SET state = 'waiting',"
            " attempts = 0, next_attempt_at = excluded.next_attempt_at, last_error = '',"
            " updated_at = excluded.updated_at WHERE state = 'unpinning'",
            (cid, kind, at, at),
        )

    def remote_pin_resend(self, cid: str, kind: str, at: int) -> None:
        self._write(
            "INSERT INTO remote_pins (cid, kind, state, next_attempt_at, updated_at)"
            " VALUES (?, ?, 'waiting', ?, ?) ON CONFLICT(cid) DO UPDATE SET kind = excluded.kind,"
            " state = 'waiting', request_id = '', attempts = 0,"
            " next_attempt_at = excluded.next_attempt_at, last_error = '',"
            " updated_at = excluded.updated_at",
            (cid, kind, at, at),
        )

    def remote_pin_release(self, cid: str, at: int) -> None:
        with self._lock:
            self._db.execute(
                "DELETE FROM remote_pins WHERE cid = ? AND state = 'waiting' AND request_id = ''",
                (cid,),
            )
            self._db.execute(
                "UPDATE remote_pins SET state = 'unpinning', attempts = 0, next_attempt_at = ?,"
                " last_error = '', updated_at = ? WHERE cid = ?",
                (at, at, cid),
            )

    def remote_pin_get(self, cid: str) -> RemotePin | None:
        rows = self._query(f"SELECT {_REMOTE_COLUMNS} FROM remote_pins WHERE cid = ?", (cid,))
        return RemotePin(*rows[0]) if rows else None

    def remote_pin_due(self, now_ms: int, limit: int) -> list[RemotePin]:
        rows = self._query(
            f"SELECT {_REMOTE_COLUMNS} FROM remote_pins WHERE state <> 'pinned'"
            " AND next_attempt_at <= ? ORDER BY next_attempt_at LIMIT ?",
            (now_ms, limit),
        )
        return [RemotePin(*row) for row in rows]

    def remote_pin_update(self, pin: RemotePin, expected_state: str) -> bool:
        with self._lock:
            cursor = self._db.execute(
                "UPDATE remote_pins SET state = ?, request_id = ?, attempts = ?,"
                " next_attempt_at = ?, last_error = ?, updated_at = ? WHERE cid = ? AND state = ?",
                (
                    pin.state,
                    pin.request_id,
                    pin.attempts,
                    pin.next_attempt_at,
                    pin.last_error[:500],
                    pin.updated_at,
                    pin.cid,
                    expected_state,
                ),
            )
            return cursor.rowcount == 1

    def remote_pin_forget(self, cid: str, expected_state: str) -> bool:
        with self._lock:
            cursor = self._db.execute(
                "DELETE FROM remote_pins WHERE cid = ? AND state = ?", (cid, expected_state)
            )
            return cursor.rowcount == 1

    def remote_pin_counts(self) -> dict[str, int]:
        rows = self._query(
            "SELECT state, COUNT(*) FROM remote_pins WHERE state <> 'pinned' GROUP BY state"
        )
        return dict(rows)

    def record_peer(self, stats: PeerStats) -> None:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                row = self._db.execute(
                    "SELECT invalid_reasons, first_seen FROM peers WHERE peer_id = ?",
                    (stats.peer_id,),
                ).fetchone()
                reasons = json.loads(row[0]) if row else {}
                for reason, n in stats.invalid_reasons.items():
                    reasons[reason] = reasons.get(reason, 0) + n
                first_seen = row[1] if row and row[1] else stats.first_seen or stats.last_seen
                self._db.execute(
                    "INSERT INTO peers (peer_id, valid, invalid, first_deliveries, first_seen,"
                    " last_seen, invalid_reasons) VALUES (?, ?, ?, ?, ?, ?, ?)"
                    " ON CONFLICT(peer_id) DO UPDATE SET valid = valid + excluded.valid,"
                    " invalid = invalid + excluded.invalid,"
                    " first_deliveries = first_deliveries + excluded.first_deliveries,"
                    " first_seen = excluded.first_seen,"
                    " last_seen = MAX(last_seen, excluded.last_seen),"
                    " invalid_reasons = excluded.invalid_reasons",
                    (
                        stats.peer_id,
                        stats.valid,
                        stats.invalid,
                        stats.first_deliveries,
                        first_seen,
                        stats.last_seen,
                        json.dumps(reasons),
                    ),
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def peer_stats(self) -> dict[str, PeerStats]:
        rows = self._query(
            "SELECT peer_id, valid, invalid, first_deliveries, first_seen, last_seen,"
            " invalid_reasons FROM peers"
        )
        return {row[0]: PeerStats(*row[:6], invalid_reasons=json.loads(row[6])) for row in rows}

    def forget_peers(self, peer_ids: list[str]) -> None:
        with self._lock:
            self._db.executemany("DELETE FROM peers WHERE peer_id = ?", [(p,) for p in peer_ids])

    def meta_get(self, key: str) -> str | None:
        rows = self._query("SELECT value FROM meta WHERE key = ?", (key,))
        return rows[0][0] if rows else None

    def meta_set(self, key: str, value: str) -> None:
        self._write(
            "INSERT INTO meta (key, value) VALUES (?, ?)"
            " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    def meta_scan(self, prefix: str) -> dict[str, str]:
        # substr() rather than LIKE: keys may hold % or _, and the primary key keeps it short.
        rows = self._query(
            "SELECT key, value FROM meta WHERE substr(key, 1, ?) = ? ORDER BY key",
            (len(prefix), prefix),
        )
        return dict(rows)

    def size_bytes(self) -> int:
        return sum(p.stat().st_size for p in (self.path, Path(f"{self.path}-wal")) if p.exists())

    def close(self) -> None:
        with self._read_lock:
            self._reader.close()
        with self._lock:
            self._db.close()
