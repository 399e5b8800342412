"""One pubsub subscription per board, kept open for the life of the process.

When the stream breaks (daemon restarted, connection reset) the board goes ``down`` and is
resubscribed with exponential backoff and jitter. States, shown in ``/api/status``:
``connecting`` (asking the daemon), ``subscribed`` (the daemon answered the subscription),
``down`` (waiting to retry), ``pubsub_disabled`` (the daemon has pubsub switched off, Kubo's
default: said once in the log with the fix, and asked again only every
``DISABLED_RETRY_SECONDS``, not hammered). Once subscribed, the node says hello on the board
so that the others announce their heads now and it catches up at once.
"""

import asyncio
import logging

from node.network.ingest import Ingestor
from node.network.monitor import DaemonMonitor
from node.protocol.announcement import hello_announcement, topic_for
from node.toolkit.retry import backoff_ms
from node.toolkit.worker import Next, StepWorker, run_forever
from storage.errors import IpfsError, PubsubDisabled
from storage.ipfs import IpfsClient

log = logging.getLogger(__name__)

# Peers may learn of a fresh subscription a gossipsub heartbeat late: say hello twice.
HELLO_DELAYS = (0.0, 2.0)
DISABLED_RETRY_SECONDS = 30.0


class PubsubListener:
    """The boards' subscriptions; ``monitor`` is asked who our daemon is before each one
    opens (ingest drops our own messages by it)."""

    def __init__(
        self, ipfs: IpfsClient, boards: list[str], ingest: Ingestor, monitor: DaemonMonitor
    ) -> None:
        self.ipfs = ipfs
        self.boards = list(boards)
        self.ingest = ingest
        self.monitor = monitor
        self._subscriptions = [BoardSubscription(self, board) for board in self.boards]
        self._greetings: set[asyncio.Task] = set()
        self._told_disabled = False

    def states(self) -> dict[str, str]:
        return {sub.board: sub.state for sub in self._subscriptions}

    async def run(self) -> None:
        """The long-running node's job: every board's subscription, kept open."""
        await asyncio.gather(*(run_forever(sub) for sub in self._subscriptions))

    async def run_until(self, deadline: float) -> None:
        """Listen until ``deadline`` (a scheduled run's window)."""
        try:
            async with asyncio.timeout_at(deadline):
                await self.run()
        except TimeoutError:
            pass

    def greet(self, board: str) -> None:
        task = asyncio.create_task(self._greet(board))
        self._greetings.add(task)
        task.add_done_callback(self._greetings.discard)

    async def _greet(self, board: str) -> None:
        for delay in HELLO_DELAYS:
            await asyncio.sleep(delay)
            try:
                await self.ipfs.publish(topic_for(board), hello_announcement(board))
            except IpfsError as exc:
                log.debug("hello on %s not sent: %s", board, exc)

    def pubsub_disabled(self) -> None:
        """Said once in the log, with the fix, whichever board finds it first."""
        if not self._told_disabled:
            self._told_disabled = True
            log.error(
                "the IPFS daemon has pubsub disabled, so this node can neither hear nor"
                " announce messages; fix: %s",
                PubsubDisabled.fix,
            )


class BoardSubscription(StepWorker):
    """One board's subscription as a worker: a step is one session, from asking the daemon
    until the stream breaks; the idle wait is the backoff before the next one."""

    def __init__(self, listener: PubsubListener, board: str) -> None:
        self.listener = listener
        self.board = board
        self.name = f"subscription to {board}"
        self.state = "connecting"
        self._failures = 0
        self._delay = 0.0

    def _opened(self) -> None:
        self.state = "subscribed"
        log.info("subscribed to %s", topic_for(self.board))
        self.listener.greet(self.board)

    async def step(self) -> Next:
        """Ingest drops and counts bad input itself and never raises for it."""
        listener, board = self.listener, self.board
        self.state = "connecting"
        try:
            await listener.monitor.identify()
            async for message in listener.ipfs.subscribe(topic_for(board), on_open=self._opened):
                self._failures = 0
                listener.ingest.receive(message, board)
            reason = "the daemon closed the stream"
        except PubsubDisabled:
            self.state = "pubsub_disabled"
            listener.pubsub_disabled()
            self._delay = DISABLED_RETRY_SECONDS
            return Next.IDLE
        except IpfsError as exc:
            reason = str(exc)
        if self.state == "subscribed":
            self._failures = 0
        self.state = "down"
        self._delay = backoff_ms(self._failures) / 1000
        self._failures += 1
        log.warning("subscription to %s lost (%s); retrying in %.1fs", board, reason, self._delay)
        return Next.IDLE

    async def idle(self) -> None:
        await asyncio.sleep(self._delay)
