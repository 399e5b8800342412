"""Strict query parameters: ASCII digits only (``"²".isdigit()`` is true, ``int("²")`` fails),
bounded length, always a 400 ``bad_request``, never a 500."""

import re

from starlette.requests import HTTPConnection

from node.http.errors import ApiError

INTEGER = re.compile(r"[0-9]{1,9}")
NUMBER = re.compile(r"[0-9]{1,6}(\.[0-9]{1,6})?")


def int_param(request: HTTPConnection, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if not INTEGER.fullmatch(raw) or not low <= int(raw) <= high:
        raise ApiError(400, "bad_request", f"{name} must be an integer from {low} to {high}")
    return int(raw)


def seconds_param(request: HTTPConnection, name: str, default: float, high: float) -> float:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if not NUMBER.fullmatch(raw) or float(raw) > high:
        raise ApiError(400, "bad_request", f"{name} must be a number of seconds from 0 to {high:g}")
    return float(raw)
