"""``RemotePinQueue`` in SQLite."""

from storage.ports.remote_pins import RemotePin
from storage.sqlite.database import Database

_COLUMNS = "cid, kind, state, request_id, attempts, next_attempt_at, last_error, updated_at"


class SqliteRemotePins:
    def __init__(self, db: Database) -> None:
        self._db = db

    def want(self, cid: str, kind: str, at: int) -> None:
        self._db.write(
            "INSERT INTO remote_pins (cid, kind, state, next_attempt_at, updated_at)"
            " VALUES (?, ?, 'waiting', ?, ?) ON CONFLICT(cid) DO UPDATE SET state = 'waiting',"
            " attempts = 0, next_attempt_at = excluded.next_attempt_at, last_error = '',"
            " updated_at = excluded.updated_at WHERE state = 'unpinning'",
            (cid, kind, at, at),
        )

    def resend(self, cid: str, kind: str, at: int) -> None:
        self._db.write(
            "INSERT INTO remote_pins (cid, kind, state, next_attempt_at, updated_at)"
            " VALUES (?, ?, 'waiting', ?, ?) ON CONFLICT(cid) DO UPDATE SET kind = excluded.kind,"
            " state = 'waiting', request_id = '', attempts = 0,"
            " next_attempt_at = excluded.next_attempt_at, last_error = '',"
            " updated_at = excluded.updated_at",
            (cid, kind, at, at),
        )

    def release(self, cid: str, at: int) -> None:
        with self._db.write_lock:
            self._db.writer.execute(
                "DELETE FROM remote_pins WHERE cid = ? AND state = 'waiting' AND request_id = ''",
                (cid,),
            )
            self._db.writer.execute(
                "UPDATE remote_pins SET state = 'unpinning', attempts = 0, next_attempt_at = ?,"
                " last_error = '', updated_at = ? WHERE cid = ?",
                (at, at, cid),
            )

    def get(self, cid: str) -> RemotePin | None:
        rows = self._db.query(f"SELECT {_COLUMNS} FROM remote_pins WHERE cid = ?", (cid,))
        return RemotePin(*rows[0]) if rows else None

    def due(self, now_ms: int, limit: int) -> list[RemotePin]:
        rows = self._db.query(
            f"SELECT {_COLUMNS} FROM remote_pins WHERE state <> 'pinned'"
            " AND next_attempt_at <= ? ORDER BY next_attempt_at LIMIT ?",
            (now_ms, limit),
        )
        return [RemotePin(*row) for row in rows]

    def update(self, pin: RemotePin, expected_state: str) -> bool:
        changed = self._db.write(
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
        return changed == 1

    def forget(self, cid: str, expected_state: str) -> bool:
        changed = self._db.write(
            "DELETE FROM remote_pins WHERE cid = ? AND state = ?", (cid, expected_state)
        )
        return changed == 1

    def counts(self) -> dict[str, int]:
        rows = self._db.query(
            "SELECT state, COUNT(*) FROM remote_pins WHERE state <> 'pinned' GROUP BY state"
        )
        return dict(rows)
