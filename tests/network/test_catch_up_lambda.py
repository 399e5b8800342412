"""The Lambda path: ``node.runtime.scheduled.catch_up`` with no background loops, in a fresh
process state each run (a cold container), finishes a catch-up longer than one run over several
runs, from the frontiers the earlier runs saved, without fetching a page twice."""

import time
from collections.abc import Iterator

import pytest

from crypto import parse_cid
from node.protocol.manifest import PAGE_MESSAGES
from node.runtime.scheduled import catch_up
from node.runtime.services import NodeServices
from node.settings import Limits, Settings
from tests.support.history import history_envelopes, insert_history
from tests.support.network import Network, start_network

HISTORY = 2_000
# 2 pages a second, 2 a step: the 8 pages take ~4 s of walking, more than one run gives. No
# rate limits, as for every node process of the tests (``UNLIMITED``): one author wrote the whole
# history within a second, over the per-author limit on history taken in by sync.
SETTINGS = {
    "sync_depth": 2,
    "sync_rate": 2.0,
    "head_interval": 1.0,
    "limits": Limits(rate_limits=False),
}
LISTEN_SECONDS = 1.5
WALK_SECONDS = 1.0
MAX_RUNS = 12


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Network]:
    """A node on A; a bare daemon E next to it for the Lambda's remote Kubo."""
    network = start_network(tmp_path_factory.mktemp("lambda"), ["a", "e"], [("a", "e")], ["a"])
    try:
        yield network
    finally:
        network.stop()


def listed(services: NodeServices) -> set[bytes]:
    found, cursor = set(), None
    while True:
        page = services.store.messages.list_board("general", 200, cursor)
        found.update(parse_cid(m.cid).to_bytes() for m in page.messages)
        if page.next_cursor is None:
            return found
        cursor = page.next_cursor


async def test_long_catch_up_completes_over_several_runs_without_refetching(pair, tmp_path):
    history = insert_history(pair.nodes["a"].data_dir, history_envelopes(HISTORY, "lambda"))
    settings = Settings(
        ipfs_api=pair.daemons["e"].api_multiaddr, ipfs_api_set=True, data_dir=tmp_path, **SETTINGS
    )
    fetched, runs, have = [], 0, set()
    started = time.monotonic()
    while runs < MAX_RUNS and not history <= have:
        # Between runs nothing on E is subscribed, and A's mesh doctor may drop it as dead; a
        # real Lambda's Kubo is kept connected by its own peering config.
        pair.connect("e", "a")
        services = NodeServices.from_settings(settings)
        try:
            await catch_up(services, LISTEN_SECONDS, WALK_SECONDS)
            fetched.append(services.syncer.counters.pages_fetched)
            have = listed(services)
            status = services.syncer.status(["general"])["general"]
        finally:
            await services.stop()
        runs += 1
    print(f"\n{HISTORY} messages in {runs} runs, {time.monotonic() - started:.1f}s: {fetched}")
    assert history <= have
    assert runs >= 2, "the catch-up fitted in one run: it proves nothing about resuming"
    assert status["caughtUp"] and status["pagesPending"] == 0
    pages = -(-HISTORY // PAGE_MESSAGES) + 1
    # Each run may fetch a page it could not finish before its budget ran out; none refetches
    # the chain from its head (which would be ``pages`` per run).
    assert sum(fetched) <= pages + 2 * runs, fetched
