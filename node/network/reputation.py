"""Peer reputation, 0–100, from what a peer actually relayed to this node.

``reputation = round(100 * (valid + 1) / (valid + 5 * invalid + 2))``

A peer we know nothing about scores 50. Every valid message nudges it towards 100; every
invalid one (bad signature, CID mismatch, junk, oversized…) counts five times as much against
it, so a peer that relays one forgery per four good messages stays at or below 50.

Reputation changes behaviour: a peer is put in cool-down (its announcements dropped, its head
manifests not synced) when it has sent at least ``MIN_INVALID`` invalid messages, scores below
``IGNORE_BELOW``, and is at least ``FAR_BELOW`` points under the baseline: the median of the
established peers, those that delivered at least one message new to this node (50, the score of
an unknown peer, when there are none). Peer ids cost nothing, so peers that never delivered
anything new do not count: a crowd of low-scoring sybils cannot drag the baseline down until
nobody is ever ignored. One bad message from an honest peer never does it.
"""

from statistics import median

from storage.ports.peers import PeerStats

INVALID_WEIGHT = 5
NEUTRAL = 50
MIN_INVALID = 3
IGNORE_BELOW = 25
FAR_BELOW = 30


def reputation(stats: PeerStats | None) -> int:
    valid = stats.valid if stats else 0
    invalid = stats.invalid if stats else 0
    return round(100 * (valid + 1) / (valid + INVALID_WEIGHT * invalid + 2))


def established(stats: PeerStats) -> bool:
    """A peer that delivered at least one message new to this node: it counts in the baseline."""
    return stats.first_deliveries > 0


def baseline(reputations: list[int]) -> float:
    """What a peer is compared with: the median of the established peers' reputations."""
    return median(reputations) if reputations else NEUTRAL


def earns_cool_down(stats: PeerStats, baseline: float) -> bool:
    """True when ``stats`` earn a cool-down, compared with the ``baseline``."""
    if stats.invalid < MIN_INVALID:
        return False
    score = reputation(stats)
    return score < IGNORE_BELOW and score <= baseline - FAR_BELOW
