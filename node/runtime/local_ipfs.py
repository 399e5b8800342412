"""A throw-away js-ipfs daemon for development and tests, configured so that it can never dial
anything off this machine: 127.0.0.1 only, empty bootstrap list, no mDNS, routing ``none``,
preload off."""

import json
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
JSIPFS_DIR = ROOT / "jsipfs"
JSIPFS_BIN = JSIPFS_DIR / "node_modules" / ".bin" / "jsipfs"
READY_TIMEOUT = 30.0


class LocalDaemonError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LocalIpfsDaemon:
    """One js-ipfs daemon with its repo in ``repo_dir``.

    Ports are chosen once, at init, and written into the repo config, so a stopped daemon
    restarts on the same API and swarm addresses (nodes and peers keep pointing at it).
    """

    def __init__(self, repo_dir: Path, log_path: Path | None = None) -> None:
        self.repo_dir = Path(repo_dir)
        self.log_path = log_path or self.repo_dir.with_suffix(".log")
        self.process: subprocess.Popen[bytes] | None = None
        self.api_port = 0
        self.swarm_port = 0
        self.peer_id = ""

    @property
    def api_multiaddr(self) -> str:
        return f"/ip4/127.0.0.1/tcp/{self.api_port}/http"

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def swarm_multiaddr(self) -> str:
        return f"/ip4/127.0.0.1/tcp/{self.swarm_port}/p2p/{self.peer_id}"

    def _env(self) -> dict[str, str]:
        return {**os.environ, "IPFS_PATH": str(self.repo_dir), "IPFS_MONITORING": "false"}

    def init(self) -> None:
        if not JSIPFS_BIN.exists():
            raise LocalDaemonError(
                f"{JSIPFS_BIN} is missing: run `npm ci --prefix jsipfs` (the README's commands do)"
            )
        config_path = self.repo_dir / "config"
        if not config_path.exists():
            self.repo_dir.parent.mkdir(parents=True, exist_ok=True)
            subprocess.run(
                [str(JSIPFS_BIN), "init", "--profile", "test", "--empty-repo"],
                env=self._env(),
                check=True,
                capture_output=True,
                timeout=60,
            )
            config = json.loads(config_path.read_text())
            config["Addresses"].update(
                {
                    "Swarm": [f"/ip4/127.0.0.1/tcp/{free_port()}"],
                    "API": f"/ip4/127.0.0.1/tcp/{free_port()}",
                    "Gateway": "",
                    "RPC": "",
                    "Delegates": [],
                    "Announce": [],
                }
            )
            config["Bootstrap"] = []
            config["Discovery"] = {"MDNS": {"Enabled": False}, "webRTCStar": {"Enabled": False}}
            config["Routing"] = {"Type": "none"}
            config["Pubsub"] = {"Router": "gossipsub", "Enabled": True}
            config_path.write_text(json.dumps(config, indent=2))
        config = json.loads(config_path.read_text())
        self.api_port = int(config["Addresses"]["API"].split("/")[4])
        self.swarm_port = int(config["Addresses"]["Swarm"][0].split("/")[4])
        self.peer_id = config["Identity"]["PeerID"]

    def start(self) -> "LocalIpfsDaemon":
        if self.process is not None and self.process.poll() is None:
            return self
        if not self.api_port:
            self.init()
        # A daemon that was killed leaves its api file and repo lock (a directory) behind.
        (self.repo_dir / "api").unlink(missing_ok=True)
        shutil.rmtree(self.repo_dir / "repo.lock", ignore_errors=True)
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [str(JSIPFS_BIN), "daemon", "--enable-preload=false"],
            env=self._env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise LocalDaemonError(
                    f"js-ipfs exited with {self.process.returncode}; see {self.log_path}"
                )
            try:
                response = httpx.post(f"{self.api_url}/api/v0/id", timeout=1.0)
                if response.status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise LocalDaemonError(
            f"js-ipfs did not answer within {READY_TIMEOUT:.0f}s; see {self.log_path}"
        )

    def stop(self) -> None:
        """Stop the daemon this object started (by its PID, and its process group)."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        try:
            os.killpg(process.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)
