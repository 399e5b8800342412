"""The Pinning Service API client's answers and the remote-pin worker's retry rules, against an
in-process service that can answer what no real one does on demand (429, 5xx, garbage). The
real service (IPFS Cluster) is in tests/cluster."""

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from node.protocol.envelope import now_ms
from node.remote_pins.worker import (
    AUTH_PAUSE_SECONDS,
    FAILED_RECHECKS,
    LOST_AFTER,
    PROBE_SECONDS,
    RemotePinner,
)
from node.settings import Settings, SettingsError
from storage.pinning_service import (
    PinningServiceClient,
    PinNotFound,
    PinServiceError,
    PinServiceRejected,
    PinServiceUnauthorized,
    PinServiceUnavailable,
)
from storage.ports.remote_pins import NEVER
from storage.sqlite.store import SqliteStore

CID = "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy"


class FakeService:
    """Answers with the queued ``replies`` (status, body, headers) first, then like a service
    that pins everything at once. Records every request."""

    def __init__(self) -> None:
        self.replies: list[tuple[int, object, dict[str, str]]] = []
        self.seen: list[tuple[str, str, object]] = []
        self.pins: dict[str, str] = {}
        self.during_post = lambda: None

    async def handle(self, request: Request) -> Response:
        body = await request.json() if request.method == "POST" else None
        self.seen.append((request.method, request.url.path, body))
        if self.replies:
            status, reply, headers = self.replies.pop(0)
            if isinstance(reply, str):
                return Response(reply, status, headers)
            return JSONResponse(reply, status, headers)
        if request.method == "POST":
            self.during_post()
            self.pins[body["cid"]] = "pinned"
            return JSONResponse(status_json(body["cid"], "queued"), 202)
        request_id = request.path_params["rid"]
        if request_id not in self.pins:
            return JSONResponse({"error": {"reason": "NOT_FOUND"}}, 404)
        if request.method == "DELETE":
            del self.pins[request_id]
            return Response(status_code=202)
        return JSONResponse(status_json(request_id, self.pins[request_id]))

    def client(self, token: str | None = "t", url: str = "http://service") -> PinningServiceClient:
        app = Starlette(
            routes=[
                Route("/pins", self.handle, methods=["POST"]),
                Route("/pins/{rid}", self.handle, methods=["GET", "DELETE"]),
            ]
        )
        return PinningServiceClient(url, token, transport=httpx.ASGITransport(app))


def status_json(cid: str, status: str) -> dict:
    return {
        "requestid": cid,
        "status": status,
        "created": "2026-01-01T00:00:00Z",
        "pin": {"cid": cid},
        "delegates": [],
    }


@pytest.fixture
def service() -> FakeService:
    return FakeService()


@pytest.fixture
def store(tmp_path):
    store = SqliteStore(tmp_path / "index.sqlite3")
    yield store
    store.close()


def pinner(store, client) -> RemotePinner:
    async def origins() -> list[str]:
        return ["/ip4/127.0.0.1/tcp/4001/p2p/12D3KooWorigin"]

    async def connect(address: str) -> None:
        return None

    return RemotePinner(
        store.remote_pins,
        store.pin_service,
        client,
        pin_name="onusone",
        meta={"app": "onusone"},
        origins=origins,
        connect=connect,
    )


@pytest.mark.parametrize(
    ("status", "body", "headers", "error", "retry_after"),
    [
        (401, {"error": {"reason": "UNAUTHORIZED"}}, {}, PinServiceUnauthorized, None),
        (403, "forbidden", {}, PinServiceUnauthorized, None),
        (429, {"error": {"reason": "RATE_LIMIT"}}, {"Retry-After": "7"}, PinServiceUnavailable, 7),
        (503, "down for maintenance", {}, PinServiceUnavailable, None),
        (400, {"error": {"reason": "BAD_CID", "details": "no"}}, {}, PinServiceRejected, None),
        (202, "not json", {}, PinServiceError, None),
        (202, {"requestid": "x", "status": "weird", "pin": {}}, {}, PinServiceError, None),
    ],
)
async def test_client_turns_answers_into_typed_errors(
    service, status, body, headers, error, retry_after
):
    service.replies.append((status, body, headers))
    client = service.client()
    with pytest.raises(error) as raised:
        await client.add(CID)
    if retry_after is not None:
        assert raised.value.retry_after == retry_after
    if isinstance(body, dict) and "error" in body:
        assert body["error"]["reason"] in str(raised.value)
    await client.aclose()


async def test_client_add_status_remove_and_a_refused_connection(service):
    client = service.client()
    added = await client.add(CID, "onusone", ["/ip4/127.0.0.1/tcp/1/p2p/x"], {"kind": "message"})
    assert (added.request_id, added.status) == (CID, "queued")
    assert service.seen[0][2] == {
        "cid": CID,
        "name": "onusone",
        "origins": ["/ip4/127.0.0.1/tcp/1/p2p/x"],
        "meta": {"kind": "message"},
    }
    assert (await client.status(CID)).status == "pinned"
    await client.remove(CID)
    await client.remove(CID)  # already gone counts as removed
    with pytest.raises(PinNotFound):
        await client.status(CID)
    assert client.requests == 5
    await client.aclose()
    closed = PinningServiceClient("http://127.0.0.1:9", "t", timeout=2)
    with pytest.raises(PinServiceUnavailable):
        await closed.add(CID)
    await closed.aclose()


async def test_down_service_is_retried_with_backoff_one_request_per_round(service, store):
    worker = pinner(store, service.client())
    cids = [CID, CID.replace("zy", "za"), CID.replace("zy", "zb")]
    for cid in cids:
        worker.request(cid, "message")
    service.replies += [(503, "down", {}), (429, "slow down", {"Retry-After": "30"})]

    assert await worker.run_once() == 0
    assert len(service.seen) == 1 and worker.state == "unreachable"
    first = store.remote_pins.get(cids[0])
    assert first.state == "waiting" and first.attempts == 1 and first.next_attempt_at > now_ms()
    assert await worker.run_once(ignore_backoff=True) == 0
    assert len(service.seen) == 2
    retried = store.remote_pins.due(NEVER - 1, 10)[-1]
    assert retried.next_attempt_at >= now_ms() + 29_000  # Retry-After honoured

    assert await worker.run_once(ignore_backoff=True) == 3
    assert worker.state == "ok" and worker.last_error == ""
    assert {store.remote_pins.get(cid).state for cid in cids} == {"queued"}
    assert await worker.run_once(ignore_backoff=True) == 3
    assert {store.remote_pins.get(cid).state for cid in cids} == {"pinned"}
    assert worker.pinned == 3 and store.remote_pins.counts() == {}


async def test_bad_token_pauses_the_worker(service, store):
    worker = pinner(store, service.client(token="wrong"))
    service.replies.append((401, {"error": {"reason": "UNAUTHORIZED"}}, {}))
    worker.request(CID, "message")
    assert await worker.run_once() == 0
    assert worker.state == "unauthorized" and "401" in worker.last_error
    for i in range(5):
        worker.request(CID.replace("zy", f"z{i}"), "message")
        assert await worker.run_once() == 0
    assert len(service.seen) == 1
    pin = store.remote_pins.get(CID)
    assert pin.next_attempt_at >= now_ms() + AUTH_PAUSE_SECONDS * 1000 - 5_000


async def test_release_removes_the_pin_and_a_lost_pin_is_sent_again(service, store):
    worker = pinner(store, service.client())
    worker.request(CID, "manifest")
    await worker.run_once()
    del service.pins[CID]  # the service lost it: a 404 may be a pin not taken up yet
    for _ in range(LOST_AFTER - 1):
        await worker.run_once(ignore_backoff=True)
        assert store.remote_pins.get(CID).state == "queued"
    await worker.run_once(ignore_backoff=True)
    assert store.remote_pins.get(CID).state == "waiting"
    await worker.run_once(ignore_backoff=True)
    assert service.pins == {CID: "pinned"}
    await worker.run_once(ignore_backoff=True)
    assert store.remote_pins.get(CID).state == "pinned"

    worker.release(CID)
    assert store.remote_pins.get(CID).state == "unpinning"
    await worker.run_once()
    assert service.pins == {} and store.remote_pins.get(CID) is None and worker.unpinned == 1


async def test_a_page_released_while_its_pin_is_on_the_way_is_removed(service, store):
    worker = pinner(store, service.client())
    worker.request(CID, "manifest")
    service.during_post = lambda: worker.release(CID)  # superseded during the POST
    await worker.run_once()
    assert service.pins == {} and store.remote_pins.get(CID) is None
    assert [method for method, _, _ in service.seen] == ["POST", "DELETE"]


async def test_failed_is_rechecked_then_sent_once_more_then_final(service, store):
    worker = pinner(store, service.client())
    worker.request(CID, "message")
    await worker.run_once()
    service.pins[CID] = "failed"
    for _ in range(FAILED_RECHECKS):
        await worker.run_once(ignore_backoff=True)
    assert store.remote_pins.get(CID).state == "waiting"  # sent again
    await worker.run_once(ignore_backoff=True)
    assert [m for m, _, _ in service.seen].count("POST") == 2
    service.pins[CID] = "failed"
    for _ in range(FAILED_RECHECKS):
        await worker.run_once(ignore_backoff=True)
    final = store.remote_pins.get(CID)
    assert final.state == "failed" and final.next_attempt_at == NEVER
    assert store.remote_pins.counts() == {"failed": 1} and worker.failed == 2


def test_pin_service_settings():
    settings = Settings.from_env(
        {
            "PIN_SERVICE_URL": "https://pins.example.org/api",
            "PIN_SERVICE_TOKEN": "jwt",
            "PIN_SERVICE_REPLICAS": "true",
            "PIN_SERVICE_NAME": "board-a",
        }
    )
    assert settings.pin_service_url == "https://pins.example.org/api"
    assert settings.pin_service_token == "jwt" and settings.pin_service_replicas
    assert settings.pin_service_name == "board-a"
    assert not Settings.from_env({}).pin_service_replicas
    with pytest.raises(SettingsError):
        Settings.from_env({"PIN_SERVICE_URL": "pins.example.org"})
    with pytest.raises(SettingsError):
        Settings.from_env({"PIN_SERVICE_REPLICAS": "maybe"})


async def test_an_idle_worker_probes_the_service_so_its_state_is_known(service, store):
    worker = pinner(store, service.client())
    await worker.probe_if_quiet()
    assert worker.state == "ok" and worker.requests == 1, "at start: one probe, answered 404"
    await worker.probe_if_quiet()
    assert worker.requests == 1, "not again before PROBE_SECONDS"

    worker.client.last_request_at -= PROBE_SECONDS
    service.replies.append((503, "down", {}))
    await worker.probe_if_quiet()
    assert worker.state == "unreachable" and "503" in worker.last_error

    worker.client.last_request_at -= PROBE_SECONDS
    service.replies.append((401, {"error": {"reason": "UNAUTHORIZED"}}, {}))
    await worker.probe_if_quiet()
    assert worker.state == "unauthorized"
    worker.client.last_request_at -= PROBE_SECONDS
    await worker.probe_if_quiet()
    assert worker.requests == 3, "a paused worker does not probe either"
