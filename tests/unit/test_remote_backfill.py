"""The remote-pin backfill's rules on a real SQLite index and the real queue (the service is the
in-process fake of test_remote_pins; the real cluster is in tests/cluster)."""

import math
import uuid

import pytest

from crypto import canonical_bytes, cid_for_bytes, parse_cid
from node.http.network_health import network_health
from node.protocol.envelope import now_ms
from node.remote_pins.backfill import RemotePinBackfill, messages_key, pages_key
from node.remote_pins.status import pin_service_health
from node.toolkit.worker import run_forever
from storage.index import NewMessage, encode_cursor
from storage.sqlite_index import SqliteMessageIndex
from tests.conftest import signed_envelope
from tests.unit.test_remote_pins import FakeService, pinner

PAGE_CID = "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy"


def store(index, key, count: int, source: str = "local", pinned: bool = True) -> list[str]:
    batch = uuid.uuid4().hex  # every call its own messages (the same ms gives the same ts)
    envelopes = [signed_envelope(key, f"{source} {batch} {i}") for i in range(count)]
    cids = [str(cid_for_bytes(canonical_bytes(e))) for e in envelopes]
    index.add([NewMessage(c, e, source, now_ms()) for c, e in zip(cids, envelopes, strict=True)])
    for cid in cids if pinned else []:
        index.mark_pinned(cid)
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


def backfill(index, worker, chain=None, **kwargs) -> RemotePinBackfill:
    options = {"replicas": False, "rate": 1000.0, **kwargs}
    return RemotePinBackfill(index, worker, ["general"], chain or Chain([], None), **options)


@pytest.fixture
def index(tmp_path):
    index = SqliteMessageIndex(tmp_path / "index.sqlite3")
    yield index
    index.close()


@pytest.fixture
def worker(index):
    return pinner(index, FakeService().client())


@pytest.mark.parametrize("replicas", [False, True])
async def test_every_pinned_message_is_queued_once_replicas_only_when_asked(
    index, worker, user_key, replicas
):
    local = store(index, user_key, 5)
    others = store(index, user_key, 3, source="pubsub:12D3KooWpeer")
    waiting = store(index, user_key, 2, pinned=False)  # still in the outbox: requested later
    filler = backfill(index, worker, replicas=replicas)
    requested, complete = await filler.advance(100)
    assert complete and filler.done
    assert requested == len(local) + (len(others) if replicas else 0)
    assert all(index.remote_pin_get(c).kind == "message" for c in local)
    for cid in others:
        pin = index.remote_pin_get(cid)
        assert (pin is not None and pin.kind == "replica") if replicas else pin is None
    assert all(index.remote_pin_get(c) is None for c in waiting)
    assert await filler.advance(100) == (0, True), "the next pass starts after what it saw"


async def test_a_restarted_backfill_resumes_where_the_last_one_saved(index, worker, user_key):
    cids = store(index, user_key, 10)
    first = backfill(index, worker)
    assert await first.advance(4) == (4, False) and not first.done
    assert sum(index.remote_pin_get(c) is not None for c in cids) == 4
    again = backfill(index, worker)  # a new process on the same index
    assert await again.advance(100) == (6, True)
    assert all(index.remote_pin_get(c) is not None for c in cids)
    later = store(index, user_key, 2)
    assert await backfill(index, worker).advance(100) == (2, True)
    assert all(index.remote_pin_get(c) is not None for c in later)


async def test_requests_are_idempotent_a_pinned_entry_stays_pinned(index, worker, user_key):
    (cid,) = store(index, user_key, 1)
    worker.request(cid, "message")
    await worker.run_once()
    await worker.run_once(ignore_backoff=True)
    assert index.remote_pin_get(cid).state == "pinned"
    index.meta_set(messages_key("general"), encode_cursor([0]))  # as if never walked
    await backfill(index, worker).advance(100)
    assert index.remote_pin_get(cid).state == "pinned"


async def test_a_saved_position_the_index_does_not_know_starts_the_board_over(
    index, worker, user_key
):
    cids = store(index, user_key, 3)
    index.meta_set(messages_key("general"), encode_cursor([10_000]))  # ahead of the board
    assert await backfill(index, worker).advance(100) == (3, True)
    assert all(index.remote_pin_get(c) is not None for c in cids)


async def test_the_queue_never_holds_more_than_the_bound(index, worker, user_key):
    store(index, user_key, 12)
    filler = backfill(index, worker, max_backlog=5)
    assert await filler.run_until(math.inf) == 5
    assert worker.open_entries() == 5 and filler.room() == 0
    assert await filler.run_until(math.inf) == 0, "no room: nothing more this run"
    await worker.run_once()  # the service takes them (queued) …
    await worker.run_once(ignore_backoff=True)  # … and says pinned: room again
    assert filler.room() == 5
    assert await filler.run_until(math.inf) == 5


async def test_run_at_a_rate_ends_when_complete(index, worker, user_key):
    cids = store(index, user_key, 6)
    filler = backfill(index, worker, rate=50.0)
    await run_forever(filler)
    assert filler.done and filler.requested == 6
    assert all(index.remote_pin_get(c) is not None for c in cids)


async def test_pages_are_offered_and_the_next_walk_stops_at_the_saved_sealed_page(index, worker):
    sealed = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"
    chain = Chain([PAGE_CID], sealed)
    filler = backfill(index, worker, chain)
    assert await filler.advance(10) == (1, True)
    assert index.remote_pin_get(PAGE_CID).kind == "manifest"
    assert index.meta_get(pages_key("general")) == sealed
    await backfill(index, worker, chain).advance(10)
    assert chain.untils == [None, sealed]


async def settle(worker) -> None:
    """The worker sends what waits, then asks for the status (the fake pins at once)."""
    await worker.run_once(ignore_backoff=True)
    await worker.run_once(ignore_backoff=True)


async def test_a_new_service_gets_everything_again_even_what_the_old_one_pinned(index, user_key):
    cids = store(index, user_key, 3)
    old_service, new_service, third = FakeService(), FakeService(), FakeService()
    old = pinner(index, old_service.client(url="http://old"))
    await backfill(index, old).advance(100)
    await settle(old)
    assert set(old_service.pins) == set(cids)
    assert all(index.remote_pin_get(c).state == "pinned" for c in cids)

    new = pinner(index, new_service.client(url="http://new"))
    assert await backfill(index, new).advance(100) == (3, True)
    assert all(index.remote_pin_get(c).state == "waiting" for c in cids)
    await settle(new)
    assert set(new_service.pins) == set(cids)
    assert await backfill(index, new).advance(100) == (0, True), "that pass is over"
    assert all(index.remote_pin_get(c).state == "pinned" for c in cids)

    # A pass for a third service, cut short by a restart, goes on sending again.
    moved = pinner(index, third.client(url="http://third"))
    assert await backfill(index, moved).advance(1) == (1, False)
    assert await backfill(index, moved).advance(100) == (2, True)
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
