"""The one loop every background worker runs in (``run_forever``) and the one-pass run of a
scheduled event (``run_until``): logging once per failure streak, backoff, idling, the end of
a finished job, cancellation, and the deadline."""

import asyncio
import logging

import pytest

from node.toolkit import worker as worker_module
from node.toolkit.worker import Next, StepWorker, deadline_in, run_forever
from storage.errors import IpfsUnavailable


class Scripted(StepWorker):
    """Steps through ``script``: a ``Next`` is returned, an exception raised; then idles."""

    name = "scripted"
    expected = (IpfsUnavailable,)
    expected_level = logging.INFO

    def __init__(self, script: list[Next | Exception], step_seconds: float = 0.0) -> None:
        self.script = list(script)
        self.step_seconds = step_seconds
        self.steps = self.idles = 0

    async def step(self) -> Next:
        self.steps += 1
        await asyncio.sleep(self.step_seconds)
        item = self.script.pop(0) if self.script else Next.IDLE
        if isinstance(item, Exception):
            raise item
        return item

    async def idle(self) -> None:
        self.idles += 1
        await asyncio.sleep(0)


@pytest.fixture
def sleeps(monkeypatch) -> list[float]:
    """The backoff sleeps of ``run_forever`` (the only ones here that are not zero), recorded
    instead of slept."""
    slept: list[float] = []
    real_sleep = asyncio.sleep

    async def sleep(seconds: float) -> None:
        if seconds:
            slept.append(seconds)
        await real_sleep(0)

    monkeypatch.setattr(worker_module.asyncio, "sleep", sleep)
    return slept


async def test_a_failing_step_is_logged_once_and_retried_with_backoff(sleeps, caplog):
    failures = [RuntimeError("a bug") for _ in range(4)]
    job = Scripted([*failures, Next.NOW, Next.DONE])
    with caplog.at_level(logging.DEBUG, logger="node.toolkit.worker"):
        await run_forever(job)
    tracebacks = [r for r in caplog.records if r.exc_info]
    assert len(tracebacks) == 1 and tracebacks[0].levelno == logging.ERROR
    assert "scripted" in tracebacks[0].getMessage()
    assert len(sleeps) == 4 and sleeps[-1] > sleeps[0], "each retry waits longer"
    assert any("works again" in r.getMessage() for r in caplog.records)
    assert job.steps == 6 and job.idles == 0


async def test_an_expected_failure_is_logged_at_the_workers_level_then_idles(sleeps, caplog):
    job = Scripted([IpfsUnavailable("daemon down"), Next.DONE])
    with caplog.at_level(logging.DEBUG, logger="node.toolkit.worker"):
        await run_forever(job)
    (record,) = caplog.records
    assert record.levelno == logging.INFO and record.exc_info is None
    assert "daemon down" in record.getMessage()
    assert sleeps == [] and job.idles == 1


async def test_more_work_steps_at_once_and_nothing_more_idles():
    job = Scripted([Next.NOW, Next.NOW, Next.IDLE, Next.DONE])
    await run_forever(job)
    assert job.steps == 4 and job.idles == 1


async def test_the_loop_stops_at_cancel():
    job = Scripted([])
    task = asyncio.create_task(run_forever(job))
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert task.cancelled() and job.steps > 0


async def test_the_loop_stops_at_a_cancel_that_the_step_swallowed():
    class Swallowing(Scripted):
        async def step(self) -> Next:
            self.steps += 1
            try:
                await asyncio.sleep(10)
            except asyncio.CancelledError:
                pass  # what a library under a step may do
            return Next.IDLE

    job = Swallowing([])
    task = asyncio.create_task(run_forever(job))
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 1)
    assert job.steps == 1 and job.idles == 0


async def test_run_until_steps_while_there_is_work_and_stops_at_the_deadline():
    assert await Scripted([Next.NOW, Next.NOW, Next.IDLE]).run_until(deadline_in(5)) == 2
    busy = Scripted([Next.NOW] * 1000, step_seconds=0.01)
    loop = asyncio.get_running_loop()
    started = loop.time()
    done = await busy.run_until(deadline_in(0.1))
    assert loop.time() - started < 0.5 and 0 < done < 1000
    assert await Scripted([Next.NOW]).run_until(loop.time()) == 0, "a deadline passed: nothing"
