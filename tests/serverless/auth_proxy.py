"""A reverse proxy that guards a daemon's RPC like Kubo's ``API.Authorizations``: 403 unless the
request carries the expected ``Authorization`` header. Run as its own process by the tests:
``python -m tests.serverless.auth_proxy PORT UPSTREAM_URL HEADER_VALUE``."""

import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

from tests.support.rpc_proxy import read_body


def serve(port: int, upstream: str, expected: str) -> None:
    client = httpx.Client(base_url=upstream, timeout=60)

    class Proxy(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            if self.headers.get("Authorization") != expected:
                body = b"403 - Forbidden"
                self.send_response(403)
                self.send_header("Content-Type", "text/plain")
            else:
                headers = {"Content-Type": self.headers.get("Content-Type", "")}
                body = read_body(self.rfile, self.headers)
                upstream_response = client.post(self.path, content=body, headers=headers)
                body = upstream_response.content
                self.send_response(upstream_response.status_code)
                self.send_header("Content-Type", upstream_response.headers.get("content-type", ""))
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            sys.stderr.write(f"{self.command} {self.path} {args[1] if len(args) > 1 else ''}\n")

    ThreadingHTTPServer(("127.0.0.1", port), Proxy).serve_forever()


if __name__ == "__main__":
    serve(int(sys.argv[1]), sys.argv[2], sys.argv[3])
