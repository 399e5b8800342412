"""The only module that talks to the IPFS daemon (Kubo, or js-ipfs in tests).

Most calls go through ipfshttpclient's ``Client``, which still speaks the current RPC for
version, id, add, cat, pin, swarm and repo stat. Three workarounds, each forced by the library:

- ``ipfshttpclient.connect()`` is never used: it refuses every daemon newer than 0.8 with
  ``VersionMismatch``. ``Client(addr)`` does no such check.
- Pubsub is spoken directly with httpx: ipfshttpclient sends raw topics and the payload as a
  query argument, which every daemon since Kubo 0.11 rejects. Topics and payloads are now
  multibase (``u`` + base64url) and the payload is a multipart file.
- ``cat``, ``pin/add`` and ``swarm/connect|disconnect`` also go through httpx: they must carry
  the server-side ``timeout=30s`` (with a unit; Kubo silently ignores a bare number) so that a
  daemon stops searching the network for content nobody has, and ``swarm/disconnect`` reports
  failures in-band with HTTP 200 on Kubo, which the library would hide.

Every call has a timeout; a daemon that is down raises ``IpfsUnavailable`` and one that answers
with an error or garbage raises ``IpfsError``, never a hang or a library-specific exception.
"""

import asyncio
import base64
import json
import threading
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlparse

import httpx
import ipfshttpclient.exceptions as ipfs_exc
from ipfshttpclient.client import Client

from crypto import Cid, CryptoError, parse_cid
from storage.errors import IpfsError, IpfsUnavailable, NoPubsubPeers
from storage.multibase import decode_u, encode_u

T = TypeVar("T")

# Connect quickly or call the daemon down; reads get longer for calls that may fetch content.
CONNECT_TIMEOUT = 2.0
CALL_TIMEOUT = 10.0
FETCH_TIMEOUT = 30.0


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


def auth_header(credentials: str | None) -> dict[str, str]:
    """``user:pass`` becomes HTTP basic auth, anything else a bearer token (Kubo
    ``API.Authorizations``; it answers 403, not 401, so the header is always sent)."""
    if not credentials:
        return {}
    if ":" in credentials:
        return {"Authorization": "Basic " + base64.b64encode(credentials.encode()).decode()}
    return {"Authorization": f"Bearer {credentials}"}


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
                raise IpfsUnavailable(f"daemon at {self.base_url} {reason}") from exc
            except ipfs_exc.Error as exc:
                raise IpfsError(str(exc)) from exc
            except (KeyError, TypeError, ValueError) as exc:
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
            raise IpfsError(f"{path}: HTTP {response.status_code}: {_error_message(response)}")
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
        """Add and pin bytes as one raw block: the CID equals ``cid_for_bytes(data)`` when the
        data fits one chunk (256 KiB), which every envelope does."""
        opts = {"cid-version": "1", "raw-leaves": "true", "hash": "sha2-256", "pin": "true"}
        result = await self._call(lambda c: c.add_bytes(data, opts=opts))
        return _cid(result)

    async def cat(
        self, cid: Cid, timeout: float = FETCH_TIMEOUT, max_bytes: int | None = None
    ) -> bytes:
        """``max_bytes`` asks the daemon for one byte more than that (``length``), so content
        announced by a stranger can be refused as too large without downloading all of it."""
        params = {"arg": str(cid), "timeout": f"{int(timeout)}s"}
        if max_bytes is not None:
            params["length"] = str(max_bytes + 1)
        return (await self._post("cat", timeout=timeout + 1, params=params)).content

    async def pin_add(self, cid: Cid, timeout: float = FETCH_TIMEOUT) -> None:
        params = {"arg": str(cid), "timeout": f"{int(timeout)}s"}
        await self._post_json("pin/add", timeout=timeout + 1, params=params)

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

    async def swarm_connect(self, multiaddr: str) -> None:
        await self._post_json("swarm/connect", params={"arg": multiaddr})

    async def swarm_disconnect(self, multiaddr: str) -> None:
        body = await self._post_json("swarm/disconnect", params={"arg": multiaddr})
        failures = [s for s in body.get("Strings") or [] if "failure" in str(s)]
        if failures:
            raise IpfsError(failures[0])

    async def repo_size(self) -> int:
        """Repo size in bytes (Kubo sends numbers, js-ipfs strings)."""
        result = await self._call(lambda c: c.repo.stat())
        return int(result["RepoSize"])

    async def publish(self, topic: str, data: bytes) -> None:
        params = {"arg": encode_u(topic.encode())}
        files = {"file": ("data.bin", data, "application/octet-stream")}
        try:
            await self._post("pubsub/pub", params=params, files=files)
        except IpfsUnavailable:
            raise
        except IpfsError as exc:
            if "InsufficientPeers" in str(exc):
                raise NoPubsubPeers(str(exc)) from exc
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
                    raise IpfsError(
                        f"pubsub/sub: HTTP {response.status_code}: {_error_message(response)}"
                    )
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
