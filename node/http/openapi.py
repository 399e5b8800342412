"""``GET /openapi.json``: the OpenAPI 3 description of every HTTP endpoint, its parameters and
error shapes (the WebSocket ``/ws`` is described in words: OpenAPI has no WebSocket)."""

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from node import __version__

ERROR = {"$ref": "#/components/schemas/Error"}


def _errors(*statuses: int) -> dict[str, Any]:
    reasons = {
        400: "bad input (`bad_request`, `invalid_board`, `unknown_board`, `bad_cursor`, …)",
        401: "an unsigned post without an API token",
        403: "an API token this node does not accept (or the node has no API_TOKENS)",
        404: "not found",
        405: "method not allowed",
        408: "the request head or body did not arrive in time",
        409: "a plain message's `id` this token used for another body within 24 h (`id_reused`)",
        413: "body too large",
        429: "over a rate limit (`rate_limited`); see `Retry-After`",
        503: "the node is at a limit of live clients or connections (`busy`)",
        507: "out of storage budget (`storage_full`)",
    }
    answers: dict[str, Any] = {}
    for status in statuses:
        answer: dict[str, Any] = {
            "description": reasons[status],
            "content": {"application/json": {"schema": ERROR}},
        }
        if status == 429:
            answer["headers"] = {
                "Retry-After": {"description": "seconds", "schema": {"type": "integer"}}
            }
        answers[str(status)] = answer
    return answers


def _json(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
    }


BOARD = _query(
    "board", {"type": "string"}, "a board this node serves (`BOARDS`); default the first"
)
CURSOR = {"type": "string", "maxLength": 256}
RATE = (400, 429)

DELIVERY = {
    "type": "object",
    "required": ["success", "cid", "broadcastTo", "pinned", "announced"],
    "properties": {
        "success": {"type": "boolean"},
        "cid": {"type": "string"},
        "broadcastTo": {"type": "integer"},
        "pinned": {"type": "boolean"},
        "announced": {"type": "boolean"},
        "queued": {"type": "boolean"},
        "duplicate": {"type": "boolean"},
    },
}

SPEC: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {
        "title": "OnusOne node",
        "version": __version__,
        "description": (
            "Signed messages pinned on IPFS and announced over pubsub. Live stream: "
            "`WS /ws?board=&since=` (events hello, messages, status, ping; close codes 4400 bad "
            "input, 4429 rate limited, 1013 busy, 4408 too slow). Errors are always "
            '`{"error": code, "detail": sentence}`.'
        ),
    },
    "paths": {
        "/health": {
            "get": {
                "summary": "liveness",
                "responses": {"200": _json({"type": "object"})},
            }
        },
        "/api/status": {
            "get": {
                "summary": "node status (the daemon's address only for an API token holder)",
                "responses": {
                    "200": _json({"$ref": "#/components/schemas/Status"}),
                    **_errors(429),
                },
            }
        },
        "/api/broadcast": {
            "post": {
                "summary": "post a signed envelope, or a plain message with an API token",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "oneOf": [
                                    {"$ref": "#/components/schemas/Envelope"},
                                    {"$ref": "#/components/schemas/Plain"},
                                ]
                            }
                        }
                    },
                },
                "responses": {
                    "200": _json(DELIVERY, "pinned and announced (or already known)"),
                    "202": _json(DELIVERY, "kept in the outbox; delivered when the daemon is back"),
                    **_errors(400, 401, 403, 408, 409, 413, 429, 507),
                },
            }
        },
        "/api/messages": {
            "get": {
                "summary": "a board's messages, newest first",
                "parameters": [
                    BOARD,
                    _query("limit", {"type": "integer", "minimum": 1, "maximum": 200}, "page size"),
                    _query("before", CURSOR, "the previous page's nextCursor"),
                ],
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "required": ["board", "messages", "nextCursor"],
                            "properties": {
                                "board": {"type": "string"},
                                "nextCursor": {"type": "string", "nullable": True},
                                "messages": {
                                    "type": "array",
                                    "items": {"$ref": "#/components/schemas/Message"},
                                },
                            },
                        }
                    ),
                    **_errors(*RATE),
                },
            }
        },
        "/api/messages/{cid}": {
            "get": {
                "summary": "one message by CID (any base)",
                "parameters": [
                    {"name": "cid", "in": "path", "required": True, "schema": {"type": "string"}}
                ],
                "responses": {
                    "200": _json({"$ref": "#/components/schemas/Message"}),
                    **_errors(400, 404, 429),
                },
            }
        },
        "/api/peers": {
            "get": {
                "summary": "libp2p peers with reputation, paged by peer id",
                "parameters": [
                    _query("limit", {"type": "integer", "minimum": 1, "maximum": 500}, "page size"),
                    _query(
                        "after", {"type": "string", "maxLength": 128}, "the previous nextCursor"
                    ),
                ],
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "required": ["peers", "connectedCount", "count", "total", "nextCursor"],
                            "properties": {
                                "peers": {"type": "array", "items": {"type": "object"}},
                                "connectedCount": {"type": "integer"},
                                "count": {"type": "integer", "description": "= connectedCount"},
                                "total": {"type": "integer"},
                                "nextCursor": {"type": "string", "nullable": True},
                            },
                        }
                    ),
                    **_errors(*RATE),
                },
            }
        },
        "/api/poll": {
            "get": {
                "summary": "long-poll fallback of /ws",
                "parameters": [
                    BOARD,
                    _query("since", CURSOR, "cursor from the last answer"),
                    _query("wait", {"type": "number", "minimum": 0, "maximum": 30}, "seconds"),
                ],
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "required": ["board", "cursor", "messages"],
                            "properties": {
                                "board": {"type": "string"},
                                "cursor": {"type": "string"},
                                "messages": {
                                    "type": "array",
                                    "items": {"$ref": "#/components/schemas/Message"},
                                },
                            },
                        }
                    ),
                    **_errors(400, 429, 503),
                },
            }
        },
        "/metrics": {
            "get": {
                "summary": "Prometheus text format (serve mode only)",
                "responses": {
                    "200": {
                        "description": "metrics",
                        "content": {"text/plain": {"schema": {"type": "string"}}},
                    },
                    **_errors(404, 429),
                },
            }
        },
    },
    "components": {
        "schemas": {
            "Error": {
                "type": "object",
                "required": ["error", "detail"],
                "properties": {"error": {"type": "string"}, "detail": {"type": "string"}},
            },
            "Envelope": {
                "type": "object",
                "required": ["v", "type", "board", "content", "author", "ts", "pubkey", "sig"],
                "additionalProperties": False,
                "properties": {
                    "v": {"type": "integer", "enum": [1]},
                    "type": {"type": "string", "enum": ["message"]},
                    "board": {"type": "string", "pattern": "^[a-z0-9-]{1,64}$"},
                    "content": {"type": "string"},
                    "author": {"type": "string", "maxLength": 128},
                    "ts": {"type": "integer", "minimum": 0},
                    "pubkey": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                    "sig": {"type": "string", "pattern": "^[0-9a-f]{128}$"},
                    "id": {"type": "string", "maxLength": 128},
                    "parent": {"type": "string"},
                },
            },
            "Plain": {
                "type": "object",
                "required": ["type", "content", "author"],
                "additionalProperties": False,
                "properties": {
                    "id": {"type": "string", "maxLength": 128},
                    "type": {"type": "string", "enum": ["message"]},
                    "content": {"type": "string"},
                    "author": {"type": "string", "maxLength": 128},
                    "board": {"type": "string", "pattern": "^[a-z0-9-]{1,64}$"},
                },
            },
            "Message": {
                "type": "object",
                "required": ["cid", "envelope", "receivedAt", "source", "pinned"],
                "properties": {
                    "cid": {"type": "string"},
                    "envelope": {"type": "object"},
                    "receivedAt": {"type": "integer"},
                    "source": {"type": "string"},
                    "pinned": {"type": "boolean"},
                },
            },
            "Status": {
                "type": "object",
                "required": [
                    "nodeId",
                    "connectedPeers",
                    "networkHealth",
                    "messagesSynced",
                    "storageUsed",
                    "storageFull",
                    "ipfs",
                    "uptime",
                    "boards",
                    "version",
                ],
                "properties": {
                    "nodeId": {"type": "string"},
                    "connectedPeers": {"type": "integer"},
                    "networkHealth": {"type": "string"},
                    "messagesSynced": {"type": "integer"},
                    "boardMessages": {
                        "type": "object",
                        "additionalProperties": {"type": "integer"},
                        "description": "messages in the index per served board",
                    },
                    "storageUsed": {"type": "number"},
                    "storageFull": {"type": "string", "nullable": True},
                    "ipfs": {"type": "object"},
                    "uptime": {"type": "number"},
                    "boards": {"type": "array", "items": {"type": "string"}},
                    "version": {"type": "string"},
                },
            },
        }
    },
}


async def openapi(request: Request) -> JSONResponse:
    return JSONResponse(SPEC)
