"""Keeps a replica of every message received from peers: pins it on our daemon in the
background, with bounded concurrency, so a slow daemon never slows ingest.

The replica is made by adding the envelope's canonical bytes, which ingest has already checked
against the CID, so the daemon stores exactly the block the author pinned (same CID, compared by
bytes) without a ~260 ms bitswap round trip and without needing the origin to still be online.
"""

import asyncio
import logging
from collections.abc import Callable

from crypto import canonical_bytes, parse_cid
from node.counters import counter
from node.network.droplog import DropLog
from node.outbox import backoff_ms
from storage.errors import IpfsError, IpfsUnavailable
from storage.index import MessageIndex
from storage.ipfs import IpfsClient

log = logging.getLogger(__name__)

CONCURRENCY = 8
MAX_ATTEMPTS = 5
MAX_QUEUE = 10_000

REPLICAS_DROPPED = counter(
    "onusone_replicas_dropped_total",
    "replicas not pinned because the replication queue was full (the message stays listed)",
)


class Replicator:
    """The queue is bounded (``REPLICATION_QUEUE_MAX``): past it a replica is not made (the
    message stays indexed and listed, ``pinned: false``; its author's node keeps it pinned),
    counted and logged at most once a minute, instead of growing without bound under a flood."""

    def __init__(
        self,
        index: MessageIndex,
        ipfs: IpfsClient,
        concurrency: int = CONCURRENCY,
        max_queue: int = MAX_QUEUE,
    ):
        self.index = index
        self.ipfs = ipfs
        self.concurrency = concurrency
        self._queue: asyncio.Queue[tuple[str, int]] = asyncio.Queue(max_queue)
        self._drops = DropLog(log)
        # Called with the CID of each replica once pinned (PIN_SERVICE_REPLICAS).
        self.on_pinned: Callable[[str], None] | None = None

    def submit(self, cid: str, attempts: int = 0) -> None:
        try:
            self._queue.put_nowait((cid, attempts))
        except asyncio.QueueFull:
            REPLICAS_DROPPED.inc()
            self._drops.dropped("queue_full", "", f"replication queue full: {cid} not pinned")

    def backlog(self) -> int:
        return self._queue.qsize()

    async def pin(self, cid: str) -> None:
        stored = self.index.get(cid)
        if stored is None:
            return
        added = await self.ipfs.add(canonical_bytes(stored.envelope))
        if added.to_bytes() != parse_cid(cid).to_bytes():
            raise IpfsError(f"daemon stored {cid} as {added}")
        self.index.mark_pinned(cid)
        if self.on_pinned is not None:
            self.on_pinned(cid)

    async def _worker(self) -> None:
        while True:
            cid, attempts = await self._queue.get()
            try:
                await self.pin(cid)
            except IpfsError as exc:
                if attempts + 1 >= MAX_ATTEMPTS and not isinstance(exc, IpfsUnavailable):
                    log.warning(
                        "replica of %s not pinned after %d attempts: %s", cid, attempts + 1, exc
                    )
                else:
                    await asyncio.sleep(backoff_ms(attempts) / 1000)
                    self.submit(cid, attempts + 1)
            finally:
                self._queue.task_done()

    async def run(self) -> None:
        await asyncio.gather(*(self._worker() for _ in range(self.concurrency)))

    async def drain(self, timeout: float) -> bool:
        """Pin what is queued, for callers without background loops (Lambda); True when the
        queue emptied in time."""
        workers = [asyncio.create_task(self._worker()) for _ in range(self.concurrency)]
        try:
            await asyncio.wait_for(self._queue.join(), timeout)
            return True
        except TimeoutError:
            return False
        finally:
            for task in workers:
                task.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
