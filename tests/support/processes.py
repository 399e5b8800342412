"""Start and stop real js-ipfs daemons and real node processes (uvicorn on 127.0.0.1)."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from node.runtime.local_ipfs import LocalIpfsDaemon
from node.runtime.ports import address_in_use, free_port

ROOT = Path(__file__).resolve().parents[2]
# What a test process inherits from the developer's environment: enough to find programs (the
# Kubo build cache included) and a home, nothing that configures the node (NODE_KEY, STORE,
# API_TOKENS, IPFS_API, AWS_*, ...).
INHERITED = (
    "PATH",
    "HOME",
    "LANG",
    "LC_ALL",
    "LC_CTYPE",
    "TMPDIR",
    "TZ",
    "XDG_CACHE_HOME",
    "ONUSONE_CACHE",
)


# Tests and benchmarks post faster, and from one address, than any person: the per-address and
# per-author limits (on by default) are off in their node processes unless a test turns them
# on (tests/hardening).
UNLIMITED = {"RATE_LIMITS": "off", "LIVE_CLIENTS_PER_ADDRESS": "1000"}


def clean_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment a test starts a process with: the few inherited variables plus
    ``extra``; a test says every setting its process runs with."""
    inherited = {name: os.environ[name] for name in INHERITED if name in os.environ}
    return {**inherited, **(extra or {})}


def connect_daemons(a: LocalIpfsDaemon, b: LocalIpfsDaemon) -> None:
    response = httpx.post(
        f"{a.api_url}/api/v0/swarm/connect", params={"arg": b.swarm_multiaddr}, timeout=10
    )
    response.raise_for_status()


def wait_until(predicate, timeout: float, interval: float = 0.1, what: str = "condition"):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


def stop_group(process: subprocess.Popen[bytes] | None, timeout: float = 10.0) -> None:
    """SIGTERM to the process group a test started (by its PID), SIGKILL if it lingers."""
    if process is None or process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)


class ServerExited(RuntimeError):
    pass


class ServerProcess:
    """A test server in its own process group on 127.0.0.1, ready once ``ready_path`` answers
    (any HTTP status), stopped by its PID. It runs in ``clean_env(env)``.

    A subclass that says how to point its command at another port (``_move_to``) is started
    again on a new port when its first bind finds the port taken."""

    ready_path = "/"
    start_attempts = 3

    def __init__(
        self,
        argv: list[str],
        port: int,
        log_path: Path,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        self.argv = argv
        self.port = port
        self.log_path = log_path
        self.env = clean_env(env)
        self.cwd = cwd
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 20.0) -> "ServerProcess":
        attempts_left = self.start_attempts
        while True:
            log_start = self._spawn()
            try:
                return self._wait_ready(timeout)
            except ServerExited:
                attempts_left -= 1
                output = self.log_path.read_bytes()[log_start:].decode(errors="replace")
                if (
                    not attempts_left
                    or not address_in_use(output)
                    or not self._move_to(free_port())
                ):
                    raise

    def _move_to(self, port: int) -> bool:
        """Point the command at ``port``; False where this server cannot move."""
        return False

    def _spawn(self) -> int:
        """Start the process; the offset in the log where its output begins."""
        log = open(self.log_path, "ab")
        log_start = log.tell()
        self.process = subprocess.Popen(
            self.argv,
            cwd=self.cwd,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        return log_start

    def _wait_ready(self, timeout: float) -> "ServerProcess":
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ServerExited(
                    f"{self.argv} exited with {self.process.returncode}: {self.log()}"
                )
            try:
                httpx.get(f"{self.url}{self.ready_path}", timeout=1)
                return self
            except httpx.HTTPError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{self.argv} did not answer within {timeout}s: {self.log()}")

    def get(self, path: str, **kwargs) -> httpx.Response:
        return httpx.get(f"{self.url}{path}", timeout=10, **kwargs)

    def post(self, path: str, **kwargs) -> httpx.Response:
        return httpx.post(f"{self.url}{path}", timeout=30, **kwargs)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:] if self.log_path.exists() else ""

    def kill(self) -> None:
        """SIGKILL, as a crash or the OOM killer would: no shutdown code runs."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)

    def stop(self) -> None:
        process, self.process = self.process, None
        stop_group(process)


class NodeProcess(ServerProcess):
    """``python -m node serve`` in its own process with its own DATA_DIR and port."""

    ready_path = "/health"

    def __init__(self, data_dir: Path, ipfs_api: str, env: dict[str, str] | None = None) -> None:
        port = free_port()
        super().__init__(
            [sys.executable, "-m", "node", "serve"],
            port,
            data_dir.with_suffix(".node.log"),
            env={
                "DATA_DIR": str(data_dir),
                "IPFS_API": ipfs_api,
                "PORT": str(port),
                "HOST": "127.0.0.1",
                **UNLIMITED,
                **(env or {}),
            },
            cwd=ROOT,
        )
        self.data_dir = data_dir

    def _move_to(self, port: int) -> bool:
        self.port = port
        self.env["PORT"] = str(port)
        return True

    def start(self, timeout: float = 20.0) -> "NodeProcess":
        self.data_dir.mkdir(parents=True, exist_ok=True)
        super().start(timeout)
        return self
