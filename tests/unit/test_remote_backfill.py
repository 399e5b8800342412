"""The remote-pin backfill's rules on a real SQLite store and the real queue (the service is the
in-process fake of test_remote_pins; the real cluster is in tests/cluster)."""

import math
import uuid

import pytest

from crypto import canonical_bytes, cid_for_bytes, parse_cid
from node.http.network_health import network_health
from node.protocol.envelope import now_ms
from node.remote_pins.backfill import RemotePinBackfill
from node.remote_pins.status import pin_service_health
from node.toolkit.worker import run_forever
from storage.cursors import encode_cursor
from storage.ports.messages import NewMessage
from storage.sqlite.store import SqliteStore
from tests.conftest import signed_envelope
from tests.unit.test_remote_pins import FakeService, pinner

PAGE_CID = "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy"


def add_messages(store, key, count: int, source: str = "local", pinned: bool = True) -> list[str]:
    batch = uuid.uuid4().hex  # every call its own messages (the same ms gives the same ts)
    envelopes = [signed_envelope(key, f"{source} {batch} {i}") for i in range(count)]
    cids = [str(cid_for_bytes(canonical_bytes(e))) for e in envelopes]
    store.messages.add(
        [NewMessage(c, e, source, now_ms()) for c, e in zip(cids, envelopes, strict=True)]
    )
    for cid in cids if pinned else []:
        store.messages.mark_pinned(cid)
    return cids


class Chain:
    """Stands in for HeadPublisher.walk_chain: a chain of one page, sealed boundary ``sealed``."""

    def __init__(self, pages: list[str], sealed: str | None) -> None:
        self.pages, self.sealed, self.untils = pages, sealed, []

    async def __call__(self, board, until, visit):
        self.untils.append(None if until is None else str(until))
        for page in self.pages:
            visit(parse_cid(page))
        return parse_cid(self.sealed) if self.sealed else until


def backfill(store, worker, chain=None, **kwargs) -> RemotePinBackfill:
    options = {"replicas": False, "rate": 1000.0, **kwargs}
    return RemotePinBackfill(
        store.messages, store.backfill, worker, ["general"], chain or Chain([], None), **options
    )


@pytest.fixture
def store(tmp_path):
    store = SqliteStore(tmp_path / "index.sqlite3")
    yield store
    store.close()


@pytest.fixture
def worker(store):
    return pinner(store, FakeService().client())


@pytest.mark.parametrize("replicas", [False, True])
async def test_every_pinned_message_is_queued_once_replicas_only_when_asked(
    store, worker, user_key, replicas
):
    local = add_messages(store, user_key, 5)
    others = add_messages(store, user_key, 3, source="pubsub:12D3KooWpeer")
    waiting = add_messages(store, user_key, 2, pinned=False)  # still in the outbox: requested later
    filler = backfill(store, worker, replicas=replicas)
    requested, complete = await filler.advance(100)
    assert complete and filler.done
    assert requested == len(local) + (len(others) if replicas else 0)
    assert all(store.remote_pins.get(c).kind == "message" for c in local)
    for cid in others:
        pin = store.remote_pins.get(cid)
        assert (pin is not None and pin.kind == "replica") if replicas else pin is None
    assert all(store.remote_pins.get(c) is None for c in waiting)
    assert await filler.advance(100) == (0, True), "the next pass starts after what it saw"


async def test_a_restarted_backfill_resumes_where_the_last_one_saved(store, worker, user_key):
    cids = add_messages(store, user_key, 10)
    first = backfill(store, worker)
    assert await first.advance(4) == (4, False) and not first.done
    assert sum(store.remote_pins.get(c) is not None for c in cids) == 4
    again = backfill(store, worker)  # a new process on the same store
    assert await again.advance(100) == (6, True)
    assert all(store.remote_pins.get(c) is not None for c in cids)
    later = add_messages(store, user_key, 2)
    assert await backfill(store, worker).advance(100) == (2, True)
    assert all(store.remote_pins.get(c) is not None for c in later)


async def test_requests_are_idempotent_a_pinned_entry_stays_pinned(store, worker, user_key):
    (cid,) = add_messages(store, user_key, 1)
    worker.request(cid, "message")
    await worker.run_once()
    await worker.run_once(ignore_backoff=True)
    assert store.remote_pins.get(cid).state == "pinned"
    store.backfill.set_cursor("general", encode_cursor([0]))  # as if never walked
    await backfill(store, worker).advance(100)
    assert store.remote_pins.get(cid).state == "pinned"


async def test_a_saved_position_the_index_does_not_know_starts_the_board_over(
    store, worker, user_key
):
    cids = add_messages(store, user_key, 3)
    store.backfill.set_cursor("general", encode_cursor([10_000]))  # ahead of the board
    assert await backfill(store, worker).advance(100) == (3, True)
    assert all(store.remote_pins.get(c) is not None for c in cids)


async def test_the_queue_never_holds_more_than_the_bound(store, worker, user_key):
    add_messages(store, user_key, 12)
    filler = backfill(store, worker, max_backlog=5)
    assert await filler.run_until(math.inf) == 5
    assert worker.open_entries() == 5 and filler.room() == 0
    assert await filler.run_until(math.inf) == 0, "no room: nothing more this run"
    await worker.run_once()  # the service takes them (queued) …
    await worker.run_once(ignore_backoff=True)  # … and says pinned: room again
    assert filler.room() == 5
    assert await filler.run_until(math.inf) == 5


async def test_run_at_a_rate_ends_when_complete(store, worker, user_key):
    cids = add_messages(store, user_key, 6)
    filler = backfill(store, worker, rate=50.0)
    await run_forever(filler)
    assert filler.done and filler.requested == 6
    assert all(store.remote_pins.get(c) is not None for c in cids)


async def test_pages_are_offered_and_the_next_walk_stops_at_the_saved_sealed_page(store, worker):
    sealed = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"
    chain = Chain([PAGE_CID], sealed)
    filler = backfill(store, worker, chain)
    assert await filler.advance(10) == (1, True)
    assert store.remote_pins.get(PAGE_CID).kind == "manifest"
    assert store.backfill.sealed_page("general") == sealed
    await backfill(store, worker, chain).advance(10)
    assert chain.untils == [None, sealed]


async def settle(worker) -> None:
    """The worker sends what waits, then asks for the status (the fake pins at once)."""
    await worker.run_once(ignore_backoff=True)
    await worker.run_once(ignore_backoff=True)


async def test_a_new_service_gets_everything_again_even_what_the_old_one_pinned(store, user_key):
    cids = add_messages(store, user_key, 3)
    old_service, new_service, third = FakeService(), FakeService(), FakeService()
    old = pinner(store, old_service.client(url="http://old"))
    await backfill(store, old).advance(100)
    await settle(old)
    assert set(old_service.pins) == set(cids)
    assert all(store.remote_pins.get(c).state == "pinned" for c in cids)

    new = pinner(store, new_service.client(url="http://new"))
    assert await backfill(store, new).advance(100) == (3, True)
    assert all(store.remote_pins.get(c).state == "waiting" for c in cids)
    await settle(new)
    assert set(new_service.pins) == set(cids)
    assert await backfill(store, new).advance(100) == (0, True), "that pass is over"
    assert all(store.remote_pins.get(c).state == "pinned" for c in cids)

    # A pass for a third service, cut short by a restart, goes on sending again.
    moved = pinner(store, third.client(url="http://third"))
    assert await backfill(store, moved).advance(1) == (1, False)
    assert await backfill(store, moved).advance(100) == (2, True)
    await settle(moved)
    assert set(third.pins) == set(cids)


def test_pin_service_health_and_what_it_does_to_network_health():
    assert pin_service_health("ok", 3, 10) == "ok"
    assert pin_service_health("idle", 0, 10) == "idle"
    assert pin_service_health("ok", 11, 10) == "backlog"
    assert pin_service_health("unreachable", 11, 10) == "unreachable"
    assert pin_service_health("unauthorized", 0, 10) == "unauthorized"
    assert network_health(True, 3, 0, True, pin_service_ok=True) == "excellent"
    assert network_health(True, 3, 0, True, pin_service_ok=False) == "degraded"
    assert network_health(False, 3, 0, True, pin_service_ok=False) == "offline"
