"""``MessageStore`` in DynamoDB.

A message, its outbox or replica entry and the counters are written in one transaction
conditioned on the message being new, so a duplicate changes nothing and counts stay exact
without a Scan.

Sequence numbers cannot be skipped by a reader: a message's ``seq`` is the board counter's
next value, set in the same transaction on the condition that the counter still holds the
value read (so sequence numbers are contiguous, and a seq is committed in order); concurrent
writers that lose that race, or hit a ``TransactionConflict``, read again and retry with
jittered backoff. ``list_since`` stops at a gap (a seq committed but not yet visible in the
eventually consistent index) instead of stepping over it, unless the gap is older than
``GAP_SECONDS`` (a hole left by an older version of this code).
"""

import random
import time
from typing import Any

from botocore.exceptions import ClientError

from storage.cursors import decode_cursor, encode_cursor, fits, refuse_ahead
from storage.dynamodb.outbox import outbox_item
from storage.dynamodb.table import Table, int_of, n, pad, s
from storage.errors import IndexBusy, InvalidCursor
from storage.ports.messages import NewMessage, Page, StoredMessage, envelope_text

WRITE_ATTEMPTS = 8
BACKOFF_SECONDS = 0.02
GAP_SECONDS = 60.0
RETRYABLE = {"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"}


def _cancellation_codes(exc: ClientError) -> list[str]:
    reasons = exc.response.get("CancellationReasons") or []
    return [str(r.get("Code") or "None") for r in reasons]


def _int_cursor(cursor: str, length: int) -> list[int]:
    values = decode_cursor(cursor, length)
    if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in values):
        raise InvalidCursor("cursor is not one this node handed out")
    return values


def _to_message(item: dict[str, Any]) -> StoredMessage:
    return StoredMessage(
        cid=item["cid"]["S"],
        envelope_json=item["envelope"]["S"],
        received_at=int_of(item, "received_at"),
        source=item["source"]["S"],
        pinned=item.get("pinned", {}).get("BOOL", False),
    )


def _replica_item(m: NewMessage) -> dict[str, Any]:
    return {
        "pk": s(f"replica#{m.cid}"),
        "cid": s(m.cid),
        "gsi1pk": s("replicas"),
        "gsi1sk": s(f"{pad(m.received_at)}#{m.cid}"),
    }


def contiguous(items: list[dict[str, Any]], after: int) -> list[dict[str, Any]]:
    """The items up to the first missing seq: a gap is a message committed but not yet in the
    index, which a reader must wait for, not step over. A gap followed by a message received
    more than ``GAP_SECONDS`` ago is a hole for good (seqs lost by older code) and is passed."""
    expected = after + 1
    old_enough = (time.time() - GAP_SECONDS) * 1000
    for position, item in enumerate(items):
        seq = int_of(item, "seq")
        if seq != expected and int_of(item, "received_at") > old_enough:
            return items[:position]
        expected = seq + 1
    return items


class DynamoMessages:
    def __init__(self, table: Table) -> None:
        self._table = table

    def _current_seq(self, board: str) -> int:
        key = self._table.key(f"counter#board#{board}")
        item = self._table.client.get_item(**key, ConsistentRead=True, ProjectionExpression="seq")
        return int_of(item.get("Item") or {}, "seq")

    def _count_one(self, pk: str) -> dict[str, Any]:
        return {
            "Update": {
                **self._table.key(pk),
                "UpdateExpression": "ADD messages :one",
                "ExpressionAttributeValues": {":one": n(1)},
            }
        }

    def _add_one(self, m: NewMessage, outbox_at: int | None) -> bool:
        # Duplicates are the common case on pubsub (every peer relays): a read is cheaper than
        # a failed transaction. The transaction's condition still decides when two writers race.
        if self.has(m.cid):
            return False
        for attempt in range(WRITE_ATTEMPTS):
            try:
                self._table.client.transact_write_items(TransactItems=self._writes(m, outbox_at))
                return True
            except ClientError as exc:
                codes = _cancellation_codes(exc)
                if codes and codes[0] == "ConditionalCheckFailed":
                    return False  # the message is there already
                contended = codes and (
                    codes[1] == "ConditionalCheckFailed" or RETRYABLE & set(codes)
                )
                if not contended:
                    raise
            time.sleep(random.uniform(0, BACKOFF_SECONDS * 2**attempt))
        raise IndexBusy(f"{m.cid}: the board's counter stayed contended; retry")

    def _writes(self, m: NewMessage, outbox_at: int | None) -> list[dict[str, Any]]:
        """Message, board counter (its next seq, conditioned on the value read), totals, and
        the message's outbox or replica-queue entry."""
        board = str(m.envelope["board"])
        current = self._current_seq(board)
        seq = current + 1
        ts = int(m.envelope["ts"])
        item = {
            "pk": s(f"msg#{m.cid}"),
            "cid": s(m.cid),
            "envelope": s(envelope_text(m.envelope)),
            "received_at": n(m.received_at),
            "source": s(m.source),
            "pinned": {"BOOL": False},
            "seq": n(seq),
            "gsi1pk": s(f"board#{board}"),
            "gsi1sk": s(f"{pad(ts)}#{pad(seq)}"),
            "gsi2pk": s(f"board#{board}"),
            "gsi2sk": n(seq),
        }
        writes: list[dict[str, Any]] = [
            {
                "Put": {
                    "TableName": self._table.name,
                    "Item": item,
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
            {
                "Update": {
                    **self._table.key(f"counter#board#{board}"),
                    "UpdateExpression": "SET seq = :seq ADD messages :one",
                    "ConditionExpression": "attribute_not_exists(seq) OR seq = :current",
                    "ExpressionAttributeValues": {
                        ":seq": n(seq),
                        ":current": n(current),
                        ":one": n(1),
                    },
                }
            },
            self._count_one("counter#all"),
        ]
        # A received message (no outbox entry) carries its replica-queue entry until pinned.
        pending = outbox_item(m.cid, outbox_at) if outbox_at is not None else _replica_item(m)
        writes.append({"Put": {"TableName": self._table.name, "Item": pending}})
        return writes

    def add(self, messages: list[NewMessage], *, outbox_at: int | None = None) -> list[bool]:
        return [self._add_one(m, outbox_at) for m in messages]

    def get(self, cid: str) -> StoredMessage | None:
        key = self._table.key(f"msg#{cid}")
        item = self._table.client.get_item(**key, ConsistentRead=True).get("Item")
        return _to_message(item) if item else None

    def has(self, cid: str) -> bool:
        item = self._table.client.get_item(
            **self._table.key(f"msg#{cid}"), ConsistentRead=True, ProjectionExpression="pk"
        ).get("Item")
        return item is not None

    def list_board(
        self, board: str, limit: int, before: str | None = None, max_bytes: int | None = None
    ) -> Page:
        condition = "gsi1pk = :board"
        values: dict[str, Any] = {":board": s(f"board#{board}")}
        if before is not None:
            ts, seq = _int_cursor(before, 2)
            refuse_ahead(seq, self._current_seq(board))
            condition += " AND gsi1sk < :before"
            values[":before"] = s(f"{pad(ts)}#{pad(seq)}")
        items = self._table.query(
            limit,
            IndexName="gsi1",
            KeyConditionExpression=condition,
            ExpressionAttributeValues=values,
            ScanIndexForward=False,
        )
        messages = [_to_message(item) for item in items]
        kept = fits([len(m.envelope_json) for m in messages], max_bytes)
        more = kept < len(items) or len(items) == limit
        messages, items = messages[:kept], items[:kept]
        next_cursor = None
        if more and items:
            next_cursor = encode_cursor([messages[-1].ts, int_of(items[-1], "seq")])
        return Page(messages, next_cursor)

    def list_since(
        self, board: str, since: str | None, limit: int, max_bytes: int | None = None
    ) -> Page:
        after = 0
        if since is not None:
            (after,) = _int_cursor(since, 1)
            refuse_ahead(after, self._current_seq(board))
        items = self._table.query(
            limit,
            IndexName="gsi2",
            KeyConditionExpression="gsi2pk = :board AND gsi2sk > :after",
            ExpressionAttributeValues={":board": s(f"board#{board}"), ":after": n(after)},
        )
        items = contiguous(items, after)
        messages = [_to_message(item) for item in items]
        kept = fits([len(m.envelope_json) for m in messages], max_bytes)
        items = items[:kept]
        last = int_of(items[-1], "seq") if items else after
        return Page(messages[:kept], encode_cursor([last]))

    def latest_cursor(self, board: str) -> str | None:
        """The board counter, read consistently: the index may not show the newest yet."""
        return encode_cursor([self._current_seq(board)])

    def count(self, board: str | None = None) -> int:
        pk = "counter#all" if board is None else f"counter#board#{board}"
        key = self._table.key(pk)
        item = self._table.client.get_item(**key, ConsistentRead=True).get("Item") or {}
        return int_of(item, "messages")

    def mark_pinned(self, cid: str) -> None:
        # Flag first: a crash in between leaves a replica entry whose pin is repeated, a no-op.
        self._table.update_existing(f"msg#{cid}", "SET pinned = :yes", {":yes": {"BOOL": True}})
        self._table.client.delete_item(**self._table.key(f"replica#{cid}"))

    def unpinned(self, after: str, limit: int) -> list[tuple[str, str]]:
        condition, values = "gsi1pk = :replicas", {":replicas": s("replicas")}
        if after:
            condition, values[":after"] = f"{condition} AND gsi1sk > :after", s(after)
        items = self._table.query(
            limit,
            IndexName="gsi1",
            KeyConditionExpression=condition,
            ExpressionAttributeValues=values,
        )
        return [(item["gsi1sk"]["S"], item["cid"]["S"]) for item in items]
