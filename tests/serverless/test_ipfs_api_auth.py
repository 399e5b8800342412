"""IPFS_API_AUTH: the handler reaches a Kubo RPC that sits behind ``API.Authorizations`` (here a
proxy in front of js-ipfs that, like Kubo, answers 403 without the right header)."""

import base64
import sys
from pathlib import Path

import httpx
import pytest

from node.runtime.ports import free_port
from tests.serverless.conftest import TOKEN, call
from tests.support.processes import ServerProcess

CREDENTIALS = "alice:s3cret"


@pytest.fixture
def guarded_daemon(lambda_env, tmp_path: Path):
    port = free_port()
    expected = "Basic " + base64.b64encode(CREDENTIALS.encode()).decode()
    argv = [sys.executable, "-m", "tests.serverless.auth_proxy", str(port)]
    proxy = ServerProcess([*argv, lambda_env.daemon.api_url, expected], port, tmp_path / "proxy")
    proxy.start()
    yield proxy
    proxy.stop()


def test_remote_daemon_behind_auth(lambda_env, load_handler, guarded_daemon):
    assert httpx.post(f"{guarded_daemon.url}/api/v0/id", timeout=5).status_code == 403

    refused = load_handler(IPFS_API=guarded_daemon.url, IPFS_API_AUTH="alice:wrong")
    # The daemon's own error is shown to the operator (an API token holder) only.
    auth = {"authorization": f"Bearer {TOKEN}"}
    status, body = call(refused, "GET", "/api/status", headers=auth)
    assert status == 200 and body["ipfs"]["reachable"] is False
    assert "403" in body["ipfs"]["error"]

    handler = load_handler(IPFS_API=guarded_daemon.url, IPFS_API_AUTH=CREDENTIALS)
    status, body = call(handler, "GET", "/api/status")
    assert body["ipfs"]["reachable"] is True
    assert body["ipfs"]["peerId"] == lambda_env.daemon.peer_id
    plain = {"type": "message", "content": "through the guard", "author": "bob"}
    status, body = call(
        handler, "POST", "/api/broadcast", body=plain, headers={"authorization": f"Bearer {TOKEN}"}
    )
    assert status == 200 and body["pinned"] is True, body
