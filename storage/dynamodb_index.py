"""``MessageIndex`` in one DynamoDB table, the store of a Lambda deployment.

One table, overloaded keys (``pk`` only), two global secondary indexes:

- message ``msg#<cid>``: the envelope (JSON text, so it comes back byte-for-byte), ``seq``,
  ``pinned``; ``gsi1`` = (``board#<board>``, ``<ts>#<seq>``) lists a board newest first and
  ``gsi2`` = (``board#<board>``, ``seq``) lists it in the order this node received it;
- outbox entry ``outbox#<cid>``: ``gsi1`` = (``outbox``, ``<next_attempt_at>#<cid>``), due first;
- replica entry ``replica#<cid>`` of a message received from a peer and not pinned yet:
  ``gsi1`` = (``replicas``, ``<received_at>#<cid>``), oldest first;
- peer ``peer#<id>`` (``gsi1`` = (``peers``, id)), meta ``meta#<key>`` (``gsi1`` = (``meta``,
  key), so ``meta_scan`` is a Query of one partition);
- remote pin ``remotepin#<cid>``: while open, ``gsi1`` = (``remotepin``, ``<due>#<cid>``); a
  pinned one drops its ``gsi1`` keys, so the partition is the backlog, not the history;
- counters: ``counter#board#<board>`` (next ``seq``, message count) and ``counter#all``.

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

import json
import random
import time
from typing import Any

import boto3
from botocore.exceptions import ClientError

from storage.errors import IndexBusy, InvalidCursor
from storage.index import (
    NewMessage,
    OutboxItem,
    Page,
    PeerStats,
    RemotePin,
    StoredMessage,
    decode_cursor,
    encode_cursor,
    envelope_text,
    fits,
    refuse_ahead,
)

# Zero-padded so that string order is number order (ts is non-negative, bounded by clock skew).
_WIDTH = 20
SIZE_CACHE_SECONDS = 60.0
WRITE_ATTEMPTS = 8
BACKOFF_SECONDS = 0.02
GAP_SECONDS = 60.0
RETRYABLE = {"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"}

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


def _pad(number: int) -> str:
    return f"{number:0{_WIDTH}d}"


def _s(value: str) -> dict[str, str]:
    return {"S": value}


def _n(value: int) -> dict[str, str]:
    return {"N": str(value)}


def _int(item: dict[str, Any], name: str) -> int:
    return int(item[name]["N"]) if name in item else 0


def _is_condition_failure(exc: ClientError) -> bool:
    code = exc.response.get("Error", {}).get("Code")
    if code == "ConditionalCheckFailedException":
        return True
    if code == "TransactionCanceledException":
        reasons = exc.response.get("CancellationReasons") or []
        return any(r.get("Code") == "ConditionalCheckFailed" for r in reasons)
    return False


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
        received_at=_int(item, "received_at"),
        source=item["source"]["S"],
        pinned=item.get("pinned", {}).get("BOOL", False),
    )


def _to_peer(item: dict[str, Any]) -> PeerStats:
    return PeerStats(
        peer_id=item["peer_id"]["S"],
        valid=_int(item, "valid"),
        invalid=_int(item, "invalid"),
        first_deliveries=_int(item, "first_deliveries"),
        first_seen=_int(item, "first_seen"),
        last_seen=_int(item, "last_seen"),
        invalid_reasons=json.loads(item.get("invalid_reasons", {}).get("S", "{}")),
    )


class DynamoMessageIndex:
    def __init__(self, table_name: str) -> None:
        self.table = table_name
        self._db = boto3.client("dynamodb")
        self._size: tuple[float, int] = (0.0, 0)

    def _key(self, pk: str) -> dict[str, Any]:
        return {"TableName": self.table, "Key": {"pk": _s(pk)}}

    def _update_existing(self, pk: str, expression: str, values: dict[str, Any]) -> None:
        """Update an item only if it exists (like SQL ``UPDATE … WHERE``: a no-op otherwise)."""
        try:
            self._db.update_item(
                **self._key(pk),
                UpdateExpression=expression,
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeValues=values,
            )
        except ClientError as exc:
            if not _is_condition_failure(exc):
                raise

    def _query(self, limit: int | None, **kwargs: Any) -> list[dict[str, Any]]:
        """Up to ``limit`` items (all with None), following DynamoDB's 1 MB pages."""
        items: list[dict[str, Any]] = []
        start: dict[str, Any] | None = None
        while limit is None or len(items) < limit:
            page_args = {"ExclusiveStartKey": start} if start else {}
            if limit is not None:
                page_args["Limit"] = limit - len(items)
            page = self._db.query(TableName=self.table, **kwargs, **page_args)
            items.extend(page.get("Items", []))
            start = page.get("LastEvaluatedKey")
            if not start:
                break
        return items

    def _current_seq(self, board: str) -> int:
        key = self._key(f"counter#board#{board}")
        item = self._db.get_item(**key, ConsistentRead=True, ProjectionExpression="seq")
        return _int(item.get("Item") or {}, "seq")

    def _count_one(self, pk: str) -> dict[str, Any]:
        return {
            "Update": {
                **self._key(pk),
                "UpdateExpression": "ADD messages :one",
                "ExpressionAttributeValues": {":one": _n(1)},
            }
        }

    def _add_one(self, m: NewMessage, outbox_at: int | None) -> bool:
        # Duplicates are the common case on pubsub (every peer relays): a read is cheaper than
        # a failed transaction. The transaction's condition still decides when two writers race.
        if self.has(m.cid):
            return False
        for attempt in range(WRITE_ATTEMPTS):
            try:
                self._db.transact_write_items(TransactItems=self._writes(m, outbox_at))
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
            "pk": _s(f"msg#{m.cid}"),
            "cid": _s(m.cid),
            "envelope": _s(envelope_text(m.envelope)),
            "received_at": _n(m.received_at),
            "source": _s(m.source),
            "pinned": {"BOOL": False},
            "seq": _n(seq),
            "gsi1pk": _s(f"board#{board}"),
            "gsi1sk": _s(f"{_pad(ts)}#{_pad(seq)}"),
            "gsi2pk": _s(f"board#{board}"),
            "gsi2sk": _n(seq),
        }
        writes: list[dict[str, Any]] = [
            {
                "Put": {
                    "TableName": self.table,
                    "Item": item,
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
            {
                "Update": {
                    **self._key(f"counter#board#{board}"),
                    "UpdateExpression": "SET seq = :seq ADD messages :one",
                    "ConditionExpression": "attribute_not_exists(seq) OR seq = :current",
                    "ExpressionAttributeValues": {
                        ":seq": _n(seq),
                        ":current": _n(current),
                        ":one": _n(1),
                    },
                }
            },
            self._count_one("counter#all"),
        ]
        # A received message (no outbox entry) carries its replica-queue entry until pinned.
        pending = _outbox_item(m.cid, outbox_at) if outbox_at is not None else _replica_item(m)
        writes.append({"Put": {"TableName": self.table, "Item": pending}})
        return writes

    def add(self, messages: list[NewMessage], *, outbox_at: int | None = None) -> list[bool]:
        return [self._add_one(m, outbox_at) for m in messages]

    def get(self, cid: str) -> StoredMessage | None:
        item = self._db.get_item(**self._key(f"msg#{cid}"), ConsistentRead=True).get("Item")
        return _to_message(item) if item else None

    def has(self, cid: str) -> bool:
        item = self._db.get_item(
            **self._key(f"msg#{cid}"), ConsistentRead=True, ProjectionExpression="pk"
        ).get("Item")
        return item is not None

    def list_board(
        self, board: str, limit: int, before: str | None = None, max_bytes: int | None = None
    ) -> Page:
        condition = "gsi1pk = :board"
        values: dict[str, Any] = {":board": _s(f"board#{board}")}
        if before is not None:
            ts, seq = _int_cursor(before, 2)
            refuse_ahead(seq, self._current_seq(board))
            condition += " AND gsi1sk < :before"
            values[":before"] = _s(f"{_pad(ts)}#{_pad(seq)}")
        items = self._query(
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
            next_cursor = encode_cursor([messages[-1].ts, _int(items[-1], "seq")])
        return Page(messages, next_cursor)

    def list_since(
        self, board: str, since: str | None, limit: int, max_bytes: int | None = None
    ) -> Page:
        after = 0
        if since is not None:
            (after,) = _int_cursor(since, 1)
            refuse_ahead(after, self._current_seq(board))
        items = self._query(
            limit,
            IndexName="gsi2",
            KeyConditionExpression="gsi2pk = :board AND gsi2sk > :after",
            ExpressionAttributeValues={":board": _s(f"board#{board}"), ":after": _n(after)},
        )
        items = _contiguous(items, after)
        messages = [_to_message(item) for item in items]
        kept = fits([len(m.envelope_json) for m in messages], max_bytes)
        items = items[:kept]
        last = _int(items[-1], "seq") if items else after
        return Page(messages[:kept], encode_cursor([last]))

    def latest_cursor(self, board: str) -> str | None:
        """The board counter, read consistently: the index may not show the newest yet."""
        return encode_cursor([self._current_seq(board)])

    def count(self, board: str | None = None) -> int:
        pk = "counter#all" if board is None else f"counter#board#{board}"
        item = self._db.get_item(**self._key(pk), ConsistentRead=True).get("Item") or {}
        return _int(item, "messages")

    def mark_pinned(self, cid: str) -> None:
        # Flag first: a crash in between leaves a replica entry whose pin is repeated, a no-op.
        self._update_existing(f"msg#{cid}", "SET pinned = :yes", {":yes": {"BOOL": True}})
        self._db.delete_item(**self._key(f"replica#{cid}"))

    def unpinned(self, after: str, limit: int) -> list[tuple[str, str]]:
        condition, values = "gsi1pk = :replicas", {":replicas": _s("replicas")}
        if after:
            condition, values[":after"] = f"{condition} AND gsi1sk > :after", _s(after)
        items = self._query(
            limit,
            IndexName="gsi1",
            KeyConditionExpression=condition,
            ExpressionAttributeValues=values,
        )
        return [(item["gsi1sk"]["S"], item["cid"]["S"]) for item in items]

    def outbox_due(self, now_ms: int, limit: int) -> list[OutboxItem]:
        items = self._query(
            limit,
            IndexName="gsi1",
            KeyConditionExpression="gsi1pk = :outbox AND gsi1sk < :until",
            ExpressionAttributeValues={":outbox": _s("outbox"), ":until": _s(_pad(now_ms + 1))},
        )
        return [
            OutboxItem(
                item["cid"]["S"],
                _int(item, "attempts"),
                _int(item, "next_attempt_at"),
                item.get("last_error", {}).get("S", ""),
            )
            for item in items
        ]

    def outbox_reschedule(self, cid: str, next_attempt_at: int, error: str) -> None:
        self._update_existing(
            f"outbox#{cid}",
            "SET next_attempt_at = :at, last_error = :error, gsi1sk = :sk ADD attempts :one",
            {
                ":at": _n(next_attempt_at),
                ":error": _s(error[:500]),
                ":sk": _s(f"{_pad(next_attempt_at)}#{cid}"),
                ":one": _n(1),
            },
        )

    def outbox_done(self, cid: str) -> None:
        self._db.delete_item(**self._key(f"outbox#{cid}"))

    def outbox_size(self) -> int:
        """A Query of the outbox's own partition: the outbox is a short backlog, not a table."""
        total, start = 0, None
        while True:
            page = self._db.query(
                TableName=self.table,
                IndexName="gsi1",
                KeyConditionExpression="gsi1pk = :outbox",
                ExpressionAttributeValues={":outbox": _s("outbox")},
                Select="COUNT",
                **({"ExclusiveStartKey": start} if start else {}),
            )
            total += page["Count"]
            start = page.get("LastEvaluatedKey")
            if not start:
                return total

    def _remote_conditional(self, call: Any, **kwargs: Any) -> bool:
        try:
            call(TableName=self.table, ExpressionAttributeNames={"#s": "state"}, **kwargs)
        except ClientError as exc:
            if _is_condition_failure(exc):
                return False
            raise
        return True

    def remote_pin_want(self, cid: str, kind: str, at: int) -> None:
        self._remote_conditional(
            self._db.put_item,
            Item=_remote_item(RemotePin(cid, kind, next_attempt_at=at, updated_at=at)),
            ConditionExpression="attribute_not_exists(pk) OR #s = :unpinning",
            ExpressionAttributeValues={":unpinning": _s("unpinning")},
        )

    def remote_pin_resend(self, cid: str, kind: str, at: int) -> None:
        item = _remote_item(RemotePin(cid, kind, next_attempt_at=at, updated_at=at))
        self._db.put_item(TableName=self.table, Item=item)

    def remote_pin_release(self, cid: str, at: int) -> None:
        key = {"pk": _s(f"remotepin#{cid}")}
        never_sent = {":waiting": _s("waiting"), ":none": _s("")}
        if self._remote_conditional(
            self._db.delete_item,
            Key=key,
            ConditionExpression="#s = :waiting AND request_id = :none",
            ExpressionAttributeValues=never_sent,
        ):
            return
        self._remote_conditional(
            self._db.update_item,
            Key=key,
            UpdateExpression="SET #s = :unpinning, attempts = :zero, next_attempt_at = :at,"
            " last_error = :empty, updated_at = :at, gsi1pk = :pk, gsi1sk = :sk",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues={
                ":unpinning": _s("unpinning"),
                ":zero": _n(0),
                ":at": _n(at),
                ":empty": _s(""),
                ":pk": _s("remotepin"),
                ":sk": _s(f"{_pad(at)}#{cid}"),
            },
        )

    def remote_pin_get(self, cid: str) -> RemotePin | None:
        key = self._key(f"remotepin#{cid}")
        item = self._db.get_item(**key, ConsistentRead=True).get("Item")
        return _to_remote(item) if item else None

    def remote_pin_due(self, now_ms: int, limit: int) -> list[RemotePin]:
        items = self._query(
            limit,
            IndexName="gsi1",
            KeyConditionExpression="gsi1pk = :remote AND gsi1sk < :until",
            ExpressionAttributeValues={":remote": _s("remotepin"), ":until": _s(_pad(now_ms + 1))},
        )
        return [_to_remote(item) for item in items]

    def remote_pin_update(self, pin: RemotePin, expected_state: str) -> bool:
        return self._remote_conditional(
            self._db.put_item,
            Item=_remote_item(pin),
            ConditionExpression="#s = :expected",
            ExpressionAttributeValues={":expected": _s(expected_state)},
        )

    def remote_pin_forget(self, cid: str, expected_state: str) -> bool:
        return self._remote_conditional(
            self._db.delete_item,
            Key={"pk": _s(f"remotepin#{cid}")},
            ConditionExpression="#s = :expected",
            ExpressionAttributeValues={":expected": _s(expected_state)},
        )

    def remote_pin_counts(self) -> dict[str, int]:
        items = self._query(
            None,
            IndexName="gsi1",
            KeyConditionExpression="gsi1pk = :remote",
            ExpressionAttributeValues={":remote": _s("remotepin")},
            ProjectionExpression="#s",
            ExpressionAttributeNames={"#s": "state"},
        )
        counts: dict[str, int] = {}
        for item in items:
            counts[item["state"]["S"]] = counts.get(item["state"]["S"], 0) + 1
        return counts

    def record_peer(self, stats: PeerStats) -> None:
        """Read, merge, write back conditioned on the version read: concurrent Lambdas that
        relay for the same peer retry instead of overwriting each other's counters."""
        key = self._key(f"peer#{stats.peer_id}")
        while True:
            item = self._db.get_item(**key, ConsistentRead=True).get("Item")
            merged = _merge_peer(_to_peer(item) if item else None, stats)
            version = _int(item, "version") if item else 0
            try:
                self._db.put_item(
                    TableName=self.table,
                    Item=_peer_item(merged, version + 1),
                    ConditionExpression="attribute_not_exists(pk) OR version = :version",
                    ExpressionAttributeValues={":version": _n(version)},
                )
                return
            except ClientError as exc:
                if not _is_condition_failure(exc):
                    raise

    def peer_stats(self) -> dict[str, PeerStats]:
        items = self._query(
            None,
            IndexName="gsi1",
            KeyConditionExpression="gsi1pk = :peers",
            ExpressionAttributeValues={":peers": _s("peers")},
        )
        return {item["peer_id"]["S"]: _to_peer(item) for item in items}

    def forget_peers(self, peer_ids: list[str]) -> None:
        for peer_id in peer_ids:
            self._db.delete_item(**self._key(f"peer#{peer_id}"))

    def meta_get(self, key: str) -> str | None:
        item = self._db.get_item(**self._key(f"meta#{key}"), ConsistentRead=True).get("Item")
        return item["value"]["S"] if item else None

    def meta_set(self, key: str, value: str) -> None:
        item = {"pk": _s(f"meta#{key}"), "value": _s(value)}
        item.update(gsi1pk=_s("meta"), gsi1sk=_s(key))
        self._db.put_item(TableName=self.table, Item=item)

    def meta_scan(self, prefix: str) -> dict[str, str]:
        items = self._query(
            None,
            IndexName="gsi1",
            KeyConditionExpression="gsi1pk = :meta AND begins_with(gsi1sk, :prefix)",
            ExpressionAttributeValues={":meta": _s("meta"), ":prefix": _s(prefix)},
        )
        return {item["gsi1sk"]["S"]: item["value"]["S"] for item in items}

    def size_bytes(self) -> int:
        """DynamoDB's own estimate (refreshed by AWS about every six hours), cached briefly so
        that a polled status endpoint does not hit the DescribeTable rate limit."""
        taken_at, size = self._size
        if not taken_at or time.monotonic() - taken_at > SIZE_CACHE_SECONDS:
            table = self._db.describe_table(TableName=self.table)["Table"]
            size = int(table.get("TableSizeBytes", 0))
            self._size = (time.monotonic(), size)
        return size

    def close(self) -> None:
        self._db.close()


def _contiguous(items: list[dict[str, Any]], after: int) -> list[dict[str, Any]]:
    """The items up to the first missing seq: a gap is a message committed but not yet in the
    index, which a reader must wait for, not step over. A gap followed by a message received
    more than ``GAP_SECONDS`` ago is a hole for good (seqs lost by older code) and is passed."""
    expected = after + 1
    old_enough = (time.time() - GAP_SECONDS) * 1000
    for position, item in enumerate(items):
        seq = _int(item, "seq")
        if seq != expected and _int(item, "received_at") > old_enough:
            return items[:position]
        expected = seq + 1
    return items


def _outbox_item(cid: str, next_attempt_at: int) -> dict[str, Any]:
    return {
        "pk": _s(f"outbox#{cid}"),
        "cid": _s(cid),
        "attempts": _n(0),
        "next_attempt_at": _n(next_attempt_at),
        "last_error": _s(""),
        "gsi1pk": _s("outbox"),
        "gsi1sk": _s(f"{_pad(next_attempt_at)}#{cid}"),
    }


def _remote_item(pin: RemotePin) -> dict[str, Any]:
    item = {
        "pk": _s(f"remotepin#{pin.cid}"),
        "cid": _s(pin.cid),
        "kind": _s(pin.kind),
        "state": _s(pin.state),
        "request_id": _s(pin.request_id),
        "attempts": _n(pin.attempts),
        "next_attempt_at": _n(pin.next_attempt_at),
        "last_error": _s(pin.last_error[:500]),
        "updated_at": _n(pin.updated_at),
    }
    if pin.state != "pinned":
        item["gsi1pk"] = _s("remotepin")
        item["gsi1sk"] = _s(f"{_pad(pin.next_attempt_at)}#{pin.cid}")
    return item


def _to_remote(item: dict[str, Any]) -> RemotePin:
    return RemotePin(
        cid=item["cid"]["S"],
        kind=item["kind"]["S"],
        state=item["state"]["S"],
        request_id=item.get("request_id", {}).get("S", ""),
        attempts=_int(item, "attempts"),
        next_attempt_at=_int(item, "next_attempt_at"),
        last_error=item.get("last_error", {}).get("S", ""),
        updated_at=_int(item, "updated_at"),
    )


def _replica_item(m: NewMessage) -> dict[str, Any]:
    return {
        "pk": _s(f"replica#{m.cid}"),
        "cid": _s(m.cid),
        "gsi1pk": _s("replicas"),
        "gsi1sk": _s(f"{_pad(m.received_at)}#{m.cid}"),
    }


def _merge_peer(old: PeerStats | None, new: PeerStats) -> PeerStats:
    """The same merge as the SQLite upsert: counters add, reasons add, times widen."""
    if old is None:
        return PeerStats(
            new.peer_id,
            new.valid,
            new.invalid,
            new.first_deliveries,
            new.first_seen or new.last_seen,
            new.last_seen,
            dict(new.invalid_reasons),
        )
    reasons = dict(old.invalid_reasons)
    for reason, n in new.invalid_reasons.items():
        reasons[reason] = reasons.get(reason, 0) + n
    return PeerStats(
        new.peer_id,
        old.valid + new.valid,
        old.invalid + new.invalid,
        old.first_deliveries + new.first_deliveries,
        old.first_seen or new.first_seen or new.last_seen,
        max(old.last_seen, new.last_seen),
        reasons,
    )


def _peer_item(stats: PeerStats, version: int) -> dict[str, Any]:
    return {
        "pk": _s(f"peer#{stats.peer_id}"),
        "peer_id": _s(stats.peer_id),
        "valid": _n(stats.valid),
        "invalid": _n(stats.invalid),
        "first_deliveries": _n(stats.first_deliveries),
        "first_seen": _n(stats.first_seen),
        "last_seen": _n(stats.last_seen),
        "invalid_reasons": _s(json.dumps(stats.invalid_reasons)),
        "version": _n(version),
        "gsi1pk": _s("peers"),
        "gsi1sk": _s(stats.peer_id),
    }
