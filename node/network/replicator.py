"""Keeps a replica of every message received from peers: pins it on our daemon in the
background, with bounded concurrency, so a slow daemon never slows ingest.

The queue that matters is the index's (``MessageStore.unpinned``: every received message not
pinned yet); the in-memory queue only carries fresh ones to the workers without a read. A
process that stops before a pin, or gives up after ``MAX_ATTEMPTS``, leaves the message
unpinned in the index, and the next start (or the next scheduled Lambda run) queues it again.

The replica is made by adding the envelope's canonical bytes, which ingest has already checked
against the CID, so the daemon stores exactly the block the author pinned (same CID, compared by
bytes) without a ~260 ms bitswap round trip and without needing the origin to still be online.
"""

import asyncio
import logging

from crypto import canonical_bytes, parse_cid
from node.domain_events import MessagePinned
from node.network.droplog import DropLog
from node.settings import Limits
from node.toolkit.blocking import off_loop
from node.toolkit.counters import counter
from node.toolkit.event_bus import EventBus
from node.toolkit.retry import backoff_ms
from node.toolkit.worker import Next, StepWorker, run_forever
from storage.errors import IpfsError, IpfsUnavailable
from storage.ipfs import IpfsClient
from storage.ports.messages import MessageStore

log = logging.getLogger(__name__)

CONCURRENCY = 8
MAX_ATTEMPTS = 5
# Replicas left by an earlier process are queued this many at a time, so that a long backlog
# never sits in memory whole.
RECOVER_PAGE = 512

REPLICAS_DROPPED = counter(
    "onusone_replicas_dropped_total",
    "replicas not pinned because the replication queue was full (the message stays listed)",
)


class Replicator(StepWorker):
    """The in-memory queue is bounded (``REPLICATION_QUEUE_MAX``): past it a replica is not
    made now (the message stays indexed and listed, ``pinned: false``, and unpinned in the
    index, so the next start or Lambda run queues it again), counted and logged at most once a
    minute, instead of growing without bound under a flood. Each replica pinned is published
    as ``MessagePinned`` on ``events`` (remote pinning of replicas)."""

    name = "replicas"

    def __init__(
        self,
        messages: MessageStore,
        ipfs: IpfsClient,
        concurrency: int = CONCURRENCY,
        max_queue: int = Limits.replication_queue,
        *,
        events: EventBus | None = None,
    ):
        self.messages = messages
        self.ipfs = ipfs
        self.concurrency = concurrency
        self.events = EventBus() if events is None else events
        self._queue: asyncio.Queue[tuple[str, int]] = asyncio.Queue(max_queue)
        self._drops = DropLog(log)
        self._queued: set[str] = set()

    def submit(self, cid: str, attempts: int = 0) -> bool:
        """Queue a replica, once (a CID already queued is not queued again); False when the
        queue is full and the replica waits for the next recovery."""
        if not attempts and cid in self._queued:
            return True
        try:
            self._queue.put_nowait((cid, attempts))
        except asyncio.QueueFull:
            REPLICAS_DROPPED.inc()
            self._drops.dropped("queue_full", "", f"replication queue full: {cid} not pinned")
            return False
        self._queued.add(cid)
        return True

    def backlog(self) -> int:
        return self._queue.qsize()

    async def pin(self, cid: str) -> None:
        stored = self.messages.get(cid)
        if stored is None or stored.pinned:
            return
        added = await self.ipfs.add(canonical_bytes(stored.envelope))
        if added.to_bytes() != parse_cid(cid).to_bytes():
            raise IpfsError(f"daemon stored {cid} as {added}")
        await off_loop(self.messages.mark_pinned, cid)
        self.events.publish(MessagePinned(cid, "replica"))

    async def step(self) -> Next:
        """Pin the next queued replica, waiting for one (the queue is the idle wait); a
        failed pin is queued again after a backoff, up to ``MAX_ATTEMPTS``."""
        cid, attempts = await self._queue.get()
        retry = False
        try:
            await self.pin(cid)
        except IpfsError as exc:
            if attempts + 1 >= MAX_ATTEMPTS and not isinstance(exc, IpfsUnavailable):
                log.warning(
                    "replica of %s not pinned after %d attempts (the next start retries): %s",
                    cid,
                    attempts + 1,
                    exc,
                )
            else:
                await asyncio.sleep(backoff_ms(attempts) / 1000)
                retry = self.submit(cid, attempts + 1)
        finally:
            if not retry:
                self._queued.discard(cid)
            self._queue.task_done()
        return Next.NOW

    async def idle(self) -> None:
        """Nothing to wait for here: ``step`` waits on the queue."""

    async def recover(self) -> int:
        """Queue the replicas the index still lacks, a page each time the workers have
        emptied the queue; returns how many were queued. Needs running workers."""
        after, queued = "", 0
        while True:
            await self._queue.join()
            page = self.messages.unpinned(after, RECOVER_PAGE)
            if not page:
                break
            for _, cid in page:
                self.submit(cid)
            queued += len(page)
            after = page[-1][0]
        if queued:
            log.info("replicas: queued %d message(s) an earlier run left unpinned", queued)
        return queued

    async def run(self) -> None:
        """The long-running node's job: ``concurrency`` loops of ``step``, and the replicas
        earlier runs left unpinned queued as they make room."""
        workers = [asyncio.create_task(run_forever(self)) for _ in range(self.concurrency)]
        try:
            await self.recover()
            await asyncio.gather(*workers)
        finally:
            for task in workers:
                task.cancel()
            await asyncio.gather(*workers, return_exceptions=True)

    async def run_until(self, deadline: float) -> bool:
        """Pin what is queued and what earlier runs left unpinned, for callers without
        background loops (Lambda); True when all of it was pinned in time."""
        workers = [asyncio.create_task(run_forever(self)) for _ in range(self.concurrency)]
        try:
            async with asyncio.timeout_at(deadline):
                await self.recover()
            return True
        except TimeoutError:
            return False
        finally:
            for task in workers:
                task.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
