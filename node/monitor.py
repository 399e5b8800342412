"""What the node knows about its daemon, refreshed at most every few seconds.

``/api/status`` is called often (dashboards poll it); asking the daemon four questions per call
would make the status endpoint as slow as the daemon, so answers are cached briefly.
"""

import asyncio
import time
from dataclasses import dataclass, field

from storage.errors import IpfsError
from storage.ipfs import DaemonInfo, IpfsClient, SwarmPeer

CACHE_SECONDS = 2.0


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
        self.on_reachable: list = []

    async def snapshot(self) -> DaemonSnapshot:
        if time.monotonic() - self._snapshot.taken_at < self.cache_seconds:
            return self._snapshot
        async with self._lock:
            if time.monotonic() - self._snapshot.taken_at >= self.cache_seconds:
                await self.refresh()
        return self._snapshot

    async def refresh(self) -> DaemonSnapshot:
        was_reachable = self._snapshot.reachable
        try:
            info = await self.ipfs.info()
            peers, repo_bytes = await asyncio.gather(self.ipfs.swarm_peers(), self.ipfs.repo_size())
            snapshot = DaemonSnapshot(True, info, peers, repo_bytes, taken_at=time.monotonic())
        except IpfsError as exc:
            snapshot = DaemonSnapshot(False, error=str(exc)[:300], taken_at=time.monotonic())
        self._snapshot = snapshot
        if snapshot.reachable and not was_reachable:
            for callback in self.on_reachable:
                callback()
        return snapshot
