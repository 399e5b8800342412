"""One record per chain: its backoff doubles up to a cap and clears after a walk that ends
well; a head walk that found nothing new spaces the chain's next head walk, unless a run
drains its queue or the chain still has gaps."""

import time

from node.network.chain_record import (
    MAX_RETRY_SECONDS,
    PEER_WALK_SECONDS,
    RETRY_SECONDS,
    ChainRecord,
)
from node.network.frontier import Chain, Gap


def record(**chain) -> ChainRecord:
    return ChainRecord(Chain("peer", "general", **chain))


def test_backoff_doubles_to_its_cap_and_clears_after_a_walk():
    chain = record()
    assert [chain.stopped() for _ in range(6)] == [
        RETRY_SECONDS,
        2 * RETRY_SECONDS,
        4 * RETRY_SECONDS,
        8 * RETRY_SECONDS,
        16 * RETRY_SECONDS,
        MAX_RETRY_SECONDS,
    ]
    assert chain.ready_at(draining=True) > time.monotonic() + MAX_RETRY_SECONDS - 1
    chain.walked()
    assert chain.failures == 0 and chain.ready_at(draining=False) == 0.0
    chain.failed()  # something unforeseen: the longest wait, not one more doubling
    assert chain.failures == 0
    assert chain.ready_at(draining=False) > time.monotonic() + MAX_RETRY_SECONDS - 1


def test_a_head_walk_that_found_nothing_spaces_the_next_one():
    chain = record(pending="newer")
    assert chain.head_due(draining=False)
    started = time.monotonic()
    chain.head_walked(started, new=0)
    chain.chain.pending = "newest"
    assert chain.kept_live and not chain.head_due(draining=False)
    assert chain.ready_at(draining=False) == started + PEER_WALK_SECONDS
    assert chain.head_due(draining=True) and chain.ready_at(draining=True) == 0.0
    chain.chain.gaps.append(Gap("older", 3))  # history missing: walked at once
    assert not chain.kept_live and chain.ready_at(draining=False) == 0.0
    chain.head_walked(started, new=5)  # it was behind: its next head is walked at once
    assert chain.head_due(draining=False)


def test_no_head_waiting_is_no_head_walk():
    assert not record().head_due(draining=True)
