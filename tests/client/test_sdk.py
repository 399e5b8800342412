"""The client SDK's own ``node --test`` suites: the unit files alone, the live files driving
``OnusOneClient`` against two real node processes on two connected real daemons, and the
rate-limit files against a real node whose limits are on and small."""

import os

import httpx

from tests.support.js_runner import CLIENT_DIR, node_control, run_node_tests
from tests.support.processes import connect_daemons, wait_until

API_TOKEN = "sdk-test-token"
POST_LIMIT = 3
# Small enough to spend in a moment, a window long enough that its Retry-After (up to 6 s)
# stands out from the tests' 50 ms backoff.
LIMITED = {
    "RATE_LIMITS": "on",
    "RATE_LIMIT_ADDRESS": f"{POST_LIMIT}/minute",
    "RATE_LIMIT_READS": "5/6second",
}


def test_client_unit_suites_pass():
    result = run_node_tests(sorted((CLIENT_DIR / "test" / "unit").glob("*.test.js")), os.environ)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]


def test_client_against_real_nodes_passes(daemon_factory, node_factory):
    daemons = [daemon_factory(), daemon_factory()]
    connect_daemons(daemons[0], daemons[1])
    env = {"API_TOKENS": API_TOKEN}
    here, there = (
        node_factory(d.api_multiaddr, env, name=f"node-{i}") for i, d in enumerate(daemons)
    )
    wait_until(
        lambda: all(
            httpx.get(f"{n.url}/api/status").json()["connectedPeers"] >= 1 for n in (here, there)
        ),
        30,
        what="both nodes to see their peer",
    )
    with node_control({"a": here, "b": there}) as control:
        result = run_node_tests(
            sorted((CLIENT_DIR / "test" / "live").glob("*.test.js")),
            {
                **os.environ,
                "ONUSONE_NODE_A": here.url,
                "ONUSONE_NODE_B": there.url,
                "ONUSONE_PEER_B": daemons[1].peer_id,
                "ONUSONE_API_TOKEN": API_TOKEN,
                "ONUSONE_CONTROL": control,
            },
        )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]


def test_client_rate_limited_by_a_real_node_passes(ipfs_daemon, node_factory):
    node = node_factory(ipfs_daemon.api_multiaddr, LIMITED, name="limited")
    result = run_node_tests(
        sorted((CLIENT_DIR / "test" / "limited").glob("*.test.js")),
        {**os.environ, "ONUSONE_LIMITED_NODE": node.url, "ONUSONE_POST_LIMIT": str(POST_LIMIT)},
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
