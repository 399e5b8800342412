"""The key-value table under the node-state ports (``storage.meta``), in SQLite."""

from storage.sqlite.database import Database


class SqliteMeta:
    def __init__(self, db: Database) -> None:
        self._db = db

    def get(self, key: str) -> str | None:
        rows = self._db.query("SELECT value FROM meta WHERE key = ?", (key,))
        return rows[0][0] if rows else None

    def set(self, key: str, value: str) -> None:
        self._db.write(
            "INSERT INTO meta (key, value) VALUES (?, ?)"
            " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    def scan(self, prefix: str) -> dict[str, str]:
        # substr() rather than LIKE: keys may hold % or _, and the primary key keeps it short.
        rows = self._db.query(
            "SELECT key, value FROM meta WHERE substr(key, 1, ?) = ? ORDER BY key",
            (len(prefix), prefix),
        )
        return dict(rows)
