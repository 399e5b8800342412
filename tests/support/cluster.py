"""A real IPFS Cluster on 127.0.0.1: N ``ipfs-cluster-service`` peers (CRDT consensus, one
shared secret, replication factor min 2 / max 2), each in front of its own Kubo daemon started
through ``tests.support.daemons``, with the Pinning Service API enabled behind basic auth (the
node uses a JWT from its ``/token`` endpoint, as an operator would).

Cluster timings are shortened so a lost peer is noticed and its pins re-allocated within
seconds: pings every second, alerts checked every second, re-pinning on.
"""

import json
import os
import secrets
import subprocess
import time
from pathlib import Path

import httpx

from node.runtime.kubo import cache_dir, pinned_version
from node.runtime.local_ipfs import KUBO, LocalIpfsDaemon
from node.runtime.ports import address_in_use, free_port
from tests.support import daemons
from tests.support.processes import stop_group, wait_until

USER = "onusone"
READY_TIMEOUT = 60.0
READY_LINE = "** IPFS Cluster is READY **"
START_ATTEMPTS = 3


def cluster_binary(name: str) -> Path:
    version = pinned_version("IPFS_CLUSTER_VERSION")
    binary = cache_dir() / f"ipfs-cluster-{version}" / "bin" / name
    if not binary.exists():
        raise RuntimeError(f"{binary} is missing: scripts/setup.sh builds IPFS Cluster {version}")
    return binary


def _tcp(port: int) -> str:
    return f"/ip4/127.0.0.1/tcp/{port}"


def _json_values(text: str) -> list[dict]:
    """``ipfs-cluster-ctl --enc json`` prints one indented JSON object after another."""
    decoder, values, at = json.JSONDecoder(), [], 0
    while (at := _skip_space(text, at)) < len(text):
        value, at = decoder.raw_decode(text, at)
        values.append(value)
    return values


def _skip_space(text: str, at: int) -> int:
    while at < len(text) and text[at].isspace():
        at += 1
    return at


class ClusterPeerExited(RuntimeError):
    pass


class ClusterPeer:
    """One cluster peer and its Kubo daemon; ports are chosen once, so a restarted peer comes
    back on the same addresses (only a start that finds a port taken moves to new ones)."""

    def __init__(self, root: Path, index: int, secret: str, password: str) -> None:
        self.index = index
        self.dir = root / f"cluster-{index}"
        # Cluster drives Kubo's RPC (pin/add with progress, repo/stat…): always Kubo here.
        self.kubo: LocalIpfsDaemon = daemons.new_daemon(root / f"cluster-kubo-{index}", KUBO)
        self.secret = secret
        self.password = password
        self.process: subprocess.Popen[bytes] | None = None
        self._pick_ports()
        self.others: list[ClusterPeer] = []
        self.replication = 1
        self.peer_id = ""
        self._log_start = 0

    def _pick_ports(self) -> None:
        self.cluster_port = free_port()
        self.rest_port = free_port()
        self.pinsvc_port = free_port()
        self.proxy_port = free_port()

    @property
    def multiaddr(self) -> str:
        return f"{_tcp(self.cluster_port)}/p2p/{self.peer_id}"

    @property
    def pinsvc_url(self) -> str:
        return f"http://127.0.0.1:{self.pinsvc_port}"

    @property
    def log_path(self) -> Path:
        return self.dir.with_suffix(".log")

    def _service(self, *args: str) -> list[str]:
        return [str(cluster_binary("ipfs-cluster-service")), "--config", str(self.dir), *args]

    def init(self) -> None:
        subprocess.run(
            self._service("init", "--consensus", "crdt", "--datastore", "leveldb", "--force"),
            check=True,
            capture_output=True,
            timeout=60,
        )
        self.peer_id = json.loads((self.dir / "identity.json").read_text())["id"]

    def configure(self, others: list["ClusterPeer"], replication: int) -> None:
        self.others, self.replication = others, replication
        self._write_config()

    def _write_config(self) -> None:
        others, replication = self.others, self.replication
        path = self.dir / "service.json"
        config = json.loads(path.read_text())
        cluster = config["cluster"]
        cluster.update(
            peername=f"peer-{self.index}",
            secret=self.secret,
            listen_multiaddress=[_tcp(self.cluster_port)],
            enable_relay_hop=False,
            mdns_interval="0s",
            replication_factor_min=replication,
            replication_factor_max=replication,
            monitor_ping_interval="1s",
            peer_watch_interval="1s",
            state_sync_interval="5s",
            pin_recover_interval="5s",
            disable_repinning=False,
            peer_addresses=[peer.multiaddr for peer in others],
        )
        config["consensus"]["crdt"].update(rebroadcast_interval="1s")
        api = config["api"]
        api["restapi"]["http_listen_multiaddress"] = _tcp(self.rest_port)
        api["ipfsproxy"]["listen_multiaddress"] = _tcp(self.proxy_port)
        api["ipfsproxy"]["node_multiaddress"] = _tcp(self.kubo.api_port)
        api["pinsvcapi"]["http_listen_multiaddress"] = _tcp(self.pinsvc_port)
        api["pinsvcapi"]["basic_auth_credentials"] = {USER: self.password}
        connector = config["ipfs_connector"]["ipfshttp"]
        connector.update(
            node_multiaddress=_tcp(self.kubo.api_port),
            connect_swarms_delay="1s",
            pin_timeout="30s",
        )
        config["monitor"]["pubsubmon"]["check_interval"] = "1s"
        for informer in config["informer"].values():
            informer["metric_ttl"] = "5s"
        config["observations"]["tracing"]["jaeger_agent_endpoint"] = "/ip4/127.0.0.1/udp/6831"
        path.write_text(json.dumps(config, indent=2))

    def start(self) -> "ClusterPeer":
        self.kubo.start()
        if self.running():
            return self
        attempts_left = START_ATTEMPTS
        while True:
            self._spawn()
            try:
                wait_until(self._answers, READY_TIMEOUT, 0.2, f"cluster peer {self.index} ready")
                return self
            except ClusterPeerExited:
                attempts_left -= 1
                if not attempts_left or not address_in_use(self._log_since_start()):
                    raise
            self._pick_ports()
            self._write_config()

    def _spawn(self) -> None:
        log = open(self.log_path, "ab")
        self._log_start = log.tell()
        self.process = subprocess.Popen(
            self._service("daemon"),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, "GOLOG_LOG_LEVEL": "info"},
        )
        log.close()

    def _log_since_start(self) -> str:
        with open(self.log_path, "rb") as log:
            log.seek(self._log_start)
            return log.read().decode(errors="replace")

    def _answers(self) -> bool:
        """Ready once the peer logs so: v1.1.0 crashes (nil RPC client) on an API request that
        arrives before its components are wired, so the APIs are not probed earlier."""
        if self.process is not None and self.process.poll() is not None:
            raise ClusterPeerExited(f"cluster peer {self.index} exited: {self.log()}")
        return READY_LINE in self._log_since_start()

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def ctl(self, *args: str) -> str:
        """``ipfs-cluster-ctl`` against this peer's REST API."""
        result = subprocess.run(
            [
                str(cluster_binary("ipfs-cluster-ctl")),
                "--host",
                _tcp(self.rest_port),
                "--enc",
                "json",
                *args,
            ],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
        return result.stdout

    def cluster_peers(self) -> set[str]:
        """Peer ids this peer sees in the cluster (``ipfs-cluster-ctl peers ls``)."""
        peers = _json_values(self.ctl("peers", "ls"))
        return {peer["id"] for peer in peers if not peer.get("error")}

    def metric_peers(self, name: str = "freespace") -> set[str]:
        """Peers whose informer metric this peer holds: what it can allocate pins to."""
        metrics = _json_values(self.ctl("health", "metrics", name))
        flat = [m for value in metrics for m in (value if isinstance(value, list) else [value])]
        return {m["peer"] for m in flat if m.get("valid", True)}

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-3000:] if self.log_path.exists() else ""

    def stop_service(self) -> None:
        """Stop the cluster peer only (its Kubo keeps running), by its PID."""
        process, self.process = self.process, None
        stop_group(process, timeout=15)

    def stop(self) -> None:
        self.stop_service()
        self.kubo.stop()

    def pins_locally(self, cid: str) -> bool:
        """Whether this peer's own Kubo has ``cid`` pinned (recursively), from its pin/ls."""
        if not self.kubo.running():
            return False
        response = httpx.post(
            f"{self.kubo.api_url}/api/v0/pin/ls",
            params={"arg": cid, "type": "recursive"},
            timeout=10,
        )
        return response.status_code == 200 and bool(response.json().get("Keys"))


class IpfsCluster:
    def __init__(self, root: Path, size: int = 3, replication: int = 2) -> None:
        self.secret = secrets.token_hex(32)
        self.password = secrets.token_urlsafe(16)
        self.peers = [ClusterPeer(root, i, self.secret, self.password) for i in range(size)]
        self.replication = min(replication, size)

    def start(self) -> "IpfsCluster":
        started = time.monotonic()
        for peer in self.peers:
            peer.kubo.init()
            peer.init()
        # Each peer is configured just before it starts, with the addresses the peers before
        # it ended up on (a start that found a port taken moves to new ones).
        for peer in self.peers:
            peer.configure([p for p in self.peers if p is not peer], self.replication)
            peer.start()
        self.wait_whole()
        self.start_seconds = time.monotonic() - started
        return self

    def wait_whole(self) -> None:
        """Until every peer sees every other and can allocate to it (after a start, or a
        peer's restart)."""
        everyone = {peer.peer_id for peer in self.peers}
        wait_until(
            lambda: all(
                peer.cluster_peers() >= everyone and peer.metric_peers() >= everyone
                for peer in self.peers
            ),
            READY_TIMEOUT,
            0.5,
            "every cluster peer to see the others and their metrics",
        )

    def stop(self) -> None:
        for peer in self.peers:
            peer.stop()

    def token(self, peer: int = 0) -> str:
        """A JWT for the Pinning Service API, from the peer's ``POST /token`` (basic auth)."""
        response = httpx.post(
            f"{self.peers[peer].pinsvc_url}/token", auth=(USER, self.password), timeout=10
        )
        response.raise_for_status()
        return response.json()["token"]

    def holders(self, cid: str) -> list[int]:
        """Indexes of the peers whose own Kubo has ``cid`` pinned."""
        return [peer.index for peer in self.peers if peer.pins_locally(cid)]

    def service_pin(self, cid: str, peer: int = 0) -> httpx.Response:
        """``GET /pins/{cid}`` at a peer's Pinning Service API (the request id is the CID)."""
        return httpx.get(
            f"{self.peers[peer].pinsvc_url}/pins/{cid}",
            headers={"Authorization": f"Bearer {self.token(peer)}"},
            timeout=10,
        )
