"""Client of the IPFS Pinning Service API (ipfs/pinning-services-api-spec, v1): the one way the
node asks IPFS Cluster (its ``pinsvcapi``), Pinata, Filebase or any compliant service to keep
copies of what it publishes.

Three calls are used: ``POST /pins`` (add), ``GET /pins/{requestid}`` (status) and
``DELETE /pins/{requestid}`` (remove). Every answer is read into ``PinStatus`` or one of the
typed errors below, so callers decide by type: retry later (``PinServiceUnavailable``: down,
timed out, 429 or 5xx), stop and tell the operator (``PinServiceUnauthorized``: 401/403), or
give the request up (``PinServiceRejected``). Cluster's caveats (its docs): the request id is
the CID, and listings are not paginated, which is why nothing here lists.
"""

import time
from dataclasses import dataclass, field
from typing import Any

import httpx

CONNECT_TIMEOUT = 3.0
CALL_TIMEOUT = 15.0
STATUSES = ("queued", "pinning", "pinned", "failed")
# The request id ``probe`` asks about: the CID of the empty block, which nobody pins by name.
PROBE_ID = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"


class PinServiceError(Exception):
    """The pinning service answered something this client cannot use."""


class PinServiceUnavailable(PinServiceError):
    """Down, timed out, rate limited (429) or a server error (5xx): worth retrying later;
    ``retry_after`` is the service's own ``Retry-After`` in seconds, when it sent one."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PinServiceUnauthorized(PinServiceError):
    """401/403: the token is missing, wrong or expired. Retrying cannot help until the
    operator fixes ``PIN_SERVICE_TOKEN``."""


class PinServiceRejected(PinServiceError):
    """Another 4xx: the service refuses this request itself (bad CID, over a quota…)."""


class PinNotFound(PinServiceRejected):
    """404: the service has no pin with this request id."""


@dataclass(frozen=True)
class PinStatus:
    request_id: str
    status: str
    cid: str
    delegates: list[str] = field(default_factory=list)


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "")
    return float(value) if value.replace(".", "", 1).isdigit() else None


def _reason(response: httpx.Response) -> str:
    """The spec's ``{"error": {"reason", "details"}}``, or the start of whatever came back."""
    try:
        error = response.json().get("error", {})
        text = ": ".join(str(error[k]) for k in ("reason", "details") if error.get(k))
    except (ValueError, AttributeError):
        text = ""
    return text or response.text.strip()[:300] or response.reason_phrase


def _status(body: Any) -> PinStatus:
    if not isinstance(body, dict) or not isinstance(body.get("pin"), dict):
        raise PinServiceError(f"answer is not a PinStatus: {str(body)[:200]}")
    status = body.get("status")
    if status not in STATUSES or not body.get("requestid"):
        raise PinServiceError(f"answer has no valid status/requestid: {str(body)[:200]}")
    delegates = body.get("delegates") or []
    return PinStatus(
        request_id=str(body["requestid"]),
        status=str(status),
        cid=str(body["pin"].get("cid", "")),
        delegates=[str(d) for d in delegates if isinstance(d, str)],
    )


class PinningServiceClient:
    """Async client of one pinning service; ``token`` is sent as ``Authorization: Bearer``."""

    def __init__(
        self,
        url: str,
        token: str | None,
        timeout: float = CALL_TIMEOUT,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.AsyncClient(
            base_url=self.url,
            headers=headers,
            timeout=httpx.Timeout(timeout, connect=CONNECT_TIMEOUT),
            transport=transport,
        )
        self.requests = 0
        self.last_request_at = 0.0  # time.monotonic() of the last request, 0 before the first

    async def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        self.requests += 1
        self.last_request_at = time.monotonic()
        try:
            response = await self._http.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            raise PinServiceUnavailable(f"{method} {path}: {type(exc).__name__}") from exc
        code = response.status_code
        if code < 400:
            return response
        message = f"{method} {path}: HTTP {code}: {_reason(response)}"
        if code in (401, 403):
            raise PinServiceUnauthorized(message)
        if code == 404:
            raise PinNotFound(message)
        if code == 429 or code >= 500:
            raise PinServiceUnavailable(message, _retry_after(response))
        raise PinServiceRejected(message)

    def _json(self, response: httpx.Response) -> Any:
        try:
            return response.json()
        except ValueError as exc:
            raise PinServiceError(f"answer is not JSON: {response.text[:200]}") from exc

    async def add(
        self,
        cid: str,
        name: str | None = None,
        origins: list[str] | None = None,
        meta: dict[str, str] | None = None,
    ) -> PinStatus:
        """Ask the service to pin ``cid``; ``origins`` are multiaddrs of peers that have it."""
        body: dict[str, Any] = {"cid": cid}
        if name:
            body["name"] = name[:255]
        if origins:
            body["origins"] = origins[:20]
        if meta:
            body["meta"] = meta
        return _status(self._json(await self._call("POST", "/pins", json=body)))

    async def status(self, request_id: str) -> PinStatus:
        return _status(self._json(await self._call("GET", f"/pins/{request_id}")))

    async def remove(self, request_id: str) -> None:
        """Remove the pin; one that is already gone counts as removed."""
        try:
            await self._call("DELETE", f"/pins/{request_id}")
        except PinNotFound:
            return

    async def probe(self) -> None:
        """One cheap authenticated request (the status of a pin nobody has): returns when the
        service answers and takes the token (its 404, or any other refusal of that id),
        raises ``PinServiceUnavailable`` or ``PinServiceUnauthorized`` otherwise."""
        try:
            await self._call("GET", f"/pins/{PROBE_ID}")
        except PinServiceRejected:
            return

    async def aclose(self) -> None:
        await self._http.aclose()
