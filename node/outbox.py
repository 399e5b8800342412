"""Retries the pin and announcement of accepted messages until the daemon takes them."""

import asyncio
import logging
import random

from node.envelope import now_ms
from node.pipeline import BroadcastPipeline
from storage.errors import IpfsError, IpfsUnavailable

log = logging.getLogger(__name__)

BASE_DELAY_MS = 500
MAX_DELAY_MS = 10_000
BATCH = 64


def backoff_ms(attempts: int) -> int:
    """Exponential backoff with full jitter in [delay/2, delay]."""
    delay = min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** min(attempts, 20))
    return int(delay / 2 + random.random() * delay / 2)


class OutboxWorker:
    def __init__(self, pipeline: BroadcastPipeline) -> None:
        self.pipeline = pipeline
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Retry now (the daemon just came back), not when the backoff says."""
        self._wake.set()

    async def run_once(self, *, ignore_backoff: bool = False) -> int:
        """Deliver what is due; returns how many were delivered. Stops at the first sign the
        daemon is down instead of failing every entry one by one."""
        index = self.pipeline.index
        delivered = 0
        due_at = 2**62 if ignore_backoff else now_ms()
        for item in index.outbox_due(due_at, BATCH):
            try:
                await self.pipeline.deliver(item.cid)
                delivered += 1
            except IpfsUnavailable as exc:
                index.outbox_reschedule(item.cid, now_ms() + backoff_ms(item.attempts), str(exc))
                break
            except IpfsError as exc:
                log.warning("outbox: %s failed: %s", item.cid, exc)
                index.outbox_reschedule(item.cid, now_ms() + backoff_ms(item.attempts), str(exc))
        return delivered

    async def run(self, idle_seconds: float = 1.0) -> None:
        while True:
            try:
                delivered = await self.run_once()
                if delivered:
                    log.info("outbox: delivered %d queued message(s)", delivered)
                    continue
            except Exception:
                log.exception("outbox: unexpected error")
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), idle_seconds)
            except TimeoutError:
                pass
