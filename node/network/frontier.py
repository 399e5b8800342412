"""What a node knows of one peer's chain of head manifests on one board, kept in the store
(``SyncFrontiers``) so that catch-up resumes after a restart and across Lambda runs.

The chain is a line of pages, newest first. Every page between the newest head walked and the
chain's first page is either walked or inside a *gap*: a stretch from ``next`` (the oldest page
not yet walked, the frontier) down to ``until`` (a page walked before, or the first page). A
new head opens a gap from itself down to ``top`` (the newest sealed page walked), so only new
pages are fetched; the chain is complete when it has no gaps and no head waiting. Heads are
ordered by their signed ``ts``: pubsub may deliver an older head after a newer one (seen on
js-ipfs: a head published just before a node subscribed reached it after the next one), and
that one is ignored.
"""

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from node.protocol.manifest import PAGE_MESSAGES


@dataclass
class Gap:
    """Pages still to walk: from ``next`` (of sequence number ``seq``; None for a head not
    fetched yet) down to ``until`` exclusive (None: down to the chain's first page)."""

    next: str
    seq: int | None
    until: str | None = None
    until_seq: int = -1

    def pages(self) -> int | None:
        return None if self.seq is None else max(0, self.seq - self.until_seq)


@dataclass
class Chain:
    peer: str
    board: str
    pubkey: str | None = None
    head: str | None = None  # newest head walked: the same head announced again is skipped
    head_ts: int = 0  # its signed ``ts``: an older head delivered late is not a rebuilt chain
    top: str | None = None  # newest sealed page walked: where the next head's walk stops
    top_seq: int = -1
    pending: str | None = None  # newest head announced and not walked yet
    gaps: list[Gap] = field(default_factory=list)
    # When its walks began to end on pages nobody served (ms since the epoch), 0 while they
    # walk pages: kept across restarts, so that a chain stuck for good is dropped in the end.
    stalled_since: int = 0

    @property
    def key(self) -> tuple[str, str]:
        return (self.peer, self.board)

    @property
    def complete(self) -> bool:
        return self.pending is None and not self.gaps

    def walking_head(self, cid: str) -> bool:
        """A head whose walk is under way or waits for a retry (its page not fetched yet)."""
        return any(gap.seq is None and gap.next == cid for gap in self.gaps)

    def pages_pending(self) -> tuple[int, bool]:
        """Pages known to be missing, and whether that count is exact (a head not fetched yet
        counts as one page of unknown length)."""
        counts = [gap.pages() for gap in self.gaps]
        exact = self.pending is None and None not in counts
        return sum(c if c is not None else 1 for c in counts) + (self.pending is not None), exact

    def messages_pending(self) -> int | None:
        """At most this many messages (sealed pages are full); None while a length is unknown."""
        pages, exact = self.pages_pending()
        return pages * PAGE_MESSAGES if exact else None

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> "Chain":
        data: dict[str, Any] = json.loads(text)
        data.pop("failure", None)  # saved by earlier releases, never read
        gaps = [Gap(**gap) for gap in data.pop("gaps", [])]
        return cls(**data, gaps=gaps)
