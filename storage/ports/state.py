"""Node state ports: the small records that let a restarted node, or the next Lambda run,
continue where the last one stopped. Each has typed keys; none is a general key-value store."""

from dataclasses import dataclass
from typing import Protocol


class SyncFrontiers(Protocol):
    """How far this node walked each peer's chain of head manifests on each board. The record
    is the syncer's own (``node.network.frontier.Chain`` as JSON): its fields follow the sync
    algorithm, the store only keys it by (board, peer)."""

    def get(self, board: str, peer: str) -> str | None: ...

    def put(self, board: str, peer: str, chain: str) -> None: ...

    def all(self) -> list[str]:
        """Every saved chain, so that every unfinished walk is resumed."""


@dataclass(frozen=True)
class HeadState:
    """This node's newest head manifest on a board and the ``list_since`` position it covers."""

    head: str
    cursor: str | None


class HeadStates(Protocol):
    def get(self, board: str) -> HeadState | None: ...

    def put(self, board: str, state: HeadState) -> None: ...


class BackfillProgress(Protocol):
    """Where the remote-pin backfill stands: the service it ran for, the service a resend pass
    (after a change of service) is for, and per board the position reached in the messages and
    the newest sealed head page offered."""

    def service(self) -> str | None: ...

    def set_service(self, url: str) -> None: ...

    def resending(self) -> str | None: ...

    def set_resending(self, url: str | None) -> None: ...

    def cursor(self, board: str) -> str | None: ...

    def set_cursor(self, board: str, cursor: str | None) -> None: ...

    def sealed_page(self, board: str) -> str | None: ...

    def set_sealed_page(self, board: str, cid: str | None) -> None: ...


@dataclass(frozen=True)
class PinServiceHealth:
    """What the last scheduled run learnt of the pinning service (``RemotePinner.state``)."""

    state: str
    last_error: str


class PinServiceState(Protocol):
    """Left by the scheduled Lambda runs for the containers that answer HTTP and never talk to
    the service themselves."""

    def get(self) -> PinServiceHealth | None: ...

    def put(self, health: PinServiceHealth) -> None: ...
