"""Throw-away IPFS daemons for development and tests, configured so that they can never dial
anything off this machine: 127.0.0.1 only, empty bootstrap list, no mDNS, routing ``none``, and
every feature that reaches out by itself turned off.

Two implementations share this launcher: Kubo (``node.runtime.kubo``, what users run) and
js-ipfs (``node.runtime.jsipfs``, the second implementation); ``node.runtime.daemons`` picks
one.
"""

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import httpx

from node.runtime.ports import address_in_use, free_port

READY_TIMEOUT = 30.0
START_ATTEMPTS = 3
KUBO = "kubo"
JSIPFS = "jsipfs"


class LocalDaemonError(RuntimeError):
    pass


class LocalIpfsDaemon:
    """One daemon with its repo in ``repo_dir``.

    Ports are chosen once, at init, and written into the repo config, so a stopped daemon
    restarts on the same API and swarm addresses (nodes and peers keep pointing at it); only a
    start that fails because a port was taken moves the daemon to new ones. Subclasses say how
    to create the repo and how to run the daemon.
    """

    kind = ""
    name = ""

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

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def _env(self) -> dict[str, str]:
        return {**os.environ, "IPFS_PATH": str(self.repo_dir)}

    def _create_repo(self) -> None:
        raise NotImplementedError

    def _safe_config(self, config: dict) -> None:
        """Rewrite ``config`` in place: loopback only, fresh ports, nothing outbound."""
        raise NotImplementedError

    def _daemon_argv(self) -> list[str]:
        raise NotImplementedError

    def _answers(self) -> bool:
        try:
            httpx.post(f"{self.api_url}/api/v0/id", timeout=1.0)
        except httpx.HTTPError:
            return False
        return True

    def _before_start(self) -> None:
        """Clean up what a killed daemon leaves behind, but never under a live one: a daemon
        that still answers on this repo's API port owns the repo and its lock."""
        if self._answers():
            raise LocalDaemonError(
                f"a daemon already answers at {self.api_url}, the API address of the repo"
                f" {self.repo_dir}: stop it (it may be left over from a node that was killed),"
                f" or point IPFS_API at it"
            )
        (self.repo_dir / "api").unlink(missing_ok=True)

    @property
    def config_path(self) -> Path:
        return self.repo_dir / "config"

    def init(self) -> None:
        if not self.config_path.exists():
            self.repo_dir.parent.mkdir(parents=True, exist_ok=True)
            self._create_repo()
            config = json.loads(self.config_path.read_text())
            self._safe_config(config)
            self.config_path.write_text(json.dumps(config, indent=2))
        config = json.loads(self.config_path.read_text())
        self.api_port = int(config["Addresses"]["API"].split("/")[4])
        self.swarm_port = int(config["Addresses"]["Swarm"][0].split("/")[4])
        self.peer_id = config["Identity"]["PeerID"]

    def _move_ports(self) -> None:
        """New API and swarm ports in the repo config, after a start found one taken."""
        config = json.loads(self.config_path.read_text())
        config["Addresses"]["API"] = f"/ip4/127.0.0.1/tcp/{free_port()}"
        config["Addresses"]["Swarm"] = [f"/ip4/127.0.0.1/tcp/{free_port()}"]
        self.config_path.write_text(json.dumps(config, indent=2))
        self.init()

    def _run(self, argv: list[str]) -> None:
        result = subprocess.run(argv, env=self._env(), capture_output=True, timeout=60, check=False)
        if result.returncode != 0:
            raise LocalDaemonError(
                f"{' '.join(argv[:2])} failed: {result.stderr.decode(errors='replace')[-500:]}"
            )

    def start(self) -> "LocalIpfsDaemon":
        if self.process is not None and self.process.poll() is None:
            return self
        if not self.api_port:
            self.init()
        attempts_left = START_ATTEMPTS
        while True:
            self._before_start()
            log = open(self.log_path, "ab")
            started_at = log.tell()
            self.process = subprocess.Popen(
                self._daemon_argv(),
                env=self._env(),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            log.close()
            try:
                self._wait_ready()
                return self
            except LocalDaemonError:
                attempts_left -= 1
                if not attempts_left or not address_in_use(self._log_since(started_at)):
                    raise
            self._move_ports()

    def _log_since(self, offset: int) -> str:
        with open(self.log_path, "rb") as log:
            log.seek(offset)
            return log.read().decode(errors="replace")

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise LocalDaemonError(
                    f"{self.name} exited with {self.process.returncode}; see {self.log_path}"
                )
            try:
                response = httpx.post(f"{self.api_url}/api/v0/id", timeout=1.0)
                # 403: the RPC answers but wants the credentials of API.Authorizations.
                if response.status_code in (200, 403):
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise LocalDaemonError(
            f"{self.name} did not answer within {READY_TIMEOUT:.0f}s; see {self.log_path}"
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
