"""``serverless package`` with the real CLI: what the artifact holds and what CloudFormation
would create from serverless.yml."""

import json
import zipfile
from pathlib import Path

import pytest

from storage.dynamodb.table import ATTRIBUTES, GLOBAL_INDEXES, KEY_SCHEMA
from tests.serverless.cli import RUNTIME_PARAMS, serverless

STAGE = "pkgtest"


@pytest.fixture(scope="module")
def packaged(service_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sls") / "package"
    serverless(service_dir, "package", "--stage", STAGE, *RUNTIME_PARAMS, "--package", str(out))
    return out


@pytest.fixture(scope="module")
def template(packaged: Path) -> dict:
    return json.loads((packaged / "cloudformation-template-update-stack.json").read_text())


def resources_of(template: dict, kind: str) -> dict[str, dict]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


def test_artifact_holds_the_code_and_its_dependencies_only(packaged: Path):
    names = zipfile.ZipFile(packaged / "onusone-node.zip").namelist()
    tops = {name.split("/")[0] for name in names}
    assert {"handler.py", "node", "storage", "crypto"} <= tops
    packaged_files = (
        "node/http/app.py",
        "node/runtime/scheduled.py",
        "node/http/static/index.html",
        "client/src/index.js",
        "storage/dynamodb/store.py",
    )
    for module in packaged_files:
        assert module in names
    # Runtime dependencies, with native parts built for the Lambda runtime's Python.
    assert {"mangum", "starlette", "nacl", "boto3", "botocore", "httpx", "ipfshttpclient"} <= tops
    assert any(n.startswith("_cffi_backend.cpython-311-x86_64-linux-gnu") for n in names)
    for unwanted in ("tests", "node_modules", "jsipfs", "bench", ".venv", ".lambda-wheels"):
        assert unwanted not in tops
    assert "uvicorn" not in tops and "serverless.yml" not in tops
    # The client SDK the node serves at /client/, without its tests or dev dependencies.
    assert not [n for n in names if n.startswith("client/") and not n.startswith("client/src/")]
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]


def test_template_declares_functions_table_and_least_privilege(template: dict):
    functions = resources_of(template, "AWS::Lambda::Function")
    assert len(functions) == 2
    for function in functions.values():
        props = function["Properties"]
        assert props["Handler"] == "handler.handler" and props["Runtime"] == "python3.11"
        env = props["Environment"]["Variables"]
        assert env["STORE"] == "dynamodb"
        assert env["DYNAMODB_TABLE"] == f"onusone-node-{STAGE}-messages"
        assert env["NODE_KEY_SSM_PARAM"] == f"/onusone-node/{STAGE}/node-key"
        assert env["IPFS_API"] == "http://127.0.0.1:1"
    routes = resources_of(template, "AWS::ApiGatewayV2::Route")
    assert [r["Properties"]["RouteKey"] for r in routes.values()] == ["$default"]
    (rule,) = resources_of(template, "AWS::Events::Rule").values()
    assert rule["Properties"]["ScheduleExpression"] == "rate(5 minutes)"

    (table,) = resources_of(template, "AWS::DynamoDB::Table").values()
    props = table["Properties"]
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["AttributeDefinitions"] == ATTRIBUTES
    assert props["KeySchema"] == KEY_SCHEMA
    assert props["GlobalSecondaryIndexes"] == GLOBAL_INDEXES

    (role,) = resources_of(template, "AWS::IAM::Role").values()
    (policy,) = role["Properties"]["Policies"]
    granted = {
        action: json.dumps(statement)
        for statement in policy["PolicyDocument"]["Statement"]
        for action in statement["Action"]
    }
    assert all('"Resource": "*"' not in text for text in granted.values())
    dynamodb = [a for a in granted if a.startswith("dynamodb:")]
    assert sorted(dynamodb) == sorted(
        f"dynamodb:{op}"
        for op in ("GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "DescribeTable")
    )
    assert all('"MessagesTable"' in granted[a] for a in dynamodb)
    assert f":parameter/onusone-node/{STAGE}/node-key" in granted["ssm:GetParameter"]
    assert f":parameter/onusone-node/{STAGE}/pin-service-token" in granted["ssm:GetParameter"]
    assert "kms:ViaService" in granted["kms:Decrypt"]
    assert {a.split(":")[0] for a in granted} == {"logs", "dynamodb", "ssm", "kms"}


def test_the_daemon_address_is_a_required_parameter(service_dir: Path):
    with pytest.raises(AssertionError, match="ipfsApi"):
        serverless(service_dir, "print", "--stage", STAGE, "--param=python=3.11")
