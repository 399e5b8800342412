"""Blocking I/O and the event loop: one rule, one helper."""

import asyncio
from collections.abc import Callable
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


async def off_loop(call: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run ``call`` in a worker thread and wait for it without holding the event loop.

    The rule: async code makes every index write (a SQLite commit waits for an fsync and for
    the writer lock another commit may hold; a DynamoDB write is a network round trip), and
    every other fsync, through this helper. Reads stay inline where they are cheap (an indexed
    SQLite lookup, no fsync). Writes that must stay in order are serialised by their caller
    (ingest writes its batches one at a time, in the order they were taken).

    Still inline, each for its reason: the idempotency claim of a plain post (moving it would
    widen the known check-then-claim race by a commit); writes made from synchronous
    callbacks and helpers that cannot await (node/remote_pins' worker and backfill, the sync
    frontier's ``_save``); closing the index at shutdown.
    """
    return await asyncio.to_thread(call, *args, **kwargs)
