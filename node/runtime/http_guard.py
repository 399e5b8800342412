"""Connection limits uvicorn does not have: deadlines for a request's head and body and for
writing an answer, a cap on open connections, and each address's share of them (``serve``
mode; on Lambda, API Gateway does this).

uvicorn starts no timer before a connection's first request completes, so a client that sends
half a request line, or headers and then a trickle of body, holds its socket (a file
descriptor) for ever. ``GuardedH11Protocol`` arms a deadline whenever the client owes us a
request head (``HEADER_TIMEOUT``: answered 408 and closed; this also ends an idle keep-alive
connection) or a body (``BODY_TIMEOUT``: closed; the handler sees the client go). A client that
stops reading its answer stalls the write: once the transport has paused writing for
``WRITE_TIMEOUT`` with no progress, the connection is closed (nginx's ``send_timeout``). Past
``MAX_CONNECTIONS`` open connections, or past ``MAX_CONNECTIONS_PER_ADDRESS`` from one address
(IPv6 per /64; trusted proxies are not held to it), a new one is answered 503 ``busy`` and
closed at once, so one client cannot take every slot.
"""

import asyncio
import json

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from node.http.client_address import Network, peer_key
from node.settings import Limits


def _answer(status: str, code: str, detail: str) -> bytes:
    body = json.dumps({"error": code, "detail": detail}).encode()
    head = (
        f"HTTP/1.1 {status}\r\ncontent-type: application/json\r\nconnection: close\r\n"
        f"content-length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


class GuardedH11Protocol(H11Protocol):
    header_timeout = 10.0
    body_timeout = 10.0
    write_timeout = 30.0
    max_connections = 500
    max_per_address = 50
    trusted_proxies: tuple[Network, ...] = ()

    _deadline: asyncio.TimerHandle | None = None
    _phase: str = ""
    _upgraded = False
    _writing_paused = False
    peer_key: str | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.peer_key = peer_key(self.client[0], self.trusted_proxies) if self.client else None
        refusal = self._refusal()
        if refusal:
            transport.write(_answer("503 Service Unavailable", "busy", refusal))
            transport.close()
            return
        self._follow()

    def _refusal(self) -> str:
        """Why this new connection is turned away, or "" when it may stay."""
        if len(self.connections) > self.max_connections:
            return "too many open connections; retry"
        if self.peer_key is None:
            return ""
        mine = sum(1 for c in self.connections if getattr(c, "peer_key", None) == self.peer_key)
        if mine > self.max_per_address:
            return (
                f"this address has {self.max_per_address} connections open, its share;"
                " close one or retry"
            )
        return ""

    def pause_writing(self) -> None:
        """The client is not reading what we write: it has ``write_timeout`` to resume."""
        super().pause_writing()
        self._writing_paused = True
        self._arm("write", self.write_timeout)

    def resume_writing(self) -> None:
        super().resume_writing()
        self._writing_paused = False
        self._follow()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._follow()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._follow()

    def handle_websocket_upgrade(self, event: h11.Request) -> None:
        self._upgraded = True
        self._disarm()
        super().handle_websocket_upgrade(event)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _follow(self) -> None:
        """Arm the deadline of what the client owes now: a head, a body, or nothing."""
        if self._upgraded or self.transport.is_closing():
            return self._disarm()
        if self._writing_paused:
            return self._arm("write", self.write_timeout)
        state = self.conn.their_state
        if state is h11.IDLE:
            self._arm("header", self.header_timeout)
        elif state is h11.SEND_BODY:
            self._arm("body", self.body_timeout)
        else:
            self._disarm()

    def _arm(self, phase: str, seconds: float) -> None:
        if self._phase == phase:
            return
        self._disarm()
        self._phase = phase
        self._deadline = self.loop.call_later(seconds, self._expired)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
        self._deadline, self._phase = None, ""

    def _expired(self) -> None:
        phase, self._deadline, self._phase = self._phase, None, ""
        if self.transport.is_closing():
            return
        if phase == "write":
            # close() would wait for the unread answer to drain: drop it instead.
            self.transport.abort()
            return
        if phase == "header" and self.conn.our_state is h11.IDLE:
            self.transport.write(
                _answer("408 Request Timeout", "timeout", "the request head did not arrive in time")
            )
        self.transport.close()


def guarded_protocol(limits: Limits) -> type[GuardedH11Protocol]:
    """The protocol class for ``uvicorn.run(http=...)`` with these limits."""
    return type(
        "GuardedH11Protocol",
        (GuardedH11Protocol,),
        {
            "header_timeout": limits.header_timeout,
            "body_timeout": limits.body_timeout,
            "write_timeout": limits.write_timeout,
            "max_connections": limits.max_connections,
            "max_per_address": limits.max_connections_per_address,
            "trusted_proxies": limits.trusted_proxies,
        },
    )
