"""Closed-loop load from one process: N concurrent workers drain a list of jobs."""

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

T = TypeVar("T")


async def run_concurrently(
    items: Sequence[T], worker: Callable[[T], Awaitable[None]], concurrency: int
) -> float:
    """Run ``worker`` over every item with ``concurrency`` in flight; returns items/second."""
    queue: asyncio.Queue[T] = asyncio.Queue()
    for item in items:
        queue.put_nowait(item)

    async def loop() -> None:
        while not queue.empty():
            await worker(queue.get_nowait())

    started = time.perf_counter()
    await asyncio.gather(*(loop() for _ in range(concurrency)))
    return len(items) / (time.perf_counter() - started)


def percentile(values: Sequence[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]
