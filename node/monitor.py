"""What the node knows about its daemon, refreshed at most every few seconds.

``/api/status`` is called often (dashboards poll it); asking the daemon four questions per call
would make the status endpoint as slow as the daemon, so answers are cached briefly.
"""

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from storage.errors import IpfsError
from storage.ipfs import DaemonInfo, IpfsClient, SwarmPeer

CACHE_SECONDS = 2.0
REPO_STAT_SECONDS = 30.0


@dataclass(frozen=True)
class DaemonSnapshot:
    reachable: bool
    info: DaemonInfo | None = None
    peers: list[SwarmPeer] = field(default_factory=list)
    repo_bytes: int = 0
    error: str = ""
    taken_at: float = 0.0


class DaemonMonitor:
    def __init__(self, ipfs: IpfsClient, cache_seconds: float = CACHE_SECONDS) -> None:
        self.ipfs = ipfs
        self.cache_seconds = cache_seconds
        self._snapshot = DaemonSnapshot(reachable=False, error="not checked yet")
        self._lock = asyncio.Lock()
        self._repo_at = 0.0
        self.on_reachable: list[Callable[[], None]] = []

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
            peers = await self.ipfs.swarm_peers()
            info = previous.info if previous.reachable else None
            if info is None:
                info = await self.ipfs.info()
            repo_bytes, repo_at = previous.repo_bytes, self._repo_at
            if info is not previous.info or now - repo_at >= REPO_STAT_SECONDS:
                repo_bytes, repo_at = await self.ipfs.repo_size(), now
            self._repo_at = repo_at
            snapshot = DaemonSnapshot(True, info, peers, repo_bytes, taken_at=now)
        except IpfsError as exc:
            snapshot = DaemonSnapshot(False, error=str(exc)[:300], taken_at=now)
        self._snapshot = snapshot
        if snapshot.reachable and not previous.reachable:
            for callback in self.on_reachable:
                callback()
        return snapshot
