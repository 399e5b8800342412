"""Catch-up from other nodes' head manifests, until every chain is walked to its first page.

A head announcement opens a gap in that peer's chain (``node.network.frontier``); walks close
gaps in steps of at most ``SYNC_DEPTH`` pages. Each step fetches up to ``WINDOW`` pages at once,
learnt from the pages' skip lists (``node.protocol.manifest``; old pages without one give their
``prev`` only), checks every page (CID, signature, board, the chain's key, the expected
sequence number, sealed pages full, skip lists that agree with each other), verifies the
envelopes this node lacks, hands them to ingest and saves the chain's frontier after each page,
so a restart or the next Lambda run continues where this one stopped, refetching nothing.

Bounds: ``CONCURRENCY`` steps at once and one per peer, so one slow peer holds one slot; a step
has a total deadline; the queue of chains with work is bounded and drops new chains (counted)
when full; pages are fetched at most ``SYNC_RATE`` a second. A bad page counts against the peer
that announced the chain and ends that chain's walk, as does anything unforeseen in what the
peer served (``peer_data``); an author's messages beyond ``RATE_LIMIT_SYNC_AUTHOR`` in one
window of their timestamps are dropped and counted against the peer (``HistoryLimit``). A page
nobody serves (the peer may just be gone) leaves the chain pending, retried with backoff.
Chains of peers in reputation cool-down are not walked.
"""

import asyncio
import logging
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from crypto import Cid, canonical_bytes, cid_for_bytes, parse_cid
from node.guards.history_limit import HistoryLimit
from node.network.frontier import META_PREFIX, Chain, Gap, meta_key
from node.network.ingest import Ingestor
from node.network.peerbook import PeerBook
from node.protocol.envelope import InvalidMessage, VerifiedEnvelope, now_ms, verify
from node.protocol.manifest import MAX_MANIFEST_BYTES, Manifest, parse_manifest
from storage.errors import IpfsError
from storage.index import MessageIndex
from storage.ipfs import IpfsClient

log = logging.getLogger(__name__)

CONCURRENCY = 4
WINDOW = 8
FETCH_TIMEOUT = 10.0
WALK_DEADLINE = 30.0
MAX_QUEUE = 256
MAX_CHAINS = 1024
VERIFY_CHUNK = 32
SETTLE_TIMEOUT = 60.0
# While pubsub delivers a peer's messages live, re-walking its open page every time it changes
# only re-fetches what we have; each fetch stalls the js-ipfs daemons' pubsub for tens of ms.
PEER_WALK_SECONDS = 15.0
# A chain whose pages could not be fetched is retried later, backing off to MAX_RETRY_SECONDS.
RETRY_SECONDS = 30.0
MAX_RETRY_SECONDS = 600.0
RATE_WINDOW = 10.0
# A board on which no head was heard for this many HEAD_INTERVALs has nobody to catch up from.
QUIET_INTERVALS = 3
RELOAD_SECONDS = 5.0


@dataclass
class SyncCounters:
    """Totals since the process started (for /metrics)."""

    steps: int = 0
    pages_fetched: int = 0
    pages_walked: int = 0
    messages_new: int = 0
    bad_pages: int = 0
    unavailable_pages: int = 0
    step_timeouts: int = 0
    queue_dropped: int = 0


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


class BadPage(Exception):
    """A page that breaks the chain's rules: counted against the peer, ends the walk."""


class HeadSyncer:
    def __init__(
        self,
        ipfs: IpfsClient,
        ingest: Ingestor,
        peers: PeerBook,
        index: MessageIndex,
        depth: int,
        *,
        rate: float = 50.0,
        horizon_days: float = 0.0,
        head_interval: float = 30.0,
        concurrency: int = CONCURRENCY,
        history: HistoryLimit | None = None,
    ) -> None:
        self.ipfs = ipfs
        self.ingest = ingest
        self.peers = peers
        self.index = index
        self.depth = depth
        self.horizon_ms = int(horizon_days * 86_400_000)
        self.concurrency = concurrency
        self.history = history
        self.counters = SyncCounters()
        self._rate = PageRate(rate)
        self._quiet_seconds = QUIET_INTERVALS * head_interval
        self._started = time.monotonic()
        self._chains: dict[tuple[str, str], Chain] = {}
        self._queue: dict[tuple[str, str], None] = {}
        self._active: dict[tuple[str, str], asyncio.Task] = {}
        self._retry_at: dict[tuple[str, str], float] = {}
        self._failures: dict[tuple[str, str], int] = {}
        self._head_walked_at: dict[tuple[str, str], float] = {}
        self._heard: set[str] = set()
        self._fetched: dict[str, int] = {}
        self._recent: dict[str, deque[tuple[float, int]]] = {}
        self._wake: asyncio.TimerHandle | None = None
        self._draining = False
        self._halted = False
        self._loaded_at: float | None = None

    # -- what comes in ------------------------------------------------------------------------

    def offer(self, head: Cid, board: str, sender: str) -> None:
        """A head was announced: queue its chain unless the head is known or the peer ignored.
        Only the newest head of a chain waits; its walk covers the older ones."""
        if self.peers.ignored(sender):
            return
        self._heard.add(board)
        chain = self._chain(sender, board)
        if chain is None:
            return
        cid = str(head)
        if cid in (chain.head, chain.pending) or chain.walking_head(cid):
            return
        chain.pending = cid
        self._enqueue(chain.key)

    def resume(self) -> int:
        """Queue every chain the index says is unfinished (at start, and on each Lambda run)."""
        self._halted = False
        self._load()
        unfinished = [c.key for c in self._chains.values() if c.gaps]
        for key in unfinished:
            self._enqueue(key)
        return len(unfinished)

    def _load(self) -> None:
        """Read the saved chains: the unfinished ones, and fresher copies of those in memory
        (complete ones are read one by one when their peer speaks, see ``_chain``)."""
        for text in self.index.meta_scan(META_PREFIX).values():
            chain = Chain.from_json(text)
            if chain.key not in self._active and (chain.gaps or chain.key in self._chains):
                pending = self._chains.get(chain.key)
                chain.pending = pending.pending if pending else chain.pending
                self._chains[chain.key] = chain
        self._loaded_at = time.monotonic()

    def _chain(self, peer: str, board: str) -> Chain | None:
        key = (peer, board)
        chain = self._chains.get(key)
        if chain is not None:
            return chain
        saved = self.index.meta_get(meta_key(board, peer))
        chain = Chain.from_json(saved) if saved else Chain(peer, board)
        if len(self._chains) >= MAX_CHAINS:
            idle = next(
                (
                    k
                    for k, c in self._chains.items()
                    if c.complete and k not in self._queue and k not in self._active
                ),
                None,
            )
            if idle is None:
                self.counters.queue_dropped += 1
                return None
            # Its state stays in the index and is read again if the peer comes back.
            for table in (self._chains, self._retry_at, self._failures, self._head_walked_at):
                table.pop(idle, None)
        self._chains[key] = chain
        return chain

    def _save(self, chain: Chain) -> None:
        self.index.meta_set(meta_key(chain.board, chain.peer), chain.to_json())

    # -- scheduling ---------------------------------------------------------------------------

    def _enqueue(self, key: tuple[str, str]) -> None:
        if key in self._queue or key in self._active:
            return
        if len(self._queue) >= MAX_QUEUE:
            self.counters.queue_dropped += 1
            log.warning("sync queue full (%d chains): chain %s not queued", MAX_QUEUE, key)
            return
        self._queue[key] = None
        self._pump()

    def _ready_at(self, chain: Chain) -> float:
        at = self._retry_at.get(chain.key, 0.0)
        if not chain.gaps and not self._draining:
            at = max(at, self._head_walked_at.get(chain.key, -1e9) + PEER_WALK_SECONDS)
        return at

    def _pump(self) -> None:
        """Start the queued steps that may run now: free global slot, peer not already
        walking, not backing off. Wakes itself for the next one that has to wait."""
        if self._halted:
            return
        now = time.monotonic()
        busy = {peer for peer, _ in self._active}
        wake: float | None = None
        for key in list(self._queue):
            if len(self._active) >= self.concurrency:
                break
            chain = self._chains.get(key)
            if chain is None or chain.complete:
                del self._queue[key]
                continue
            if key[0] in busy:
                continue
            at = self._ready_at(chain)
            if at > now:
                wake = at if wake is None else min(wake, at)
                continue
            del self._queue[key]
            busy.add(key[0])
            task = asyncio.create_task(self._step_task(chain))
            self._active[key] = task
            task.add_done_callback(lambda _, key=key: self._step_done(key))
        if wake is not None:
            if self._wake is not None:
                self._wake.cancel()
            self._wake = asyncio.get_running_loop().call_later(wake - now, self._pump)

    def _step_done(self, key: tuple[str, str]) -> None:
        self._active.pop(key, None)
        chain = self._chains.get(key)
        if chain is not None and not chain.complete:
            self._enqueue(key)
        self._pump()

    # -- walking ------------------------------------------------------------------------------

    async def _step_task(self, chain: Chain) -> None:
        self.counters.steps += 1
        try:
            async with asyncio.timeout(WALK_DEADLINE):
                await self.step(chain)
            self._failures.pop(chain.key, None)
            self._retry_at.pop(chain.key, None)
        except (IpfsError, TimeoutError) as exc:
            if isinstance(exc, TimeoutError):
                self.counters.step_timeouts += 1
            failures = self._failures.get(chain.key, 0)
            self._failures[chain.key] = failures + 1
            delay = min(MAX_RETRY_SECONDS, RETRY_SECONDS * 2**failures)
            self._retry_at[chain.key] = time.monotonic() + delay
            log.info("sync of %s stopped (%s); retrying in %.0f s", chain.key, exc or "", delay)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("sync of %s failed", chain.key)
            self._retry_at[chain.key] = time.monotonic() + MAX_RETRY_SECONDS

    async def step(self, chain: Chain) -> int:
        """Walk up to ``depth`` pages of one chain (its new head first, then its gaps, newest
        first); returns how many envelopes were handed to ingest as unseen."""
        head_walk = chain.pending is not None and self._ready_for_head(chain)
        if head_walk:
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
            self.ingest.flush()
        if head_walk:
            # Nothing new: pubsub keeps us up to date with this peer, so its next heads wait
            # (PEER_WALK_SECONDS). Something new: we are behind, walk its next head at once.
            if offered:
                self._head_walked_at.pop(chain.key, None)
            else:
                self._head_walked_at[chain.key] = started
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

    def _ready_for_head(self, chain: Chain) -> bool:
        last = self._head_walked_at.get(chain.key, -1e9)
        return self._draining or time.monotonic() - last >= PEER_WALK_SECONDS

    async def _walk_gap(self, chain: Chain, gap: Gap, budget: int) -> tuple[int, int]:
        """Walk one gap down from its frontier for at most ``budget`` pages, up to ``WINDOW``
        fetches in flight; the frontier is saved after each page."""
        plan: list[tuple[Cid, int | None]] = [(parse_cid(gap.next), gap.seq)]
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
                        manifest = self._check(chain, gap, cid, expected, data)
                    if manifest is None or (
                        expected is not None and self._beyond_horizon(manifest)
                    ):
                        chain.gaps.remove(gap)
                        self._save(chain)
                        break
                    self._extend(plan, walked, manifest, gap)
                    new = await self._ingest(chain, manifest)
                except (InvalidMessage, BadPage) as exc:
                    self._bad(chain, exc)
                    return walked, offered
                walked += 1
                offered += new
                if expected is None:
                    chain.head, chain.top = str(cid), str(manifest.prev) if manifest.prev else None
                    chain.head_ts, chain.top_seq = manifest.ts, manifest.seq - 1
                if self._ends_gap(manifest, gap):
                    chain.gaps.remove(gap)
                    self._save(chain)
                    break
                gap.next, gap.seq = str(manifest.prev), manifest.seq - 1
                self._save(chain)
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

    def _check(
        self, chain: Chain, gap: Gap, cid: Cid, expected: int | None, data: bytes
    ) -> Manifest | None:
        """The page, if it keeps the chain's rules; None for a head older than the one walked
        (its pages are walked or in a gap already)."""
        manifest = parse_manifest(data, cid, chain.board)
        if expected is None:
            if (
                manifest.pubkey == chain.pubkey
                and manifest.ts < chain.head_ts
                and manifest.seq <= chain.top_seq + 1
            ):
                log.debug("head %s of %s on %s is older than %s", cid, *chain.key, chain.head)
                return None
            if chain.pubkey != manifest.pubkey or manifest.seq <= gap.until_seq:
                # A new key, or a chain its author rebuilt: walk it whole.
                chain.pubkey, chain.gaps[:] = manifest.pubkey, [gap]
                gap.until, gap.until_seq = None, -1
            return manifest
        if manifest.pubkey != chain.pubkey:
            raise BadPage("a page of the chain is signed by another key")
        if manifest.seq != expected:
            raise BadPage(f"page has seq {manifest.seq} where {expected} was linked")
        if not manifest.full:
            raise BadPage("a sealed page is not full (a chain of tiny pages)")
        return manifest

    def _extend(self, plan: list[tuple[Cid, int | None]], at: int, page: Manifest, gap: Gap):
        """Add the pages this page lists (its skip list, or just ``prev``) to the plan; they
        must agree with what the pages after it listed."""
        listed = page.pages or ([page.prev] if page.prev else [])
        for offset, cid in enumerate(listed, start=1):
            seq = page.seq - offset
            if seq <= gap.until_seq or str(cid) == gap.until:
                return
            position = at + offset
            if position < len(plan):
                if plan[position][0].to_bytes() != cid.to_bytes():
                    raise BadPage("skip lists of two pages disagree")
            else:
                plan.append((cid, seq))

    @staticmethod
    def _ends_gap(page: Manifest, gap: Gap) -> bool:
        return page.prev is None or str(page.prev) == gap.until or page.seq - 1 <= gap.until_seq

    def _beyond_horizon(self, page: Manifest) -> bool:
        """A sealed page's ``ts`` is when it was last written, after its newest message: one
        older than the horizon holds nothing newer, nor do the pages before it."""
        return bool(self.horizon_ms) and page.ts < now_ms() - self.horizon_ms

    async def _ingest(self, chain: Chain, page: Manifest) -> int:
        verified = await self._verify_unknown(page.messages, chain.board)
        self.peers.valid(chain.peer)
        offered = sum(self._offer(v, chain.peer) for v in verified)
        self.ingest.flush(strict=True)
        self.counters.pages_walked += 1
        self.counters.messages_new += offered
        self._fetched[chain.board] = self._fetched.get(chain.board, 0) + 1
        self._recent.setdefault(chain.board, deque()).append((time.monotonic(), offered))
        self.rate(chain.board)  # drops what fell out of the window
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
        chain.failure = f"{error.code}: {error.detail}"
        chain.gaps.clear()
        self._save(chain)

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
            verified.append(_verify(envelope, board))
            if position % VERIFY_CHUNK == VERIFY_CHUNK - 1:
                await asyncio.sleep(0)
        return verified

    # -- waiting and reporting ----------------------------------------------------------------

    def _runnable(self) -> bool:
        now = time.monotonic()
        return bool(self._active) or any(
            (c := self._chains.get(k)) is not None and not c.complete and self._ready_at(c) <= now
            for k in self._queue
        )

    async def run_until(self, deadline: float) -> bool:
        """Walk what is queued now, without the spacing of live head walks, until
        ``deadline`` (the event loop's clock; used where there is no background loop); then
        stop the walks under way, whose frontiers are saved. True when nothing runnable was
        left."""
        self._draining = True
        loop = asyncio.get_running_loop()
        try:
            self._pump()
            while self._runnable() and loop.time() < deadline:
                if self._active:
                    left = deadline - loop.time()
                    await asyncio.wait(set(self._active.values()), timeout=left)
                else:
                    await asyncio.sleep(0.05)
                self._pump()
            done = not self._runnable()
        finally:
            self._draining = False
            self._halted = True  # until the next resume(): no walk outlives this run
            active = list(self._active.values())
            for task in active:
                task.cancel()
            await asyncio.gather(*active, return_exceptions=True)
            self.ingest.flush()
        return done

    def queued(self) -> int:
        """Chains waiting for a walk slot (at most ``MAX_QUEUE``)."""
        return len(self._queue)

    def rate(self, board: str) -> float:
        recent = self._recent.get(board)
        if not recent:
            return 0.0
        since = time.monotonic() - RATE_WINDOW
        while recent and recent[0][0] < since:
            recent.popleft()
        return round(sum(n for _, n in recent) / RATE_WINDOW, 1)

    def status(self, boards: list[str], reload: bool = False) -> dict[str, dict[str, Any]]:
        """Per board: caught up (every chain heard is walked to its first page or the horizon,
        and a head was heard, or none for ``QUIET_INTERVALS`` head intervals), what is known
        to be missing, and the rate. ``reload`` re-reads the frontiers (a Lambda API process
        walks nothing itself; the scheduled runs save them)."""
        stale = self._loaded_at is None or time.monotonic() - self._loaded_at > RELOAD_SECONDS
        if reload and stale and not self._active:
            self._load()
        quiet = time.monotonic() - self._started >= self._quiet_seconds
        result = {}
        for board in boards:
            # A chain whose last head walk found nothing new is kept up to date by pubsub: its
            # newest head waits its turn (PEER_WALK_SECONDS) and is not missing history.
            chains = [
                c
                for c in self._chains.values()
                if c.board == board and not (c.key in self._head_walked_at and not c.gaps)
            ]
            pages = sum(c.pages_pending()[0] for c in chains)
            messages = [c.messages_pending() for c in chains]
            result[board] = {
                "caughtUp": all(c.complete for c in chains) and (board in self._heard or quiet),
                "pagesPending": pages,
                "messagesPending": None if None in messages else sum(m or 0 for m in messages),
                "rate": self.rate(board),
                "chains": sum(1 for c in self._chains.values() if c.board == board),
                "walking": sum(1 for peer, b in self._active if b == board),
                "pagesWalked": self._fetched.get(board, 0),
            }
        return result


@contextmanager
def peer_data() -> Iterator[None]:
    """Around the checks of what a peer served: a failure no rule foresaw is a bad page too,
    counted against the peer like any other (``_bad``), not a traceback and a silent retry."""
    try:
        yield
    except (InvalidMessage, BadPage):
        raise
    except Exception as exc:
        log.debug("sync: unexpected failure on a page", exc_info=True)
        raise InvalidMessage("bad_manifest", f"unexpected {type(exc).__name__}: {exc}") from None


def _verify(envelope: object, board: str) -> VerifiedEnvelope:
    if not isinstance(envelope, dict):
        raise InvalidMessage("bad_manifest", "a manifest entry is not an envelope")
    with peer_data():
        verified = verify(envelope, new_post=False)
    if envelope["board"] != board:
        raise InvalidMessage("bad_manifest", "a manifest entry is for another board")
    return verified
