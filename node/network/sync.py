"""Catch-up from other nodes' head manifests.

A head announcement we have not walked starts a walk: fetch the page (``cat``, with a timeout),
check it against its CID and its signature, verify every envelope and recompute its CID, hand
them to ingest (which batches the index writes and skips what we have), then follow ``prev``
until ``SYNC_DEPTH`` pages or a page already walked. Walks run concurrently up to a bound, one
per head. Manifests from peers in reputation cool-down are not walked; a bad manifest counts
against the peer that announced it and ends the walk.
"""

import asyncio
import logging
import time
from typing import Any

from crypto import Cid, canonical_bytes, cid_for_bytes
from node.envelope import InvalidMessage, VerifiedEnvelope, verify
from node.network.ingest import Ingestor
from node.network.manifest import MAX_MANIFEST_BYTES, parse_manifest
from node.network.peerbook import PeerBook
from storage.errors import IpfsError
from storage.ipfs import IpfsClient

log = logging.getLogger(__name__)

CONCURRENCY = 4
FETCH_TIMEOUT = 10.0
KNOWN_CAPACITY = 50_000
VERIFY_CHUNK = 32
SETTLE_TIMEOUT = 60.0
# While pubsub delivers a peer's messages live, re-walking its open page every time it changes
# only re-fetches what we have; each fetch stalls the js-ipfs daemons' pubsub for tens of ms.
PEER_WALK_SECONDS = 15.0
# A head whose pages could not be fetched (nobody connected has them) is not retried at once.
RETRY_SECONDS = 30.0


class HeadSyncer:
    def __init__(
        self,
        ipfs: IpfsClient,
        ingest: Ingestor,
        peers: PeerBook,
        depth: int,
        concurrency: int = CONCURRENCY,
    ) -> None:
        self.ipfs = ipfs
        self.ingest = ingest
        self.peers = peers
        self.depth = depth
        self._slots = asyncio.Semaphore(concurrency)
        self._walked: dict[bytes, None] = {}
        self._walking: set[bytes] = set()
        self._retry_at: dict[bytes, float] = {}
        self._tasks: set[asyncio.Task] = set()
        self._last_walk: dict[tuple[str, str], float] = {}
        self._deferred: dict[tuple[str, str], Cid] = {}

    def offer(self, head: Cid, board: str, sender: str) -> None:
        """A head was announced: walk it in the background unless known or the peer is
        ignored. A peer's chain is walked at most every ``PEER_WALK_SECONDS``; a newer head
        that comes sooner waits for its turn (only the latest is kept)."""
        key = head.to_bytes()
        if key in self._walked or key in self._walking or self.peers.ignored(sender):
            return
        if time.monotonic() < self._retry_at.get(key, 0.0):
            return
        chain = (sender, board)
        wait = self._last_walk.get(chain, -PEER_WALK_SECONDS) + PEER_WALK_SECONDS - time.monotonic()
        if wait > 0:
            if chain not in self._deferred:
                asyncio.get_running_loop().call_later(wait, self._offer_deferred, chain)
            self._deferred[chain] = head
            return
        self._last_walk[chain] = time.monotonic()
        self._walking.add(key)
        task = asyncio.create_task(self._walk_task(head, board, sender))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _offer_deferred(self, chain: tuple[str, str]) -> None:
        head = self._deferred.pop(chain, None)
        if head is not None:
            self.offer(head, chain[1], chain[0])

    async def _walk_task(self, head: Cid, board: str, sender: str) -> None:
        try:
            await self.walk(head, board, sender)
        except IpfsError as exc:
            self._retry_at[head.to_bytes()] = time.monotonic() + RETRY_SECONDS
            log.info("sync of %s from %s stopped: %s", head, sender, exc)
        except Exception:
            log.exception("sync of %s from %s failed", head, sender)
        finally:
            self._walking.discard(head.to_bytes())

    async def walk(self, head: Cid, board: str, sender: str) -> int:
        """Walk one chain; returns how many envelopes were handed to ingest as unseen."""
        offered = 0
        async with self._slots:
            cid: Cid | None = head
            for _ in range(self.depth):
                if cid is None or cid.to_bytes() in self._walked or self.peers.ignored(sender):
                    break
                data = await self.ipfs.cat(cid, FETCH_TIMEOUT, MAX_MANIFEST_BYTES)
                try:
                    manifest = parse_manifest(data, cid, board)
                    verified = await self._verify_unknown(manifest.messages, board)
                except InvalidMessage as exc:
                    self.ingest.invalid(sender, exc)
                    break
                self.peers.valid(sender)
                offered += sum(self.ingest.offer(v, sender, via="sync") for v in verified)
                self._remember(cid)
                cid = manifest.prev
            self.ingest.flush()
        return offered

    async def _verify_unknown(self, envelopes: list[Any], board: str) -> list[VerifiedEnvelope]:
        """Verify only what this node does not have: an open page is re-walked each time its
        author adds to it, and re-checking hundreds of known signatures would stall the loop
        that serves live clients. Yields to the loop between chunks for the same reason."""
        verified = []
        for position, envelope in enumerate(envelopes):
            if isinstance(envelope, dict) and self.ingest.knows(
                cid_for_bytes(canonical_bytes(envelope))
            ):
                continue
            verified.append(_verify(envelope, board))
            if position % VERIFY_CHUNK == VERIFY_CHUNK - 1:
                await asyncio.sleep(0)
        return verified

    def _remember(self, cid: Cid) -> None:
        self._walked[cid.to_bytes()] = None
        if len(self._walked) > KNOWN_CAPACITY:
            del self._walked[next(iter(self._walked))]
        if len(self._retry_at) > KNOWN_CAPACITY:
            now = time.monotonic()
            self._retry_at = {k: t for k, t in self._retry_at.items() if t > now}

    async def settle(self, timeout: float = SETTLE_TIMEOUT) -> None:
        """Wait for the walks under way (used where there is no background loop)."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout)
        self.ingest.flush()


def _verify(envelope: object, board: str) -> VerifiedEnvelope:
    if not isinstance(envelope, dict):
        raise InvalidMessage("bad_manifest", "a manifest entry is not an envelope")
    verified = verify(envelope, new_post=False)
    if envelope["board"] != board:
        raise InvalidMessage("bad_manifest", "a manifest entry is for another board")
    return verified
