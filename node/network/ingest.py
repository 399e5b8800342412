"""Ingest of what peers announce: verify, dedupe, index in batches, replicate, push live.

Order matters for cost: the size limit comes before any parsing, the cheap schema before the
signature, and the in-memory seen set before the index. Index writes are batched (one
transaction per ``BATCH`` messages or per ``LINGER`` seconds), which is what lets one process
ingest thousands of messages a second; each batch is written off the event loop, one after the
other in the order they were taken. Anything invalid is dropped, counted against the
sending peer with its reason code, logged once per reason, and never raised to the caller.
"""

import asyncio
import logging
from collections import Counter
from collections.abc import Callable, Collection

from crypto import Cid, parse_cid
from node.domain_events import HeadHeard, HelloHeard
from node.guards.rate_limits import RateLimited, RateLimiter
from node.guards.storage_budget import StorageBudget, StorageFull
from node.network.droplog import DropLog
from node.network.peerbook import PeerBook
from node.network.replicator import Replicator
from node.protocol.announcement import parse_announcement
from node.protocol.envelope import InvalidMessage, VerifiedEnvelope, check_served, now_ms, verify
from node.toolkit.blocking import off_loop
from node.toolkit.counters import PUBSUB_DROPS
from node.toolkit.event_bus import EventBus
from node.toolkit.events import MessageBus
from storage.ipfs import PubsubMessage
from storage.ports.messages import MessageStore, NewMessage, StoredMessage

log = logging.getLogger(__name__)

BATCH = 512
# Flush at the next turn of the event loop: what arrived in the same burst shares one
# transaction, and a quiet node adds no delay before live clients see a message.
LINGER = 0.0
SEEN_CAPACITY = 200_000

Pending = list[tuple[NewMessage, str]]


class Ingestor:
    """Heads and hellos heard are published on ``events`` (``HeadHeard``: sync walks the
    chain; ``HelloHeard``: our heads answer). ``own_peer_id`` says which sender is our own
    daemon, as last learnt from it (its own messages come back on the topic)."""

    def __init__(
        self,
        messages: MessageStore,
        bus: MessageBus,
        peers: PeerBook,
        replicator: Replicator,
        *,
        batch: int = BATCH,
        linger: float = LINGER,
        boards: Collection[str] | None = None,
        limiter: RateLimiter | None = None,
        budget: StorageBudget | None = None,
        events: EventBus | None = None,
        own_peer_id: Callable[[], str | None] = lambda: None,
    ) -> None:
        self.messages = messages
        self.bus = bus
        self.peers = peers
        self.replicator = replicator
        self.batch = batch
        self.linger = linger
        self.boards = None if boards is None else frozenset(boards)
        self.limiter = limiter
        self.budget = budget
        self.events = EventBus() if events is None else events
        self.own_peer_id = own_peer_id
        self.indexed = 0
        self._drops = DropLog(log)
        self._seen: dict[bytes, None] = {}
        self._pending: Pending = []
        self._timer: asyncio.TimerHandle | None = None
        # Held by the batch being written: batches are written one at a time, in order.
        self._writing = asyncio.Lock()
        self._writes: set[asyncio.Task[int]] = set()

    def receive(self, message: PubsubMessage, board: str) -> str:
        """Handle one pubsub message from the ``board`` topic; returns what became of it (a
        reason code when it was dropped). Never raises: every drop, including one that no rule
        foresaw, is counted against the sender."""
        sender = message.sender
        if sender and sender == self.own_peer_id():
            return "own"
        if self.peers.ignored(sender):
            PUBSUB_DROPS.inc("ignored")
            return "ignored"
        try:
            return self._receive(message, board)
        except InvalidMessage as exc:
            self.invalid(sender, exc)
            return exc.code
        except RateLimited as exc:
            self.invalid(sender, InvalidMessage("rate_limited", str(exc)))
            return "rate_limited"
        except StorageFull:
            return "storage_full"  # filled up since the check before the signature
        except Exception as exc:
            log.debug("ingest: unexpected failure on a message from %s", sender, exc_info=True)
            self.invalid(sender, InvalidMessage("unexpected", f"{type(exc).__name__}: {exc}"))
            return "unexpected"

    def _receive(self, message: PubsubMessage, board: str) -> str:
        sender = message.sender
        if self.limiter is not None:
            self.limiter.hit(("peer", sender))
        if self.boards is not None:
            check_served(board, self.boards)
        announcement = parse_announcement(message.data, board)
        if announcement.kind == "hello":
            self.peers.seen(sender)
            self.events.publish(HelloHeard(board))
            return "hello"
        assert announcement.cid is not None
        if announcement.kind == "head":
            self.peers.seen(sender)
            self.events.publish(HeadHeard(announcement.cid, board, sender))
            return "head"
        assert announcement.envelope is not None
        # A replay costs a dictionary lookup, not a signature check, and earns nothing.
        if announcement.cid.to_bytes() in self._seen:
            self.peers.seen(sender)
            return "duplicate"
        if self._full():
            return "storage_full"
        if self.limiter is not None:
            self.limiter.hit(("peer_author", str(announcement.envelope.get("pubkey"))[:64]))
        verified = verify(announcement.envelope, new_post=False)
        if verified.cid.to_bytes() != announcement.cid.to_bytes():
            raise InvalidMessage("cid_mismatch", "announced CID is not the envelope's CID")
        if not self.offer(verified, sender):
            self.peers.seen(sender)
            return "duplicate"
        # Standing comes only from messages this peer delivered first.
        self.peers.valid(sender)
        return "accepted"

    def invalid(self, sender: str, exc: InvalidMessage) -> None:
        """Drop, count against the peer, log once per reason."""
        PUBSUB_DROPS.inc(exc.code)
        self.peers.invalid(sender, exc.code)
        self._drops.dropped(exc.code, sender, exc.detail)

    def _full(self) -> str | None:
        """Why there is no room (dropped and counted, but not held against the sender), or
        None."""
        reason = None if self.budget is None else self.budget.full()
        if reason is not None:
            PUBSUB_DROPS.inc("storage_full")
        return reason

    def knows(self, cid: Cid) -> bool:
        """Seen in this process, or already in the index."""
        return cid.to_bytes() in self._seen or self.messages.has(str(cid))

    def offer(self, verified: VerifiedEnvelope, sender: str, via: str = "pubsub") -> bool:
        """Queue a verified envelope for the next index batch; False when already seen.
        Raises ``StorageFull`` when there is no room: the message is not stored, and a caller
        that moves on past it (catch-up's frontier) would lose it."""
        key = verified.cid.to_bytes()
        if key in self._seen:
            return False
        if (reason := self._full()) is not None:
            raise StorageFull(reason)
        if self.boards is not None and verified.envelope["board"] not in self.boards:
            self.invalid(
                sender, InvalidMessage("unknown_board", "a board this node does not serve")
            )
            return False
        self._seen[key] = None
        if len(self._seen) > SEEN_CAPACITY:
            del self._seen[next(iter(self._seen))]
        source = f"{via}:{sender}" if sender else via
        self._pending.append(
            (NewMessage(str(verified.cid), verified.envelope, source, now_ms()), sender)
        )
        if len(self._pending) >= self.batch:
            self._write_batch()
        elif self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self.linger, self._write_batch)
        return True

    async def flush(self, strict: bool = False) -> int:
        """Write the pending batch, after the batches already being written; returns how many
        of it were new to the index. ``strict`` raises when the write fails (sync must not move
        its frontier past messages it did not store). A cancelled caller does not cancel the
        write."""
        return await asyncio.shield(self._write_batch(strict))

    def _write_batch(self, strict: bool = False) -> asyncio.Task[int]:
        """Take the pending batch now and write it from a task, queued behind the batches
        taken before it (``offer`` and its timer cannot await)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        pending, self._pending = self._pending, []
        task = asyncio.get_running_loop().create_task(self._write(pending, strict))
        self._writes.add(task)
        task.add_done_callback(self._writes.discard)
        return task

    async def _write(self, pending: Pending, strict: bool) -> int:
        """One index call for the batch; push the new ones to live listeners and queue their
        replicas."""
        async with self._writing:
            if not pending:
                return 0
            try:
                added = await off_loop(self.messages.add, [message for message, _ in pending])
            except Exception:
                for message, _ in pending:
                    self._seen.pop(parse_cid(message.cid).to_bytes(), None)
                log.exception("ingest: index write of %d messages failed; dropped", len(pending))
                if strict:
                    raise
                return 0
            return self._publish(pending, added)

    def _publish(self, pending: Pending, added: list[bool]) -> int:
        """Returns how many of the batch were new to the index."""
        credits: Counter[str] = Counter()
        for (message, sender), is_new in zip(pending, added, strict=True):
            if not is_new:
                continue
            credits[sender] += 1
            self.bus.publish_message(
                StoredMessage.from_envelope(
                    message.cid, message.envelope, message.received_at, message.source
                )
            )
            self.replicator.submit(message.cid)
        for sender, count in credits.items():
            if sender:
                self.peers.first_deliveries(sender, count)
        new = sum(credits.values())
        self.indexed += new
        return new
