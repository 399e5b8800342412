"""API Gateway and EventBridge events through ``handler.handler`` with STORE=dynamodb (moto over
HTTP), the node key in SSM, and a real js-ipfs daemon."""

import boto3
import httpx

from crypto import canonical_bytes, cid_for_bytes, parse_cid
from node.publish.outbox import BATCH
from tests.conftest import signed_envelope
from tests.serverless.conftest import TOKEN, call
from tests.serverless.events import LambdaContext, scheduled_event
from tests.support.processes import connect_daemons

PLAIN = {"id": "lambda-1", "type": "message", "content": "Hello from Lambda", "author": "bob"}
AUTH = {"authorization": f"Bearer {TOKEN}"}


def pinned_on(daemon) -> set[bytes]:
    response = httpx.post(
        f"{daemon.api_url}/api/v0/pin/ls", params={"type": "recursive"}, timeout=10
    )
    response.raise_for_status()
    return {parse_cid(key).to_bytes() for key in response.json()["Keys"]}


def table_item(table: str, cid: str) -> dict:
    return boto3.client("dynamodb").get_item(TableName=table, Key={"pk": {"S": f"msg#{cid}"}})


def test_status_uses_the_ssm_key_and_the_daemon(lambda_env, load_handler):
    handler = load_handler()
    status, body = call(handler, "GET", "/api/status")
    assert status == 200, body
    assert body["nodeId"] == lambda_env.key.public_hex
    assert body["ipfs"]["reachable"] is True
    assert body["ipfs"]["peerId"] == lambda_env.daemon.peer_id
    assert body["messagesSynced"] == 0 and body["boards"] == ["general", "random"]
    assert body["subscriptions"] == {"general": "scheduled", "random": "scheduled"}
    assert body["networkHealth"] == "isolated"
    assert call(handler, "GET", "/health") == (200, {"status": "ok"})


def test_token_broadcast_is_signed_pinned_stored_and_listed(lambda_env, load_handler):
    handler = load_handler()
    status, body = call(handler, "POST", "/api/broadcast", body=PLAIN, headers=AUTH)
    assert status == 200, body
    assert body["success"] is True and body["pinned"] is True
    cid = parse_cid(body["cid"])
    assert cid.to_bytes() in pinned_on(lambda_env.daemon)

    item = table_item(lambda_env.table, body["cid"])["Item"]
    assert item["pinned"] == {"BOOL": True}

    status, listed = call(handler, "GET", "/api/messages", query={"board": "general"})
    assert status == 200
    (message,) = listed["messages"]
    assert message["cid"] == body["cid"] and message["pinned"] is True
    envelope = message["envelope"]
    assert envelope["pubkey"] == lambda_env.key.public_hex
    assert envelope["content"] == PLAIN["content"] and envelope["author"] == "bob"
    assert cid_for_bytes(canonical_bytes(envelope)) == cid
    assert call(handler, "GET", "/api/status")[1]["messagesSynced"] == 1


def test_signed_envelope_needs_no_token_and_pages_through_lambda(
    lambda_env, load_handler, user_key
):
    handler = load_handler()
    first = signed_envelope(user_key, "first", board="random")
    second = signed_envelope(user_key, "second", board="random", ts=first["ts"] + 1)
    cids = []
    for envelope in (first, second):
        status, body = call(handler, "POST", "/api/broadcast", body=envelope)
        assert status == 200, body
        assert parse_cid(body["cid"]) == cid_for_bytes(canonical_bytes(envelope))
        cids.append(body["cid"])
    assert {parse_cid(c).to_bytes() for c in cids} <= pinned_on(lambda_env.daemon)
    status, again = call(handler, "POST", "/api/broadcast", body=first)
    assert status == 200 and again["duplicate"] is True

    status, page = call(handler, "GET", "/api/messages", query={"board": "random", "limit": "1"})
    assert [m["cid"] for m in page["messages"]] == [cids[1]]
    query = {"board": "random", "limit": "1", "before": page["nextCursor"]}
    status, page = call(handler, "GET", "/api/messages", query=query)
    assert status == 200 and [m["cid"] for m in page["messages"]] == [cids[0]]
    status, one = call(handler, "GET", f"/api/messages/{cids[0]}")
    assert status == 200 and one["envelope"] == first


def test_bad_requests_answer_json_errors(lambda_env, load_handler):
    handler = load_handler()
    for kwargs, expected in [
        ({"body": "{not json", "headers": AUTH}, 400),
        ({"body": PLAIN}, 401),
        ({"body": {**PLAIN, "board": "Not A Board!"}, "headers": AUTH}, 400),
    ]:
        status, body = call(handler, "POST", "/api/broadcast", **kwargs)
        assert status == expected, body
        assert set(body) == {"error", "detail"} and body["detail"]
    status, body = call(handler, "GET", "/api/messages", query={"before": "garbage!"})
    assert status == 400 and body["error"] == "bad_cursor"
    assert call(handler, "GET", "/api/status")[1]["messagesSynced"] == 0


def test_scheduled_event_delivers_what_was_queued_while_the_daemon_was_down(
    lambda_env, load_handler, ipfs_daemon, user_key
):
    handler = load_handler(IPFS_API=ipfs_daemon.api_multiaddr)
    ipfs_daemon.stop()
    envelope = signed_envelope(user_key, "written while the daemon is down")
    status, body = call(handler, "POST", "/api/broadcast", body=envelope)
    assert status == 202 and body["queued"] is True, body
    cid = body["cid"]
    assert call(handler, "GET", "/api/status")[1]["outbox"] == 1

    down = handler.handler(scheduled_event(), LambdaContext(remaining_ms=12_000))
    assert down["outboxDelivered"] == 0 and down["outboxLeft"] == 1

    ipfs_daemon.start()
    result = handler.handler(scheduled_event(), LambdaContext(remaining_ms=12_000))
    assert result["outboxDelivered"] == 1 and result["outboxLeft"] == 0, result
    assert result["caughtUp"] == 0 and "syncError" not in result, result
    assert parse_cid(cid).to_bytes() in pinned_on(ipfs_daemon)
    status, stored = call(handler, "GET", f"/api/messages/{cid}")
    assert status == 200 and stored["pinned"] is True


def test_scheduled_event_delivers_a_backlog_larger_than_one_outbox_batch(
    lambda_env, load_handler, ipfs_daemon, user_key
):
    handler = load_handler(IPFS_API=ipfs_daemon.api_multiaddr)
    ipfs_daemon.stop()
    queued = BATCH + 6
    cids = []
    for i in range(queued):
        status, body = call(
            handler, "POST", "/api/broadcast", body=signed_envelope(user_key, f"{i}")
        )
        assert status == 202 and body["queued"] is True, body
        cids.append(body["cid"])
    assert call(handler, "GET", "/api/status")[1]["outbox"] == queued

    ipfs_daemon.start()
    result = handler.handler(scheduled_event(), LambdaContext(remaining_ms=30_000))
    assert result["outboxDelivered"] == queued and result["outboxLeft"] == 0, result
    assert {parse_cid(cid).to_bytes() for cid in cids} <= pinned_on(ipfs_daemon)


def test_scheduled_event_catches_up_from_another_node(
    lambda_env, load_handler, daemon_factory, node_factory, user_key
):
    """The Lambda misses live announcements; its scheduled window hears the other node's head
    manifest and fetches, stores and pins what it lacks."""
    lambda_daemon, other_daemon = daemon_factory(), daemon_factory()
    connect_daemons(lambda_daemon, other_daemon)
    other = node_factory(other_daemon.api_multiaddr, {"HEAD_INTERVAL": "0.5"})
    envelope = signed_envelope(user_key, "posted on another node while the Lambda slept")
    posted = other.post("/api/broadcast", json=envelope)
    assert posted.status_code == 200, posted.text
    cid = posted.json()["cid"]

    handler = load_handler(IPFS_API=lambda_daemon.api_multiaddr)
    assert call(handler, "GET", f"/api/messages/{cid}")[0] == 404
    result = handler.handler(scheduled_event(), LambdaContext(remaining_ms=14_000))
    assert result["caughtUp"] >= 1 and "syncError" not in result, result
    status, stored = call(handler, "GET", f"/api/messages/{cid}")
    assert status == 200 and stored["envelope"] == envelope
    assert parse_cid(cid).to_bytes() in pinned_on(lambda_daemon)
    assert table_item(lambda_env.table, cid)["Item"]["pinned"] == {"BOOL": True}
