"""A plain static web server on 127.0.0.1 for front-end test pages: another origin than the
node's, as a board front end is, so the pages load the SDK and call the API cross-origin."""

import functools
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class _Handler(SimpleHTTPRequestHandler):
    extensions_map = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8"}

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def static_site(directory: Path) -> Iterator[str]:
    """Serve ``directory``; yields its base URL. Stopped when the block ends."""
    handler = functools.partial(_Handler, directory=str(directory))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
