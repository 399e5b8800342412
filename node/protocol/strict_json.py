"""Strict JSON for what strangers send (HTTP bodies, pubsub announcements, manifest pages).

``json.loads`` accepts more than a node can store or sign: a lone surrogate (``"\\ud800"`` is
valid JSON text but not encodable as UTF-8), ``NaN``/``Infinity``, numbers such as ``1e400``
that overflow to infinity, and nesting deep enough to raise ``RecursionError``. Each of those
becomes a ``JsonRefused`` with a stable code instead of a 500 or a traceback later on.
"""

import json
import math
import re
from typing import Any

MAX_DEPTH = 16
SURROGATE = re.compile("[\ud800-\udfff]")


class JsonRefused(ValueError):
    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code


def _no_constant(name: str) -> Any:
    raise JsonRefused("invalid_json", f"{name} is not a JSON number")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise JsonRefused("invalid_json", f"{text[:32]} is out of range for a JSON number")
    return value


def has_surrogate(text: str) -> bool:
    return SURROGATE.search(text) is not None


def loads(data: bytes, max_depth: int = MAX_DEPTH) -> Any:
    """Parse UTF-8 JSON; refuse invalid UTF-8, lone surrogates, non-finite numbers, integers
    of more digits than Python converts (4300) and nesting deeper than ``max_depth``."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise JsonRefused("invalid_json", "JSON must be valid UTF-8") from None
    try:
        obj = json.loads(text, parse_constant=_no_constant, parse_float=_finite)
    except RecursionError:
        raise JsonRefused("too_deep", f"JSON is nested deeper than {max_depth} levels") from None
    except JsonRefused:
        raise
    except ValueError as exc:
        raise JsonRefused("invalid_json", f"not valid JSON: {exc}") from None
    _check(obj, max_depth)
    return obj


def _check(obj: Any, max_depth: int) -> None:
    """Walk without recursion: depth and strings (keys included)."""
    stack: list[tuple[Any, int]] = [(obj, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            if has_surrogate(value):
                raise JsonRefused("invalid_utf8", "a string holds a lone UTF-16 surrogate")
        elif isinstance(value, dict | list):
            if depth > max_depth:
                raise JsonRefused("too_deep", f"JSON is nested deeper than {max_depth} levels")
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                if isinstance(key, str) and has_surrogate(key):
                    raise JsonRefused("invalid_utf8", "a key holds a lone UTF-16 surrogate")
                stack.append((item, depth + 1))
