"""Peer reputation, 0–100, from what a peer actually relayed to this node.

``reputation = round(100 * (valid + 1) / (valid + 5 * invalid + 2))``

A peer we know nothing about scores 50. Every valid message nudges it towards 100; every
invalid one (bad signature, CID mismatch, junk, oversized…) counts five times as much against
it, so a peer that relays one forgery per four good messages stays at or below 50.
"""

from storage.index import PeerStats

INVALID_WEIGHT = 5


def reputation(stats: PeerStats | None) -> int:
    valid = stats.valid if stats else 0
    invalid = stats.invalid if stats else 0
    return round(100 * (valid + 1) / (valid + INVALID_WEIGHT * invalid + 2))
