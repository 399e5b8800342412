"""Throw-away daemons and node processes for a benchmark, stopped when it ends."""

import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path

from node.runtime.daemons import daemon_class
from node.runtime.local_ipfs import KUBO, LocalIpfsDaemon
from tests.support.processes import NodeProcess, connect_daemons


class BenchEnv:
    """``kind`` is the daemon implementation of every daemon this run starts."""

    def __init__(self, kind: str = KUBO) -> None:
        self.kind = kind
        self._tmp = tempfile.TemporaryDirectory(prefix="onusone-bench-")
        self.root = Path(self._tmp.name)
        self._daemons: list[LocalIpfsDaemon] = []
        self._nodes: list[NodeProcess] = []

    def daemon(self) -> LocalIpfsDaemon:
        daemon = daemon_class(self.kind)(self.root / f"ipfs-{len(self._daemons)}")
        self._daemons.append(daemon)
        return daemon.start()

    def node(self, ipfs_api: str, env: dict[str, str] | None = None, name: str = "") -> NodeProcess:
        node = NodeProcess(self.root / (name or f"node-{len(self._nodes)}"), ipfs_api, env)
        self._nodes.append(node)
        return node.start(timeout=60)

    def connect(self, a: LocalIpfsDaemon, b: LocalIpfsDaemon) -> None:
        connect_daemons(a, b)

    def close(self) -> None:
        for node in self._nodes:
            node.stop()
        for daemon in self._daemons:
            daemon.stop()
        self._tmp.cleanup()


@contextlib.contextmanager
def bench_env(kind: str = KUBO) -> Iterator[BenchEnv]:
    env = BenchEnv(kind)
    try:
        yield env
    finally:
        env.close()
