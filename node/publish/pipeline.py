"""The broadcast pipeline: accept → index + outbox → add + pin → announce → done.

A message is durable once ``accept`` returns (index and outbox are written in one transaction);
everything after that may fail and is retried by the outbox worker until it succeeds.
"""

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any

from crypto import Cid, canonical_bytes, parse_cid
from node.domain_events import MessagePinned, NobodySubscribed
from node.protocol.announcement import message_announcement, topic_for
from node.protocol.envelope import VerifiedEnvelope, now_ms
from node.toolkit.blocking import off_loop
from node.toolkit.event_bus import EventBus
from node.toolkit.events import MessageBus
from storage.errors import IpfsError, NoPubsubPeers, PubsubDisabled
from storage.ipfs import IpfsClient
from storage.ports.messages import MessageStore, NewMessage, StoredMessage
from storage.ports.outbox import OutboxQueue

log = logging.getLogger(__name__)

# The request that accepted a message delivers it itself; the outbox worker steps in only if
# that request failed or the process died, so both never announce the same message at once.
OUTBOX_GRACE_MS = 10_000
PEER_COUNT_SECONDS = 2.0


@dataclass(frozen=True)
class Delivery:
    pinned: bool
    announced: bool
    broadcast_to: int


class BroadcastPipeline:
    """Publishes ``MessagePinned`` once a message is pinned on our daemon (remote pinning)
    and ``NobodySubscribed`` when an announcement reached nobody (the mesh doctor) on
    ``events``; without one, on a bus of its own that nobody hears."""

    def __init__(
        self,
        messages: MessageStore,
        outbox: OutboxQueue,
        ipfs: IpfsClient,
        bus: MessageBus,
        events: EventBus | None = None,
    ) -> None:
        self.messages = messages
        self.outbox = outbox
        self.ipfs = ipfs
        self.bus = bus
        self.events = EventBus() if events is None else events
        self._peer_counts: dict[str, tuple[int, float]] = {}

    async def accept(self, verified: VerifiedEnvelope, source: str = "local") -> bool:
        """Store the message and its pending delivery; False when it was already known.

        Off the event loop (``off_loop``), which meanwhile serves the other requests and the
        daemon calls of earlier messages."""
        received = now_ms()
        message = NewMessage(str(verified.cid), verified.envelope, source, received)
        (is_new,) = await off_loop(
            self.messages.add, [message], outbox_at=received + OUTBOX_GRACE_MS
        )
        if is_new:
            self.bus.publish_message(
                StoredMessage.from_envelope(message.cid, message.envelope, received, source)
            )
        return is_new

    async def deliver(self, cid: str) -> Delivery:
        """Pin and announce a stored message, then clear it from the outbox.

        Raises ``IpfsError`` (or ``IpfsUnavailable``) and leaves the outbox entry in place when
        the daemon cannot do its part.
        """
        stored = self.messages.get(cid)
        if stored is None:
            await off_loop(self.outbox.done, cid)
            raise IpfsError(f"outbox entry {cid} has no stored message")
        delivery = await self._pin_and_announce(stored)
        self.events.publish(MessagePinned(cid, "message"))
        await off_loop(self.outbox.done, cid)
        return delivery

    async def _pin_and_announce(self, stored: StoredMessage) -> Delivery:
        """Add and announce at the same time: the CID is known locally, and receivers index
        the inline envelope without fetching, so announcing need not wait for the add."""
        expected: Cid = parse_cid(stored.cid)
        data = canonical_bytes(stored.envelope)
        topic = topic_for(stored.board)
        added, published = await asyncio.gather(
            self.ipfs.add(data),
            self.ipfs.publish(topic, message_announcement(expected, stored.envelope)),
            return_exceptions=True,
        )
        if isinstance(added, BaseException):
            raise added
        if added.to_bytes() != expected.to_bytes():
            raise IpfsError(f"daemon stored the envelope as {added}, expected {expected}")
        await off_loop(self.messages.mark_pinned, stored.cid)
        if isinstance(published, PubsubDisabled):
            # Not retried: the listener says so once, with the fix; peers get it by sync
            # once pubsub is on again.
            return Delivery(pinned=True, announced=False, broadcast_to=0)
        if isinstance(published, BaseException) and not isinstance(published, NoPubsubPeers):
            raise published
        # js-ipfs refuses a publish to nobody; Kubo answers 200 (flood publish), so "announced
        # to nobody" comes from the topic's peer count on both.
        peers = 0 if isinstance(published, NoPubsubPeers) else await self._peer_count(topic)
        if peers == 0:
            # Nobody subscribes right now; peers that join later catch up from head manifests.
            log.info("no pubsub peers on %s; %s is pinned, peers get it by sync", topic, stored.cid)
            self.events.publish(NobodySubscribed(topic))
            return Delivery(pinned=True, announced=False, broadcast_to=0)
        return Delivery(pinned=True, announced=True, broadcast_to=peers)

    async def _peer_count(self, topic: str) -> int:
        """Pubsub peers on the topic, asked at most every ``PEER_COUNT_SECONDS``: under load
        one more RPC per broadcast costs the daemon, which is the bottleneck, ~25% of its
        throughput, for a figure that changes on the scale of seconds. A count of zero is
        asked again at once: it would make the answer say "announced to nobody"."""
        count, taken_at = self._peer_counts.get(topic, (0, -PEER_COUNT_SECONDS))
        if count == 0 or time.monotonic() - taken_at >= PEER_COUNT_SECONDS:
            count = len(await self.ipfs.pubsub_peers(topic))
            self._peer_counts[topic] = (count, time.monotonic())
        return count


def delivery_json(cid: str, delivery: Delivery | None, duplicate: bool) -> dict[str, Any]:
    if delivery is None:
        body: dict[str, Any] = {
            "success": True,
            "cid": cid,
            "queued": True,
            "broadcastTo": 0,
            "pinned": False,
            "announced": False,
        }
    else:
        body = {
            "success": True,
            "cid": cid,
            "broadcastTo": delivery.broadcast_to,
            "pinned": delivery.pinned,
            "announced": delivery.announced,
        }
    if duplicate:
        body["duplicate"] = True
    return body
