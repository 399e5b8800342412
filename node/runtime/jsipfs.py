"""js-ipfs 0.66.1 (from ``jsipfs/``'s committed lock): the second implementation, and the local
daemon where no Kubo is installed. It runs through ``jsipfs/daemon.js``: the stock daemon with
preload off (by default js-ipfs posts every CID it adds or reads to public preload servers) and
yamux added beside mplex, so that it can connect to Kubo (which dropped mplex), and pubsub seqnos
that count up, so that Kubo does not ignore its messages (see the README's "Tested daemons")."""

import shutil
from pathlib import Path

from node.runtime.local_ipfs import JSIPFS, LocalDaemonError, LocalIpfsDaemon
from node.runtime.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
JSIPFS_BIN = ROOT / "jsipfs" / "node_modules" / ".bin" / "jsipfs"
JSIPFS_DAEMON = ROOT / "jsipfs" / "daemon.js"


class JsIpfsDaemon(LocalIpfsDaemon):
    kind = JSIPFS
    name = "js-ipfs"

    def _create_repo(self) -> None:
        if not JSIPFS_BIN.exists():
            raise LocalDaemonError(
                f"{JSIPFS_BIN} is missing: run `npm ci --prefix jsipfs` (the README's commands do)"
            )
        self._run([str(JSIPFS_BIN), "init", "--profile", "test", "--empty-repo"])

    def _safe_config(self, config: dict) -> None:
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

    def _env(self) -> dict[str, str]:
        return {**super()._env(), "IPFS_MONITORING": "false"}

    def _before_start(self) -> None:
        super()._before_start()
        # A killed js-ipfs leaves its repo lock (a directory) behind.
        shutil.rmtree(self.repo_dir / "repo.lock", ignore_errors=True)

    def _daemon_argv(self) -> list[str]:
        return [shutil.which("node") or "node", str(JSIPFS_DAEMON)]
