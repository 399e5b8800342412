"""The base of the errors a caller can act on: each carries its answer, so that the HTTP app
translates all of them in one place (``node.http.errors``) and no handler maps them by hand."""

from collections.abc import Mapping


class NodeError(Exception):
    """A refusal: ``code`` is stable (the API's ``error``, and the label it is counted under),
    ``status`` the HTTP status it is answered with, ``detail`` a sentence for people, and
    ``headers`` what the answer must carry (``Retry-After``). Subclasses fix ``status`` and
    ``code`` where they are always the same."""

    status: int = 400
    code: str = "bad_request"

    def __init__(self, detail: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = headers
