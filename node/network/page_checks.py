"""The rules a page of a peer's chain keeps to be walked: its CID, signature and board (checked
by ``parse_manifest``), the chain's key, the expected sequence number, sealed pages full, skip
lists that agree with each other, and entries that are valid envelopes of the board. A page
that breaks one counts against the peer that announced the chain and ends that chain's walk, as
does anything unforeseen in what the peer served (``peer_data``)."""

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from crypto import Cid
from node.network.frontier import Chain, Gap
from node.protocol.envelope import InvalidMessage, VerifiedEnvelope, verify
from node.protocol.manifest import Manifest, parse_manifest

log = logging.getLogger("node.network.sync")  # one logger for all of catch-up

# The pages a walk will fetch, in order: each page's CID and expected sequence number (None for
# a head, whose place in the chain is learnt from the page itself).
Plan = list[tuple[Cid, int | None]]


class BadPage(Exception):
    """A page that breaks the chain's rules: counted against the peer, ends the walk."""


@contextmanager
def peer_data() -> Iterator[None]:
    """Around the checks of what a peer served: a failure no rule foresaw is a bad page too,
    counted against the peer like any other, not a traceback and a silent retry."""
    try:
        yield
    except (InvalidMessage, BadPage):
        raise
    except Exception as exc:
        log.debug("sync: unexpected failure on a page", exc_info=True)
        raise InvalidMessage("bad_manifest", f"unexpected {type(exc).__name__}: {exc}") from None


def check_page(
    chain: Chain, gap: Gap, cid: Cid, expected: int | None, data: bytes
) -> Manifest | None:
    """The page, if it keeps the chain's rules; None for a head older than the one walked
    (its pages are walked or in a gap already). A head of a new key, or of a chain its author
    rebuilt, makes ``gap`` the chain's only gap, down to its first page."""
    manifest = parse_manifest(data, cid, chain.board)
    if expected is None:
        if (
            manifest.pubkey == chain.pubkey
            and manifest.ts < chain.head_ts
            and manifest.seq <= chain.top_seq + 1
        ):
            log.debug("head %s of %s on %s is older than %s", cid, *chain.key, chain.head)
            return None
        if chain.pubkey != manifest.pubkey or manifest.seq <= gap.until_seq:
            # A new key, or a chain its author rebuilt: walk it whole.
            chain.pubkey, chain.gaps[:] = manifest.pubkey, [gap]
            gap.until, gap.until_seq = None, -1
        return manifest
    if manifest.pubkey != chain.pubkey:
        raise BadPage("a page of the chain is signed by another key")
    if manifest.seq != expected:
        raise BadPage(f"page has seq {manifest.seq} where {expected} was linked")
    if not manifest.full:
        raise BadPage("a sealed page is not full (a chain of tiny pages)")
    return manifest


def extend_plan(plan: Plan, at: int, page: Manifest, gap: Gap) -> None:
    """Add the pages ``page`` (at position ``at`` of the plan) lists, its skip list or just
    ``prev``, down to the end of ``gap``; they must agree with what the pages after it listed."""
    listed = page.pages or ([page.prev] if page.prev else [])
    for offset, cid in enumerate(listed, start=1):
        seq = page.seq - offset
        if seq <= gap.until_seq or str(cid) == gap.until:
            return
        position = at + offset
        if position < len(plan):
            if plan[position][0].to_bytes() != cid.to_bytes():
                raise BadPage("skip lists of two pages disagree")
        else:
            plan.append((cid, seq))


def ends_gap(page: Manifest, gap: Gap) -> bool:
    return page.prev is None or str(page.prev) == gap.until or page.seq - 1 <= gap.until_seq


def verify_entry(envelope: object, board: str) -> VerifiedEnvelope:
    """One entry of a page: a valid envelope of the page's board."""
    if not isinstance(envelope, dict):
        raise InvalidMessage("bad_manifest", "a manifest entry is not an envelope")
    with peer_data():
        verified = verify(envelope, new_post=False)
    if envelope["board"] != board:
        raise InvalidMessage("bad_manifest", "a manifest entry is for another board")
    return verified
