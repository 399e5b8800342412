"""The Lambda deployment's remote pins on a real IPFS Cluster: ``handler.handler`` with
STORE=dynamodb (moto over HTTP) and a real daemon. An HTTP invocation only queues the remote pin
(in DynamoDB); the scheduled run sends it and follows it until the service says pinned. What a
container without PIN_SERVICE_URL accepted is backfilled by the scheduled runs of one with it.
The containers that answer HTTP never talk to the service: their status says what the last
scheduled run found."""

from tests.cluster.nodes import PIN_TIMEOUT
from tests.serverless.conftest import TOKEN, call
from tests.serverless.events import LambdaContext, scheduled_event
from tests.support.processes import wait_until

AUTH = {"authorization": f"Bearer {TOKEN}"}


def plain(id: str, content: str) -> dict:
    return {"id": id, "type": "message", "content": content, "author": "bob"}


def remote_pin(handler, cid: str) -> dict | None:
    status, body = call(handler, "GET", f"/api/messages/{cid}")
    assert status == 200, body
    return body.get("remotePin")


def test_lambda_messages_end_pinned_in_the_cluster_through_scheduled_runs(
    ipfs_cluster, lambda_env, load_handler
):
    before = load_handler()  # a container of the function before PIN_SERVICE_URL was set
    status, body = call(before, "POST", "/api/broadcast", body=plain("l-1", "before"), headers=AUTH)
    assert status == 200 and body["pinned"], body
    earlier = body["cid"]

    handler = load_handler(
        PIN_SERVICE_URL=ipfs_cluster.peers[0].pinsvc_url, PIN_SERVICE_TOKEN=ipfs_cluster.token()
    )
    status, body = call(handler, "POST", "/api/broadcast", body=plain("l-2", "after"), headers=AUTH)
    assert status == 200 and body["pinned"], body
    accepted = body["cid"]
    # The HTTP invocation queued it (durably, in DynamoDB) and did not wait for the service.
    assert remote_pin(handler, accepted)["status"] == "waiting"
    assert remote_pin(handler, earlier) is None
    assert ipfs_cluster.service_pin(accepted).status_code == 404

    runs: list[dict] = []

    def scheduled_run_pinned() -> bool:
        runs.append(handler.handler(scheduled_event(), LambdaContext(remaining_ms=12_000)))
        return all(
            (remote_pin(handler, c) or {}).get("status") == "pinned" for c in (earlier, accepted)
        )

    wait_until(scheduled_run_pinned, PIN_TIMEOUT, 0.2, "both messages pinned at the service")
    print(f"pinned at the service after {len(runs)} scheduled runs: {runs}")
    assert runs[0]["remotePinsBackfilled"] >= 1 and runs[0]["remotePinsMoved"] >= 2
    wait_until(
        lambda: all(len(ipfs_cluster.holders(c)) == 2 for c in (earlier, accepted)),
        PIN_TIMEOUT,
        0.3,
        "both on 2 cluster daemons",
    )
    assert ipfs_cluster.service_pin(accepted).json()["pin"]["meta"]["kind"] == "message"
    # The next cold start reads the same state from DynamoDB.
    fresh = load_handler()
    assert remote_pin(fresh, accepted)["status"] == "pinned"
    _, node_status = call(fresh, "GET", "/api/status")
    # What the last scheduled run saw of the service, for every container's status.
    assert node_status["pinService"]["health"] == "ok"
    assert node_status["networkHealth"] == "isolated"


def scheduled_then_status(load_handler) -> dict:
    """A scheduled run in a new container, then the status another new container answers."""
    load_handler().handler(scheduled_event(), LambdaContext(remaining_ms=12_000))
    return call(load_handler(), "GET", "/api/status")[1]


def test_lambda_status_is_degraded_while_the_scheduled_run_finds_the_service_down(
    ipfs_cluster, lambda_env, load_handler, monkeypatch
):
    monkeypatch.setenv("PIN_SERVICE_URL", ipfs_cluster.peers[0].pinsvc_url)
    monkeypatch.setenv("PIN_SERVICE_TOKEN", ipfs_cluster.token())
    status = scheduled_then_status(load_handler)
    assert status["pinService"]["health"] == "ok" and status["networkHealth"] == "isolated"
    service = ipfs_cluster.peers[0]
    service.stop_service()
    try:
        status = scheduled_then_status(load_handler)
        assert status["pinService"]["health"] == "unreachable"
        assert status["networkHealth"] == "degraded"
    finally:
        service.start()
    status = scheduled_then_status(load_handler)
    assert status["pinService"]["health"] == "ok" and status["networkHealth"] == "isolated"
    ipfs_cluster.wait_whole()  # leave the shared cluster as it was found
