"""The remote-pin backfill: what a node already held when PIN_SERVICE_URL was set (or while it
was unset) is pinned at the service too, not only what it accepts from then on.

It feeds the same durable queue as new messages (``RemotePinner.request``), so the service's
downtime, its 429s and a bad token are handled there. Per board it walks the index in the
order messages were received, from a cursor it saves after every step (``BackfillProgress``),
so a crash or a Lambda timeout resumes where it stopped, and each restart only looks at what
came since; then it offers the board's head-manifest chain back to the newest sealed page an
earlier walk reached. Requests are idempotent, so a step done twice costs nothing. It is
bounded twice: ``rate`` entries per second, and never more than ``max_backlog`` open entries
in the queue (a node with 100k messages does not fill the queue, or the service, at once).

When PIN_SERVICE_URL names another service than the last one the backfill ran for, every
board starts over and each entry is sent again whatever the old service said (the new one
has none of its pins); that pass is resumable too.

Only messages pinned on our own daemon are offered (the service fetches them from it); the
others are still on their way there, and the outbox (or the replicator) requests them when
they are pinned.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable

from crypto import Cid, CryptoError, parse_cid
from node.remote_pins.worker import RemotePinner
from node.toolkit.worker import Next, StepWorker
from storage.errors import InvalidCursor, IpfsError
from storage.ports.messages import MessageStore
from storage.ports.state import BackfillProgress

log = logging.getLogger(__name__)

STEP = 32
MAX_BACKLOG = 256
RETRY_SECONDS = 5.0
ROOM_POLL_SECONDS = 1.0

# Visits a board's page chain back to a page (excluded); returns the newest sealed page
# (``HeadPublisher.walk_chain``).
WalkChain = Callable[[str, Cid | None, Callable[[Cid], None]], Awaitable[Cid | None]]


class RemotePinBackfill(StepWorker):
    """``requested``: entries handed to the queue in this process; ``done``: every board was
    walked to its end (in this process). As a worker it offers at most ``rate`` entries a
    second while the queue has room, until every board is complete; a daemon that cannot give
    the pages is retried every ``RETRY_SECONDS``."""

    name = "remote-pin backfill"
    expected = (IpfsError,)
    expected_level = logging.WARNING

    def __init__(
        self,
        messages: MessageStore,
        progress: BackfillProgress,
        pinner: RemotePinner,
        boards: list[str],
        walk_chain: WalkChain,
        *,
        replicas: bool,
        rate: float,
        max_backlog: int = MAX_BACKLOG,
    ) -> None:
        self.messages = messages
        self.progress = progress
        self.pinner = pinner
        self.boards = list(boards)
        self.walk_chain = walk_chain
        self.replicas = replicas
        self.rate = rate
        self.max_backlog = max_backlog
        self.requested = 0
        self.done = False
        self._resend: bool | None = None  # known after the first step
        self._pause = 0.0

    def room(self) -> int:
        """How many more entries the queue may take now."""
        return max(0, self.max_backlog - self.pinner.open_entries())

    def _follow_service(self) -> bool:
        """Whether this pass sends entries again: PIN_SERVICE_URL changed since the last
        backfill (then every board starts over), or a pass for this service is unfinished."""
        url = self.pinner.url
        saved = self.progress.service()
        if saved != url:
            self.progress.set_service(url)
            if saved:
                log.warning("pinning service changed: everything is pinned again at %s", url)
                for board in self.boards:
                    self.progress.set_cursor(board, None)
                    self.progress.set_sealed_page(board, None)
                self.progress.set_resending(url)
        return self.progress.resending() == url

    def _queue(self, cid: str, kind: str) -> None:
        if self._resend:
            self.pinner.resend(cid, kind)
        else:
            self.pinner.request(cid, kind)

    async def advance(self, limit: int) -> tuple[int, bool]:
        """Offer at most ``limit`` messages (and, at the end of each board, its pages);
        returns how many entries were requested and whether every board is complete."""
        if self._resend is None:
            self._resend = self._follow_service()
        requested = 0
        for board in self.boards:
            left = limit - requested
            if left <= 0:
                return requested, False
            count, complete = self._messages(board, left)
            requested += count
            if not complete:
                return requested, False
            requested += await self._pages(board)
        if self._resend:
            self.progress.set_resending(None)
            self._resend = False
        self.done = True
        return requested, True

    def _messages(self, board: str, limit: int) -> tuple[int, bool]:
        try:
            page = self.messages.list_since(board, self.progress.cursor(board), limit)
        except InvalidCursor:
            # The messages were reset under the saved position (a restored backup): start over.
            log.warning("remote-pin backfill of %s: saved position unusable, starting over", board)
            page = self.messages.list_since(board, None, limit)
        requested = 0
        for message in page.messages:
            local = message.source == "local"
            if message.pinned and (local or self.replicas):
                self._queue(message.cid, "message" if local else "replica")
                requested += 1
        if page.messages and page.next_cursor is not None:
            self.progress.set_cursor(board, page.next_cursor)
        self.requested += requested
        return requested, len(page.messages) < limit

    async def _pages(self, board: str) -> int:
        saved = self.progress.sealed_page(board)
        try:
            until = parse_cid(saved) if saved else None
        except CryptoError:
            until = None
        offered = 0

        def offer(cid: Cid) -> None:
            nonlocal offered
            self._queue(str(cid), "manifest")
            offered += 1

        sealed = await self.walk_chain(board, until, offer)
        if sealed is not None:
            self.progress.set_sealed_page(board, str(sealed))
        self.requested += offered
        return offered

    async def step(self) -> Next:
        room = self.room()
        if room == 0:
            self._pause = ROOM_POLL_SECONDS
            return Next.IDLE
        self._pause = RETRY_SECONDS  # the wait if this step fails
        requested, complete = await self.advance(min(room, STEP, max(1, int(self.rate))))
        if complete:
            if self.requested:
                log.info("remote-pin backfill: %d entries queued", self.requested)
            return Next.DONE
        self._pause = requested / self.rate
        return Next.IDLE

    async def idle(self) -> None:
        await asyncio.sleep(self._pause)

    async def run_until(self, deadline: float) -> int:
        """One scheduled (Lambda) run's share: as much as the queue has room for, no waiting
        (the schedule is the clock), nothing once ``deadline`` has passed; the next run goes
        on from the saved positions."""
        if asyncio.get_running_loop().time() >= deadline:
            return 0
        try:
            room = self.room()
            return (await self.advance(room))[0] if room else 0
        except Exception as exc:
            log.warning("remote-pin backfill not advanced this run: %s", exc)
            return 0
