"""Replicated pinning past one machine: every message the node accepts (and, optionally, every
replica it keeps for other authors) and every head-manifest page it publishes is also pinned at
an IPFS Pinning Service (IPFS Cluster, Pinata, Filebase…); superseded pages are unpinned there.

The queue lives in the store (``RemotePinQueue``), so nothing is lost when the
service is down or the node restarts. Each entry goes ``waiting`` → (POST /pins) → ``queued``
/ ``pinning`` → (followed with GET /pins/{id}) → ``pinned`` or ``failed``. A service that is
down, times out or answers 429/5xx is retried with backoff, and one failure ends the round (no
hammering a service that is down). A bad token pauses the whole worker for
``AUTH_PAUSE_SECONDS``: one request per pause, not a retry storm, and ``state`` says why.
"""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from node.protocol.envelope import now_ms
from node.toolkit.retry import backoff_ms, sleep_until_woken
from node.toolkit.worker import Next, StepWorker
from storage.pinning_service import (
    PinningServiceClient,
    PinNotFound,
    PinServiceError,
    PinServiceRejected,
    PinServiceUnauthorized,
    PinServiceUnavailable,
    PinStatus,
)
from storage.ports.remote_pins import NEVER, OPEN, RemotePin, RemotePinQueue
from storage.ports.state import PinServiceHealth, PinServiceState
from storage.url_credentials import without_password

log = logging.getLogger(__name__)

BATCH = 64
AUTH_PAUSE_SECONDS = 60.0
# A "failed" from the service is looked at again this many times, then the pin is sent once
# more and looked at as many times again before it is final: IPFS Cluster reports the pins of a
# peer that just went down as failed, and recovers or re-allocates them.
FAILED_RECHECKS = 4
MAX_DELEGATES = 3
# Consecutive 404s on a pin the service accepted before the node sends it again.
LOST_AFTER = 3
# A worker with nothing to send asks the service this often whether it answers, so that status
# says so on an idle node too (one cheap request; none while a bad token pauses the worker).
PROBE_SECONDS = 30.0

Origins = Callable[[], Awaitable[list[str]]]
Connect = Callable[[str], Awaitable[None]]


class RemotePinner(StepWorker):
    """Works the remote-pin queue, pinning under ``pin_name`` (PIN_SERVICE_NAME). Plain
    attributes for ``/metrics``: ``requests`` (HTTP requests sent to the service), ``pinned``,
    ``failed``, ``unpinned``, ``retries`` (counts in this process), ``state`` (``ok``,
    ``unreachable``, ``unauthorized`` or ``idle``) and ``last_error``."""

    name = "remote pins"

    def __init__(
        self,
        queue: RemotePinQueue,
        saved_state: PinServiceState,
        client: PinningServiceClient,
        *,
        pin_name: str,
        meta: dict[str, str],
        origins: Origins,
        connect: Connect,
        idle_seconds: float = 1.0,
    ) -> None:
        self.queue = queue
        self.saved_state = saved_state
        self.client = client
        self.idle_seconds = idle_seconds
        self.pin_name = pin_name
        self.meta = meta
        self.origins = origins
        self.connect = connect
        self.state = "idle"
        self.last_error = ""
        self.pinned = self.failed = self.unpinned = self.retries = 0
        self._paused_until = 0
        self._wake = asyncio.Event()
        self._connecting: set[asyncio.Task] = set()

    @property
    def url(self) -> str:
        return self.client.url

    @property
    def shown_url(self) -> str:
        """The service's URL as logs may show it: without a password."""
        return without_password(self.client.url)

    @property
    def requests(self) -> int:
        return self.client.requests

    def request(self, cid: str, kind: str) -> None:
        """Pin ``cid`` at the service (durably queued; sent by the worker)."""
        self.queue.want(cid, kind, now_ms())
        self._wake.set()

    def resend(self, cid: str, kind: str) -> None:
        """Pin ``cid`` at the service even if an earlier one said pinned (that was another
        service: PIN_SERVICE_URL changed)."""
        self.queue.resend(cid, kind, now_ms())
        self._wake.set()

    def release(self, cid: str) -> None:
        """Remove ``cid``'s pin at the service (a superseded head page)."""
        self.queue.release(cid, now_ms())
        self._wake.set()

    def backlog(self) -> dict[str, int]:
        return self.queue.counts()

    def open_entries(self) -> int:
        counts = self.backlog()
        return sum(counts.get(state, 0) for state in OPEN)

    async def run_once(self, *, ignore_backoff: bool = False, deadline: float | None = None) -> int:
        """Work what is due; returns how many entries moved on. Stops at the first sign the
        service is down or refuses the token, or at ``deadline`` (the event loop's clock)."""
        if not ignore_backoff and now_ms() < self._paused_until:
            return 0
        moved = 0
        due_at = NEVER - 1 if ignore_backoff else now_ms()
        loop = asyncio.get_running_loop()
        for pin in self.queue.due(due_at, BATCH):
            if deadline is not None and loop.time() >= deadline:
                break
            try:
                await self._step(pin)
            except PinServiceUnauthorized as exc:
                self._fail_round(pin, exc, "unauthorized", AUTH_PAUSE_SECONDS * 1000)
                break
            except PinServiceUnavailable as exc:
                wait = backoff_ms(pin.attempts)
                if exc.retry_after is not None:
                    wait = max(wait, int(exc.retry_after * 1000))
                self._fail_round(pin, exc, "unreachable", wait)
                break
            except PinServiceError as exc:
                # An answer we cannot read: this entry waits, the others go on.
                self._reschedule(pin, str(exc), backoff_ms(pin.attempts))
                continue
            moved += 1
            self._answered()
        return moved

    def _fail_round(self, pin: RemotePin, exc: PinServiceError, state: str, wait_ms: int) -> None:
        self._failing(exc, state, wait_ms)
        self._reschedule(pin, str(exc), wait_ms)

    def _failing(self, exc: PinServiceError, state: str, wait_ms: int) -> None:
        if self.state != state:
            level = logging.ERROR if state == "unauthorized" else logging.WARNING
            log.log(
                level, "pinning service %s: %s (%s); retrying later", self.shown_url, state, exc
            )
        self.state, self.last_error = state, str(exc)[:300]
        if state == "unauthorized":
            self._paused_until = now_ms() + wait_ms

    def _answered(self) -> None:
        if self.state != "ok":
            log.info("pinning service %s: %s → ok", self.shown_url, self.state)
        self.state, self.last_error = "ok", ""

    async def probe_if_quiet(self) -> None:
        """Ask the service whether it answers when nothing was sent for ``PROBE_SECONDS``
        (and at start): ``state`` stays true on a node with nothing to pin."""
        quiet = time.monotonic() - self.client.last_request_at
        if self.client.last_request_at and quiet < PROBE_SECONDS:
            return
        if now_ms() < self._paused_until:
            return
        try:
            await self.client.probe()
        except PinServiceUnauthorized as exc:
            self._failing(exc, "unauthorized", int(AUTH_PAUSE_SECONDS * 1000))
        except PinServiceUnavailable as exc:
            self._failing(exc, "unreachable", 0)
        else:
            self._answered()

    def _reschedule(self, pin: RemotePin, error: str, wait_ms: int) -> None:
        self.retries += 1
        later = RemotePin(
            pin.cid,
            pin.kind,
            pin.state,
            pin.request_id,
            pin.attempts + 1,
            now_ms() + wait_ms,
            error[:500],
            now_ms(),
        )
        self.queue.update(later, pin.state)

    async def _step(self, pin: RemotePin) -> None:
        if pin.state == "unpinning":
            await self.client.remove(pin.request_id or pin.cid)
            if self.queue.forget(pin.cid, "unpinning"):
                self.unpinned += 1
            return
        if pin.state == "waiting":
            meta = {**self.meta, "kind": pin.kind}
            status = await self.client.add(pin.cid, self.pin_name, await self.origins(), meta)
            self._connect(status.delegates)
            # A pin sent again after "failed" keeps counting its checks; a new one starts over.
            attempts = pin.attempts if pin.request_id else 0
            if not self._record(pin, status, attempts):
                await self._released_meanwhile(pin.cid, status.request_id)
            return
        try:
            status = await self.client.status(pin.request_id)
        except PinNotFound:
            if pin.attempts + 1 < LOST_AFTER:
                # IPFS Cluster answers 404 until its peers have taken a new pin up.
                self._record(pin, PinStatus(pin.request_id, pin.state, pin.cid), pin.attempts + 1)
            else:
                # The service lost it (or it was removed there): ask again.
                self._record(pin, None, attempts=0)
            return
        except PinServiceRejected as exc:
            self._record(pin, PinStatus(pin.request_id, "failed", pin.cid), pin.attempts, str(exc))
            return
        self._record(pin, status, attempts=pin.attempts + 1)

    async def _released_meanwhile(self, cid: str, request_id: str) -> None:
        """The pin was released while its POST was on the way (a head page superseded at
        once): the entry is gone or unpinning without a request id, so remove it now."""
        current = self.queue.get(cid)
        if current is None:
            await self.client.remove(request_id)
            self.unpinned += 1
        elif current.state == "unpinning" and not current.request_id:
            with_id = RemotePin(cid, current.kind, "unpinning", request_id, 0, now_ms())
            self.queue.update(with_id, "unpinning")

    def _record(
        self, pin: RemotePin, status: PinStatus | None, attempts: int, error: str = ""
    ) -> bool:
        """Store what the service said (a missing status means "send it again"); False when
        the entry changed meanwhile (released, or wanted again)."""
        now = now_ms()
        if status is None:
            state, request_id, due = "waiting", "", now
        else:
            state, request_id = status.status, status.request_id
            if state == "pinned" or (state == "failed" and attempts >= 2 * FAILED_RECHECKS):
                due = NEVER
            elif state == "failed" and attempts == FAILED_RECHECKS:
                # Sent again once: IPFS Cluster re-allocates a pin whose peer was lost only
                # when it is pinned again (request id kept, so a release still removes it).
                state, due = "waiting", now
            else:
                due = now + backoff_ms(attempts)
        updated = RemotePin(pin.cid, pin.kind, state, request_id, attempts, due, error, now)
        if not self.queue.update(updated, pin.state):
            return False
        if state != pin.state and state == "pinned":
            self.pinned += 1
        elif state != pin.state and state == "failed":
            self.failed += 1
            log.warning("pinning service %s: %s failed there", self.shown_url, pin.cid)
        return True

    def _connect(self, delegates: list[str]) -> None:
        """The spec asks clients to connect to the service's delegates, so its daemons fetch
        the content from ours at once (best effort, in the background)."""
        for address in delegates[:MAX_DELEGATES]:
            task = asyncio.create_task(self._dial(address))
            self._connecting.add(task)
            task.add_done_callback(self._connecting.discard)

    async def _dial(self, address: str) -> None:
        try:
            await self.connect(address)
        except Exception as exc:
            log.debug("delegate %s not dialled: %s", address, exc)

    def save_state(self) -> None:
        """Where a run without background loops (a scheduled Lambda run) leaves what it
        learnt of the service, for the status of the containers that never talk to it."""
        self.saved_state.put(PinServiceHealth(self.state, self.last_error))

    def load_state(self) -> None:
        saved = self.saved_state.get()
        if saved is not None:
            self.state, self.last_error = saved.state, saved.last_error

    async def run_until(self, deadline: float) -> int:
        """A scheduled run's turn (no background loop): work the due queue once until
        ``deadline``, backoff ignored (the schedule is the retry clock), probe when there was
        nothing to send, and leave the state for the other containers' status."""
        moved = await self.run_once(ignore_backoff=True, deadline=deadline)
        if not moved:
            await self.probe_if_quiet()
        self.save_state()
        return moved

    async def step(self) -> Next:
        if await self.run_once():
            return Next.NOW
        await self.probe_if_quiet()
        return Next.IDLE

    async def idle(self) -> None:
        await sleep_until_woken(self._wake, self.idle_seconds)

    async def aclose(self) -> None:
        for task in list(self._connecting):
            task.cancel()
        await self.client.aclose()
