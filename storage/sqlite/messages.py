"""``MessageStore`` in SQLite."""

from storage.cursors import decode_cursor, encode_cursor, fits, refuse_ahead
from storage.ports.messages import NewMessage, Page, StoredMessage, envelope_text
from storage.sqlite.database import Database

_COLUMNS = "cid, envelope, received_at, source, pinned"


def _row_to_message(row: tuple) -> StoredMessage:
    cid, envelope, received_at, source, pinned = row
    return StoredMessage(cid, envelope, received_at, source, bool(pinned))


class SqliteMessages:
    def __init__(self, db: Database) -> None:
        self._db = db

    def add(self, messages: list[NewMessage], *, outbox_at: int | None = None) -> list[bool]:
        """With ``outbox_at`` (a post being accepted, answered 200 once this returns) the
        transaction commits with ``synchronous=FULL``: the WAL is fsynced before the answer, so
        an OS crash cannot lose it. Ingest batches keep NORMAL (a lost batch comes back by
        sync), and so do counters."""
        added: list[bool] = []
        durable = outbox_at is not None
        with self._db.write_lock:
            if durable:
                self._db.writer.execute("PRAGMA synchronous=FULL")
            try:
                self._add(messages, outbox_at, added)
            finally:
                if durable:
                    self._db.writer.execute("PRAGMA synchronous=NORMAL")
        return added

    def _add(self, messages: list[NewMessage], outbox_at: int | None, added: list[bool]) -> None:
        with self._db.transaction() as db:
            for m in messages:
                cursor = db.execute(
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
                    db.execute(
                        "INSERT OR IGNORE INTO outbox (cid, next_attempt_at) VALUES (?, ?)",
                        (m.cid, outbox_at),
                    )
                added.append(is_new)

    def get(self, cid: str) -> StoredMessage | None:
        rows = self._db.query(f"SELECT {_COLUMNS} FROM messages WHERE cid = ?", (cid,))
        return _row_to_message(rows[0]) if rows else None

    def has(self, cid: str) -> bool:
        return bool(self._db.query("SELECT 1 FROM messages WHERE cid = ?", (cid,)))

    def list_board(
        self, board: str, limit: int, before: str | None = None, max_bytes: int | None = None
    ) -> Page:
        if before is None:
            rows = self._db.query(
                f"SELECT {_COLUMNS}, ts, seq FROM messages WHERE board = ?"
                " ORDER BY ts DESC, seq DESC LIMIT ?",
                (board, limit),
            )
        else:
            ts, seq = decode_cursor(before, 2)
            refuse_ahead(seq, self._newest_seq(board))
            rows = self._db.query(
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
        rows = self._db.query(
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
        rows = self._db.query("SELECT MAX(seq) FROM messages WHERE board = ?", (board,))
        return rows[0][0] or 0

    def count(self, board: str | None = None) -> int:
        if board is None:
            return self._db.query("SELECT COALESCE(SUM(n), 0) FROM board_counts")[0][0]
        rows = self._db.query("SELECT n FROM board_counts WHERE board = ?", (board,))
        return rows[0][0] if rows else 0

    def mark_pinned(self, cid: str) -> None:
        self._db.write("UPDATE messages SET pinned = 1 WHERE cid = ?", (cid,))

    def unpinned(self, after: str, limit: int) -> list[tuple[str, str]]:
        rows = self._db.query(
            "SELECT seq, cid FROM messages WHERE pinned = 0 AND seq > ?"
            " AND NOT EXISTS (SELECT 1 FROM outbox WHERE outbox.cid = messages.cid)"
            " ORDER BY seq LIMIT ?",
            (int(after or 0), limit),
        )
        return [(str(seq), cid) for seq, cid in rows]
