"""Which chains catch-up walks, and when. A head announcement, or a chain left unfinished by an
earlier run (``resume``), queues the chain; a walk step (``ChainWalker.step``) starts when a slot
is free. Bounds: ``concurrency`` steps at once and one per peer, so one slow peer holds one slot;
a step has a total deadline; the queue of chains with work is bounded and drops new chains
(counted) when full, as does the table of chains when no complete one can be forgotten. A page
nobody served, a step past its deadline, or a page this node had no room to store (its frontier
stays before that page) leaves the chain pending, retried with backoff;
chains of peers in reputation cool-down are not walked (the walker stops at once)."""

import asyncio
import logging
import time

from node.guards.storage_budget import StorageFull
from node.network.chain_record import ChainRecord
from node.network.chain_walker import ChainWalker
from node.network.frontier_store import FrontierStore
from node.network.sync_progress import SyncCounters
from storage.errors import IpfsError

log = logging.getLogger("node.network.sync")  # one logger for all of catch-up

CONCURRENCY = 4
WALK_DEADLINE = 30.0
MAX_QUEUE = 256
MAX_CHAINS = 1024
RELOAD_SECONDS = 5.0

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
        self._wake: asyncio.TimerHandle | None = None
        self._draining = False
        self._halted = False
        self._loaded_at: float | None = None

    def offer(self, head: str, peer: str, board: str) -> None:
        """Queue the chain of a new head unless the head is known. Only the newest head of a
        chain waits; its walk covers the older ones."""
        record = self._record(peer, board)
        if record is None:
            return
        chain = record.chain
        if head in (chain.head, chain.pending) or chain.walking_head(head):
            return
        chain.pending = head
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
            elif chain.gaps:
                self.records[chain.key] = ChainRecord(chain)
        self._loaded_at = time.monotonic()

    def _record(self, peer: str, board: str) -> ChainRecord | None:
        """The chain's record, read from the store the first time; None when the table is full
        of chains with work."""
        record = self.records.get((peer, board))
        if record is not None:
            return record
        if len(self.records) >= MAX_CHAINS and not self._forget_one():
            self.counters.queue_dropped += 1
            return None
        record = self.records[(peer, board)] = ChainRecord(self.store.load(peer, board))
        return record

    def _forget_one(self) -> bool:
        """Forget a complete chain that waits for nothing; its state stays in the store and is
        read again if its peer comes back."""
        idle = next(
            (
                key
                for key, record in self.records.items()
                if record.chain.complete and key not in self._queue and key not in self._active
            ),
            None,
        )
        if idle is None:
            return False
        del self.records[idle]
        return True

    def _enqueue(self, key: Key) -> None:
        if key in self._queue or key in self._active:
            return
        if len(self._queue) >= MAX_QUEUE:
            self.counters.queue_dropped += 1
            log.warning("sync queue full (%d chains): chain %s not queued", MAX_QUEUE, key)
            return
        self._queue[key] = None
        self._pump()

    def _pump(self) -> None:
        """Start the queued steps that may run now: free global slot, peer not already
        walking, not backing off. Wakes itself for the next one that has to wait."""
        if self._halted:
            return
        now = time.monotonic()
        busy = {peer for peer, _ in self._active}
        wake: float | None = None
        for key in list(self._queue):
            if len(self._active) >= self.concurrency:
                break
            record = self.records.get(key)
            if record is None or record.chain.complete:
                del self._queue[key]
                continue
            if key[0] in busy:
                continue
            at = record.ready_at(self._draining)
            if at > now:
                wake = at if wake is None else min(wake, at)
                continue
            del self._queue[key]
            busy.add(key[0])
            task = asyncio.create_task(self._step(record))
            self._active[key] = task
            task.add_done_callback(lambda _, key=key: self._step_done(key))
        if wake is not None:
            if self._wake is not None:
                self._wake.cancel()
            self._wake = asyncio.get_running_loop().call_later(wake - now, self._pump)

    def _step_done(self, key: Key) -> None:
        self._active.pop(key, None)
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
        except (IpfsError, TimeoutError, StorageFull) as exc:
            if isinstance(exc, TimeoutError):
                self.counters.step_timeouts += 1
            if isinstance(exc, StorageFull):
                self.counters.storage_full_stops += 1
            delay = record.stopped()
            log.info("sync of %s stopped (%s); retrying in %.0f s", chain.key, exc or "", delay)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("sync of %s failed", chain.key)
            record.failed()

    def _runnable(self) -> bool:
        now = time.monotonic()
        return bool(self._active) or any(
            (record := self.records.get(key)) is not None
            and not record.chain.complete
            and record.ready_at(self._draining) <= now
            for key in self._queue
        )

    async def drain(self, timeout: float) -> bool:
        """Walk what is queued now, without the spacing of live head walks, for at most
        ``timeout`` seconds; then stop the walks under way, whose frontiers are saved, and
        start none until the next ``resume``. True when nothing runnable was left."""
        self._draining = True
        deadline = time.monotonic() + timeout
        try:
            self._pump()
            while self._runnable() and time.monotonic() < deadline:
                if self._active:
                    left = deadline - time.monotonic()
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
