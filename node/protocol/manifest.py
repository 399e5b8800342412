"""Head manifests (docs/PROTOCOL.md, "Head manifests and catch-up"): a node's signed page of
recent messages on a board, chained to the previous page, stored on IPFS as one raw block.

The envelopes are inline, not just their CIDs: a bitswap fetch costs ~260 ms, so a node that
missed a thousand messages fetches a handful of pages instead of a thousand blocks. Each
envelope still proves itself (signature, and its CID is recomputed from its bytes).

    {"v": 1, "kind": "onusone/head", "board": …, "seq": n, "ts": ms, "prev": CID | null,
     "pages": [CID of page n-1, n-2, …, at most SKIP_PAGES], "messages": [envelope, …],
     "pubkey": hex, "sig": hex}

``sig`` signs the canonical bytes of the manifest without ``sig``, like an envelope. ``pages``
(added after the first release, optional: manifests without it stay valid) lists the pages
before this one, newest first, so a node catching up learns ``SKIP_PAGES`` pages per fetch and
fetches them at once instead of one ``prev`` round trip at a time. Its first entry is ``prev``.
"""

from dataclasses import dataclass, field
from typing import Any

from crypto import Cid, CryptoError, NodeKey, canonical_bytes, cid_for_bytes, parse_cid
from crypto.keys import verify_signature
from node.protocol import strict_json
from node.protocol.envelope import HEX64, HEX128, InvalidMessage

KIND = "onusone/head"
PAGE_MESSAGES = 256
SKIP_PAGES = 32
# One raw block: js-ipfs and Kubo chunk at 256 KiB, so a smaller file keeps CID = sha256(bytes).
MAX_MANIFEST_BYTES = 250 * 1024
# A sealed page (one that a later page links to) is full: PAGE_MESSAGES envelopes, or so many
# bytes that the next envelope (at most 64 KiB) did not fit. Anything smaller is a chain of
# tiny pages that would cost a fetch per message: refused. The margin covers older budgets.
SEALED_MIN_BYTES = 160 * 1024
# A page holds envelopes two levels down (the page, its messages list): the same depth limit
# as an envelope on its own, counted from the page.
MAX_DEPTH = strict_json.MAX_DEPTH + 2
# seq and ts stay within what every JSON reader holds exactly (2**53 - 1): a chain position
# of 10**300 would be "pages pending" for ever.
MAX_INTEGER = 2**53 - 1
FIELDS = {"v", "kind", "board", "seq", "ts", "prev", "messages", "pubkey", "sig"}
OPTIONAL = {"pages"}


@dataclass(frozen=True)
class Manifest:
    board: str
    seq: int
    prev: Cid | None
    messages: list[dict[str, Any]]
    pubkey: str
    ts: int = 0
    pages: list[Cid] = field(default_factory=list)
    size: int = 0

    @property
    def full(self) -> bool:
        """What every sealed page of an honest chain is (see ``SEALED_MIN_BYTES``)."""
        return len(self.messages) >= PAGE_MESSAGES or self.size >= SEALED_MIN_BYTES


def manifest_size(messages: list[dict[str, Any]]) -> int:
    """An upper bound of the stored size, without the fixed fields (under 1 KiB)."""
    return sum(len(canonical_bytes(m)) + 1 for m in messages)


def build_manifest(
    key: NodeKey,
    board: str,
    seq: int,
    ts: int,
    prev: Cid | None,
    messages: list[dict[str, Any]],
    pages: list[Cid] | None = None,
) -> bytes:
    body = {
        "v": 1,
        "kind": KIND,
        "board": board,
        "seq": seq,
        "ts": ts,
        "prev": str(prev) if prev else None,
        "messages": messages,
        "pubkey": key.public_hex,
    }
    if pages is not None:
        body["pages"] = [str(cid) for cid in pages]
    return canonical_bytes({**body, "sig": key.sign(canonical_bytes(body))})


def _bad(detail: str) -> InvalidMessage:
    return InvalidMessage("bad_manifest", detail)


def parse_manifest(data: bytes, cid: Cid, board: str) -> Manifest:
    """Check the bytes against the CID they were fetched by, the JSON (strictly, as what a
    stranger sends: see ``node.protocol.strict_json``), the shape, and the signature."""
    if len(data) > MAX_MANIFEST_BYTES:
        raise _bad(f"manifest is over {MAX_MANIFEST_BYTES} bytes")
    if cid_for_bytes(data).to_bytes() != cid.to_bytes():
        raise _bad("manifest bytes do not match its CID")
    try:
        obj = strict_json.loads(data, MAX_DEPTH)
    except strict_json.JsonRefused as exc:
        raise _bad(f"manifest is not strict JSON ({exc.code}): {exc}") from None
    if (
        not isinstance(obj, dict)
        or not FIELDS <= set(obj) <= FIELDS | OPTIONAL
        or obj["kind"] != KIND
        or obj["v"] != 1
        or isinstance(obj["v"], bool)
    ):
        raise _bad("not a v1 head manifest")
    if obj["board"] != board:
        raise _bad("manifest is for another board")
    seq, ts = obj["seq"], obj["ts"]
    if not all(
        isinstance(n, int) and not isinstance(n, bool) and 0 <= n <= MAX_INTEGER for n in (seq, ts)
    ):
        raise _bad(f"seq and ts must be integers from 0 to {MAX_INTEGER}")
    if not isinstance(obj["messages"], list):
        raise _bad("messages must be a list")
    if len(obj["messages"]) > PAGE_MESSAGES:
        raise _bad(f"more than {PAGE_MESSAGES} messages in one page")
    pubkey, sig = obj["pubkey"], obj["sig"]
    if not isinstance(pubkey, str) or not HEX64.fullmatch(pubkey):
        raise _bad("pubkey must be 64 lowercase hex characters")
    if not isinstance(sig, str) or not HEX128.fullmatch(sig):
        raise _bad("sig must be 128 lowercase hex characters")
    body = {k: v for k, v in obj.items() if k != "sig"}
    try:
        if not verify_signature(pubkey, canonical_bytes(body), sig):
            raise _bad("manifest signature does not match")
        prev = parse_cid(obj["prev"]) if obj["prev"] is not None else None
        pages = _pages(obj.get("pages", []), prev, seq)
    except CryptoError as exc:
        raise _bad(str(exc)) from None
    return Manifest(board, seq, prev, obj["messages"], pubkey, ts, pages, len(data))


def _pages(raw: object, prev: Cid | None, seq: int) -> list[Cid]:
    """The skip list: at most ``SKIP_PAGES`` CIDs, one per earlier page, starting at ``prev``."""
    if not isinstance(raw, list) or len(raw) > min(SKIP_PAGES, seq):
        raise _bad(f"pages must list at most {SKIP_PAGES} earlier pages")
    if not all(isinstance(entry, str) for entry in raw):
        raise _bad("pages must be CID strings")
    pages = [parse_cid(entry) for entry in raw]
    if pages and (prev is None or pages[0].to_bytes() != prev.to_bytes()):
        raise _bad("the first of pages must be prev")
    if len({p.to_bytes() for p in pages}) != len(pages):
        raise _bad("pages lists a page twice")
    return pages
