"""``OutboxQueue`` in SQLite (entries are inserted by ``SqliteMessages.add``)."""

from storage.ports.outbox import OutboxItem
from storage.sqlite.database import Database


class SqliteOutbox:
    def __init__(self, db: Database) -> None:
        self._db = db

    def due(self, now_ms: int, limit: int) -> list[OutboxItem]:
        rows = self._db.query(
            "SELECT cid, attempts, next_attempt_at, last_error FROM outbox"
            " WHERE next_attempt_at <= ? ORDER BY next_attempt_at LIMIT ?",
            (now_ms, limit),
        )
        return [OutboxItem(*row) for row in rows]

    def reschedule(self, cid: str, next_attempt_at: int, error: str) -> None:
        self._db.write(
            "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?, last_error = ?"
            " WHERE cid = ?",
            (next_attempt_at, error[:500], cid),
        )

    def done(self, cid: str) -> None:
        self._db.write("DELETE FROM outbox WHERE cid = ?", (cid,))

    def size(self) -> int:
        return self._db.query("SELECT COUNT(*) FROM outbox")[0][0]
