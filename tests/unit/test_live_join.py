"""The race a joining WebSocket client runs against a message being stored, made deterministic
in process: the message is stored right before, or right after, the connection reads its
backlog (by hooking that read of a real SQLite store). Either way it arrives exactly once."""

import json
import queue
import threading

import pytest
from starlette.testclient import TestClient

from crypto import NodeKey
from node.http.app import create_app
from node.protocol.envelope import VerifiedEnvelope, now_ms, verify
from node.runtime.ports import free_port
from node.runtime.services import NodeServices
from node.settings import Settings
from storage.ports.messages import NewMessage, StoredMessage
from tests.conftest import signed_envelope


@pytest.fixture
def services(tmp_path):
    """A node without background loops, whose daemon address answers nothing."""
    settings = Settings(ipfs_api=f"http://127.0.0.1:{free_port()}", data_dir=tmp_path)
    services = NodeServices.from_settings(settings, background=False)
    yield services
    services.store.close()


def next_cids(ws, timeout: float = 10.0) -> list[str]:
    """The CIDs of the next ``messages`` event; fails (rather than hangs) after ``timeout``."""
    found: queue.Queue[list[str]] = queue.Queue()

    def receive() -> None:
        while (event := json.loads(ws.receive_text()))["type"] != "messages":
            pass
        found.put([m["cid"] for m in event["messages"]])

    threading.Thread(target=receive, daemon=True).start()
    try:
        return found.get(timeout=timeout)
    except queue.Empty:
        raise AssertionError(f"no messages event within {timeout}s") from None


def store_now(services: NodeServices, verified: VerifiedEnvelope) -> None:
    """What ``BroadcastPipeline.accept`` does, without leaving the event loop's thread: the
    hooked read below runs inside the connection's handler and cannot await."""
    message = NewMessage(str(verified.cid), verified.envelope, "local", now_ms())
    assert services.store.messages.add([message], outbox_at=now_ms()) == [True]
    services.bus.publish_message(
        StoredMessage.from_envelope(message.cid, message.envelope, message.received_at, "local")
    )


@pytest.mark.parametrize("stored", ["before_the_backlog_read", "after_the_backlog_read"])
def test_a_message_stored_while_a_client_joins_arrives_exactly_once(services, stored):
    key = NodeKey.generate()
    client = TestClient(create_app(services))
    cursor = services.store.messages.latest_cursor("general") or ""
    racing = verify(signed_envelope(key, "stored while the client joins"), new_post=True)
    read_backlog = services.store.messages.list_since

    def list_since(board: str, since: str | None, limit: int, max_bytes: int | None = None):
        services.store.messages.list_since = read_backlog  # only the joining connection's read
        if stored == "before_the_backlog_read":
            store_now(services, racing)
        page = read_backlog(board, since, limit, max_bytes)
        if stored == "after_the_backlog_read":
            store_now(services, racing)
        return page

    first = verify(signed_envelope(key, "already there"), new_post=True)
    store_now(services, first)
    services.store.messages.list_since = list_since
    with client.websocket_connect(f"/ws?board=general&since={cursor}") as ws:
        assert json.loads(ws.receive_text())["type"] == "hello"
        # Nothing else is posted until the racing message arrived: it needs no later wake-up.
        received = next_cids(ws)
        if str(racing.cid) not in received:
            received += next_cids(ws)
        assert received == [str(first.cid), str(racing.cid)]
        later = signed_envelope(key, "after the join")
        assert client.post("/api/broadcast", json=later).status_code == 202
        assert next_cids(ws) == [str(verify(later, new_post=True).cid)]
