"""One step of catch-up on one chain: walk its gaps (``node.network.frontier``) down from their
frontiers for at most ``depth`` pages, fetching up to ``WINDOW`` pages at once, learnt from the
pages' skip lists (``node.protocol.manifest``; old pages without one give their ``prev`` only).
Every page is checked (``node.network.page_checks``), the envelopes this node lacks are verified
and handed to ingest, and the chain's frontier is saved after each page, so a restart or the
next Lambda run continues where this one stopped, refetching nothing.

Pages are fetched at most ``rate`` a second. A bad page counts against the peer that announced
the chain and ends the chain's walk; an author's messages beyond ``RATE_LIMIT_SYNC_AUTHOR`` in
one window of their timestamps are dropped and counted against the peer (``HistoryLimit``). A
page nobody serves (the peer may just be gone) raises ``IpfsError`` and leaves the chain pending,
as does a page whose messages this node has no room for (``StorageFull`` from ingest, raised
before the frontier moves past the page, so it is walked again once there is room).
"""

import asyncio
import logging
import time
from typing import Any

from crypto import Cid, canonical_bytes, cid_for_bytes, parse_cid
from node.guards.history_limit import HistoryLimit
from node.network.frontier import Chain, Gap
from node.network.frontier_store import FrontierStore
from node.network.ingest import Ingestor
from node.network.page_checks import (
    BadPage,
    Plan,
    check_page,
    ends_gap,
    extend_plan,
    peer_data,
    verify_entry,
)
from node.network.peerbook import PeerBook
from node.network.sync_progress import BoardProgress, SyncCounters
from node.protocol.envelope import InvalidMessage, VerifiedEnvelope, now_ms
from node.protocol.manifest import MAX_MANIFEST_BYTES, Manifest
from storage.errors import IpfsError
from storage.ipfs import IpfsClient

log = logging.getLogger("node.network.sync")  # one logger for all of catch-up

WINDOW = 8
FETCH_TIMEOUT = 10.0
VERIFY_CHUNK = 32


class PageRate:
    """At most ``rate`` page fetches a second across all walks (the background stays polite)."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate
        self._next = 0.0

    async def take(self) -> None:
        now = time.monotonic()
        at = max(now, self._next)
        self._next = at + self.interval
        if at > now:
            await asyncio.sleep(at - now)


class ChainWalker:
    """Walks one chain a step; when, and how many at once, is ``WalkScheduler``'s call."""

    def __init__(
        self,
        ipfs: IpfsClient,
        ingest: Ingestor,
        peers: PeerBook,
        store: FrontierStore,
        counters: SyncCounters,
        progress: BoardProgress,
        depth: int,
        *,
        rate: float,
        horizon_days: float,
        history: HistoryLimit | None,
    ) -> None:
        self.ipfs = ipfs
        self.ingest = ingest
        self.peers = peers
        self.store = store
        self.counters = counters
        self.progress = progress
        self.depth = depth
        self.horizon_ms = int(horizon_days * 86_400_000)
        self.history = history
        self._rate = PageRate(rate)

    async def step(self, chain: Chain, head: bool) -> int:
        """Walk up to ``depth`` pages of one chain (with ``head``, its new head first; then its
        gaps, newest first); returns how many envelopes were handed to ingest as unseen."""
        if head:
            assert chain.pending is not None
            chain.gaps.insert(0, Gap(chain.pending, None, chain.top, chain.top_seq))
            chain.pending = None
        budget, offered, started = self.depth, 0, time.monotonic()
        try:
            while budget > 0 and chain.gaps and not self.peers.ignored(chain.peer):
                walked, new = await self._walk_gap(chain, chain.gaps[0], budget)
                budget -= max(walked, 1)
                offered += new
        finally:
            await self.ingest.flush()
        log.debug(
            "sync step of %s on %s: %d new in %.2f s, %s",
            chain.peer,
            chain.board,
            offered,
            time.monotonic() - started,
            "complete" if chain.complete else f"{chain.pages_pending()[0]} pages pending",
        )
        if chain.complete and offered:
            log.info("caught up with the chain of %s on %s", chain.peer, chain.board)
        return offered

    async def _walk_gap(self, chain: Chain, gap: Gap, budget: int) -> tuple[int, int]:
        """Walk one gap down from its frontier for at most ``budget`` pages, up to ``WINDOW``
        fetches in flight; the frontier is saved after each page."""
        plan: Plan = [(parse_cid(gap.next), gap.seq)]
        fetches: dict[int, asyncio.Task[bytes]] = {}
        walked = offered = 0
        try:
            while walked < budget:
                for position in range(walked, min(len(plan), budget, walked + WINDOW)):
                    if position not in fetches:
                        fetches[position] = asyncio.create_task(self._fetch(plan[position][0]))
                cid, expected = plan[walked]
                try:
                    data = await fetches.pop(walked)
                except IpfsError:
                    # Not counted against the peer: an honest one may just have gone away.
                    # The chain is retried with backoff; it stays pending in /api/status.
                    self.counters.unavailable_pages += expected is not None
                    raise
                try:
                    with peer_data():
                        manifest = check_page(chain, gap, cid, expected, data)
                    if manifest is None or (
                        expected is not None and self._beyond_horizon(manifest)
                    ):
                        chain.gaps.remove(gap)
                        self.store.save(chain)
                        break
                    extend_plan(plan, walked, manifest, gap)
                    new = await self._ingest(chain, manifest)
                except (InvalidMessage, BadPage) as exc:
                    self._bad(chain, exc)
                    return walked, offered
                walked += 1
                offered += new
                chain.stalled_since = 0
                if expected is None:
                    chain.head, chain.top = str(cid), str(manifest.prev) if manifest.prev else None
                    chain.head_ts, chain.top_seq = manifest.ts, manifest.seq - 1
                if ends_gap(manifest, gap):
                    chain.gaps.remove(gap)
                    self.store.save(chain)
                    break
                gap.next, gap.seq = str(manifest.prev), manifest.seq - 1
                self.store.save(chain)
        finally:
            for task in fetches.values():
                if task.done() and not task.cancelled():
                    task.exception()  # a hint nobody served: the walk already ended here
                task.cancel()
        return walked, offered

    async def _fetch(self, cid: Cid) -> bytes:
        await self._rate.take()
        data = await self.ipfs.cat(cid, FETCH_TIMEOUT, MAX_MANIFEST_BYTES)
        self.counters.pages_fetched += 1
        return data

    def _beyond_horizon(self, page: Manifest) -> bool:
        """A sealed page's ``ts`` is when it was last written, after its newest message: one
        older than the horizon holds nothing newer, nor do the pages before it."""
        return bool(self.horizon_ms) and page.ts < now_ms() - self.horizon_ms

    async def _ingest(self, chain: Chain, page: Manifest) -> int:
        verified = await self._verify_unknown(page.messages, chain.board)
        self.peers.valid(chain.peer)
        offered = sum(self._offer(v, chain.peer) for v in verified)
        await self.ingest.flush(strict=True)
        self.counters.pages_walked += 1
        self.counters.messages_new += offered
        self.progress.page(chain.board, offered)
        return offered

    def _offer(self, verified: VerifiedEnvelope, peer: str) -> bool:
        """Hand one envelope to ingest, within the author's share of history (``history``)."""
        author, ts = verified.envelope["pubkey"], verified.envelope["ts"]
        if self.history is not None and not self.history.allows(author, ts):
            detail = "more messages of one author in one window of time than a node accepts"
            self.ingest.invalid(peer, InvalidMessage("rate_limited", detail))
            return False
        if not self.ingest.offer(verified, peer, via="sync"):
            return False
        if self.history is not None:
            self.history.record(author, ts)
        return True

    def _bad(self, chain: Chain, exc: Exception) -> None:
        """The chain broke a rule: what was walked stays, the rest of it is not walked (until
        its peer announces a new head)."""
        error = exc if isinstance(exc, InvalidMessage) else InvalidMessage("bad_manifest", str(exc))
        self.counters.bad_pages += 1
        self.ingest.invalid(chain.peer, error)
        chain.gaps.clear()
        self.store.save(chain)

    async def _verify_unknown(self, envelopes: list[Any], board: str) -> list[VerifiedEnvelope]:
        """Verify only what this node does not have: an open page is re-walked each time its
        author adds to it, and re-checking hundreds of known signatures would stall the loop
        that serves live clients. Yields to the loop between chunks for the same reason."""
        verified = []
        for position, envelope in enumerate(envelopes):
            if isinstance(envelope, dict) and self.ingest.knows(
                cid_for_bytes(canonical_bytes(envelope))
            ):
                continue
            verified.append(verify_entry(envelope, board))
            if position % VERIFY_CHUNK == VERIFY_CHUNK - 1:
                await asyncio.sleep(0)
        return verified
