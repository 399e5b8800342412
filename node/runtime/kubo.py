"""Kubo (go-ipfs), the daemon users run, at the version in ``scripts/versions.env``.

``scripts/setup.sh`` builds it from its Go module into a cache outside the checkout
(``~/.cache/onusone/kubo-<version>/bin/ipfs``); an ``ipfs`` on PATH of that version is used
instead. The config keeps it on 127.0.0.1 and switches off everything Kubo does on its own:
bootstrap, AutoConf, AutoTLS, providing, mDNS, routing, relays, NAT port mapping, hole
punching, HTTP retrieval, DNS-over-HTTPS resolvers, telemetry.
"""

import json
import os
import shutil
import subprocess
from functools import cache
from pathlib import Path

from node.runtime.local_ipfs import KUBO, LocalDaemonError, LocalIpfsDaemon
from node.runtime.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
VERSIONS_FILE = ROOT / "scripts" / "versions.env"


def pinned_version(name: str = "KUBO_VERSION") -> str:
    for line in VERSIONS_FILE.read_text().splitlines():
        key, _, value = line.partition("=")
        if key.strip() == name:
            return value.strip()
    raise KeyError(name)


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(os.environ.get("ONUSONE_CACHE", Path(base) / "onusone"))


def _version_of(binary: str) -> str | None:
    try:
        result = subprocess.run(
            [binary, "version", "--number"], capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip() if result.returncode == 0 else None


@cache
def kubo_binary() -> Path | None:
    """The pinned Kubo: an ``ipfs`` on PATH of that version, else the cached build."""
    version = pinned_version()
    on_path = shutil.which("ipfs")
    if on_path and _version_of(on_path) == version.lstrip("v"):
        return Path(on_path)
    cached = cache_dir() / f"kubo-{version}" / "bin" / "ipfs"
    return cached if cached.exists() else None


class KuboDaemon(LocalIpfsDaemon):
    kind = KUBO
    name = "Kubo"

    def _binary(self) -> str:
        binary = kubo_binary()
        if binary is None:
            raise LocalDaemonError(
                f"Kubo {pinned_version()} is not installed: run scripts/setup.sh (it builds it"
                " with Go), or put an `ipfs` of that version on PATH"
            )
        return str(binary)

    def _env(self) -> dict[str, str]:
        return {**super()._env(), "IPFS_TELEMETRY": "off", "DO_NOT_TRACK": "1"}

    def _create_repo(self) -> None:
        self._run([self._binary(), "init", "--profile", "test", "--empty-repo"])

    def _safe_config(self, config: dict) -> None:
        config["Addresses"] = {
            "API": f"/ip4/127.0.0.1/tcp/{free_port()}",
            "Gateway": [],
            "Swarm": [f"/ip4/127.0.0.1/tcp/{free_port()}"],
            "Announce": [],
            "AppendAnnounce": [],
            "NoAnnounce": [],
        }
        config["Bootstrap"] = []
        config["Peering"] = {"Peers": []}
        config["AutoConf"] = {"Enabled": False}
        config["AutoTLS"] = {"Enabled": False}
        config["AutoNAT"] = {"ServiceMode": "disabled"}
        config["Discovery"] = {"MDNS": {"Enabled": False}}
        config["Routing"] = {"Type": "none"}
        config["Provide"] = {"Enabled": False}
        config["HTTPRetrieval"] = {"Enabled": False}
        config["DNS"] = {"Resolvers": {}}
        config["Ipns"] = {**config.get("Ipns", {}), "UsePubsub": False}
        config["Pubsub"] = {"Enabled": True, "Router": "gossipsub"}
        swarm = config.setdefault("Swarm", {})
        swarm.update(
            {
                "DisableNatPortMap": True,
                "EnableHolePunching": False,
                "RelayClient": {"Enabled": False},
                "RelayService": {"Enabled": False},
            }
        )
        swarm.setdefault("Transports", {})["Network"] = {
            "TCP": True,
            "QUIC": False,
            "WebTransport": False,
            "WebRTCDirect": False,
            "Websocket": False,
            "Relay": False,
        }
        config["Plugins"] = {"Plugins": {"telemetry": {"Config": {"Mode": "off"}}}}

    def set_config(self, key: str, value: object) -> None:
        """``ipfs config --json KEY VALUE``, as an operator would (before ``start``)."""
        if not self.api_port:
            self.init()
        self._run([self._binary(), "config", "--json", key, json.dumps(value)])

    def _daemon_argv(self) -> list[str]:
        return [self._binary(), "daemon"]
