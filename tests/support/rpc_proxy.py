"""A reverse proxy in front of a daemon's RPC that streams every answer (pubsub subscriptions
included) and holds the calls to chosen paths without answering, so that a test can stop a
node between two steps of its work (for example after ingest and before the replica pin).

Run as its own process: ``python -m tests.support.rpc_proxy PORT UPSTREAM_URL [HELD_PATH...]``;
``GET /_proxy/held`` answers how many calls it is holding.
"""

import sys
import threading
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import BinaryIO

import httpx

from node.runtime.ports import free_port
from tests.support.processes import ROOT, ServerProcess


def read_body(rfile: BinaryIO, headers: Message) -> bytes:
    """The request body, also when the client streams it chunked (ipfshttpclient's uploads)."""
    if headers.get("Transfer-Encoding", "").lower() != "chunked":
        return rfile.read(int(headers.get("Content-Length") or 0))
    parts = []
    while size := int(rfile.readline().split(b";")[0], 16):
        parts.append(rfile.read(size))
        rfile.readline()
    while rfile.readline() not in (b"\r\n", b"\n", b""):
        pass
    return b"".join(parts)


def serve(port: int, upstream: str, held_paths: list[str]) -> None:
    client = httpx.Client(base_url=upstream, timeout=httpx.Timeout(None, connect=10))
    held = threading.Semaphore(0)  # never released: a held call waits until the proxy stops
    holding = [0]

    class Proxy(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = str(holding[0]).encode()
            self.send_response(200 if self.path == "/_proxy/held" else 404)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            body = read_body(self.rfile, self.headers)
            if self.path.split("?")[0] in held_paths:
                holding[0] += 1
                held.acquire()
            headers = {"Content-Type": self.headers.get("Content-Type", "")}
            with client.stream("POST", self.path, content=body, headers=headers) as upstream:
                # HTTP/1.0 without a length: the answer ends when the connection closes, so
                # chunks reach the client as the daemon sends them.
                self.send_response(upstream.status_code)
                self.send_header("Content-Type", upstream.headers.get("content-type", ""))
                self.end_headers()
                for chunk in upstream.iter_raw():
                    self.wfile.write(chunk)
                    self.wfile.flush()

        def log_message(self, format: str, *args: object) -> None:
            sys.stderr.write(f"{self.command} {self.path} {args[1] if len(args) > 1 else ''}\n")

    server = ThreadingHTTPServer(("127.0.0.1", port), Proxy)
    server.daemon_threads = True
    server.serve_forever()


class RpcProxy(ServerProcess):
    """The proxy as a test server process: point a node's ``IPFS_API`` at ``url``."""

    ready_path = "/_proxy/held"

    def __init__(self, upstream: str, held_paths: list[str], log_path: Path) -> None:
        port = free_port()
        argv = [sys.executable, "-m", "tests.support.rpc_proxy", str(port), upstream]
        super().__init__([*argv, *held_paths], port, log_path, cwd=ROOT)

    def held(self) -> int:
        return int(httpx.get(f"{self.url}/_proxy/held", timeout=5).text)


if __name__ == "__main__":
    serve(int(sys.argv[1]), sys.argv[2], sys.argv[3:])
