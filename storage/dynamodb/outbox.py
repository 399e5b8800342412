"""``OutboxQueue`` in DynamoDB (entries are written by ``DynamoMessages.add``)."""

from typing import Any

from storage.dynamodb.table import Table, int_of, n, pad, s
from storage.ports.outbox import OutboxItem


def outbox_item(cid: str, next_attempt_at: int) -> dict[str, Any]:
    return {
        "pk": s(f"outbox#{cid}"),
        "cid": s(cid),
        "attempts": n(0),
        "next_attempt_at": n(next_attempt_at),
        "last_error": s(""),
        "gsi1pk": s("outbox"),
        "gsi1sk": s(f"{pad(next_attempt_at)}#{cid}"),
    }


class DynamoOutbox:
    def __init__(self, table: Table) -> None:
        self._table = table

    def due(self, now_ms: int, limit: int) -> list[OutboxItem]:
        items = self._table.query(
            limit,
            IndexName="gsi1",
            KeyConditionExpression="gsi1pk = :outbox AND gsi1sk < :until",
            ExpressionAttributeValues={":outbox": s("outbox"), ":until": s(pad(now_ms + 1))},
        )
        return [
            OutboxItem(
                item["cid"]["S"],
                int_of(item, "attempts"),
                int_of(item, "next_attempt_at"),
                item.get("last_error", {}).get("S", ""),
            )
            for item in items
        ]

    def reschedule(self, cid: str, next_attempt_at: int, error: str) -> None:
        self._table.update_existing(
            f"outbox#{cid}",
            "SET next_attempt_at = :at, last_error = :error, gsi1sk = :sk ADD attempts :one",
            {
                ":at": n(next_attempt_at),
                ":error": s(error[:500]),
                ":sk": s(f"{pad(next_attempt_at)}#{cid}"),
                ":one": n(1),
            },
        )

    def done(self, cid: str) -> None:
        self._table.client.delete_item(**self._table.key(f"outbox#{cid}"))

    def size(self) -> int:
        """A Query of the outbox's own partition: the outbox is a short backlog, not a table."""
        total, start = 0, None
        while True:
            page = self._table.client.query(
                TableName=self._table.name,
                IndexName="gsi1",
                KeyConditionExpression="gsi1pk = :outbox",
                ExpressionAttributeValues={":outbox": s("outbox")},
                Select="COUNT",
                **({"ExclusiveStartKey": start} if start else {}),
            )
            total += page["Count"]
            start = page.get("LastEvaluatedKey")
            if not start:
                return total
