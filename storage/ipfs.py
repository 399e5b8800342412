"""The only module that talks to the IPFS daemon (Kubo, or js-ipfs as the second
implementation).

Some calls go through ipfshttpclient's ``Client``, which still speaks the current RPC for
version, id, pin ls/rm and swarm peers. Three workarounds, each forced by the library:

- ``ipfshttpclient.connect()`` is never used: it refuses every daemon newer than 0.8 with
  ``VersionMismatch``. ``Client(addr)`` does no such check.
- Pubsub is spoken directly with httpx: ipfshttpclient sends raw topics and the payload as a
  query argument, which every daemon since Kubo 0.11 rejects. Topics and payloads are now
  multibase (``u`` + base64url) and the payload is a multipart file.
- ``cat``, ``pin/add`` and ``swarm/connect|disconnect`` also go through httpx: they must carry
  the server-side ``timeout=30s`` (with a unit, at least 1 s: Kubo answers an unparsable one
  with an empty 200) so that a daemon stops searching the network for content nobody has, and
  ``swarm/disconnect`` reports failures in-band with HTTP 200 on Kubo, which the library would
  hide.

What Kubo does differently, from its source and confirmed on a running Kubo
(``tests/storage/test_kubo.py``):

- Bytes are stored with ``block/put`` (raw codec, sha2-256, pinned): one raw block whatever the
  daemon's ``Import`` config says (chunker, trickle layout, the ``unixfs-v1-2025`` profile), and
  its answer comes after the pin, so an error cannot hide in a trailer after a 200. The CID is
  checked against the locally computed one.
- ``cat`` compares what arrived with ``X-Content-Length``: an error after streaming began only
  shows in Kubo's ``X-Stream-Error`` trailer, which httpx cannot read.
- ``pubsub/pub`` calls are serialized per daemon and retried once on ``validation ignored``:
  since Kubo 0.40 a per-peer seqno validator drops a local publish that overtook a newer one.
- Pubsub switched off (Kubo's default) raises ``PubsubDisabled``, not a retryable error.
- ``repo/stat`` is asked with ``size-only`` (without it Kubo walks every block).
- ``swarm/disconnect`` goes by ``/p2p/<peer id>``: a full address matches only the connection
  with exactly that remote address, never an inbound one.
- ``IPFS_API_AUTH`` takes Kubo's own ``API.Authorizations`` secret forms.

Every call has a timeout; a daemon that is down raises ``IpfsUnavailable`` and one that answers
with an error or garbage raises ``IpfsError``, never a hang or a library-specific exception.
"""

import asyncio
import base64
import binascii
import json
import math
import threading
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlparse

import httpx
import ipfshttpclient.exceptions as ipfs_exc
from ipfshttpclient.client import Client

from crypto import Cid, CryptoError, cid_for_bytes, parse_cid
from storage.errors import IpfsError, IpfsUnavailable, NoPubsubPeers, PubsubDisabled
from storage.multibase import decode_u, encode_u
from storage.url_credentials import without_password

T = TypeVar("T")

# Connect quickly or call the daemon down; reads get longer for calls that may fetch content.
CONNECT_TIMEOUT = 2.0
CALL_TIMEOUT = 10.0
FETCH_TIMEOUT = 30.0
DIAL_TIMEOUT = 10.0
PUBSUB_DISABLED_TEXT = "pubsub feature not enabled"
SEQNO_REJECTED_TEXT = "validation ignored"


@dataclass(frozen=True)
class DaemonInfo:
    peer_id: str
    version: str
    agent: str
    addresses: list[str]


@dataclass(frozen=True)
class SwarmPeer:
    peer_id: str
    multiaddr: str


@dataclass(frozen=True)
class PubsubMessage:
    sender: str
    data: bytes
    seqno: int


def api_url(address: str) -> str:
    """Turn ``/ip4/127.0.0.1/tcp/5001/http`` or ``http://host:5001`` into a base URL."""
    if address.startswith("/"):
        parts = address.strip("/").split("/")
        if (
            len(parts) < 4
            or parts[0] not in {"ip4", "ip6", "dns", "dns4", "dns6"}
            or parts[2] != "tcp"
        ):
            raise ValueError(f"unsupported IPFS_API multiaddr {address!r}")
        host = f"[{parts[1]}]" if parts[0] == "ip6" else parts[1]
        scheme = "https" if parts[4:5] == ["https"] else "http"
        return f"{scheme}://{host}:{int(parts[3])}"
    parsed = urlparse(address)
    if parsed.scheme not in {"http", "https"} or not parsed.hostname:
        raise ValueError(f"IPFS_API must be a multiaddr or an http(s) URL, got {address!r}")
    return f"{parsed.scheme}://{parsed.netloc}"


def _multiaddr_for(url: str) -> str:
    parsed = urlparse(url)
    host = parsed.hostname or "127.0.0.1"
    kind = "ip6" if ":" in host else ("ip4" if host.replace(".", "").isdigit() else "dns")
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    return f"/{kind}/{host}/tcp/{port}/{parsed.scheme}"


def _basic(user_pass: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(user_pass.encode()).decode()}


def auth_header(credentials: str | None) -> dict[str, str]:
    """The ``Authorization`` header for ``IPFS_API_AUTH`` (Kubo ``API.Authorizations``; it
    answers 403, not 401, so the header is always sent).

    Kubo's own secret forms are accepted as written in its config: ``bearer:TOKEN``,
    ``basic:user:pass`` and ``basic:<base64 of user:pass>``; besides them ``user:pass`` is
    basic auth and anything else a bearer token.
    """
    if not credentials:
        return {}
    scheme, _, rest = credentials.partition(":")
    if scheme.lower() == "bearer" and rest:
        return {"Authorization": f"Bearer {rest}"}
    if scheme.lower() == "basic" and rest:
        if ":" in rest:
            return _basic(rest)
        try:
            base64.b64decode(rest, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("IPFS_API_AUTH basic:<value> must be user:pass or base64") from None
        return {"Authorization": f"Basic {rest}"}
    if ":" in credentials:
        return _basic(credentials)
    return {"Authorization": f"Bearer {credentials}"}


def duration(seconds: float) -> str:
    """A server-side ``timeout`` Kubo can parse: whole seconds with a unit, at least 1 s."""
    return f"{max(1, math.ceil(seconds))}s"


def _raise_for(path: str, response: httpx.Response) -> None:
    message = _error_message(response)
    if PUBSUB_DISABLED_TEXT in message:
        raise PubsubDisabled(f"{path}: the daemon has pubsub disabled ({PubsubDisabled.fix})")
    raise IpfsError(f"{path}: HTTP {response.status_code}: {message}")


def _error_message(response: httpx.Response) -> str:
    text = response.text.strip()
    if response.headers.get("content-type", "").startswith("application/json"):
        try:
            return str(json.loads(text).get("Message", text))
        except (ValueError, AttributeError):
            pass
    return text[:300] or f"HTTP {response.status_code}"


def _cid(text: Any) -> Cid:
    try:
        return parse_cid(str(text))
    except CryptoError as exc:
        raise IpfsError(f"daemon returned an unreadable CID {text!r}") from exc


class IpfsClient:
    """Async facade over one daemon's RPC API."""

    def __init__(
        self, address: str, credentials: str | None = None, call_timeout: float = CALL_TIMEOUT
    ) -> None:
        self.base_url = api_url(address)
        self.call_timeout = call_timeout
        self._headers = auth_header(credentials)
        self._local = threading.local()
        self._publishing = asyncio.Lock()
        self._http = httpx.AsyncClient(
            base_url=self.base_url + "/api/v0",
            headers=self._headers,
            timeout=httpx.Timeout(call_timeout, connect=CONNECT_TIMEOUT),
            limits=httpx.Limits(max_connections=64, max_keepalive_connections=16),
        )

    def _client(self) -> Client:
        client = getattr(self._local, "client", None)
        if client is None:
            client = Client(
                _multiaddr_for(self.base_url),
                headers=self._headers,
                timeout=(CONNECT_TIMEOUT, self.call_timeout),
                session=True,
            )
            self._local.client = client
        return client

    async def _call(self, fn: Callable[[Client], T]) -> T:
        def run() -> T:
            try:
                return fn(self._client())
            except (ipfs_exc.ConnectionError, ipfs_exc.TimeoutError) as exc:
                reason = "timed out" if isinstance(exc, ipfs_exc.TimeoutError) else "refused"
                raise IpfsUnavailable(
                    f"daemon at {without_password(self.base_url)} {reason}"
                ) from exc
            except ipfs_exc.Error as exc:
                raise IpfsError(str(exc)) from exc
            except (AssertionError, KeyError, TypeError, ValueError) as exc:
                # ipfshttpclient asserts on an empty answer (Kubo's reply to a bad ``timeout``).
                raise IpfsError(f"unexpected daemon answer: {exc}") from exc

        return await asyncio.to_thread(run)

    async def _post(self, path: str, timeout: float | None = None, **kwargs: Any) -> httpx.Response:
        read_timeout = self.call_timeout if timeout is None else timeout
        try:
            response = await self._http.post(
                path, timeout=httpx.Timeout(read_timeout, connect=CONNECT_TIMEOUT), **kwargs
            )
        except (httpx.ConnectError, httpx.TimeoutException, httpx.RemoteProtocolError) as exc:
            raise IpfsUnavailable(f"{path}: {type(exc).__name__}") from exc
        except httpx.HTTPError as exc:
            raise IpfsError(f"{path}: {exc}") from exc
        if response.status_code >= 400:
            _raise_for(path, response)
        return response

    async def _post_json(self, path: str, **kwargs: Any) -> dict[str, Any]:
        response = await self._post(path, **kwargs)
        try:
            body = response.json()
        except ValueError as exc:
            raise IpfsError(f"{path}: answer is not JSON") from exc
        if not isinstance(body, dict):
            raise IpfsError(f"{path}: answer is not a JSON object")
        return body

    async def aclose(self) -> None:
        await self._http.aclose()

    async def info(self) -> DaemonInfo:
        ident, version = await asyncio.gather(
            self._call(lambda c: c.id()), self._call(lambda c: c.version())
        )
        return DaemonInfo(
            peer_id=str(ident["ID"]),
            version=str(version["Version"]),
            agent=str(ident.get("AgentVersion", "")),
            addresses=[str(a) for a in ident.get("Addresses") or []],
        )

    async def add(self, data: bytes) -> Cid:
        """Store and pin ``data`` as one raw block (CIDv1, raw codec, sha2-256), so its CID is
        ``cid_for_bytes(data)`` on every daemon and under any ``Import`` config; a daemon that
        answers another CID raises ``IpfsError``."""
        params = {"cid-codec": "raw", "format": "raw", "mhtype": "sha2-256", "pin": "true"}
        files = {"file": ("data.bin", data, "application/octet-stream")}
        response = await self._post("block/put", params=params, files=files)
        lines = [line for line in response.text.splitlines() if line.strip()]
        try:
            key = json.loads(lines[-1])["Key"]
        except (IndexError, ValueError, KeyError, TypeError) as exc:
            raise IpfsError("block/put: answer holds no CID (failed after it began?)") from exc
        cid = _cid(key["/"] if isinstance(key, dict) else key)
        expected = cid_for_bytes(data)
        if cid.to_bytes() != expected.to_bytes():
            raise IpfsError(f"block/put: daemon stored the bytes as {cid}, expected {expected}")
        return cid

    async def cat(
        self, cid: Cid, timeout: float = FETCH_TIMEOUT, max_bytes: int | None = None
    ) -> bytes:
        """``max_bytes`` asks the daemon for one byte more than that (``length``), so content
        announced by a stranger can be refused as too large without downloading all of it.

        Kubo announces the length it will send (``X-Content-Length``); fewer bytes means the
        stream failed midway (the reason is in a trailer httpx cannot read)."""
        params = {"arg": str(cid), "timeout": duration(timeout)}
        if max_bytes is not None:
            params["length"] = str(max_bytes + 1)
        response = await self._post("cat", timeout=timeout + 1, params=params)
        announced = response.headers.get("x-content-length")
        if (
            announced is not None
            and announced.isdigit()
            and int(announced) != len(response.content)
        ):
            raise IpfsError(
                f"cat {cid}: got {len(response.content)} of {announced} bytes (stream failed)"
            )
        return response.content

    async def pin_rm(self, cid: Cid) -> None:
        await self._call(lambda c: c.pin.rm(str(cid)))

    async def pinned(self) -> set[Cid]:
        """Recursive pins, decoded so that base32 and base58btc forms compare equal."""
        result = await self._call(lambda c: c.pin.ls(type="recursive"))
        return {_cid(key) for key in (result.get("Keys") or {})}

    async def swarm_peers(self) -> list[SwarmPeer]:
        result = await self._call(lambda c: c.swarm.peers())
        return [
            SwarmPeer(peer_id=str(p["Peer"]), multiaddr=str(p["Addr"]))
            for p in (result.get("Peers") or [])
        ]

    async def peer_addresses(self, peer_id: str) -> list[str]:
        """Listen addresses the daemon learnt for a peer (identify), each ending in
        ``/p2p/<id>``: the dialable ones, unlike the inbound address ``swarm/peers`` shows."""
        body = await self._post_json("id", params={"arg": peer_id})
        suffix = f"/p2p/{peer_id}"
        return [
            str(a) if str(a).endswith(suffix) else f"{a}{suffix}"
            for a in body.get("Addresses") or []
        ]

    async def swarm_connect(self, multiaddr: str, timeout: float = DIAL_TIMEOUT) -> None:
        """A dial that takes long is a slow peer, not a daemon that is down: the daemon gives
        up first (server-side ``timeout``), the client a second later."""
        params = {"arg": multiaddr, "timeout": duration(timeout)}
        await self._post_json("swarm/connect", timeout=timeout + 1, params=params)

    async def swarm_disconnect(self, peer_id: str) -> None:
        """Close every connection to a peer (``/p2p/<id>``: inbound ones included)."""
        body = await self._post_json("swarm/disconnect", params={"arg": f"/p2p/{peer_id}"})
        failures = [s for s in body.get("Strings") or [] if "failure" in str(s)]
        if failures:
            raise IpfsError(failures[0])

    async def repo_size(self) -> int:
        """Repo size in bytes (``size-only``: Kubo otherwise counts every block; Kubo sends
        numbers, js-ipfs strings)."""
        body = await self._post_json("repo/stat", params={"size-only": "true"})
        try:
            return int(body["RepoSize"])
        except (KeyError, TypeError, ValueError) as exc:
            raise IpfsError("repo/stat: answer holds no RepoSize") from exc

    async def publish(self, topic: str, data: bytes) -> None:
        """One publish at a time per daemon, so Kubo's seqno validator sees them in order; a
        publish it still ignores is sent once more. js-ipfs's ``InsufficientPeers`` becomes
        ``NoPubsubPeers`` (Kubo answers 200 to a topic with no peers: ask ``pubsub_peers``)."""
        params = {"arg": encode_u(topic.encode())}
        files = {"file": ("data.bin", data, "application/octet-stream")}
        async with self._publishing:
            for attempt in range(2):
                try:
                    await self._post("pubsub/pub", params=params, files=files)
                    return
                except PubsubDisabled:
                    raise
                except IpfsUnavailable:
                    raise
                except IpfsError as exc:
                    if "InsufficientPeers" in str(exc):
                        raise NoPubsubPeers(str(exc)) from exc
                    if SEQNO_REJECTED_TEXT not in str(exc) or attempt:
                        raise

    async def pubsub_peers(self, topic: str) -> list[str]:
        body = await self._post_json("pubsub/peers", params={"arg": encode_u(topic.encode())})
        return [str(p) for p in body.get("Strings") or []]

    async def subscribe(
        self, topic: str, on_open: Callable[[], None] | None = None
    ) -> AsyncIterator[PubsubMessage]:
        """Yield messages until the stream ends; the caller resubscribes.

        No read timeout: neither daemon sends keep-alives between messages. js-ipfs opens the
        stream with an empty ``{}`` line, which is skipped. ``on_open`` runs once the daemon
        has answered 200 (Kubo flushes the headers once the subscription exists), which is the
        only readiness signal the wire gives.
        """
        params = {"arg": encode_u(topic.encode())}
        timeout = httpx.Timeout(None, connect=CONNECT_TIMEOUT)
        try:
            async with self._http.stream(
                "POST", "pubsub/sub", params=params, timeout=timeout
            ) as response:
                if response.status_code >= 400:
                    await response.aread()
                    _raise_for("pubsub/sub", response)
                if on_open is not None:
                    on_open()
                async for line in response.aiter_lines():
                    message = _pubsub_message(line)
                    if message is not None:
                        yield message
        except (
            httpx.ConnectError,
            httpx.TimeoutException,
            httpx.RemoteProtocolError,
            httpx.ReadError,
        ) as exc:
            raise IpfsUnavailable(f"pubsub/sub: {type(exc).__name__}") from exc


def _pubsub_message(line: str) -> PubsubMessage | None:
    if not line.strip():
        return None
    try:
        raw = json.loads(line)
    except ValueError as exc:
        raise IpfsError("pubsub/sub sent a line that is not JSON") from exc
    if not isinstance(raw, dict) or "data" not in raw:
        return None
    seqno = raw.get("seqno")
    return PubsubMessage(
        sender=str(raw.get("from", "")),
        data=decode_u(raw["data"]),
        seqno=int.from_bytes(decode_u(seqno), "big") if seqno else 0,
    )


__all__ = [
    "DaemonInfo",
    "IpfsClient",
    "PubsubMessage",
    "SwarmPeer",
    "api_url",
    "auth_header",
]
