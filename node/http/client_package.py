"""``/client/…``: the JavaScript SDK (``client/src``, see the README's front-end section) served
by the node itself, so that the dashboard and any board front end import the client of the
node they talk to, from that node, with no CDN and no build step.

ES modules need a JavaScript content type, and a front end on another origin may import them
only with CORS. ``no-cache`` with an ETag lets browsers keep the files but revalidate each
load (a 304 when unchanged), so a node upgrade never leaves a page with a mix of versions.
"""

from os import PathLike, stat_result
from pathlib import Path

from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

CLIENT_SRC = Path(__file__).resolve().parents[2] / "client" / "src"
CONTENT_TYPES = {".js": "text/javascript; charset=utf-8"}
HEADERS = {
    "Cache-Control": "public, no-cache",
    "Access-Control-Allow-Origin": "*",
    "X-Content-Type-Options": "nosniff",
}


class ClientFiles(StaticFiles):
    def file_response(
        self,
        full_path: PathLike[str] | str,
        stat_result: stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        content_type = CONTENT_TYPES.get(Path(full_path).suffix)
        if content_type and response.status_code == 200:
            response.headers["content-type"] = content_type
        response.headers.update(HEADERS)
        return response


client_files = ClientFiles(directory=CLIENT_SRC)
