"""Catch-up from other nodes' head manifests, until every chain is walked to its first page.

A head announcement opens a gap in that peer's chain (``node.network.frontier``); walks close
gaps in steps of at most ``SYNC_DEPTH`` pages. One record per chain (``ChainRecord``) holds its
frontier, backoff and head-walk spacing; ``WalkScheduler`` decides which chains are walked and
when, within its bounds; ``ChainWalker`` walks one chain a step, checking every page
(``node.network.page_checks``) and saving the frontier after each (``FrontierStore``), so a
restart or the next Lambda run continues where this one stopped. ``HeadSyncer`` puts them
together for the rest of the node and reports per board.
"""

import time
from typing import Any

from crypto import Cid
from node.guards.history_limit import HistoryLimit
from node.network.chain_walker import ChainWalker
from node.network.frontier_store import FrontierStore
from node.network.ingest import Ingestor
from node.network.peerbook import PeerBook
from node.network.sync_progress import BoardProgress, SyncCounters
from node.network.walk_scheduler import CONCURRENCY, WalkScheduler
from storage.ipfs import IpfsClient
from storage.ports.state import SyncFrontiers

SETTLE_TIMEOUT = 60.0
# A board on which no head was heard for this many HEAD_INTERVALs has nobody to catch up from.
QUIET_INTERVALS = 3


class HeadSyncer:
    """Catch-up as the rest of the node sees it: announced heads in, unfinished chains resumed,
    a bounded drain for runs without a background loop, and a status per board."""

    def __init__(
        self,
        ipfs: IpfsClient,
        ingest: Ingestor,
        peers: PeerBook,
        frontiers: SyncFrontiers,
        depth: int,
        *,
        rate: float = 50.0,
        horizon_days: float = 0.0,
        head_interval: float = 30.0,
        concurrency: int = CONCURRENCY,
        history: HistoryLimit | None = None,
    ) -> None:
        self.ingest = ingest
        self.peers = peers
        self.counters = SyncCounters()
        self.progress = BoardProgress()
        store = FrontierStore(frontiers)
        walker = ChainWalker(
            ipfs,
            ingest,
            peers,
            store,
            self.counters,
            self.progress,
            depth,
            rate=rate,
            horizon_days=horizon_days,
            history=history,
        )
        self.scheduler = WalkScheduler(walker, store, self.counters, concurrency)
        self._quiet_seconds = QUIET_INTERVALS * head_interval
        self._started = time.monotonic()

    def offer(self, head: Cid, board: str, sender: str) -> None:
        """A head was announced: queue its chain unless the head is known or the peer ignored."""
        if self.peers.ignored(sender):
            return
        self.progress.heard(board)
        self.scheduler.offer(str(head), sender, board)

    def resume(self) -> int:
        """Queue every chain the index says is unfinished (at start, and on each Lambda run)."""
        return self.scheduler.resume()

    async def run_until(self, deadline: float) -> bool:
        """Walk what is queued now, without the spacing of live head walks, until
        ``deadline`` (the event loop's clock; used where there is no background loop); then
        stop the walks under way, whose frontiers are saved. True when nothing runnable was
        left."""
        try:
            return await self.scheduler.run_until(deadline)
        finally:
            await self.ingest.flush()

    def queued(self) -> int:
        """Chains waiting for a walk slot."""
        return self.scheduler.queued()

    def status(self, boards: list[str], reload: bool = False) -> dict[str, dict[str, Any]]:
        """Per board: caught up (every chain heard is walked to its first page or the horizon,
        and a head was heard, or none for ``QUIET_INTERVALS`` head intervals), what is known
        to be missing, and the rate. ``reload`` re-reads the frontiers (a Lambda API process
        walks nothing itself; the scheduled runs save them)."""
        if reload:
            self.scheduler.refresh()
        quiet = time.monotonic() - self._started >= self._quiet_seconds
        records = self.scheduler.records.values()
        result = {}
        for board in boards:
            # A chain whose last head walk found nothing new is kept up to date by pubsub: its
            # newest head waits its turn (PEER_WALK_SECONDS) and is not missing history.
            chains = [r.chain for r in records if r.chain.board == board and not r.kept_live]
            pages = sum(c.pages_pending()[0] for c in chains)
            messages = [c.messages_pending() for c in chains]
            result[board] = {
                "caughtUp": all(c.complete for c in chains)
                and (self.progress.was_heard(board) or quiet),
                "pagesPending": pages,
                "messagesPending": None if None in messages else sum(m or 0 for m in messages),
                "rate": self.progress.rate(board),
                "chains": sum(1 for r in records if r.chain.board == board),
                "walking": self.scheduler.walking(board),
                "pagesWalked": self.progress.walked(board),
            }
        return result
