"""This node's head manifests: per board, a chain of signed pages of the messages it holds,
stored on IPFS and announced every ``HEAD_INTERVAL`` seconds and soon after a change.

The newest page stays open: new messages are added to it (a new version replaces and unpins
the old one) until it holds ``PAGE_MESSAGES`` messages or nearly a block's worth of bytes;
then it is sealed and a new page links to it. So the chain is made of full pages and a node
that missed N messages fetches about N / 256 blocks. The head CID and the index position it
covers are kept in the store (``HeadStates``) so a restart continues the same chain.
"""

import asyncio
import dataclasses
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from crypto import Cid, NodeKey, parse_cid
from node.domain_events import NobodySubscribed, PageReleased, PageStored
from node.protocol.announcement import head_announcement, topic_for
from node.protocol.envelope import InvalidMessage, now_ms
from node.protocol.manifest import (
    MAX_MANIFEST_BYTES,
    PAGE_MESSAGES,
    SKIP_PAGES,
    build_manifest,
    manifest_size,
    parse_manifest,
)
from node.toolkit.blocking import off_loop
from node.toolkit.event_bus import EventBus
from node.toolkit.events import MessageBus, Subscription
from node.toolkit.worker import Next, StepWorker
from storage.errors import IpfsError, IpfsUnavailable, NoPubsubPeers
from storage.ipfs import IpfsClient
from storage.ports.messages import MessageStore
from storage.ports.state import HeadState, HeadStates

log = logging.getLogger(__name__)

ROUND_MESSAGES = 4096
# After a change, wait this long (or HEAD_INTERVAL if shorter) so that a burst of messages
# costs one rebuild of the open page, not one per message. Each rebuild re-adds the open page
# (up to 250 KiB) and every peer re-fetches it, which stalls js-ipfs pubsub delivery for tens
# of ms: at 1 s, live propagation p99 rose from ~10 ms to ~100 ms under a steady 50 msg/s.
# Nodes that need the newest head sooner say hello and get it at once (answer_hello).
SETTLE_SECONDS = 5.0
# The fixed fields take under 1 KiB; the skip list up to SKIP_PAGES CIDs of under 64 bytes.
PAGE_BUDGET = MAX_MANIFEST_BYTES - 4096 - SKIP_PAGES * 64


@dataclass
class OpenPage:
    """The newest page of a board's chain; ``cid`` is None while it has unstored changes."""

    seq: int = 0
    prev: Cid | None = None
    messages: list[dict[str, Any]] = field(default_factory=list)
    size: int = 0
    cid: Cid | None = None
    cursor: str | None = None
    # The CIDs of the pages before this one, newest first (the manifest's skip list).
    pages: list[Cid] = field(default_factory=list)

    def fits(self, envelope: dict[str, Any]) -> bool:
        return (
            len(self.messages) < PAGE_MESSAGES
            and self.size + manifest_size([envelope]) <= PAGE_BUDGET
        )

    def append(self, envelope: dict[str, Any]) -> None:
        self.messages.append(envelope)
        self.size += manifest_size([envelope])
        self.cid = None


# How often a burst of hellos (several nodes restarting) may make us announce a board's head.
ANSWER_SECONDS = 1.0


class HeadPublisher(StepWorker):
    """Publishes on ``events`` each page it stores (``PageStored``) and each it supersedes
    (``PageReleased``), for remote pinning, and a head announced to nobody
    (``NobodySubscribed``). As a worker it publishes every ``interval`` and soon after new
    messages on ``bus``."""

    name = "head manifests"
    expected = (IpfsError,)
    expected_level = logging.INFO

    def __init__(
        self,
        messages: MessageStore,
        states: HeadStates,
        ipfs: IpfsClient,
        key: NodeKey,
        boards: list[str],
        bus: MessageBus,
        interval: float,
        *,
        events: EventBus | None = None,
    ) -> None:
        self.messages = messages
        self.states = states
        self.ipfs = ipfs
        self.key = key
        self.boards = list(boards)
        self.bus = bus
        self.interval = interval
        self.events = EventBus() if events is None else events
        self._pages: dict[str, OpenPage] = {}
        self._lock = asyncio.Lock()
        self._answered: dict[str, float] = {}
        self._answers: set[asyncio.Task] = set()
        self._changes: Subscription | None = None

    def head(self, board: str) -> Cid | None:
        page = self._pages.get(board)
        if page is not None:
            return page.cid
        saved = self.states.get(board)
        return parse_cid(saved.head) if saved else None

    async def _load(self, board: str) -> OpenPage:
        """The open page as persisted: its manifest is on our own daemon, so this is local."""
        page = self._pages.get(board)
        if page is not None:
            return page
        saved = self.states.get(board)
        page = OpenPage()
        if saved:
            head = parse_cid(saved.head)
            try:
                manifest = parse_manifest(await self.ipfs.cat(head), head, board)
            except IpfsUnavailable:
                raise
            except (IpfsError, InvalidMessage) as exc:
                log.warning(
                    "own head %s of %s is gone (%s): rebuilding the chain", head, board, exc
                )
            else:
                page = OpenPage(
                    manifest.seq,
                    manifest.prev,
                    manifest.messages,
                    manifest_size(manifest.messages),
                    head,
                    saved.cursor,
                    # A page written before skip lists existed still knows its prev.
                    manifest.pages or ([manifest.prev] if manifest.prev else []),
                )
        self._pages[board] = page
        return page

    async def _store(self, board: str, page: OpenPage) -> Cid:
        data = build_manifest(
            self.key, board, page.seq, now_ms(), page.prev, page.messages, page.pages
        )
        cid = await self.ipfs.add(data)
        self.events.publish(PageStored(cid))
        return cid

    async def update(self, board: str) -> Cid | None:
        """Add what the index received since the last page to the chain; returns the head."""
        async with self._lock:
            loaded = await self._load(board)
            batch = self.messages.list_since(board, loaded.cursor, ROUND_MESSAGES)
            if not batch.messages:
                return loaded.cid
            # Work on a copy: if the daemon fails half-way, the next round starts over cleanly.
            page = dataclasses.replace(loaded, messages=list(loaded.messages))
            replaced = page.cid
            for stored in batch.messages:
                if not page.fits(stored.envelope):
                    if page.cid is None:
                        page.cid = await self._store(board, page)
                    if replaced is not None and replaced.to_bytes() == page.cid.to_bytes():
                        replaced = None
                    skip = [page.cid, *page.pages][:SKIP_PAGES]
                    page = OpenPage(page.seq + 1, page.cid, pages=skip)
                page.append(stored.envelope)
            page.cid = await self._store(board, page)
            page.cursor = batch.next_cursor
            self._pages[board] = page
            await off_loop(self.states.put, board, HeadState(str(page.cid), page.cursor))
            if replaced is not None and replaced.to_bytes() != page.cid.to_bytes():
                await self._unpin(replaced)
            return page.cid

    async def walk_chain(
        self, board: str, until: Cid | None, visit: Callable[[Cid], None]
    ) -> Cid | None:
        """Call ``visit`` with every page of the board's chain, from the head back to
        ``until`` (excluded): the remote-pin backfill of pages stored before PIN_SERVICE_URL
        was set. Under the chain's lock, so the head cannot be superseded (and released)
        between being read and being visited. Returns the newest sealed page: everything from
        it back has been visited (sealed pages never change), so the next walk stops there."""
        async with self._lock:
            cid = (await self._load(board)).cid
            stop = until.to_bytes() if until is not None else None
            sealed: Cid | None = None
            first = True
            while cid is not None and cid.to_bytes() != stop:
                visit(cid)
                prev = parse_manifest(await self.ipfs.cat(cid), cid, board).prev
                if first:
                    sealed, first = prev, False
                cid = prev
            return sealed or until

    async def _unpin(self, cid: Cid) -> None:
        self.events.publish(PageReleased(cid))
        try:
            await self.ipfs.pin_rm(cid)
        except IpfsError as exc:
            log.debug("old head %s not unpinned: %s", cid, exc)

    async def announce(self, board: str) -> bool:
        """Publish the board's head; False when there is none yet or nobody listens."""
        head = self.head(board)
        if head is None:
            return False
        try:
            await self.ipfs.publish(topic_for(board), head_announcement(board, head))
        except NoPubsubPeers:
            self.events.publish(NobodySubscribed(topic_for(board)))
            return False
        return True

    def answer_hello(self, board: str) -> None:
        """A node just joined the board: announce our head now, at most once a second, so it
        catches up without waiting for our next ``HEAD_INTERVAL``."""
        now = time.monotonic()
        if (
            board not in self.boards
            or now - self._answered.get(board, -ANSWER_SECONDS) < ANSWER_SECONDS
        ):
            return
        self._answered[board] = now
        task = asyncio.create_task(self._answer(board))
        self._answers.add(task)
        task.add_done_callback(self._answers.discard)

    async def _answer(self, board: str) -> None:
        try:
            await self.update(board)
            await self.announce(board)
        except IpfsError as exc:
            log.info("could not answer a hello on %s: %s", board, exc)

    async def publish_all(self) -> None:
        """Update and announce every board's head (one round of the loop, or on Lambda)."""
        for board in self.boards:
            await self.update(board)
            await self.announce(board)

    async def step(self) -> Next:
        if self._changes is None:
            # From the first round on, so that what arrives during it is noticed.
            self._changes = self.bus.subscribe(None)
        await self.publish_all()
        return Next.IDLE

    async def idle(self) -> None:
        """Until new messages arrived (and ``SETTLE_SECONDS`` more, for the rest of a
        burst), or ``interval`` passed."""
        assert self._changes is not None
        if self._changes.overflowed:
            self.bus.unsubscribe(self._changes)
            self._changes = self.bus.subscribe(None)
        changes = self._changes
        try:
            await asyncio.wait_for(changes.queue.get(), self.interval)
            await asyncio.sleep(min(SETTLE_SECONDS, self.interval))
        except TimeoutError:
            pass
        while not changes.queue.empty():
            changes.queue.get_nowait()

    async def run_until(self, deadline: float) -> bool:
        """A scheduled run's share: every board's head updated and announced once, as far
        as ``deadline`` allows (the others learn what this node accepted); True when all
        were, in time."""
        try:
            async with asyncio.timeout_at(deadline):
                await self.publish_all()
        except TimeoutError:
            return False
        return True
