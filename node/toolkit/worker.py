"""One shape for the node's background work, and the one loop that runs it.

A worker does its job in bounded steps. A long-running node (``serve``) repeats them for the
life of the process with ``run_forever``; the scheduled Lambda event, which has no background
loop, asks each worker once for as much as fits before a deadline (``run_until``). Every loop
thus logs the same way: what a worker expects (its daemon down) at the worker's own level and
then idles as usual; anything else with its traceback once, retried with backoff until a step
succeeds again.
"""

import asyncio
import logging
from abc import ABC, abstractmethod
from enum import Enum
from typing import Any, Protocol

from node.toolkit.retry import backoff_ms

log = logging.getLogger(__name__)


def deadline_in(seconds: float) -> float:
    """The deadline ``seconds`` from now on the event loop's clock, as ``run_until`` takes."""
    return asyncio.get_running_loop().time() + seconds


class Next(Enum):
    """What a step says about the next one."""

    NOW = "now"  # more work is waiting: step again at once
    IDLE = "idle"  # nothing more for now: ``idle`` before the next step
    DONE = "done"  # the job is finished for the life of the process


class Worker(Protocol):
    """``name`` appears in the log; ``expected`` failures (the daemon or a service is down)
    are logged at ``expected_level`` without a traceback."""

    name: str
    expected: tuple[type[Exception], ...]
    expected_level: int

    async def step(self) -> Next:
        """Do one bounded piece of the job."""
        ...

    async def idle(self) -> None:
        """Wait before the next step: an interval, cut short where something wakes it."""
        ...

    async def run_until(self, deadline: float) -> Any:
        """A scheduled run's share: as much as fits before ``deadline`` (the event loop's
        clock); returns what it did, for the run's result."""
        ...


class StepWorker(ABC):
    """A worker whose scheduled share is its steps themselves, until one finds nothing more
    or the deadline comes (a step under way is cancelled then)."""

    name: str
    expected: tuple[type[Exception], ...] = ()
    expected_level: int = logging.DEBUG

    @abstractmethod
    async def step(self) -> Next: ...

    @abstractmethod
    async def idle(self) -> None: ...

    async def run_until(self, deadline: float) -> int:
        """Returns how many steps found more work waiting."""
        busy = 0
        try:
            async with asyncio.timeout_at(deadline):
                while await self.step() is Next.NOW:
                    busy += 1
        except TimeoutError:
            pass
        return busy


async def run_forever(worker: Worker) -> None:
    """Step ``worker`` until it is done or the task is cancelled.

    A cancellation that a library under the step swallowed (httpx's streams, now and then,
    when it arrives while a connection opens) still ends the loop: the task says it is being
    cancelled, and the loop stops before the next step or wait."""
    task = asyncio.current_task()
    assert task is not None, "run_forever runs as a task"
    failures = 0
    while True:
        if task.cancelling():
            raise asyncio.CancelledError
        try:
            after = await worker.step()
        except worker.expected as exc:
            log.log(worker.expected_level, "%s skipped this round: %s", worker.name, exc)
            after = Next.IDLE
        except Exception:
            if not failures:
                log.exception("%s: unexpected error; retrying with backoff", worker.name)
            await asyncio.sleep(backoff_ms(failures) / 1000)
            failures += 1
            continue
        else:
            if failures:
                log.info("%s works again after %d failed step(s)", worker.name, failures)
                failures = 0
        if after is Next.DONE:
            return
        if after is Next.IDLE and not task.cancelling():
            await worker.idle()
