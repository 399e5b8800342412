"""What the cluster tests do with a node: start it pinning at the cluster, post, and read what
it says about its remote pins (as the operator, a token holder) and what the service lists."""

import json

import httpx

from tests.conftest import signed_envelope
from tests.support.cluster import IpfsCluster
from tests.support.processes import NodeProcess

PIN_TIMEOUT = 60.0
OPERATOR = "operator-token"


def start_node(node_factory, ipfs_daemon, cluster: IpfsCluster, token: str | None = None, **env):
    return node_factory(
        ipfs_daemon.api_multiaddr,
        {
            "PIN_SERVICE_URL": cluster.peers[0].pinsvc_url,
            "PIN_SERVICE_TOKEN": token if token is not None else cluster.token(),
            "API_TOKENS": OPERATOR,
            **env,
        },
    )


def post(node: NodeProcess, key, content: str) -> tuple[str, dict]:
    envelope = signed_envelope(key, content)
    response = node.post("/api/broadcast", json=envelope)
    assert response.status_code in (200, 202), response.text
    return response.json()["cid"], envelope


def remote_status(node: NodeProcess, cid: str) -> str | None:
    remote = node.get(f"/api/messages/{cid}").json()["remotePin"]
    return remote and remote["status"]


def pin_service(node: NodeProcess) -> dict:
    """As the operator sees it (a token holder: the URL and the last error are internals)."""
    status = node.get("/api/status", headers={"Authorization": f"Bearer {OPERATOR}"}).json()
    return status["pinService"]


def manifest_pins(cluster: IpfsCluster, node_id: str) -> set[str]:
    """The node's head-manifest pages the service lists as pinned."""
    response = httpx.get(
        f"{cluster.peers[0].pinsvc_url}/pins",
        params={
            "meta": json.dumps({"kind": "manifest", "node": node_id}),
            "status": "pinned,queued,pinning",
            "limit": 1000,
        },
        headers={"Authorization": f"Bearer {cluster.token()}"},
        timeout=10,
    )
    response.raise_for_status()
    return {result["pin"]["cid"] for result in response.json()["results"]}
