"""Every error the API returns is ``{"error": code, "detail": sentence}`` with a 4xx/5xx."""

import math

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse

from node.guards.rate_limits import RateLimited

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    408: "timeout",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid_message",
    429: "rate_limited",
    500: "internal_error",
    507: "storage_full",
    503: "unavailable",
}


class ApiError(Exception):
    def __init__(
        self, status: int, code: str, detail: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.headers = headers


def error_response(
    status: int, code: str, detail: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse({"error": code, "detail": detail}, status_code=status, headers=headers)


def rate_limited(exc: RateLimited) -> ApiError:
    """429 with ``Retry-After`` in whole seconds (what the client SDK waits before retrying)."""
    seconds = math.ceil(exc.retry_after)
    return ApiError(
        429,
        "rate_limited",
        f"too many requests for this {exc.scope}; retry in {seconds} s",
        {"Retry-After": str(seconds)},
    )


async def api_error_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return error_response(exc.status, exc.code, exc.detail, exc.headers)


async def http_exception_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    return error_response(
        exc.status_code, _HTTP_CODES.get(exc.status_code, "error"), str(exc.detail)
    )


async def server_error_handler(request: Request, exc: Exception) -> JSONResponse:
    return error_response(500, "internal_error", "the node hit an unexpected error; see its log")
