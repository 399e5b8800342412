"""What nodes publish on a board topic (docs/PROTOCOL.md, "Pubsub: topics and announcements").

``{"kind": "message", "cid": …, "envelope": {…}}`` carries a new envelope inline so receivers
need no fetch; ``{"kind": "head", "board": …, "cid": …}`` points at a node's latest head
manifest for catch-up; ``{"kind": "hello", "board": …}`` is sent by a node that has just
subscribed, and asks the others to announce their heads now instead of at their next
``HEAD_INTERVAL``, so that a restarted or new node catches up in seconds.
"""

import json
from dataclasses import dataclass
from typing import Any

from crypto import Cid, CryptoError, parse_cid
from node.protocol import strict_json
from node.protocol.envelope import InvalidMessage

MAX_ANNOUNCEMENT_BYTES = 96 * 1024
KINDS = {"message", "head", "hello"}


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


def hello_announcement(board: str) -> bytes:
    return json.dumps({"kind": "hello", "board": board}).encode()


@dataclass(frozen=True)
class Announcement:
    kind: str
    cid: Cid | None
    envelope: dict[str, Any] | None = None
    board: str | None = None


def parse_announcement(data: bytes, board: str) -> Announcement:
    """Size first (before any parsing), then shape; raises ``InvalidMessage`` with a stable code.

    ``board`` is the board of the topic it arrived on: an announcement for another board is
    refused, so a peer cannot smuggle messages into a board through a different topic.
    """
    if len(data) > MAX_ANNOUNCEMENT_BYTES:
        raise InvalidMessage("too_large", f"announcement is over {MAX_ANNOUNCEMENT_BYTES} bytes")
    try:
        obj = strict_json.loads(data)
    except strict_json.JsonRefused as exc:
        raise InvalidMessage(exc.code, f"announcement: {exc}") from None
    if not isinstance(obj, dict) or obj.get("kind") not in KINDS:
        raise InvalidMessage("bad_announcement", "announcement has no known kind")
    if obj["kind"] == "hello":
        if set(obj) != {"kind", "board"} or obj["board"] != board:
            raise InvalidMessage("bad_announcement", "hello for another board")
        return Announcement("hello", None, board=board)
    try:
        cid = parse_cid(obj.get("cid"))
    except CryptoError as exc:
        raise InvalidMessage("bad_cid", f"announced cid is not a CID: {exc}") from None
    if obj["kind"] == "head":
        if set(obj) != {"kind", "board", "cid"} or obj["board"] != board:
            raise InvalidMessage("bad_announcement", "head announcement for another board")
        return Announcement("head", cid, board=board)
    envelope = obj.get("envelope")
    if set(obj) != {"kind", "cid", "envelope"} or not isinstance(envelope, dict):
        raise InvalidMessage("bad_announcement", "message announcement without an envelope")
    if envelope.get("board") != board:
        raise InvalidMessage("wrong_board", "envelope is for another board than the topic")
    return Announcement("message", cid, envelope=envelope, board=board)
