"""HTTP endpoints (docs/API.md). Handlers read the request and translate; the publish
service and the stores do the work."""

from __future__ import annotations

import hmac
import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from starlette.requests import ClientDisconnect, HTTPConnection, Request
from starlette.responses import JSONResponse, Response

from crypto import CryptoError, parse_cid
from node.http.client_address import client_address
from node.http.errors import REFUSALS, ApiError, refusal
from node.http.params import int_param
from node.http.status import node_status
from node.network.bootstrap import with_peer_id
from node.network.reputation import reputation
from node.protocol.envelope import MAX_ENVELOPE_BYTES, check_served, now_ms
from node.publish.pipeline import delivery_json
from node.publish.service import Caller
from node.remote_pins.status import message_remote_pin
from node.settings import BOARD_PATTERN
from node.toolkit.counters import POSTS
from storage.ports.messages import StoredMessage

if TYPE_CHECKING:
    from node.runtime.services import NodeServices


DEFAULT_PAGE = 50
MAX_PAGE = 200
DEFAULT_PEERS = 100
MAX_PEERS = 500
MAX_PEER_ID_CHARS = 128


def services_of(request: HTTPConnection) -> NodeServices:
    return request.app.state.services


def client_of(request: HTTPConnection) -> str:
    return client_address(request, services_of(request).settings.limits.trusted_proxies)


async def read_body(request: Request, limit: int) -> bytes:
    """Read at most ``limit`` bytes; a larger body is refused without reading it whole."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise ApiError(413, "too_large", f"body is over {limit} bytes")
    chunks, size = [], 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise ApiError(413, "too_large", f"body is over {limit} bytes")
            chunks.append(chunk)
    except ClientDisconnect:
        # Gone, or closed by the body deadline (node.runtime.http_guard): nobody reads this.
        raise ApiError(408, "timeout", "the connection closed before the body arrived") from None
    return b"".join(chunks)


def _bearer(request: HTTPConnection) -> str | None:
    """The bearer token the caller sent, whatever it is."""
    header = request.headers.get("authorization", "")
    return header[7:].strip() if header.lower().startswith("bearer ") else None


def bearer_token(request: HTTPConnection, tokens: frozenset[str]) -> str | None:
    """The caller's API token when it is one of ``tokens``, else None."""
    token = _bearer(request)
    if token is None:
        return None
    if any(hmac.compare_digest(token.encode(), allowed.encode()) for allowed in tokens):
        return token
    return None


async def health(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def status(request: Request) -> JSONResponse:
    services = services_of(request)
    internals = bearer_token(request, services.settings.api_tokens) is not None
    return JSONResponse(await node_status(services, internals))


async def broadcast(request: Request) -> JSONResponse:
    """Reads the request for ``PublishService`` and answers its result; every post, refused
    or not, is counted in ``POSTS``."""
    services = services_of(request)
    caller = Caller(
        client_of(request),
        bearer_token(request, services.settings.api_tokens),
        _bearer(request) is not None,
    )
    try:
        services.publisher.admit(caller)
        body = await read_body(request, MAX_ENVELOPE_BYTES)
        result = await services.publisher.publish(body, caller, now_ms())
    except REFUSALS as exc:
        POSTS.inc(refusal(exc).code)
        raise
    POSTS.inc(result.outcome)
    answer = delivery_json(result.cid, result.delivery, result.duplicate)
    return JSONResponse(answer, 202 if result.delivery is None else 200)


def board_param(request: HTTPConnection) -> str:
    served = services_of(request).settings.boards
    board = request.query_params.get("board") or served[0]
    if not BOARD_PATTERN.fullmatch(board):
        raise ApiError(400, "invalid_board", "board must match [a-z0-9-]{1,64}")
    check_served(board, served)
    return board


def messages_json(fields: dict[str, Any], messages: list[StoredMessage]) -> Response:
    """A JSON object of ``fields`` plus ``"messages"``, with each stored envelope copied in as
    text rather than parsed and re-encoded (the hot path of ``/api/messages`` and the poll)."""
    head = json.dumps(fields, ensure_ascii=False)[:-1]
    items = ",".join(m.to_json_text() for m in messages)
    separator = "," if fields else ""
    body = f'{head}{separator}"messages":[{items}]}}'
    return Response(body.encode("utf-8"), media_type="application/json")


async def list_messages(request: Request) -> Response:
    services = services_of(request)
    board = board_param(request)
    page = services.store.messages.list_board(
        board,
        int_param(request, "limit", DEFAULT_PAGE, 1, MAX_PAGE),
        request.query_params.get("before"),
        services.settings.limits.answer_max_bytes,
    )
    return messages_json({"board": board, "nextCursor": page.next_cursor}, page.messages)


async def get_message(request: Request) -> JSONResponse:
    try:
        cid = str(parse_cid(request.path_params["cid"]))
    except CryptoError as exc:
        raise ApiError(400, "bad_cid", f"not a CID: {exc}") from None
    services = services_of(request)
    stored = services.store.messages.get(cid)
    if stored is None:
        raise ApiError(404, "not_found", f"no message {cid} on this node")
    body = stored.to_json()
    if services.remote_pins is not None:
        internals = bearer_token(request, services.settings.api_tokens) is not None
        body["remotePin"] = message_remote_pin(services, cid, internals)
    return JSONResponse(body)


def _iso(ms: int) -> str | None:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat().replace("+00:00", "Z") if ms else None


async def peers(request: Request) -> JSONResponse:
    """Connected and known peers, ordered by peer id, ``limit`` per page (``after`` is the
    previous page's ``nextCursor``); ``connectedCount`` (and its older name ``count``) is how
    many are connected, ``total`` how many are listed in all, connected or not."""
    services = services_of(request)
    limit = int_param(request, "limit", DEFAULT_PEERS, 1, MAX_PEERS)
    after = request.query_params.get("after", "")
    if len(after) > MAX_PEER_ID_CHARS:
        raise ApiError(400, "bad_cursor", "after is not a peer id")
    snapshot = await services.monitor.snapshot()
    stats = services.peerbook.snapshot()
    connected = {peer.peer_id: peer for peer in snapshot.peers}
    ids = sorted(connected.keys() | stats.keys())
    page = [peer_id for peer_id in ids if peer_id > after][:limit]
    seen_now = now_ms()
    result = []
    for peer_id in page:
        peer = connected.get(peer_id)
        result.append(
            _peer_json(
                peer_id,
                with_peer_id(peer.multiaddr, peer_id) if peer else None,
                peer is not None,
                stats.get(peer_id),
                seen_now if peer else None,
                services.peerbook.ignored_for(peer_id),
            )
        )
    more = bool(page) and page[-1] < ids[-1]
    return JSONResponse(
        {
            "peers": result,
            "count": len(connected),
            "connectedCount": len(connected),
            "total": len(ids),
            "nextCursor": page[-1] if more else None,
        }
    )


def _peer_json(
    peer_id: str,
    multiaddr: str | None,
    connected: bool,
    stats: Any,
    seen_now: int | None,
    ignored_for: float,
) -> dict[str, Any]:
    """``ignoredFor``: seconds of reputation cool-down left (its announcements are dropped).
    ``messagesPublished`` (older name ``messagesRelayed``): valid messages whose pubsub
    ``from`` is this peer, i.e. that its daemon published (Kubo and js-ipfs report the
    original publisher, not the neighbour that forwarded it, so the relaying peer is not
    knowable). ``firstDeliveries``: how many of those were new to this node."""
    last_seen = max(stats.last_seen if stats else 0, seen_now or 0)
    return {
        "id": peer_id,
        "multiaddr": multiaddr,
        "connected": connected,
        "reputation": reputation(stats),
        "ignoredFor": round(ignored_for, 1),
        "lastSeen": _iso(last_seen),
        "messagesPublished": stats.valid if stats else 0,
        "messagesRelayed": stats.valid if stats else 0,
        "invalidMessages": stats.invalid if stats else 0,
        "firstDeliveries": stats.first_deliveries if stats else 0,
        "invalidReasons": stats.invalid_reasons if stats else {},
    }
