"""The open-network limits on Lambda: throttled writes answer 429 per API Gateway source IP,
polls wait briefly, secrets come from SSM, concurrent writers never leave a sequence number a
reader could skip, and serverless.yml throttles and caps the API function."""

import json
import time

import boto3

from crypto import NodeKey, canonical_bytes, cid_for_bytes
from storage.cursors import encode_cursor
from storage.dynamodb.messages import DynamoMessages, contiguous
from storage.dynamodb.store import DynamoStore
from storage.dynamodb.table import Table
from storage.ports.messages import NewMessage
from tests.conftest import signed_envelope
from tests.serverless.conftest import call
from tests.serverless.events import LambdaContext, http_event
from tests.serverless.test_package import packaged, resources_of, template

__all__ = ["packaged", "template"]

KEY = NodeKey.generate()


def from_ip(module, source_ip: str, method: str, path: str, **kwargs) -> dict:
    event = http_event(method, path, **kwargs)
    event["requestContext"]["http"]["sourceIp"] = source_ip
    return module.handler(event, LambdaContext())


def test_throttled_writes_answer_429_per_source_ip(lambda_env, load_handler):
    handler = load_handler(RATE_LIMITS="on", RATE_LIMIT_ADDRESS="2/minute")
    answers = [
        from_ip(
            handler, "198.51.100.1", "POST", "/api/broadcast", body=signed_envelope(KEY, f"{i}")
        )
        for i in range(3)
    ]
    assert [a["statusCode"] for a in answers] == [200, 200, 429]
    assert json.loads(answers[2]["body"])["error"] == "rate_limited"
    assert int(answers[2]["headers"]["retry-after"]) >= 1
    other = from_ip(
        handler, "198.51.100.2", "POST", "/api/broadcast", body=signed_envelope(KEY, "other")
    )
    assert other["statusCode"] == 200, other["body"]


def test_polls_wait_briefly_on_lambda(lambda_env, load_handler):
    handler = load_handler(AWS_LAMBDA_FUNCTION_NAME="api")
    status, first = call(handler, "GET", "/api/poll", query={"wait": "0"})
    started = time.monotonic()
    status, answer = call(
        handler, "GET", "/api/poll", query={"since": first["cursor"], "wait": "25"}
    )
    took = time.monotonic() - started
    assert status == 200 and answer["messages"] == [] and 4 < took < 15


def test_api_tokens_and_daemon_auth_come_from_ssm(lambda_env, load_handler, monkeypatch):
    ssm = boto3.client("ssm")
    ssm.put_parameter(Name="/t/tokens", Value="ssm-token", Type="SecureString", Overwrite=True)
    ssm.put_parameter(Name="/t/auth", Value="user:pw", Type="SecureString", Overwrite=True)
    monkeypatch.delenv("API_TOKENS", raising=False)
    handler = load_handler(API_TOKENS_SSM_PARAM="/t/tokens", IPFS_API_AUTH_SSM_PARAM="/t/auth")
    assert handler.services.settings.ipfs_api_auth == "user:pw"
    plain = {"type": "message", "content": "signed by the node", "author": "bob"}
    status, body = call(
        handler,
        "POST",
        "/api/broadcast",
        body=plain,
        headers={"authorization": "Bearer ssm-token"},
    )
    assert status in (200, 202), body


def new_message(content: str) -> NewMessage:
    envelope = signed_envelope(KEY, content)
    return NewMessage(str(cid_for_bytes(canonical_bytes(envelope))), envelope, "local", 1)


class RacedMessages(DynamoMessages):
    """A Lambda whose first write loses a race: between reading the board counter and
    committing, another Lambda (``rival``) commits a message of its own."""

    def __init__(self, table: str, rival: DynamoMessages, message: NewMessage) -> None:
        super().__init__(Table(table))
        self.rival, self.rival_message, self.reads = rival, message, 0

    def _current_seq(self, board: str) -> int:
        seq = super()._current_seq(board)
        self.reads += 1
        if self.reads == 1:
            assert self.rival.add([self.rival_message], outbox_at=1) == [True]
        return seq


def test_a_writer_that_loses_the_race_retries_and_no_seq_is_skipped(aws_env, dynamodb_table):
    """moto does not isolate concurrent transactions, so the race is staged: the loser's
    conditioned counter update fails, it reads again and takes the next seq; a reader walking
    from the start sees both, in commit order, and the counter is the last seq."""
    rival = DynamoStore(dynamodb_table).messages
    first, second = new_message("rival commits first"), new_message("loser retries")
    loser = RacedMessages(dynamodb_table, rival, first)
    assert loser.add([second], outbox_at=1) == [True]
    assert loser.reads == 2, "the lost race was retried"
    page = rival.list_since("general", None, 10)
    assert [m.cid for m in page.messages] == [first.cid, second.cid]
    assert rival.latest_cursor("general") == page.next_cursor == encode_cursor([2])
    assert rival.count("general") == 2
    assert loser.add([second], outbox_at=1) == [False], "a duplicate changes nothing"


def test_a_reader_stops_at_a_fresh_gap_and_passes_an_old_hole():
    now_ms = int(time.time() * 1000)

    def item(seq: int, received: int) -> dict:
        return {"seq": {"N": str(seq)}, "received_at": {"N": str(received)}}

    fresh = [item(1, now_ms), item(3, now_ms)]
    assert contiguous(fresh, 0) == fresh[:1]
    old = [item(1, 0), item(3, 0)]
    assert contiguous(old, 0) == old


def test_serverless_throttles_and_caps_the_api_function(template):
    (stage,) = resources_of(template, "AWS::ApiGatewayV2::Stage").values()
    settings = stage["Properties"]["DefaultRouteSettings"]
    assert settings["ThrottlingRateLimit"] == 50 and settings["ThrottlingBurstLimit"] == 100
    functions = resources_of(template, "AWS::Lambda::Function")
    api = next(f for name, f in functions.items() if name.startswith("Api"))
    assert api["Properties"]["ReservedConcurrentExecutions"] == 20
    assert api["Properties"]["Environment"]["Variables"]["POLL_MAX_WAIT"] == "5"
