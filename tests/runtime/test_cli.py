"""The CLI as a user runs it: separate processes, a real node, a real daemon."""

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from node.runtime.ports import free_port
from tests.support.processes import ROOT, NodeProcess, clean_env, wait_until


def run_cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "node", *args],
        cwd=ROOT,
        env=clean_env(env),
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_keygen_post_and_status(tmp_path, ipfs_daemon, node_factory):
    node = node_factory(ipfs_daemon.api_multiaddr)
    key_file = tmp_path / "me.key"
    made = run_cli("keygen", "--out", str(key_file))
    assert made.returncode == 0, made.stderr
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    pubkey = json.loads(made.stdout)["pubkey"]
    assert run_cli("keygen", "--out", str(key_file)).returncode == 1

    posted = run_cli(
        "post",
        "--board",
        "general",
        "--key",
        str(key_file),
        "--author",
        "me",
        "--node",
        node.url,
        "hello from the CLI",
    )
    assert posted.returncode == 0, posted.stderr
    cid = json.loads(posted.stdout)["cid"]
    stored = node.get(f"/api/messages/{cid}").json()
    assert stored["envelope"]["pubkey"] == pubkey
    assert stored["envelope"]["content"] == "hello from the CLI"

    shown = run_cli("status", "--node", node.url)
    assert shown.returncode == 0 and json.loads(shown.stdout)["messagesSynced"] == 1


def test_post_with_world_readable_key_is_refused(tmp_path):
    key_file = tmp_path / "me.key"
    assert run_cli("keygen", "--out", str(key_file)).returncode == 0
    os.chmod(key_file, 0o644)
    result = run_cli("post", "--key", str(key_file), "--node", "http://127.0.0.1:1", "x")
    assert result.returncode == 2 and "readable by other users" in result.stderr


def test_status_of_an_unreachable_node_fails_cleanly():
    result = run_cli("status", "--node", f"http://127.0.0.1:{free_port()}")
    assert result.returncode == 1 and "cannot reach the node" in result.stderr


@pytest.mark.parametrize(
    ("kubo_installed", "name", "version"), [(True, "Kubo", "0.43"), (False, "js-ipfs", "0.18")]
)
def test_serve_starts_a_local_daemon_when_none_answers_and_stops_it(
    tmp_path, kubo_installed, name, version
):
    """No IPFS_API set and nothing on the default address: serve brings its own daemon, Kubo
    when it is installed and js-ipfs otherwise, and says which and why."""
    if httpx_answers("http://127.0.0.1:5001"):
        raise AssertionError("something listens on 127.0.0.1:5001; this test needs it free")
    node = NodeProcess(tmp_path / "data", "", {})
    del node.env["IPFS_API"]
    if not kubo_installed:
        # No cached build and no `ipfs` on PATH: what a machine without Go looks like.
        node.env["ONUSONE_CACHE"] = str(tmp_path / "empty-cache")
        node.env["PATH"] = os.pathsep.join(
            d for d in node.env["PATH"].split(os.pathsep) if not (Path(d) / "ipfs").exists()
        )
    node.env["API_TOKENS"] = "operator"
    auth = {"Authorization": "Bearer operator"}
    node.start(timeout=60)
    try:
        status = wait_until(
            lambda: (s := node.get("/api/status", headers=auth).json())["ipfs"]["reachable"] and s,
            timeout=20,
            what="the local daemon to be reachable",
        )
        assert f"starting a local {name} daemon" in node.log()
        assert status["ipfs"]["version"].startswith(version)
        daemon_api = status["ipfs"]["api"]
        assert daemon_api.startswith("http://127.0.0.1:")
        assert (tmp_path / "data" / "ipfs-repo" / "config").exists()
    finally:
        node.stop()
    assert not httpx_answers(daemon_api), "serve left its local daemon running"


def httpx_answers(url: str) -> bool:
    try:
        httpx.post(f"{url}/api/v0/id", timeout=1)
        return True
    except httpx.HTTPError:
        return False
