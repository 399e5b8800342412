"""``serverless invoke local`` of the HTTP function: the CLI builds the function's environment
from serverless.yml and runs handler.handler on an API Gateway event in a local interpreter."""

import json
import uuid

import boto3

from crypto import NodeKey
from storage.dynamodb_index import create_table
from tests.serverless.cli import RUNTIME_PARAMS, serverless
from tests.serverless.events import http_event


def test_invoke_local_status_answers_200(aws_env, service_dir, tmp_path):
    stage = f"inv{uuid.uuid4().hex[:8]}"
    create_table(f"onusone-node-{stage}-messages")
    key = NodeKey.generate()
    boto3.client("ssm").put_parameter(
        Name=f"/onusone-node/{stage}/node-key", Value=key.seed_base64(), Type="SecureString"
    )
    event = tmp_path / "status.json"
    # The daemon's address is shown only to a caller holding an API token.
    auth = {"authorization": "Bearer operator"}
    event.write_text(json.dumps(http_event("GET", "/api/status", headers=auth)))

    args = ["invoke", "local", "-f", "api", "--stage", stage, *RUNTIME_PARAMS]
    args.append("--param=apiTokens=operator")
    out = serverless(service_dir, *args, "--path", str(event), env=aws_env.aws_env())
    response = json.loads(out[out.index("{\n") :])
    assert response["statusCode"] == 200, response
    status = json.loads(response["body"])
    assert status["nodeId"] == key.public_hex
    assert status["ipfs"]["reachable"] is False
    assert status["ipfs"]["api"] == "http://127.0.0.1:1"
