"""What happens in the node that other parts react to, published on the ``EventBus``
(``node.toolkit.event_bus``) by the part where it happens. Subscriptions are made where the
node is built (``node.runtime.builders``)."""

from dataclasses import dataclass

from crypto import Cid


@dataclass(frozen=True)
class MessagePinned:
    """A message is pinned on our daemon: ``kind`` is ``message`` (accepted here, by the
    pipeline) or ``replica`` (received from a peer, by the replicator)."""

    cid: str
    kind: str


@dataclass(frozen=True)
class PageStored:
    """A page of one of our head-manifest chains was added to our daemon."""

    cid: Cid


@dataclass(frozen=True)
class PageReleased:
    """A page of our chains was superseded (its open page rewritten) and is unpinned."""

    cid: Cid


@dataclass(frozen=True)
class HeadHeard:
    """A peer announced the head of its chain for a board."""

    head: Cid
    board: str
    sender: str


@dataclass(frozen=True)
class HelloHeard:
    """A node that just subscribed to a board asks for heads."""

    board: str


@dataclass(frozen=True)
class DaemonReachable:
    """Our daemon answers again (or for the first time)."""


@dataclass(frozen=True)
class NobodySubscribed:
    """A publish on ``topic`` reached no pubsub peer: the mesh may be dead."""

    topic: str
