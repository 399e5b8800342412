"""A store as a whole on both backends: what one opening wrote, the next one reads; its size."""

from storage.ports.state import HeadState
from tests.storage.conftest import message


def test_contents_survive_reopening(open_store):
    first = open_store()
    m = message("durable")
    first.messages.add([m], outbox_at=10)
    first.heads.put("general", HeadState("bafk-head", None))
    first.close()
    again = open_store()
    assert again.messages.get(m.cid).envelope == m.envelope
    assert again.messages.count() == 1 and again.outbox.size() == 1
    assert again.heads.get("general") == HeadState("bafk-head", None)


def test_size_is_a_number(store):
    store.messages.add([message("a")])
    assert isinstance(store.size_bytes(), int) and store.size_bytes() >= 0
