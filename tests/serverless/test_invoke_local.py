"""``serverless invoke local`` of the HTTP function: the CLI builds the function's environment
from serverless.yml and runs handler.handler on an API Gateway event in a local interpreter."""

import json
import uuid
from pathlib import Path

import boto3

from crypto import NodeKey
from storage.dynamodb.table import create_table
from tests.serverless.cli import RUNTIME_PARAMS, serverless
from tests.serverless.events import http_event

# The sample event docs/LAMBDA.md's "Local emulation" passes to `invoke local`.
SAMPLE = Path(__file__).parents[2] / "docs" / "events" / "status.json"
VOLATILE = ("requestId", "time", "timeEpoch")


def without_volatile(event: dict) -> dict:
    context = {k: v for k, v in event["requestContext"].items() if k not in VOLATILE}
    return {**event, "requestContext": context}


def test_the_shipped_sample_event_is_what_api_gateway_sends():
    shipped = json.loads(SAMPLE.read_text())
    assert without_volatile(shipped) == without_volatile(http_event("GET", "/api/status"))
    assert all(shipped["requestContext"][k] for k in VOLATILE)


def test_invoke_local_status_answers_200(aws_env, service_dir, tmp_path):
    stage = f"inv{uuid.uuid4().hex[:8]}"
    create_table(f"onusone-node-{stage}-messages")
    key = NodeKey.generate()
    boto3.client("ssm").put_parameter(
        Name=f"/onusone-node/{stage}/node-key", Value=key.seed_base64(), Type="SecureString"
    )
    event = tmp_path / "status.json"
    # docs/LAMBDA.md's sample event, plus a token: the daemon's address is shown only to a caller
    # holding one.
    sample = json.loads(SAMPLE.read_text())
    sample["headers"]["authorization"] = "Bearer operator"
    event.write_text(json.dumps(sample))

    args = ["invoke", "local", "-f", "api", "--stage", stage, *RUNTIME_PARAMS]
    args.append("--param=apiTokens=operator")
    out = serverless(service_dir, *args, "--path", str(event), env=aws_env.aws_env())
    response = json.loads(out[out.index("{\n") :])
    assert response["statusCode"] == 200, response
    status = json.loads(response["body"])
    assert status["nodeId"] == key.public_hex
    assert status["ipfs"]["reachable"] is False
    assert status["ipfs"]["api"] == "http://127.0.0.1:1"
