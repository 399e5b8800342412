"""Fixtures for the Lambda deployment: moto (DynamoDB and SSM) over HTTP, a real js-ipfs daemon,
and ``handler`` imported fresh for each test after its environment is set, as a cold start."""

import asyncio
import importlib
import json
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest

from crypto import NodeKey
from node.runtime.local_ipfs import LocalIpfsDaemon
from tests.serverless.cli import copy_service
from tests.serverless.events import LambdaContext, http_event
from tests.support import moto as moto_support
from tests.support.daemons import start_daemon

# The moto fixtures, shared with the other AWS tests.
moto_server = moto_support.moto_server
aws_env = moto_support.aws_env
dynamodb_table = moto_support.dynamodb_table

TOKEN = "lambda-test-token"
KEY_PARAM = "/onusone/test/node-key"


@dataclass
class LambdaSetup:
    key: NodeKey
    table: str
    daemon: LocalIpfsDaemon


@pytest.fixture(scope="session")
def service_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the checkout for the Serverless CLI to work in."""
    return copy_service(tmp_path_factory.mktemp("service") / "onusone-node")


@pytest.fixture(scope="module")
def shared_daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalIpfsDaemon]:
    """One daemon for the tests that only add to it (starting one costs seconds)."""
    daemon = start_daemon(tmp_path_factory.mktemp("ipfs") / "repo")
    yield daemon
    daemon.stop()


@pytest.fixture
def lambda_env(aws_env, dynamodb_table, shared_daemon, monkeypatch) -> LambdaSetup:
    """The environment serverless.yml gives the function, pointing at local servers; the node
    seed is an SSM SecureString, as in a deployment."""
    key = NodeKey.generate()
    boto3.client("ssm").put_parameter(
        Name=KEY_PARAM, Value=key.seed_base64(), Type="SecureString", Overwrite=True
    )
    for name in ("NODE_KEY", "NODE_KEY_FILE", "IPFS_API_AUTH", "DATA_DIR"):
        monkeypatch.delenv(name, raising=False)
    env = {
        "STORE": "dynamodb",
        "DYNAMODB_TABLE": dynamodb_table,
        "NODE_KEY_SSM_PARAM": KEY_PARAM,
        "IPFS_API": shared_daemon.api_multiaddr,
        "BOARDS": "general,random",
        "API_TOKENS": TOKEN,
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return LambdaSetup(key, dynamodb_table, shared_daemon)


@pytest.fixture
def load_handler(monkeypatch) -> Iterator[Callable[..., ModuleType]]:
    """Import ``handler`` as a new Lambda container would (it reads the environment at import);
    keyword arguments override environment variables first."""
    loaded: list[ModuleType] = []

    def load(**env: str) -> ModuleType:
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        sys.modules.pop("handler", None)
        loaded.append(importlib.import_module("handler"))
        return loaded[-1]

    yield load
    sys.modules.pop("handler", None)
    for module in loaded:
        asyncio.get_event_loop().run_until_complete(module.services.ipfs.aclose())
        module.services.store.close()


def call(module: ModuleType, method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
    """One API Gateway request through ``handler.handler``: status code and decoded JSON."""
    response = module.handler(http_event(method, path, **kwargs), LambdaContext())
    assert response["isBase64Encoded"] is False
    return response["statusCode"], json.loads(response["body"])
