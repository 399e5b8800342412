"""Run the client SDK's ``node --test`` suites from pytest, against nodes that pytest fixtures
started, so the JavaScript tests use the same real daemons and node processes as the rest.

The JS tests get the nodes' URLs in ``ONUSONE_*`` environment variables and can stop and start
a node through a small control server on 127.0.0.1 (``POST /stop?node=a``, ``/start?node=a``).
"""

import subprocess
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from tests.support.local_http import serving
from tests.support.processes import ROOT, NodeProcess

CLIENT_DIR = ROOT / "client"
NODE_TEST_TIMEOUT = 300


@contextmanager
def node_control(nodes: Mapping[str, NodeProcess]) -> Iterator[str]:
    """A control server that stops or starts ``nodes[name]`` on request; yields its URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            url = urlparse(self.path)
            name = parse_qs(url.query).get("node", [""])[0]
            action = url.path.strip("/")
            if name not in nodes or action not in ("stop", "start"):
                self.send_response(404)
                self.end_headers()
                return
            getattr(nodes[name], action)()
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    with serving(Handler) as url:
        yield url


def run_node_tests(files: list[Path], env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    """``node --test`` on ``files`` (spec reporter), its output echoed for pytest's report."""
    result = subprocess.run(
        [
            "node",
            "--experimental-websocket",
            "--test",
            "--test-timeout=90000",
            "--test-reporter=spec",
            *map(str, files),
        ],
        cwd=CLIENT_DIR,
        env={**env},
        capture_output=True,
        text=True,
        timeout=NODE_TEST_TIMEOUT,
    )
    print(result.stdout, result.stderr, sep="\n")
    return result
