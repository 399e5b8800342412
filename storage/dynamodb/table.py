"""The DynamoDB table every port of ``DynamoStore`` shares: its schema (as serverless.yml
declares it), one client, and the attribute helpers."""

from typing import Any

import boto3
from botocore.exceptions import ClientError

# Zero-padded so that string order is number order (ts is non-negative, bounded by clock skew).
_WIDTH = 20

ATTRIBUTES = [
    {"AttributeName": "pk", "AttributeType": "S"},
    {"AttributeName": "gsi1pk", "AttributeType": "S"},
    {"AttributeName": "gsi1sk", "AttributeType": "S"},
    {"AttributeName": "gsi2pk", "AttributeType": "S"},
    {"AttributeName": "gsi2sk", "AttributeType": "N"},
]
KEY_SCHEMA = [{"AttributeName": "pk", "KeyType": "HASH"}]
GLOBAL_INDEXES = [
    {
        "IndexName": name,
        "KeySchema": [
            {"AttributeName": f"{name}pk", "KeyType": "HASH"},
            {"AttributeName": f"{name}sk", "KeyType": "RANGE"},
        ],
        "Projection": {"ProjectionType": "ALL"},
    }
    for name in ("gsi1", "gsi2")
]


def create_table(table_name: str) -> None:
    """Create the table as serverless.yml declares it (tests and local use) and wait for it."""
    client = boto3.client("dynamodb")
    client.create_table(
        TableName=table_name,
        AttributeDefinitions=ATTRIBUTES,
        KeySchema=KEY_SCHEMA,
        GlobalSecondaryIndexes=GLOBAL_INDEXES,
        BillingMode="PAY_PER_REQUEST",
    )
    client.get_waiter("table_exists").wait(TableName=table_name)


def pad(number: int) -> str:
    return f"{number:0{_WIDTH}d}"


def s(value: str) -> dict[str, str]:
    return {"S": value}


def n(value: int) -> dict[str, str]:
    return {"N": str(value)}


def int_of(item: dict[str, Any], name: str) -> int:
    return int(item[name]["N"]) if name in item else 0


def is_condition_failure(exc: ClientError) -> bool:
    code = exc.response.get("Error", {}).get("Code")
    if code == "ConditionalCheckFailedException":
        return True
    if code == "TransactionCanceledException":
        reasons = exc.response.get("CancellationReasons") or []
        return any(r.get("Code") == "ConditionalCheckFailed" for r in reasons)
    return False


class Table:
    def __init__(self, name: str) -> None:
        self.name = name
        self.client = boto3.client("dynamodb")

    def key(self, pk: str) -> dict[str, Any]:
        return {"TableName": self.name, "Key": {"pk": s(pk)}}

    def update_existing(self, pk: str, expression: str, values: dict[str, Any]) -> None:
        """Update an item only if it exists (like SQL ``UPDATE … WHERE``: a no-op otherwise)."""
        try:
            self.client.update_item(
                **self.key(pk),
                UpdateExpression=expression,
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeValues=values,
            )
        except ClientError as exc:
            if not is_condition_failure(exc):
                raise

    def query(self, limit: int | None, **kwargs: Any) -> list[dict[str, Any]]:
        """Up to ``limit`` items (all with None), following DynamoDB's 1 MB pages."""
        items: list[dict[str, Any]] = []
        start: dict[str, Any] | None = None
        while limit is None or len(items) < limit:
            page_args = {"ExclusiveStartKey": start} if start else {}
            if limit is not None:
                page_args["Limit"] = limit - len(items)
            page = self.client.query(TableName=self.name, **kwargs, **page_args)
            items.extend(page.get("Items", []))
            start = page.get("LastEvaluatedKey")
            if not start:
                break
        return items

    def close(self) -> None:
        self.client.close()
