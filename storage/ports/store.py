"""A store: one backend opened once, handing out one object per port."""

from typing import Protocol

from storage.ports.claims import ClientIdClaims
from storage.ports.messages import MessageStore
from storage.ports.outbox import OutboxQueue
from storage.ports.peers import PeerStatsStore
from storage.ports.remote_pins import RemotePinQueue
from storage.ports.state import BackfillProgress, HeadStates, PinServiceState, SyncFrontiers


class Store(Protocol):
    messages: MessageStore
    outbox: OutboxQueue
    remote_pins: RemotePinQueue
    peers: PeerStatsStore
    claims: ClientIdClaims
    frontiers: SyncFrontiers
    heads: HeadStates
    backfill: BackfillProgress
    pin_service: PinServiceState

    def size_bytes(self) -> int:
        """What the store takes, for the storage budget and ``storageUsed``."""

    def close(self) -> None: ...
