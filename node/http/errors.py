"""Every error the API returns is ``{"error": code, "detail": sentence}`` with a 4xx/5xx.

``create_app`` registers these handlers once; endpoints raise and never translate by hand."""

from collections.abc import Mapping

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse

from node.errors import NodeError
from storage.errors import IndexBusy, InvalidCursor

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

# The storage adapters' errors a caller can act on, as (status, code, headers): storage knows
# nothing of the node above it, so their answers are set here.
STORAGE_REFUSALS: dict[type[Exception], tuple[int, str, Mapping[str, str] | None]] = {
    IndexBusy: (503, "busy", {"Retry-After": "1"}),
    InvalidCursor: (400, "bad_cursor", None),
}
# Every error answered as a refusal rather than a 500.
REFUSALS: tuple[type[Exception], ...] = (NodeError, *STORAGE_REFUSALS)


class ApiError(NodeError):
    """A refusal of the HTTP layer itself (the request, not the domain, is wrong)."""

    def __init__(
        self, status: int, code: str, detail: str, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(detail, headers)
        self.status = status
        self.code = code


def refusal(exc: Exception) -> NodeError:
    """``exc`` (one of ``REFUSALS``) as the refusal the caller gets."""
    if isinstance(exc, NodeError):
        return exc
    for kind, (status, code, headers) in STORAGE_REFUSALS.items():
        if isinstance(exc, kind):
            return ApiError(status, code, str(exc), headers)
    raise TypeError(f"{type(exc).__name__} is not a refusal") from exc


def error_response(
    status: int, code: str, detail: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    return JSONResponse({"error": code, "detail": detail}, status_code=status, headers=headers)


def refusal_response(exc: Exception) -> JSONResponse:
    answer = refusal(exc)
    return error_response(answer.status, answer.code, answer.detail, answer.headers)


async def refusal_handler(request: Request, exc: Exception) -> JSONResponse:
    return refusal_response(exc)


async def http_exception_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    return error_response(
        exc.status_code, _HTTP_CODES.get(exc.status_code, "error"), str(exc.detail)
    )


async def server_error_handler(request: Request, exc: Exception) -> JSONResponse:
    return error_response(500, "internal_error", "the node hit an unexpected error; see its log")
