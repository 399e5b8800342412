"""``PeerStatsStore`` in DynamoDB: one item per peer, versioned so that concurrent Lambdas
merge their counters instead of overwriting each other's."""

import json
from typing import Any

from botocore.exceptions import ClientError

from storage.dynamodb.table import Table, int_of, is_condition_failure, n, s
from storage.ports.peers import PeerStats


def _to_peer(item: dict[str, Any]) -> PeerStats:
    return PeerStats(
        peer_id=item["peer_id"]["S"],
        valid=int_of(item, "valid"),
        invalid=int_of(item, "invalid"),
        first_deliveries=int_of(item, "first_deliveries"),
        first_seen=int_of(item, "first_seen"),
        last_seen=int_of(item, "last_seen"),
        invalid_reasons=json.loads(item.get("invalid_reasons", {}).get("S", "{}")),
    )


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
    for reason, count in new.invalid_reasons.items():
        reasons[reason] = reasons.get(reason, 0) + count
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
        "pk": s(f"peer#{stats.peer_id}"),
        "peer_id": s(stats.peer_id),
        "valid": n(stats.valid),
        "invalid": n(stats.invalid),
        "first_deliveries": n(stats.first_deliveries),
        "first_seen": n(stats.first_seen),
        "last_seen": n(stats.last_seen),
        "invalid_reasons": s(json.dumps(stats.invalid_reasons)),
        "version": n(version),
        "gsi1pk": s("peers"),
        "gsi1sk": s(stats.peer_id),
    }


class DynamoPeers:
    def __init__(self, table: Table) -> None:
        self._table = table

    def record(self, stats: PeerStats) -> None:
        """Read, merge, write back conditioned on the version read: concurrent Lambdas that
        relay for the same peer retry instead of overwriting each other's counters."""
        key = self._table.key(f"peer#{stats.peer_id}")
        while True:
            item = self._table.client.get_item(**key, ConsistentRead=True).get("Item")
            merged = _merge_peer(_to_peer(item) if item else None, stats)
            version = int_of(item, "version") if item else 0
            try:
                self._table.client.put_item(
                    TableName=self._table.name,
                    Item=_peer_item(merged, version + 1),
                    ConditionExpression="attribute_not_exists(pk) OR version = :version",
                    ExpressionAttributeValues={":version": n(version)},
                )
                return
            except ClientError as exc:
                if not is_condition_failure(exc):
                    raise

    def all(self) -> dict[str, PeerStats]:
        items = self._table.query(
            None,
            IndexName="gsi1",
            KeyConditionExpression="gsi1pk = :peers",
            ExpressionAttributeValues={":peers": s("peers")},
        )
        return {item["peer_id"]["S"]: _to_peer(item) for item in items}

    def forget(self, peer_ids: list[str]) -> None:
        for peer_id in peer_ids:
            self._table.client.delete_item(**self._table.key(f"peer#{peer_id}"))
