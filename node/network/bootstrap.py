"""Bootstrap peers (``PEERS``): dialled at start and redialled whenever the connection drops,
the prototype's "bootstrap nodes" without any public address."""

import asyncio
import logging

from node.toolkit.worker import Next, StepWorker
from storage.errors import IpfsError
from storage.ipfs import IpfsClient

log = logging.getLogger(__name__)

REDIAL_SECONDS = 3.0


def peer_id_of(multiaddr: str) -> str | None:
    """The peer id at the end of ``…/p2p/<id>`` (or the older ``/ipfs/<id>``)."""
    parts = multiaddr.rstrip("/").split("/")
    for marker in ("p2p", "ipfs"):
        if marker in parts[:-1]:
            return parts[parts.index(marker) + 1]
    return None


def with_peer_id(multiaddr: str, peer_id: str) -> str:
    """``multiaddr`` ending in ``/p2p/<peer_id>``, added once: a peer dialled through
    ``PEERS`` may already be listed by the daemon with its id (so never ``/p2p/X/p2p/X``)."""
    if peer_id_of(multiaddr) == peer_id:
        return multiaddr
    return f"{multiaddr.rstrip('/')}/p2p/{peer_id}"


class BootstrapDialer(StepWorker):
    name = "bootstrap"
    expected = (IpfsError,)

    def __init__(
        self, ipfs: IpfsClient, peers: list[str], redial_seconds: float = REDIAL_SECONDS
    ) -> None:
        self.ipfs = ipfs
        self.peers = list(peers)
        self.redial_seconds = redial_seconds
        self._failing: dict[str, str] = {}
        self._connected: set[str] = set()

    def states(self) -> list[dict[str, str]]:
        """Each configured peer: ``connected``, ``failing`` (with the dial error) or
        ``pending`` (not dialled yet), for ``/api/status``."""
        out = []
        for address in self.peers:
            if address in self._failing:
                out.append(
                    {"address": address, "state": "failing", "error": self._failing[address]}
                )
            else:
                state = "connected" if address in self._connected else "pending"
                out.append({"address": address, "state": state})
        return out

    async def dial_missing(self) -> int:
        """Dial every bootstrap peer that is not connected; returns how many were dialled."""
        if not self.peers:
            return 0
        connected = {p.peer_id for p in await self.ipfs.swarm_peers()}
        dialled = 0
        for address in self.peers:
            if peer_id_of(address) in connected:
                self._connected.add(address)
                self._failing.pop(address, None)
                continue
            self._connected.discard(address)
            try:
                await self.ipfs.swarm_connect(address)
            except IpfsError as exc:
                if address not in self._failing:
                    log.warning("bootstrap peer %s: dial failed: %s", address, exc)
                self._failing[address] = str(exc)[:200]
                continue
            dialled += 1
            self._connected.add(address)
            self._failing.pop(address, None)
            log.info("bootstrap peer %s connected", address)
        return dialled

    async def step(self) -> Next:
        await self.dial_missing()
        return Next.IDLE

    async def idle(self) -> None:
        await asyncio.sleep(self.redial_seconds)
