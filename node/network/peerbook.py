"""Per-peer counters (valid, invalid, first deliveries, last seen) and the cool-down that
reputation imposes.

Counters change on every pubsub message, so they are kept in memory and written to the store
in one ``PeerStatsStore.record`` per peer per flush, not one write per message. Totals (stored +
pending) are what reputation and ``/api/peers`` see.

The table is bounded (``PEER_TABLE_MAX``): a peer id costs an attacker nothing, so when a new
one would pass the bound the least recently seen peer is forgotten, in memory and in the index.
"""

import asyncio
import dataclasses
import logging
import time
from collections import OrderedDict

from node.network.reputation import baseline, earns_cool_down, established, reputation
from node.protocol.envelope import now_ms
from node.settings import Limits
from node.toolkit.blocking import off_loop
from node.toolkit.worker import Next, StepWorker
from storage.ports.peers import PeerStats, PeerStatsStore

log = logging.getLogger(__name__)

FLUSH_SECONDS = 2.0
COOL_DOWN_SECONDS = 600.0
# The reputation baseline is computed over the whole table at most this often: a drop under a
# flood must not cost time linear in the number of peers.
BASELINE_SECONDS = 1.0


class PeerBook(StepWorker):
    """As a worker it flushes every ``flush_seconds``."""

    name = "peer stats"

    def __init__(
        self,
        stored: PeerStatsStore,
        cool_down: float = COOL_DOWN_SECONDS,
        max_peers: int = Limits.peer_table,
        flush_seconds: float = FLUSH_SECONDS,
    ) -> None:
        self.stored = stored
        self.cool_down = cool_down
        self.max_peers = max_peers
        self.flush_seconds = flush_seconds
        self.evicted = 0
        self._totals: OrderedDict[str, PeerStats] | None = None
        self._pending: dict[str, PeerStats] = {}
        # Counters of a flush that failed part way, written first by the next one.
        self._unwritten: list[PeerStats] = []
        self._forgotten: set[str] = set()
        self._ignored_until: dict[str, float] = {}
        self._baseline = (0.0, -BASELINE_SECONDS)  # (value, monotonic time it was computed)

    def _all(self) -> OrderedDict[str, PeerStats]:
        """Least recently seen first."""
        if self._totals is None:
            stored = sorted(self.stored.all().values(), key=lambda s: s.last_seen)
            self._totals = OrderedDict((s.peer_id, s) for s in stored)
            self._evict()
        return self._totals

    def _evict(self) -> None:
        assert self._totals is not None
        while len(self._totals) > self.max_peers:
            peer_id, _ = self._totals.popitem(last=False)
            self._pending.pop(peer_id, None)
            self._forgotten.add(peer_id)
            self.evicted += 1

    def _touch(self, peer_id: str) -> tuple[PeerStats, PeerStats]:
        now = now_ms()
        totals = self._all()
        total = totals.get(peer_id)
        if total is None:
            total = totals[peer_id] = PeerStats(peer_id, first_seen=now)
            self._forgotten.discard(peer_id)
            self._evict()
        else:
            totals.move_to_end(peer_id)
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
        if not self.ignored(peer_id) and earns_cool_down(total, self.baseline()):
            if len(self._ignored_until) >= self.max_peers:
                now = time.monotonic()
                self._ignored_until = {p: t for p, t in self._ignored_until.items() if t > now}
            self._ignored_until[peer_id] = time.monotonic() + self.cool_down
            log.warning(
                "peer %s scores %d, far below its peers: ignoring it for %.0f s",
                peer_id,
                reputation(total),
                self.cool_down,
            )

    def baseline(self) -> float:
        """The established peers' median reputation, recomputed at most every
        ``BASELINE_SECONDS``."""
        value, taken_at = self._baseline
        if time.monotonic() - taken_at >= BASELINE_SECONDS:
            scores = [reputation(s) for s in self._all().values() if established(s)]
            value = baseline(scores)
            self._baseline = (value, time.monotonic())
        return value

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

    async def flush(self) -> int:
        """Write pending counters, one ``record`` per peer, and forget evicted peers, off
        the event loop; returns how many peers were written. What is counted meanwhile is
        pending for the next flush."""
        if self._forgotten:
            forgotten, self._forgotten = list(self._forgotten), set()
            await off_loop(self.stored.forget, forgotten)
        pending, self._pending = [*self._unwritten, *self._pending.values()], {}
        self._unwritten = []
        written = 0
        try:
            for stats in pending:
                await off_loop(self.stored.record, stats)
                written += 1
        except BaseException:
            self._unwritten = pending[written:]
            raise
        return written

    async def step(self) -> Next:
        await self.flush()
        return Next.IDLE

    async def idle(self) -> None:
        await asyncio.sleep(self.flush_seconds)
