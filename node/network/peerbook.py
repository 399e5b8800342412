"""Per-peer counters (valid, invalid, first deliveries, last seen) and the cool-down that
reputation imposes.

Counters change on every pubsub message, so they are kept in memory and written to the index
in one ``record_peer`` per peer per flush, not one write per message. Totals (stored + pending)
are what reputation and ``/api/peers`` see.
"""

import asyncio
import dataclasses
import logging
import time

from node.envelope import now_ms
from node.network.reputation import far_below_others, reputation
from storage.index import MessageIndex, PeerStats

log = logging.getLogger(__name__)

FLUSH_SECONDS = 2.0
COOL_DOWN_SECONDS = 600.0


class PeerBook:
    def __init__(self, index: MessageIndex, cool_down: float = COOL_DOWN_SECONDS) -> None:
        self.index = index
        self.cool_down = cool_down
        self._totals: dict[str, PeerStats] | None = None
        self._pending: dict[str, PeerStats] = {}
        self._ignored_until: dict[str, float] = {}

    def _all(self) -> dict[str, PeerStats]:
        if self._totals is None:
            self._totals = self.index.peer_stats()
        return self._totals

    def _touch(self, peer_id: str) -> tuple[PeerStats, PeerStats]:
        now = now_ms()
        total = self._all().setdefault(peer_id, PeerStats(peer_id, first_seen=now))
        pending = self._pending.setdefault(peer_id, PeerStats(peer_id, first_seen=now))
        total.last_seen = pending.last_seen = now
        return total, pending

    def seen(self, peer_id: str) -> None:
        """The peer spoke on a board (a head announcement): only ``last_seen`` moves."""
        self._touch(peer_id)

    def valid(self, peer_id: str) -> None:
        total, pending = self._touch(peer_id)
        total.valid += 1
        pending.valid += 1

    def first_deliveries(self, peer_id: str, count: int) -> None:
        """Credit messages that turned out to be new to this node once the index said so."""
        total, pending = self._touch(peer_id)
        total.first_deliveries += count
        pending.first_deliveries += count

    def invalid(self, peer_id: str, code: str) -> None:
        total, pending = self._touch(peer_id)
        for stats in (total, pending):
            stats.invalid += 1
            stats.invalid_reasons[code] = stats.invalid_reasons.get(code, 0) + 1
        others = [reputation(s) for p, s in self._all().items() if p != peer_id]
        if not self.ignored(peer_id) and far_below_others(total, others):
            self._ignored_until[peer_id] = time.monotonic() + self.cool_down
            log.warning(
                "peer %s scores %d, far below its peers: ignoring it for %.0f s",
                peer_id,
                reputation(total),
                self.cool_down,
            )

    def ignored(self, peer_id: str) -> bool:
        """True while the peer is in cool-down: its announcements and heads are dropped."""
        until = self._ignored_until.get(peer_id)
        if until is None:
            return False
        if time.monotonic() >= until:
            del self._ignored_until[peer_id]
            return False
        return True

    def ignored_for(self, peer_id: str) -> float:
        """Seconds of cool-down left (0 when the peer is listened to)."""
        return max(0.0, self._ignored_until.get(peer_id, 0.0) - time.monotonic())

    def snapshot(self) -> dict[str, PeerStats]:
        return {
            p: dataclasses.replace(s, invalid_reasons=dict(s.invalid_reasons))
            for p, s in self._all().items()
        }

    def flush(self) -> int:
        """Write pending counters, one ``record_peer`` per peer; returns how many peers."""
        pending, self._pending = self._pending, {}
        written = 0
        try:
            for stats in pending.values():
                self.index.record_peer(stats)
                written += 1
        except BaseException:
            for stats in list(pending.values())[written:]:
                self._pending.setdefault(stats.peer_id, stats)
            raise
        return written

    async def run(self, interval: float = FLUSH_SECONDS) -> None:
        try:
            while True:
                await asyncio.sleep(interval)
                try:
                    self.flush()
                except Exception:
                    log.exception("peer stats: flush failed; retrying next round")
        finally:
            self.flush()
