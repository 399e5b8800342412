"""``RemotePinQueue`` on both stores: wanted, followed by conditional updates, released,
resent to a new service, and what survives reopening."""

from dataclasses import replace

from storage.ports.remote_pins import NEVER, RemotePin
from tests.storage.conftest import message


def test_remote_pins_queue_follow_and_release(open_store):
    first = open_store()
    queue = first.remote_pins
    a, b, c = (message(name).cid for name in ("a", "b", "c"))
    assert queue.get(a) is None and queue.counts() == {}
    queue.want(a, "message", 1_000)
    queue.want(b, "manifest", 2_000)
    queue.want(a, "message", 5)  # idempotent: keeps its due time
    assert queue.get(a) == RemotePin(a, "message", "waiting", "", 0, 1_000, "", 1_000)
    assert queue.due(999, 10) == []
    assert [p.cid for p in queue.due(2_000, 10)] == [a, b]
    assert queue.counts() == {"waiting": 2}

    # Accepted by the service, then followed to pinned; a stale writer loses.
    queued = RemotePin(a, "message", "queued", a, 0, 3_000, "", 1_100)
    assert queue.update(queued, "waiting")
    assert not queue.update(replace(queued, state="failed"), "waiting")
    pinned = replace(queued, state="pinned", next_attempt_at=NEVER, updated_at=3_100)
    assert queue.update(pinned, "queued")
    assert queue.get(a) == pinned
    assert [p.cid for p in queue.due(NEVER, 10)] == [b]
    assert queue.counts() == {"waiting": 1}

    # Release: a pin never sent is forgotten; a pinned one goes to unpinning, and survives.
    queue.release(b, 4_000)
    queue.release(c, 4_000)
    assert queue.get(b) is None and queue.get(c) is None
    queue.release(a, 4_000)
    first.close()
    again = open_store().remote_pins
    unpinning = again.get(a)
    assert (unpinning.state, unpinning.request_id, unpinning.next_attempt_at) == (
        "unpinning",
        a,
        4_000,
    )
    assert [p.cid for p in again.due(4_000, 10)] == [a]
    assert again.counts() == {"unpinning": 1}
    # Wanted again while unpinning: back to waiting; then released and removed for good.
    again.want(a, "message", 4_500)
    assert again.get(a).state == "waiting"
    assert again.update(replace(unpinning, state="unpinning"), "waiting")
    assert not again.forget(a, "queued")
    assert again.forget(a, "unpinning")
    assert again.get(a) is None and again.counts() == {}


def test_remote_pin_sent_again_is_unpinned_on_release(store):
    queue = store.remote_pins
    cid = message("resent").cid
    queue.want(cid, "manifest", 1_000)
    resent = RemotePin(cid, "manifest", "waiting", "request-1", 4, 2_000, "", 1_500)
    assert queue.update(resent, "waiting")
    queue.release(cid, 3_000)
    released = queue.get(cid)
    assert (released.state, released.request_id) == ("unpinning", "request-1")


def test_remote_pin_resend_forgets_what_the_old_service_said(store):
    queue = store.remote_pins
    pinned, fresh = message("at the old service").cid, message("never sent").cid
    queue.want(pinned, "message", 1_000)
    done = RemotePin(pinned, "message", "pinned", "old-request", 3, NEVER, "", 1_500)
    assert queue.update(done, "waiting")
    assert queue.due(NEVER - 1, 10) == []
    queue.resend(pinned, "message", 2_000)
    queue.resend(fresh, "manifest", 2_000)
    assert queue.get(pinned) == RemotePin(pinned, "message", "waiting", "", 0, 2_000, "", 2_000)
    assert queue.get(fresh) == RemotePin(fresh, "manifest", "waiting", "", 0, 2_000, "", 2_000)
    assert {p.cid for p in queue.due(2_000, 10)} == {pinned, fresh}
    assert queue.counts() == {"waiting": 2}
