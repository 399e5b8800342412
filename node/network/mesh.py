"""Detects and heals a dead pubsub mesh.

With js-ipfs, two daemons can stay connected (``swarm/peers`` lists each other) while pubsub
between them is dead (``pubsub/peers`` empty, publish fails with ``InsufficientPeers``);
disconnecting and reconnecting revives it. A connected peer that has been missing from every
board topic for ``STALE_SECONDS`` is healed that way, if we know an address to dial it back.
A peer that simply does not use our boards would be healed again and again, so each peer's
next healing waits twice as long as the last (up to ``MAX_BACKOFF_SECONDS``).

Only peers that matter to the boards are healed (and counted in ``/api/status``): the
configured ``PEERS`` and peers seen on a board topic. A Kubo on the public network has dozens
to hundreds of other connections, none of them ours to recycle.
"""

import asyncio
import logging
import time

from node.network.bootstrap import peer_id_of
from node.protocol.announcement import topic_for
from node.toolkit.retry import sleep_until_woken
from node.toolkit.worker import Next, StepWorker
from storage.errors import IpfsError
from storage.ipfs import IpfsClient

log = logging.getLogger(__name__)

CHECK_SECONDS = 2.0
STALE_SECONDS = 6.0
FIRST_BACKOFF_SECONDS = 30.0
MAX_BACKOFF_SECONDS = 900.0
# Board peers remembered (seen on a topic once), most recent kept: a bound against churn.
REMEMBERED_PEERS = 1024


class MeshDoctor(StepWorker):
    name = "mesh check"
    expected = (IpfsError,)

    def __init__(
        self,
        ipfs: IpfsClient,
        boards: list[str],
        bootstrap: list[str],
        stale_seconds: float = STALE_SECONDS,
        check_seconds: float = CHECK_SECONDS,
    ) -> None:
        self.ipfs = ipfs
        self.stale_seconds = stale_seconds
        self.check_seconds = check_seconds
        self.topics = [topic_for(board) for board in boards]
        self.bootstrap = list(bootstrap)
        self._bootstrap_ids = {peer_id_of(a) for a in self.bootstrap} - {None}
        self._board_peers: dict[str, None] = {}
        self._silent_since: dict[str, float] = {}
        self._next_heal: dict[str, float] = {}
        self._backoff: dict[str, float] = {}
        self._wake = asyncio.Event()

    def suspect(self) -> None:
        """A publish just failed with no pubsub peers: check now, not at the next tick."""
        self._wake.set()

    def remember(self, in_mesh: set[str]) -> None:
        for peer in in_mesh:
            self._board_peers.pop(peer, None)
            self._board_peers[peer] = None
        while len(self._board_peers) > REMEMBERED_PEERS:
            del self._board_peers[next(iter(self._board_peers))]

    def matters(self, peer: str) -> bool:
        """A configured peer, or one seen on a board topic: a peer of the boards."""
        return peer in self._bootstrap_ids or peer in self._board_peers

    def due(self, connected: set[str], in_mesh: set[str], now: float) -> list[str]:
        """Board peers connected but silent on every topic for long enough, and not healed
        recently."""
        self.remember(in_mesh)
        for peer in in_mesh:
            self._backoff.pop(peer, None)
        for peer in list(self._silent_since):
            if peer not in connected or peer in in_mesh:
                del self._silent_since[peer]
        due = []
        for peer in sorted(p for p in connected - in_mesh if self.matters(p)):
            since = self._silent_since.setdefault(peer, now)
            if now - since >= self.stale_seconds and now >= self._next_heal.get(peer, 0.0):
                due.append(peer)
        return due

    async def check(self) -> list[str]:
        """One round: returns the peers that were disconnected and dialled back."""
        swarm = await self.ipfs.swarm_peers()
        in_mesh: set[str] = set()
        for topic in self.topics:
            in_mesh.update(await self.ipfs.pubsub_peers(topic))
        healed = []
        for peer in self.due({p.peer_id for p in swarm}, in_mesh, time.monotonic()):
            if await self._heal(peer):
                healed.append(peer)
        return healed

    async def _heal(self, peer: str) -> bool:
        backoff = min(MAX_BACKOFF_SECONDS, self._backoff.get(peer, FIRST_BACKOFF_SECONDS / 2) * 2)
        self._backoff[peer] = backoff
        self._next_heal[peer] = time.monotonic() + backoff
        self._silent_since.pop(peer, None)
        addresses = [a for a in self.bootstrap if peer_id_of(a) == peer]
        addresses += await self.ipfs.peer_addresses(peer)
        if not addresses:
            return False
        log.warning("pubsub mesh to %s looks dead (connected, on no topic): reconnecting", peer)
        try:
            await self.ipfs.swarm_disconnect(peer)
        except IpfsError as exc:
            log.info("disconnect from %s failed: %s", peer, exc)
        for address in addresses:
            try:
                await self.ipfs.swarm_connect(address)
            except IpfsError:
                continue
            return True
        log.warning("could not dial %s back after healing", peer)
        return False

    async def step(self) -> Next:
        await self.check()
        return Next.IDLE

    async def idle(self) -> None:
        await sleep_until_woken(self._wake, self.check_seconds)
