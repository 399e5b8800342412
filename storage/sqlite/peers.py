"""``PeerStatsStore`` in SQLite."""

import json

from storage.ports.peers import PeerStats
from storage.sqlite.database import Database


class SqlitePeers:
    def __init__(self, db: Database) -> None:
        self._db = db

    def record(self, stats: PeerStats) -> None:
        with self._db.write_lock, self._db.transaction() as db:
            row = db.execute(
                "SELECT invalid_reasons, first_seen FROM peers WHERE peer_id = ?",
                (stats.peer_id,),
            ).fetchone()
            reasons = json.loads(row[0]) if row else {}
            for reason, n in stats.invalid_reasons.items():
                reasons[reason] = reasons.get(reason, 0) + n
            first_seen = row[1] if row and row[1] else stats.first_seen or stats.last_seen
            db.execute(
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

    def all(self) -> dict[str, PeerStats]:
        rows = self._db.query(
            "SELECT peer_id, valid, invalid, first_deliveries, first_seen, last_seen,"
            " invalid_reasons FROM peers"
        )
        return {row[0]: PeerStats(*row[:6], invalid_reasons=json.loads(row[6])) for row in rows}

    def forget(self, peer_ids: list[str]) -> None:
        with self._db.write_lock:
            self._db.writer.executemany(
                "DELETE FROM peers WHERE peer_id = ?", [(p,) for p in peer_ids]
            )
