import json
from typing import Any


def canonical_bytes(obj: Any) -> bytes:
    """The one byte form of a JSON object that every node signs, hashes and pins."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8"
    )
