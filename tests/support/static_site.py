"""A plain static web server on 127.0.0.1 for front-end test pages: another origin than the
node's, as a board front end is, so the pages load the SDK and call the API cross-origin."""

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler
from pathlib import Path

from tests.support.local_http import serving


class _Handler(SimpleHTTPRequestHandler):
    extensions_map = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8"}

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def static_site(directory: Path) -> Iterator[str]:
    """Serve ``directory``; yields its base URL. Stopped when the block ends."""
    handler = functools.partial(_Handler, directory=str(directory))
    with serving(handler) as url:
        yield url
