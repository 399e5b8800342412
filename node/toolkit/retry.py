"""Retry helpers every background loop shares: exponential backoff with jitter, and the idle
step that a wake-up (the daemon or a service came back) cuts short."""

import asyncio
import random

BASE_DELAY_MS = 500
MAX_DELAY_MS = 10_000


async def sleep_until_woken(wake: asyncio.Event, seconds: float) -> None:
    """The idle step of a retry loop: at most ``seconds``, less when ``wake`` is set (the
    daemon or service came back); the event is cleared for the next round."""
    wake.clear()
    try:
        await asyncio.wait_for(wake.wait(), seconds)
    except TimeoutError:
        pass


def backoff_ms(attempts: int) -> int:
    """Exponential backoff with full jitter in [delay/2, delay]."""
    delay = min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** min(attempts, 20))
    return int(delay / 2 + random.random() * delay / 2)
