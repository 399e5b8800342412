"""What a person trying the node for the first time meets: ``serve`` with its own daemon in
``DATA_DIR``, one node per ``DATA_DIR``, a daemon that dies under the node, and the multi-node
example of docs/NETWORK.md followed as written (with free ports and temporary directories)."""

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx

from crypto import NodeKey, parse_cid
from node.runtime.ports import free_port
from tests.conftest import signed_envelope
from tests.support.network import message_cids
from tests.support.processes import ROOT, NodeProcess, ServerProcess, clean_env, wait_until


def own_daemon_node(data_dir: Path, env: dict[str, str] | None = None) -> NodeProcess:
    """A node with IPFS_API unset: it starts its own daemon in ``DATA_DIR/ipfs-repo``."""
    node = NodeProcess(data_dir, "", env)
    node.env = {k: v for k, v in node.env.items() if k != "IPFS_API"}
    return node


def local_daemon_pid(node: NodeProcess) -> int:
    found = wait_until(
        lambda: re.search(r"local \S+ daemon ready at \S+ \(peer \S+, PID (\d+)", node.log()),
        30,
        what="the local daemon's PID in the log",
    )
    return int(found.group(1))


def test_a_second_node_on_the_same_data_dir_is_refused_and_the_first_keeps_working(tmp_path):
    first = own_daemon_node(tmp_path / "data").start(timeout=60)
    try:
        wait_until(lambda: first.get("/api/status").json()["ipfs"]["reachable"], 30, what="up")
        second = subprocess.run(
            [sys.executable, "-m", "node", "serve"],
            cwd=ROOT,
            env={**first.env, "PORT": str(free_port())},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert second.returncode == 2, second.stderr
        assert f"in use by another node (PID {first.process.pid})" in second.stderr
        status = first.get("/api/status").json()
        assert status["ipfs"]["reachable"], "the first node's daemon survived"
        response = first.post("/api/broadcast", json=signed_envelope(NodeKey.generate()))
        assert response.status_code == 200 and response.json()["pinned"]
    finally:
        first.stop()


def test_the_node_restarts_its_own_daemon_when_it_dies(tmp_path):
    node = own_daemon_node(tmp_path / "data").start(timeout=60)
    try:
        pid = local_daemon_pid(node)
        os.kill(pid, signal.SIGKILL)  # the daemon the node started, by its PID
        wait_until(
            lambda: (
                node.get("/api/status").json()["ipfs"]["reachable"] is False
                or node.get("/api/status").json()["localDaemon"]["restarts"] >= 1
            ),
            30,
            what="the node to notice",
        )
        status = wait_until(
            lambda: (
                (s := node.get("/api/status").json())["localDaemon"]["restarts"] == 1
                and s["ipfs"]["reachable"]
                and s
            ),
            60,
            what="the local daemon to run again",
        )
        assert status["localDaemon"]["state"] == "running"
        assert "daemon exited" in node.log() and "ipfs-repo.log" in node.log()
        response = node.post("/api/broadcast", json=signed_envelope(NodeKey.generate()))
        assert response.status_code == 200 and response.json()["pinned"], response.text
    finally:
        node.stop()


class ServeScript(ServerProcess):
    """``scripts/serve.sh`` exactly as docs/NETWORK.md runs it, with the environment it shows."""

    ready_path = "/health"

    def __init__(self, log_path: Path, env: dict[str, str]) -> None:
        port = free_port()
        super().__init__(
            ["scripts/serve.sh"], port, log_path, clean_env({**env, "PORT": str(port)}), ROOT
        )

    def _move_to(self, port: int) -> bool:
        self.port = port
        self.env["PORT"] = str(port)
        return True


def test_the_documented_multi_node_example_works_as_written(tmp_path):
    """docs/NETWORK.md, "Running a multi-node network": start node 1, paste the PEERS line it prints
    into node 2's command, and a message posted on one reaches the other."""
    first = ServeScript(tmp_path / "one.log", {"DATA_DIR": str(tmp_path / "data-1")})
    first.start(timeout=120)
    started = [first]
    try:
        line = wait_until(
            lambda: re.search(r"PEERS=(\S+)", first.log()), 30, what="the PEERS line in the log"
        )
        second = ServeScript(
            tmp_path / "two.log", {"DATA_DIR": str(tmp_path / "data-2"), "PEERS": line.group(1)}
        )
        second.start(timeout=120)
        started.append(second)
        key = NodeKey.generate()
        cid = httpx.post(
            f"{first.url}/api/broadcast", json=signed_envelope(key, "from node 1"), timeout=30
        ).json()["cid"]
        wait_until(
            lambda: parse_cid(cid).to_bytes() in message_cids(second), 30, what="node 2 to get it"
        )
        status = httpx.get(f"{second.url}/api/status", timeout=10).json()
        assert status["bootstrap"] == [{"address": line.group(1), "state": "connected"}]
    finally:
        for process in started:
            process.stop()
