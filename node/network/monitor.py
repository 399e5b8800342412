"""What the node knows about its daemon, refreshed at most every few seconds.

``/api/status`` is called often (dashboards poll it); asking the daemon four questions per call
would make the status endpoint as slow as the daemon, so answers are cached briefly.
"""

import asyncio
import time
from dataclasses import dataclass, field

from node.domain_events import DaemonReachable
from node.toolkit.event_bus import EventBus
from node.toolkit.worker import Next, StepWorker
from storage.errors import IpfsError, PubsubDisabled
from storage.ipfs import DaemonInfo, IpfsClient, SwarmPeer

CACHE_SECONDS = 2.0
REPO_STAT_SECONDS = 30.0
# How often a long-running node looks at its daemon, so that a comeback is noticed at once.
WATCH_SECONDS = 1.0


@dataclass(frozen=True)
class DaemonSnapshot:
    reachable: bool
    info: DaemonInfo | None = None
    peers: list[SwarmPeer] = field(default_factory=list)
    repo_bytes: int = 0
    topic_peers: frozenset[str] = frozenset()
    pubsub_disabled: bool = False
    error: str = ""
    taken_at: float = 0.0


class DaemonMonitor(StepWorker):
    """Publishes ``DaemonReachable`` on ``events`` when the daemon answers again. As a worker
    it refreshes every ``watch_seconds``."""

    name = "daemon monitor"

    def __init__(
        self,
        ipfs: IpfsClient,
        topics: list[str] | None = None,
        cache_seconds: float = CACHE_SECONDS,
        *,
        events: EventBus | None = None,
        watch_seconds: float = WATCH_SECONDS,
    ) -> None:
        self.ipfs = ipfs
        self.topics = list(topics or [])
        self.cache_seconds = cache_seconds
        self.events = EventBus() if events is None else events
        self.watch_seconds = watch_seconds
        self._peer_id: str | None = None
        self._snapshot = DaemonSnapshot(reachable=False, error="not checked yet")
        self._lock = asyncio.Lock()
        self._repo_at = 0.0
        # The last size the daemon reported, kept while it is unreachable (storage budget).
        self.repo_bytes = 0

    @property
    def last(self) -> DaemonSnapshot:
        """The latest snapshot, however old (never asks the daemon)."""
        return self._snapshot

    def peer_id(self) -> str | None:
        """Our daemon's peer id as last learnt by ``identify`` (None before): ingest tells
        our own messages, which come back on the topics, by it."""
        return self._peer_id

    async def identify(self) -> DaemonInfo:
        """Ask the daemon who it is now: before each subscription opens, so that the first
        message heard is already told apart."""
        info = await self.ipfs.info()
        self._peer_id = info.peer_id
        return info

    async def step(self) -> Next:
        await self.refresh()
        return Next.IDLE

    async def idle(self) -> None:
        await asyncio.sleep(self.watch_seconds)

    async def snapshot(self) -> DaemonSnapshot:
        if time.monotonic() - self._snapshot.taken_at < self.cache_seconds:
            return self._snapshot
        async with self._lock:
            if time.monotonic() - self._snapshot.taken_at >= self.cache_seconds:
                await self.refresh()
        return self._snapshot

    async def refresh(self) -> DaemonSnapshot:
        """One cheap call (swarm peers) per refresh. Identity and version are asked again only
        when the daemon comes back, and the repo size at most every ``REPO_STAT_SECONDS``:
        js-ipfs answers ``repo/stat`` by walking every block, which stalls its event loop (and
        pubsub delivery with it) more as the repo grows."""
        previous = self._snapshot
        now = time.monotonic()
        try:
            if previous.reachable and previous.info is not None:
                info, peers = previous.info, await self.ipfs.swarm_peers()
                repo_bytes = previous.repo_bytes
                if now - self._repo_at >= REPO_STAT_SECONDS:
                    repo_bytes, self._repo_at = await self.ipfs.repo_size(), now
            else:
                # The first failure in call order, not whichever lost the race: a down daemon
                # keeps one error text, so status (and its live pushes) stays unchanged.
                results = await asyncio.gather(
                    self.ipfs.info(),
                    self.ipfs.swarm_peers(),
                    self.ipfs.repo_size(),
                    return_exceptions=True,
                )
                for result in results:
                    if isinstance(result, BaseException):
                        raise result
                info, peers, repo_bytes = results
                self._repo_at = now
            topic_peers, disabled = await self._topic_peers()
            snapshot = DaemonSnapshot(
                True, info, peers, repo_bytes, topic_peers, disabled, taken_at=now
            )
            self.repo_bytes = repo_bytes
        except IpfsError as exc:
            snapshot = DaemonSnapshot(False, error=str(exc)[:300], taken_at=now)
        self._snapshot = snapshot
        if snapshot.reachable and not previous.reachable:
            self.events.publish(DaemonReachable())
        return snapshot

    async def _topic_peers(self) -> tuple[frozenset[str], bool]:
        """Peers subscribed to the boards' topics, and whether pubsub is switched off."""
        found: set[str] = set()
        try:
            for topic in self.topics:
                found.update(await self.ipfs.pubsub_peers(topic))
        except PubsubDisabled:
            return frozenset(), True
        return frozenset(found), False
