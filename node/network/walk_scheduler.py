"""Which chains catch-up walks, and when. A head announcement, or a chain left unfinished by an
earlier run (``resume``), queues the chain; a walk step (``ChainWalker.step``) starts when a slot
is free. Bounds: ``concurrency`` steps at once and one per peer, so one slow peer holds one slot;
a step has a total deadline; the queue of chains with work is bounded and drops new chains
(counted) when full, as does the table of chains when no complete one can be forgotten. A page
nobody served, a step past its deadline, or a page this node had no room to store (its frontier
stays before that page) leaves the chain pending, retried with backoff;
chains of peers in reputation cool-down are not walked (the walker stops at once).

Peers that have served nothing cannot hold catch-up: a head nobody serves is not the peer's
fault (it may just be gone), so it is not counted against it, but what such chains hold is
bounded. A chain none of whose pages was walked yet is *unproven*; one whose walks have begun to
fail (``Chain.stalled_since``) is *stalled*; the others are *productive* and come first. At most
``MAX_UNPROVEN`` chains are unproven at once, a peer's first before another's second; an
unproven chain whose step ends unserved is dropped (nothing of it was saved), and its peer's
unproven heads are refused for the backoff the chain would have waited (``MAX_COOLING_PEERS``
such peers remembered). Unproven chains probe their heads in slots of their own, stalled chains
walk in at most half the slots, after the productive ones, and give up their queue place and
their table entry to a chain that is not stalled. A chain stalled for ``STALLED_SECONDS`` is
dropped with its saved frontier and is not resumed at start."""

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Iterable

from node.guards.storage_budget import StorageFull
from node.network.chain_record import KINDS, ChainRecord, retry_delay
from node.network.chain_walker import ChainWalker
from node.network.frontier import Chain
from node.network.frontier_store import FrontierStore
from node.network.sync_progress import SyncCounters
from node.protocol.envelope import now_ms
from storage.errors import IpfsError

log = logging.getLogger("node.network.sync")  # one logger for all of catch-up

CONCURRENCY = 4
WALK_DEADLINE = 30.0
MAX_QUEUE = 256
MAX_CHAINS = 1024
RELOAD_SECONDS = 5.0
# An honest head is fetched in well under a second (~260 ms between two daemons), so an honest
# chain is unproven only briefly; a head nobody serves holds its slot for one FETCH_TIMEOUT
# (10 s). 16 of them, probed eight at a time (``_free``), delay a new honest peer by at most
# 16 / 8 x 10 s = 20 s, and chains that served pages not at all (they walk in slots of their
# own); a head refused because 16 are waiting is heard again at its peer's next announcement.
MAX_UNPROVEN = 16
# Peers whose unproven chain was not served, remembered with their backoff (an entry is a few
# dozen bytes; one forgotten early costs one more 10 s fetch).
MAX_COOLING_PEERS = 4096
# A chain that served pages but whose walks have failed for a day (its peer gone, or serving
# only its head) is dropped with its frontier. An honest peer away that long loses nothing: its
# next head is walked whole, pages fetched again and the messages already here skipped.
STALLED_SECONDS = 86_400.0

Key = tuple[str, str]  # (peer, board)


class WalkScheduler:
    """Holds one ``ChainRecord`` per chain and starts the walk steps; the walking itself is
    ``ChainWalker``'s."""

    def __init__(
        self,
        walker: ChainWalker,
        store: FrontierStore,
        counters: SyncCounters,
        concurrency: int = CONCURRENCY,
    ) -> None:
        self.walker = walker
        self.store = store
        self.counters = counters
        self.concurrency = concurrency
        self.records: dict[Key, ChainRecord] = {}
        self._queue: dict[Key, None] = {}
        self._active: dict[Key, asyncio.Task] = {}
        self._kinds: dict[Key, str] = {}  # of each chain walking, when its step began
        self._wake: asyncio.TimerHandle | None = None
        self._draining = False
        self._halted = False
        self._loaded_at: float | None = None
        # Peers whose unproven chain nobody served: (failures in a row, monotonic time until
        # which their unproven heads are refused), oldest first.
        self._cooling: dict[str, tuple[int, float]] = {}

    def offer(self, head: str, peer: str, board: str) -> None:
        """Queue the chain of a new head unless the head is known; a known head queues its
        chain again if it has gaps and the queue has room (a stalled chain gives up its place,
        see ``_unqueue_stalled``). Only the newest head of a chain waits; its walk covers the
        older ones."""
        record = self._record(peer, board)
        if record is None:
            return
        chain = record.chain
        if not (head in (chain.head, chain.pending) or chain.walking_head(head)):
            chain.pending = head
        elif not chain.gaps or len(self._queue) >= MAX_QUEUE:
            return
        self._enqueue(chain.key)

    def resume(self) -> int:
        """Queue every chain the store says is unfinished; returns how many."""
        self._halted = False
        self._load()
        unfinished = [record.key for record in self.records.values() if record.chain.gaps]
        for key in unfinished:
            self._enqueue(key)
        return len(unfinished)

    def refresh(self) -> None:
        """Re-read the saved frontiers, at most every ``RELOAD_SECONDS`` and not while a walk
        of this process saves them."""
        stale = self._loaded_at is None or time.monotonic() - self._loaded_at > RELOAD_SECONDS
        if stale and not self._active:
            self._load()

    def _load(self) -> None:
        """Read the saved chains: the unfinished ones, and fresher copies of those in memory
        (complete ones are read one by one when their peer speaks, see ``_record``)."""
        for chain in self.store.saved():
            if chain.key in self._active:
                continue
            record = self.records.get(chain.key)
            if record is not None:
                chain.pending = record.chain.pending
                record.chain = chain
            elif chain.gaps and not self._expired(chain):
                self.records[chain.key] = ChainRecord(chain)
        self._loaded_at = time.monotonic()

    def _record(self, peer: str, board: str) -> ChainRecord | None:
        """The chain's record, read from the store the first time; None when the table is full
        of chains with work, or when an unproven chain may not be added (see the module)."""
        record = self.records.get((peer, board))
        if record is not None:
            return record
        chain = self.store.load(peer, board)
        if chain.pubkey is None and not self._admits_unproven(peer):
            self.counters.unproven_dropped += 1
            return None
        if len(self.records) >= MAX_CHAINS and not self._forget_one():
            self.counters.queue_dropped += 1
            return None
        record = self.records[(peer, board)] = ChainRecord(chain)
        return record

    def _admits_unproven(self, peer: str) -> bool:
        """Not while the peer cools down; then while fewer than ``MAX_UNPROVEN`` are unproven,
        or, when that many are, in the place of a waiting chain of a peer that has several (a
        peer's first unproven chain is never crowded out by another peer's second)."""
        cooling = self._cooling.get(peer)
        if cooling is not None and cooling[1] > time.monotonic():
            return False
        unproven = [key for key, record in self.records.items() if record.unproven]
        if len(unproven) < MAX_UNPROVEN:
            return True
        held = Counter(p for p, _ in unproven)
        spare = next(
            (k for k in reversed(unproven) if held[k[0]] > 1 and k not in self._active), None
        )
        if held[peer] or spare is None:
            return False
        self.counters.unproven_dropped += 1
        del self.records[spare]
        self._queue.pop(spare, None)
        return True

    def _forget_one(self) -> bool:
        """Forget a complete chain that waits for nothing or, failing that, the chain stalled
        the longest that is not walking; its state stays in the store and is read again if its
        peer comes back."""
        idle = next(
            (
                key
                for key, record in self.records.items()
                if record.chain.complete and key not in self._queue and key not in self._active
            ),
            None,
        ) or self._longest_stalled(key for key in self.records if key not in self._active)
        if idle is None:
            return False
        del self.records[idle]
        self._queue.pop(idle, None)
        return True

    def _longest_stalled(self, keys: Iterable[Key]) -> Key | None:
        stalled = [key for key in keys if self.records[key].chain.stalled_since]
        return min(stalled, key=lambda key: self.records[key].chain.stalled_since, default=None)

    def _enqueue(self, key: Key) -> None:
        if key in self._queue or key in self._active:
            return
        if len(self._queue) >= MAX_QUEUE and not self._unqueue_stalled(key):
            self.counters.queue_dropped += 1
            log.warning("sync queue full (%d chains): chain %s not queued", MAX_QUEUE, key)
            return
        self._queue[key] = None
        self._pump()

    def _unqueue_stalled(self, key: Key) -> bool:
        """Make room in the queue for a chain that is not stalled: the chain stalled longest
        leaves it (queued again when its peer announces a head, see ``offer``)."""
        if self.records[key].chain.stalled_since:
            return False
        stalled = self._longest_stalled(k for k in self._queue if k in self.records)
        if stalled is None:
            return False
        del self._queue[stalled]
        return True

    def _pump(self) -> None:
        """Start the queued steps that may run now: a free slot of the chain's kind (see
        ``_free``), peer not already walking, not backing off; productive chains first. Wakes
        itself for the next one that has to wait."""
        if self._halted:
            return
        now = time.monotonic()
        busy = {peer for peer, _ in self._active}
        running = Counter(self._kinds.values())
        wake: float | None = None
        for key in sorted(self._queue, key=self._rank):
            record = self.records.get(key)
            if record is None or record.chain.complete:
                del self._queue[key]
                continue
            kind = record.kind
            if key[0] in busy or not self._free(kind, running):
                continue
            at = record.ready_at(self._draining)
            if at > now:
                wake = at if wake is None else min(wake, at)
                continue
            del self._queue[key]
            busy.add(key[0])
            running[kind] += 1
            self._kinds[key] = kind
            task = asyncio.create_task(self._step(record))
            self._active[key] = task
            task.add_done_callback(lambda _, key=key: self._step_done(key))
        if wake is not None:
            if self._wake is not None:
                self._wake.cancel()
            self._wake = asyncio.get_running_loop().call_later(wake - now, self._pump)

    def _rank(self, key: Key) -> int:
        record = self.records.get(key)
        return KINDS.index(record.kind) if record is not None else len(KINDS)

    def _free(self, kind: str, running: Counter[str]) -> bool:
        """``concurrency`` slots walk the chains that served pages, stalled ones in at most half
        of them (at least one). Unproven chains probe their heads in slots of their own, twice
        as many: a head nobody serves costs the daemon a want kept for FETCH_TIMEOUT, and a new
        honest peer's head is not kept waiting behind a burst of them."""
        if kind == "unproven":
            return running[kind] < 2 * self.concurrency
        if kind == "stalled" and running[kind] >= max(1, self.concurrency // 2):
            return False
        return running["productive"] + running["stalled"] < self.concurrency

    def _step_done(self, key: Key) -> None:
        self._active.pop(key, None)
        self._kinds.pop(key, None)
        record = self.records.get(key)
        if record is not None and not record.chain.complete:
            self._enqueue(key)
        self._pump()

    async def _step(self, record: ChainRecord) -> None:
        """One walk step within ``WALK_DEADLINE``; how it ended sets the chain's backoff."""
        self.counters.steps += 1
        chain = record.chain
        try:
            async with asyncio.timeout(WALK_DEADLINE):
                head, started = record.head_due(self._draining), time.monotonic()
                new = await self.walker.step(chain, head)
                if head:
                    record.head_walked(started, new)
            record.walked()
            self._cooling.pop(chain.peer, None)
        except (IpfsError, TimeoutError, StorageFull) as exc:
            if isinstance(exc, TimeoutError):
                self.counters.step_timeouts += 1
            if isinstance(exc, StorageFull):
                self.counters.storage_full_stops += 1
            elif self._unserved(record):
                log.info("sync of %s stopped (%s); chain dropped", chain.key, exc or "")
                return
            delay = record.stopped()
            log.info("sync of %s stopped (%s); retrying in %.0f s", chain.key, exc or "", delay)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("sync of %s failed", chain.key)
            record.failed()

    def _unserved(self, record: ChainRecord) -> bool:
        """A step ended on a page nobody served, or on its deadline. An unproven chain is
        dropped and its peer cools down; a proven one is stalled from now, and dropped with its
        frontier once stalled for ``STALLED_SECONDS``. True when the chain was dropped."""
        chain = record.chain
        if record.unproven:
            self._cool(chain.peer)
            return True
        if not chain.stalled_since:
            chain.stalled_since = now_ms()
            self.store.save(chain)
        if not self._expired(chain):
            return False
        self.store.forget(chain)
        self._drop(chain.key)
        return True

    def _expired(self, chain: Chain) -> bool:
        since = chain.stalled_since
        return bool(since) and now_ms() - since >= STALLED_SECONDS * 1000

    def _cool(self, peer: str) -> None:
        """Drop the peer's unproven chains and refuse its unproven heads for a backoff that
        doubles each time in a row."""
        failures = self._cooling.pop(peer, (0, 0.0))[0]
        self._cooling[peer] = (failures + 1, time.monotonic() + retry_delay(failures))
        if len(self._cooling) > MAX_COOLING_PEERS:
            del self._cooling[next(iter(self._cooling))]
        for key in [k for k, r in self.records.items() if k[0] == peer and r.unproven]:
            self._drop(key)

    def _drop(self, key: Key) -> None:
        self.counters.chains_expired += 1
        del self.records[key]
        self._queue.pop(key, None)

    def _runnable(self) -> bool:
        now = time.monotonic()
        return bool(self._active) or any(
            (record := self.records.get(key)) is not None
            and not record.chain.complete
            and record.ready_at(self._draining) <= now
            for key in self._queue
        )

    async def run_until(self, deadline: float) -> bool:
        """Walk what is queued now, without the spacing of live head walks, until
        ``deadline`` (the event loop's clock); then stop the walks under way, whose
        frontiers are saved, and start none until the next ``resume``. True when nothing
        runnable was left."""
        self._draining = True
        loop = asyncio.get_running_loop()
        try:
            self._pump()
            while self._runnable() and loop.time() < deadline:
                if self._active:
                    left = deadline - loop.time()
                    await asyncio.wait(set(self._active.values()), timeout=left)
                else:
                    await asyncio.sleep(0.05)
                self._pump()
            done = not self._runnable()
        finally:
            self._draining = False
            self._halted = True  # until the next resume(): no walk outlives this run
            active = list(self._active.values())
            for task in active:
                task.cancel()
            await asyncio.gather(*active, return_exceptions=True)
        return done

    def queued(self) -> int:
        """Chains waiting for a walk slot (at most ``MAX_QUEUE``)."""
        return len(self._queue)

    def walking(self, board: str) -> int:
        """Steps under way on ``board``."""
        return sum(1 for _, b in self._active if b == board)
