"""``DynamoStore``: one table, one client, one object per port."""

import time

from storage.dynamodb.messages import DynamoMessages
from storage.dynamodb.meta import DynamoMeta
from storage.dynamodb.outbox import DynamoOutbox
from storage.dynamodb.peers import DynamoPeers
from storage.dynamodb.remote_pins import DynamoRemotePins
from storage.dynamodb.table import Table
from storage.meta import MetaBackfill, MetaClaims, MetaFrontiers, MetaHeads, MetaPinService

SIZE_CACHE_SECONDS = 60.0


class DynamoStore:
    def __init__(self, table_name: str) -> None:
        self.table = Table(table_name)
        self.messages = DynamoMessages(self.table)
        self.outbox = DynamoOutbox(self.table)
        self.remote_pins = DynamoRemotePins(self.table)
        self.peers = DynamoPeers(self.table)
        meta = DynamoMeta(self.table)
        self.claims = MetaClaims(meta)
        self.frontiers = MetaFrontiers(meta)
        self.heads = MetaHeads(meta)
        self.backfill = MetaBackfill(meta)
        self.pin_service = MetaPinService(meta)
        self._size: tuple[float, int] = (0.0, 0)

    def size_bytes(self) -> int:
        """DynamoDB's own estimate (refreshed by AWS about every six hours), cached briefly so
        that a polled status endpoint does not hit the DescribeTable rate limit."""
        taken_at, size = self._size
        if not taken_at or time.monotonic() - taken_at > SIZE_CACHE_SECONDS:
            table = self.table.client.describe_table(TableName=self.table.name)["Table"]
            size = int(table.get("TableSizeBytes", 0))
            self._size = (time.monotonic(), size)
        return size

    def close(self) -> None:
        self.table.close()
