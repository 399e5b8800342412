"""The policy of a post, whatever carries it: budgets, who may have the node sign, retries of
a plain message, the storage budget, then accept and deliver.

``POST /api/broadcast`` reads the request and translates the result; everything it decides is
here, with its collaborators given at construction."""

import logging
from collections.abc import Collection
from dataclasses import dataclass

from crypto import NodeKey, sign_envelope
from node.errors import NodeError
from node.guards.rate_limits import RateLimiter
from node.guards.storage_budget import StorageBudget
from node.protocol.envelope import (
    VerifiedEnvelope,
    check_served,
    parse_json_object,
    unsigned_from_plain,
    verify,
)
from node.publish import idempotency
from node.publish.outbox import OutboxWorker
from node.publish.pipeline import BroadcastPipeline, Delivery
from storage.errors import IpfsError, IpfsUnavailable
from storage.ports.claims import ClientIdClaims
from storage.ports.messages import MessageStore

log = logging.getLogger(__name__)

SIGN_YOURSELF = "sign the envelope yourself and send it with its sig"


class Unauthorized(NodeError):
    status = 401
    code = "unauthorized"


class Forbidden(NodeError):
    status = 403
    code = "forbidden"


class IdReused(NodeError):
    """A plain message under an ``id`` its token already used for another message."""

    status = 409
    code = "id_reused"


@dataclass(frozen=True)
class Caller:
    """Who posts: its address, the API token it holds (one of ``API_TOKENS``) or None, and
    whether it sent a bearer token at all (a refused one is a 403, a missing one a 401)."""

    address: str
    token: str | None
    sent_token: bool


@dataclass(frozen=True)
class Published:
    """``delivery`` is None while the message waits in the outbox (queued, or a duplicate not
    pinned yet)."""

    cid: str
    delivery: Delivery | None
    duplicate: bool

    @property
    def outcome(self) -> str:
        """The ``POSTS`` label: ``duplicate``, ``queued`` or ``accepted``."""
        if self.duplicate:
            return "duplicate"
        return "queued" if self.delivery is None else "accepted"


class PublishService:
    def __init__(
        self,
        *,
        messages: MessageStore,
        claims: ClientIdClaims,
        pipeline: BroadcastPipeline,
        outbox: OutboxWorker,
        limiter: RateLimiter,
        budget: StorageBudget,
        key: NodeKey,
        boards: Collection[str],
        api_tokens: Collection[str],
    ) -> None:
        self.messages = messages
        self.claims = claims
        self.pipeline = pipeline
        self.outbox = outbox
        self.limiter = limiter
        self.budget = budget
        self.key = key
        self.boards = list(boards)
        self.api_tokens = api_tokens

    def admit(self, caller: Caller) -> None:
        """Count the attempt against the caller's address, or its API token (whose budget is
        larger), before its body is read; raises ``RateLimited``."""
        if caller.token is not None:
            self.limiter.hit(("token", caller.token))
        else:
            self.limiter.hit(("address", caller.address))

    async def publish(self, body: bytes, caller: Caller, now: int) -> Published:
        """Verify (or sign, for a token holder's plain message), store and deliver ``body``.

        A validly signed post also counts against its author's key, so nobody can spend an
        author's budget without the author's signature. Raises a ``NodeError`` (or the index's
        ``IndexBusy``) when refused; a daemon that cannot deliver now leaves it queued."""
        obj = parse_json_object(body)
        plain = None if "sig" in obj else obj
        if plain is None:
            verified = verify(obj, new_post=True, now=now)
        else:
            signer = self._signer(caller)
            unsigned = unsigned_from_plain(plain, self.boards[0], now)
            earlier = idempotency.claimed(self.claims, signer, plain, now)
            if earlier is not None:
                return self._retried(earlier)
            verified = verify(sign_envelope(unsigned, self.key), new_post=True, now=now)
        self._check_limits(verified, caller)
        is_new = await self.pipeline.accept(verified)
        cid = str(verified.cid)
        if plain is not None:
            # On the event loop, as before: in a thread the known race between two retries'
            # check and claim would widen by the claim's commit.
            idempotency.claim(self.claims, signer, plain, cid, now)
        if not is_new:
            return self._duplicate(cid)
        return await self._deliver(cid)

    def _signer(self, caller: Caller) -> str:
        """The token the node signs a plain message for; refuses everyone else."""
        if not caller.sent_token:
            raise Unauthorized(
                "an unsigned message needs an API token (Authorization: Bearer …);"
                f" or {SIGN_YOURSELF}"
            )
        if caller.token is None and not self.api_tokens:
            raise Forbidden(
                "this node has no API_TOKENS configured, so it signs for nobody: start it with"
                f" API_TOKENS=<token>, or {SIGN_YOURSELF}"
            )
        if caller.token is None:
            raise Forbidden("this API token is not allowed to sign on this node")
        return caller.token

    def _check_limits(self, verified: VerifiedEnvelope, caller: Caller) -> None:
        check_served(verified.envelope["board"], self.boards)
        if caller.token is None:
            self.limiter.hit(("author", verified.envelope["pubkey"]))
        self.budget.check()

    async def _deliver(self, cid: str) -> Published:
        try:
            delivery = await self.outbox.deliver(cid)
        except IpfsError as exc:
            level = logging.INFO if isinstance(exc, IpfsUnavailable) else logging.WARNING
            log.log(level, "broadcast %s queued: %s", cid, exc)
            return Published(cid, None, duplicate=False)
        return Published(cid, delivery, duplicate=False)

    def _duplicate(self, cid: str) -> Published:
        stored = self.messages.get(cid)
        pinned = bool(stored and stored.pinned)
        delivery = Delivery(pinned=pinned, announced=pinned, broadcast_to=0) if pinned else None
        return Published(cid, delivery, duplicate=True)

    def _retried(self, earlier: idempotency.Claim) -> Published:
        """A retry of a plain message this token already posted under the same ``id``."""
        if not earlier.same_body:
            raise IdReused(
                "this API token posted a different message with this id within the last"
                f" {idempotency.WINDOW_MS // 3_600_000} h (it is {earlier.cid}); use a new id"
            )
        return self._duplicate(earlier.cid)
