"""Observability: /metrics in Prometheus text format in serve mode (never imported on Lambda),
quiet logs (no line per daemon RPC), LOG_LEVEL and LOG_FORMAT=json, and a Lambda handler that
sets up logging itself."""

import json
import subprocess
import sys

from crypto import NodeKey
from tests.conftest import signed_envelope
from tests.hardening.conftest import ON
from tests.support.processes import ROOT, wait_until

KEY = NodeKey.generate()


def sample(text: str, name: str) -> float:
    for line in text.splitlines():
        if (
            line.startswith(name + " ")
            or line.startswith(name + "{")
            and line.split(" ")[0] == name
        ):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} not in /metrics")


def test_metrics_count_posts_refusals_and_backlog(offline_factory):
    node = offline_factory({"RATE_LIMIT_AUTHOR": "2/minute"})
    for i in range(3):
        node.post("/api/broadcast", json=signed_envelope(KEY, f"{i}"))
    node.post("/api/broadcast", json={**signed_envelope(KEY, "x"), "content": "tampered"})
    response = node.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert sample(text, 'onusone_posts_total{result="queued"}') == 2
    assert sample(text, 'onusone_posts_total{result="rate_limited"}') == 1
    assert sample(text, 'onusone_posts_total{result="bad_signature"}') == 1
    assert sample(text, 'onusone_rate_limited_total{scope="author"}') == 1
    assert sample(text, "onusone_outbox_backlog") == 2
    assert sample(text, "onusone_live_clients") == 0
    assert 'onusone_subscription_up{board="general"}' in text


def test_logs_are_json_and_quiet_about_daemon_calls(ipfs_daemon, node_factory):
    node = node_factory(ipfs_daemon.api_multiaddr, {**ON, "LOG_FORMAT": "json"})
    wait_until(lambda: node.get("/api/status").json()["ipfs"]["reachable"], 30, what="the daemon")
    # The status loop asks the daemon every second: wait until it has asked a few times.
    wait_until(lambda: node.get("/api/status").json()["uptime"] > 3, 30, what="a few status rounds")
    lines = [line for line in node.log().splitlines() if line.strip()]
    assert lines and all(json.loads(line)["level"] for line in lines)
    assert not [line for line in lines if "HTTP Request" in line], "httpx logs every RPC"


LAMBDA_CHECK = """
import logging, sys
import handler
assert "prometheus_client" not in sys.modules, "prometheus-client imported on Lambda"
assert logging.getLogger().level == logging.INFO
assert logging.getLogger("httpx").level == logging.WARNING
assert all(r.path != "/metrics" for r in handler.app.routes if hasattr(r, "path"))
print("ok")
"""


def test_lambda_handler_sets_up_logging_and_has_no_metrics(tmp_path):
    env = {
        "PATH": "/usr/bin:/bin",
        "AWS_LAMBDA_FUNCTION_NAME": "api",
        "DATA_DIR": str(tmp_path),
        "IPFS_API": "http://127.0.0.1:9",
        "LOG_LEVEL": "INFO",
    }
    done = subprocess.run(
        [sys.executable, "-c", LAMBDA_CHECK],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0 and "ok" in done.stdout, done.stderr
