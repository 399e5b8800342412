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
from node.protocol.announcement import hello_announcement, topic_for
from node.toolkit.retry import backoff_ms
from storage.errors import IpfsError, PubsubDisabled
from storage.ipfs import IpfsClient, PubsubMessage

log = logging.getLogger(__name__)

# Peers may learn of a fresh subscription a gossipsub heartbeat late: say hello twice.
HELLO_DELAYS = (0.0, 2.0)
DISABLED_RETRY_SECONDS = 30.0


class PubsubListener:
    def __init__(self, ipfs: IpfsClient, boards: list[str], ingest: Ingestor) -> None:
        self.ipfs = ipfs
        self.boards = list(boards)
        self.ingest = ingest
        self._states = {board: "connecting" for board in self.boards}
        self._greetings: set[asyncio.Task] = set()
        self._told_disabled = False

    def states(self) -> dict[str, str]:
        return dict(self._states)

    async def run(self) -> None:
        await asyncio.gather(*(self._listen(board) for board in self.boards))

    def _opened(self, board: str) -> None:
        self._states[board] = "subscribed"
        log.info("subscribed to %s", topic_for(board))
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

    async def _listen(self, board: str) -> None:
        failures = 0
        while True:
            self._states[board] = "connecting"
            try:
                self.ingest.own_peer_id = (await self.ipfs.info()).peer_id
                async for message in self.ipfs.subscribe(
                    topic_for(board), on_open=lambda: self._opened(board)
                ):
                    failures = 0
                    self._handle(message, board)
                reason = "the daemon closed the stream"
            except PubsubDisabled:
                self._states[board] = "pubsub_disabled"
                if not self._told_disabled:
                    self._told_disabled = True
                    log.error(
                        "the IPFS daemon has pubsub disabled, so this node can neither hear nor"
                        " announce messages; fix: %s",
                        PubsubDisabled.fix,
                    )
                await asyncio.sleep(DISABLED_RETRY_SECONDS)
                continue
            except IpfsError as exc:
                reason = str(exc)
            if self._states[board] == "subscribed":
                failures = 0
            self._states[board] = "down"
            delay = backoff_ms(failures) / 1000
            failures += 1
            log.warning("subscription to %s lost (%s); retrying in %.1fs", board, reason, delay)
            await asyncio.sleep(delay)

    def _handle(self, message: PubsubMessage, board: str) -> None:
        """Ingest drops and counts bad input itself and never raises for it."""
        self.ingest.receive(message, board)
