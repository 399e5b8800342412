"""The peer-stats port: what each libp2p peer relayed to us, kept across restarts so that a
peer's reputation is earned over time."""

from dataclasses import dataclass, field
from typing import Protocol


@dataclass
class PeerStats:
    """What one libp2p peer relayed to us; reputation is computed from it in node/."""

    peer_id: str
    valid: int = 0
    invalid: int = 0
    first_deliveries: int = 0
    first_seen: int = 0
    last_seen: int = 0
    invalid_reasons: dict[str, int] = field(default_factory=dict)


class PeerStatsStore(Protocol):
    def record(self, stats: PeerStats) -> None:
        """Add the counters in ``stats`` to the stored ones (reasons too) and update times."""

    def all(self) -> dict[str, PeerStats]: ...

    def forget(self, peer_ids: list[str]) -> None:
        """Delete these peers' counters (the node keeps a bounded peer table)."""
