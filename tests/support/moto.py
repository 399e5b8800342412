"""A real moto server (AWS APIs over HTTP) on 127.0.0.1, and the environment that points boto3
at it: tests talk to it exactly as the node talks to AWS, through ``AWS_ENDPOINT_URL``."""

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from node.local_ipfs import free_port

READY_TIMEOUT = 20.0


class ServerProcess:
    """A test server in its own process group on 127.0.0.1, ready once ``ready_path`` answers
    (any HTTP status), stopped by its PID."""

    ready_path = "/"

    def __init__(self, argv: list[str], port: int, log_path: Path) -> None:
        self.argv = argv
        self.port = port
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "ServerProcess":
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            self.argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.argv} exited: {self.log_path.read_text()[-2000:]}")
            try:
                httpx.get(f"{self.url}{self.ready_path}", timeout=1)
                return self
            except httpx.HTTPError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{self.argv} did not answer within {READY_TIMEOUT}s")

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)


class MotoServer(ServerProcess):
    ready_path = "/moto-api/data.json"

    def __init__(self, log_path: Path) -> None:
        port = free_port()
        argv = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
        super().__init__(argv, port, log_path)

    def env(self) -> dict[str, str]:
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
    for name, value in moto_server.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    return moto_server


@pytest.fixture
def dynamodb_table(aws_env: MotoServer) -> str:
    """A new, empty table per test on the shared server, created as serverless.yml declares it."""
    from storage.dynamodb_index import create_table

    name = f"onusone-{uuid.uuid4().hex[:12]}"
    create_table(name)
    return name
