"""The key-value table under the node-state ports (``storage.meta``), in DynamoDB: items
``meta#<key>``, also in the ``meta`` partition of ``gsi1`` so that a prefix is one Query."""

from storage.dynamodb.table import Table, s


class DynamoMeta:
    def __init__(self, table: Table) -> None:
        self._table = table

    def get(self, key: str) -> str | None:
        item_key = self._table.key(f"meta#{key}")
        item = self._table.client.get_item(**item_key, ConsistentRead=True).get("Item")
        return item["value"]["S"] if item else None

    def set(self, key: str, value: str) -> None:
        item = {"pk": s(f"meta#{key}"), "value": s(value)}
        item.update(gsi1pk=s("meta"), gsi1sk=s(key))
        self._table.client.put_item(TableName=self._table.name, Item=item)

    def scan(self, prefix: str) -> dict[str, str]:
        items = self._table.query(
            None,
            IndexName="gsi1",
            KeyConditionExpression="gsi1pk = :meta AND begins_with(gsi1sk, :prefix)",
            ExpressionAttributeValues={":meta": s("meta"), ":prefix": s(prefix)},
        )
        return {item["gsi1sk"]["S"]: item["value"]["S"] for item in items}
