"""A real moto server (AWS APIs over HTTP) on 127.0.0.1, and the environment that points boto3
at it: tests talk to it exactly as the node talks to AWS, through ``AWS_ENDPOINT_URL``."""

import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from node.runtime.ports import free_port
from tests.support.processes import ServerProcess


class MotoServer(ServerProcess):
    ready_path = "/moto-api/data.json"

    def __init__(self, log_path: Path) -> None:
        port = free_port()
        super().__init__(self._argv(port), port, log_path)

    @staticmethod
    def _argv(port: int) -> list[str]:
        return [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]

    def _move_to(self, port: int) -> bool:
        self.port, self.argv = port, self._argv(port)
        return True

    def aws_env(self) -> dict[str, str]:
        """What boto3 needs to use this server instead of AWS."""
        return {
            "AWS_ENDPOINT_URL": self.url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
        }


@pytest.fixture(scope="session")
def moto_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    server = MotoServer(tmp_path_factory.mktemp("moto") / "moto.log")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def aws_env(moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch) -> MotoServer:
    """boto3 clients created during the test talk to the moto server, never to AWS."""
    for name, value in moto_server.aws_env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    return moto_server


@pytest.fixture
def dynamodb_table(aws_env: MotoServer) -> str:
    """A new, empty table per test on the shared server, created as serverless.yml declares it."""
    from storage.dynamodb.table import create_table

    name = f"onusone-{uuid.uuid4().hex[:12]}"
    create_table(name)
    return name
