"""``SqliteStore``: one file, opened once, one object per port."""

from pathlib import Path

from storage.meta import MetaBackfill, MetaClaims, MetaFrontiers, MetaHeads, MetaPinService
from storage.sqlite.database import Database
from storage.sqlite.messages import SqliteMessages
from storage.sqlite.meta import SqliteMeta
from storage.sqlite.outbox import SqliteOutbox
from storage.sqlite.peers import SqlitePeers
from storage.sqlite.remote_pins import SqliteRemotePins


class SqliteStore:
    def __init__(self, path: Path) -> None:
        self.db = Database(path)
        self.messages = SqliteMessages(self.db)
        self.outbox = SqliteOutbox(self.db)
        self.remote_pins = SqliteRemotePins(self.db)
        self.peers = SqlitePeers(self.db)
        meta = SqliteMeta(self.db)
        self.claims = MetaClaims(meta)
        self.frontiers = MetaFrontiers(meta)
        self.heads = MetaHeads(meta)
        self.backfill = MetaBackfill(meta)
        self.pin_service = MetaPinService(meta)

    def size_bytes(self) -> int:
        return self.db.size_bytes()

    def close(self) -> None:
        self.db.close()
