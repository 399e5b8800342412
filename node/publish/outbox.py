"""Retries the pin and announcement of accepted messages until the daemon takes them."""

import asyncio
import logging

from node.protocol.envelope import now_ms
from node.publish.pipeline import BroadcastPipeline, Delivery
from node.toolkit.blocking import off_loop
from node.toolkit.retry import backoff_ms, sleep_until_woken
from node.toolkit.worker import Next, StepWorker
from storage.errors import IpfsError, IpfsUnavailable
from storage.ports.outbox import OutboxItem, OutboxQueue

log = logging.getLogger(__name__)

BATCH = 64
# A due time later than any entry's: ``run_until`` takes every entry, whatever its backoff.
EVERYTHING = 2**62


class OutboxWorker(StepWorker):
    name = "outbox"

    def __init__(
        self, pipeline: BroadcastPipeline, outbox: OutboxQueue, idle_seconds: float = 1.0
    ) -> None:
        self.pipeline = pipeline
        self.outbox = outbox
        self.idle_seconds = idle_seconds
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Retry now (the daemon just came back), not when the backoff says."""
        self._wake.set()

    async def run_once(self) -> int:
        """Deliver what is due, up to ``BATCH``; returns how many were delivered. Stops at the
        first sign the daemon is down instead of failing every entry one by one."""
        delivered = 0
        try:
            for item in self.outbox.due(now_ms(), BATCH):
                delivered += await self._attempt(item)
        except IpfsUnavailable:
            pass
        return delivered

    async def run_until(self, deadline: float) -> int:
        """Deliver the whole backlog, backoff ignored (for the scheduled Lambda run, whose
        schedule is the retry clock), each entry tried at most once, until the event loop's
        clock reaches ``deadline`` or the daemon is down; returns how many were delivered.
        What is left stays queued, due as before, for the next run."""
        loop = asyncio.get_running_loop()
        failed: set[str] = set()
        delivered = 0
        try:
            while loop.time() < deadline:
                due = self.outbox.due(EVERYTHING, BATCH + len(failed))
                batch = [item for item in due if item.cid not in failed]
                if not batch:
                    break
                for item in batch:
                    if loop.time() >= deadline:
                        break
                    if await self._attempt(item):
                        delivered += 1
                    else:
                        failed.add(item.cid)
        except IpfsUnavailable:
            pass
        return delivered

    async def deliver(self, cid: str, attempts: int = 0) -> Delivery:
        """Pin and announce a stored message; when the daemon cannot, leave it queued for
        another try after the backoff of its ``attempts`` and raise the ``IpfsError``."""
        try:
            return await self.pipeline.deliver(cid)
        except IpfsError as exc:
            at = now_ms() + backoff_ms(attempts)
            await off_loop(self.outbox.reschedule, cid, at, str(exc))
            raise

    async def _attempt(self, item: OutboxItem) -> bool:
        """Deliver one entry; False when the daemon refused it. ``IpfsUnavailable`` (the
        daemon is down) is raised on."""
        try:
            await self.deliver(item.cid, item.attempts)
            return True
        except IpfsUnavailable:
            raise
        except IpfsError as exc:
            log.warning("outbox: %s failed: %s", item.cid, exc)
            return False

    async def step(self) -> Next:
        delivered = await self.run_once()
        if not delivered:
            return Next.IDLE
        log.info("outbox: delivered %d queued message(s)", delivered)
        return Next.NOW

    async def idle(self) -> None:
        await sleep_until_woken(self._wake, self.idle_seconds)
