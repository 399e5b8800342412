"""``RemotePinQueue`` in DynamoDB: one item per CID; an open one is in the ``remotepin``
partition of ``gsi1`` by due time, a pinned one leaves it."""

from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from storage.dynamodb.table import Table, int_of, is_condition_failure, n, pad, s
from storage.ports.remote_pins import RemotePin


def _remote_item(pin: RemotePin) -> dict[str, Any]:
    item = {
        "pk": s(f"remotepin#{pin.cid}"),
        "cid": s(pin.cid),
        "kind": s(pin.kind),
        "state": s(pin.state),
        "request_id": s(pin.request_id),
        "attempts": n(pin.attempts),
        "next_attempt_at": n(pin.next_attempt_at),
        "last_error": s(pin.last_error[:500]),
        "updated_at": n(pin.updated_at),
    }
    if pin.state != "pinned":
        item["gsi1pk"] = s("remotepin")
        item["gsi1sk"] = s(f"{pad(pin.next_attempt_at)}#{pin.cid}")
    return item


def _to_remote(item: dict[str, Any]) -> RemotePin:
    return RemotePin(
        cid=item["cid"]["S"],
        kind=item["kind"]["S"],
        state=item["state"]["S"],
        request_id=item.get("request_id", {}).get("S", ""),
        attempts=int_of(item, "attempts"),
        next_attempt_at=int_of(item, "next_attempt_at"),
        last_error=item.get("last_error", {}).get("S", ""),
        updated_at=int_of(item, "updated_at"),
    )


class DynamoRemotePins:
    def __init__(self, table: Table) -> None:
        self._table = table

    def _conditional(self, call: Callable[..., Any], **kwargs: Any) -> bool:
        try:
            call(TableName=self._table.name, ExpressionAttributeNames={"#s": "state"}, **kwargs)
        except ClientError as exc:
            if is_condition_failure(exc):
                return False
            raise
        return True

    def want(self, cid: str, kind: str, at: int) -> None:
        self._conditional(
            self._table.client.put_item,
            Item=_remote_item(RemotePin(cid, kind, next_attempt_at=at, updated_at=at)),
            ConditionExpression="attribute_not_exists(pk) OR #s = :unpinning",
            ExpressionAttributeValues={":unpinning": s("unpinning")},
        )

    def resend(self, cid: str, kind: str, at: int) -> None:
        item = _remote_item(RemotePin(cid, kind, next_attempt_at=at, updated_at=at))
        self._table.client.put_item(TableName=self._table.name, Item=item)

    def release(self, cid: str, at: int) -> None:
        key = {"pk": s(f"remotepin#{cid}")}
        never_sent = {":waiting": s("waiting"), ":none": s("")}
        if self._conditional(
            self._table.client.delete_item,
            Key=key,
            ConditionExpression="#s = :waiting AND request_id = :none",
            ExpressionAttributeValues=never_sent,
        ):
            return
        self._conditional(
            self._table.client.update_item,
            Key=key,
            UpdateExpression="SET #s = :unpinning, attempts = :zero, next_attempt_at = :at,"
            " last_error = :empty, updated_at = :at, gsi1pk = :pk, gsi1sk = :sk",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues={
                ":unpinning": s("unpinning"),
                ":zero": n(0),
                ":at": n(at),
                ":empty": s(""),
                ":pk": s("remotepin"),
                ":sk": s(f"{pad(at)}#{cid}"),
            },
        )

    def get(self, cid: str) -> RemotePin | None:
        key = self._table.key(f"remotepin#{cid}")
        item = self._table.client.get_item(**key, ConsistentRead=True).get("Item")
        return _to_remote(item) if item else None

    def due(self, now_ms: int, limit: int) -> list[RemotePin]:
        items = self._table.query(
            limit,
            IndexName="gsi1",
            KeyConditionExpression="gsi1pk = :remote AND gsi1sk < :until",
            ExpressionAttributeValues={":remote": s("remotepin"), ":until": s(pad(now_ms + 1))},
        )
        return [_to_remote(item) for item in items]

    def update(self, pin: RemotePin, expected_state: str) -> bool:
        return self._conditional(
            self._table.client.put_item,
            Item=_remote_item(pin),
            ConditionExpression="#s = :expected",
            ExpressionAttributeValues={":expected": s(expected_state)},
        )

    def forget(self, cid: str, expected_state: str) -> bool:
        return self._conditional(
            self._table.client.delete_item,
            Key={"pk": s(f"remotepin#{cid}")},
            ConditionExpression="#s = :expected",
            ExpressionAttributeValues={":expected": s(expected_state)},
        )

    def counts(self) -> dict[str, int]:
        items = self._table.query(
            None,
            IndexName="gsi1",
            KeyConditionExpression="gsi1pk = :remote",
            ExpressionAttributeValues={":remote": s("remotepin")},
            ProjectionExpression="#s",
            ExpressionAttributeNames={"#s": "state"},
        )
        counts: dict[str, int] = {}
        for item in items:
            counts[item["state"]["S"]] = counts.get(item["state"]["S"], 0) + 1
        return counts
