"""What nodes publish on a board topic (DESIGN: "Network protocol").

``{"kind": "message", "cid": …, "envelope": {…}}`` carries a new envelope inline so receivers
need no fetch; ``{"kind": "head", "board": …, "cid": …}`` points at a node's latest head
manifest for catch-up.
"""

import json
from dataclasses import dataclass
from typing import Any

from crypto import Cid

MAX_ANNOUNCEMENT_BYTES = 96 * 1024


def topic_for(board: str) -> str:
    return f"onusone/v1/board/{board}"


def message_announcement(cid: Cid, envelope: dict[str, Any]) -> bytes:
    return json.dumps(
        {"kind": "message", "cid": str(cid), "envelope": envelope},
        separators=(",", ":"),
        ensure_ascii=False,
    ).encode("utf-8")


def head_announcement(board: str, cid: Cid) -> bytes:
    return json.dumps({"kind": "head", "board": board, "cid": str(cid)}).encode()


@dataclass(frozen=True)
class Announcement:
    kind: str
    cid: str
    envelope: dict[str, Any] | None = None
    board: str | None = None
