"""Rate limits are on by default: per client address, per author key, per API token (a larger
budget), per address for reads, and over pubsub per peer and per author. Over a limit: 429
``rate_limited`` with ``Retry-After``, or a counted pubsub drop."""

from concurrent.futures import ThreadPoolExecutor

import pytest

from crypto import NodeKey, canonical_bytes, cid_for_bytes
from node.network.ingest import Ingestor
from node.network.peerbook import PeerBook
from node.network.replicator import Replicator
from node.protocol.announcement import message_announcement
from node.runtime.builders import rate_limiter
from node.settings import Limits, Settings, SettingsError
from node.toolkit.events import MessageBus
from storage.ipfs import IpfsClient, PubsubMessage
from storage.sqlite.store import SqliteStore
from tests.conftest import signed_envelope
from tests.hardening.conftest import from_address

TOKEN = "board-backend"
PLAIN = {"type": "message", "content": "for a user", "author": "bob"}


def assert_rate_limited(response) -> None:
    assert response.status_code == 429, response.text
    assert response.json()["error"] == "rate_limited" and response.json()["detail"]
    assert int(response.headers["Retry-After"]) >= 1


def test_limits_are_on_by_default_and_bad_ones_refused():
    limits = Settings.from_env({}).limits
    assert limits.rate_limits and limits.rate_address and limits.rate_author
    assert limits.rate_sync_author == limits.rate_token  # the most an honest node lets in
    for env in (
        {"RATE_LIMIT_ADDRESS": "lots"},
        {"RATE_LIMIT_SYNC_AUTHOR": "lots"},
        {"RATE_LIMITS": "maybe"},
        {"TRUSTED_PROXIES": "x"},
    ):
        with pytest.raises(SettingsError):
            Settings.from_env(env)


@pytest.fixture
def node(offline_factory):
    return offline_factory({"API_TOKENS": TOKEN})


def test_fresh_keys_from_one_address_are_throttled_and_others_are_not(node):
    with from_address(node, "127.0.0.1") as attacker, from_address(node, "127.0.0.9") as honest:
        statuses = []
        for i in range(40):
            answer = attacker.post(
                "/api/broadcast", json=signed_envelope(NodeKey.generate(), f"{i}")
            )
            statuses.append(answer.status_code)
        assert statuses[:30] == [202] * 30 and set(statuses[30:]) == {429}
        assert_rate_limited(answer)
        mine = honest.post("/api/broadcast", json=signed_envelope(NodeKey.generate(), "hi"))
        assert mine.status_code == 202, mine.text


def test_one_key_from_many_addresses_is_throttled(node):
    key = NodeKey.generate()
    statuses = []
    for i in range(25):
        with from_address(node, f"127.0.1.{i + 1}") as client:
            answer = client.post("/api/broadcast", json=signed_envelope(key, f"{i}"))
            statuses.append(answer.status_code)
    assert statuses[:20] == [202] * 20 and set(statuses[20:]) == {429}
    assert_rate_limited(answer)


def test_an_api_token_has_its_own_larger_budget(node):
    auth = {"Authorization": f"Bearer {TOKEN}"}
    with from_address(node, "127.0.2.1") as backend, ThreadPoolExecutor(4) as pool:
        answers = list(
            pool.map(
                lambda i: backend.post(
                    "/api/broadcast", json={**PLAIN, "id": str(i)}, headers=auth
                ),
                range(60),
            )
        )
    assert [a.status_code for a in answers] == [202] * 60


def test_forged_forwarded_for_is_ignored_unless_the_proxy_is_trusted(offline_factory):
    plain = offline_factory({"RATE_LIMIT_ADDRESS": "3/minute"})
    proxied = offline_factory({"RATE_LIMIT_ADDRESS": "3/minute", "TRUSTED_PROXIES": "127.0.0.1"})
    for node, expected in ((plain, [202, 202, 202, 429, 429]), (proxied, [202] * 5)):
        statuses = [
            node.post(
                "/api/broadcast",
                json=signed_envelope(NodeKey.generate(), f"{i}"),
                headers={"X-Forwarded-For": f"198.51.100.{i}"},
            ).status_code
            for i in range(5)
        ]
        assert statuses == expected


def test_reads_have_a_budget_per_address_but_health_does_not(offline_factory):
    node = offline_factory({"RATE_LIMIT_READS": "5/minute"})
    with from_address(node, "127.0.3.1") as client:
        statuses = [client.get("/api/status").status_code for _ in range(7)]
        assert statuses == [200] * 5 + [429] * 2
        assert_rate_limited(client.get("/api/messages"))
        assert client.get("/health").status_code == 200
    with from_address(node, "127.0.3.2") as other:
        assert other.get("/api/status").status_code == 200


@pytest.fixture
def ingest(tmp_path):
    store = SqliteStore(tmp_path / "index.sqlite3")
    limits = Limits(rate_peer="50/minute", rate_peer_author="10/minute")
    ingestor = Ingestor(
        store.messages,
        MessageBus(),
        PeerBook(store.peers),
        Replicator(store.messages, IpfsClient("http://127.0.0.1:9")),
        boards=["general"],
        limiter=rate_limiter(limits),
    )
    yield ingestor
    store.close()


def announce(key: NodeKey, content: str) -> bytes:
    envelope = signed_envelope(key, content)
    return message_announcement(cid_for_bytes(canonical_bytes(envelope)), envelope)


async def test_pubsub_is_limited_per_author_and_per_peer(ingest):
    author = NodeKey.generate()
    results = [
        ingest.receive(PubsubMessage(f"12D3KooWRelay{i}", announce(author, f"a{i}"), 1), "general")
        for i in range(15)
    ]
    assert results[:10] == ["accepted"] * 10 and set(results[10:]) == {"rate_limited"}
    results = [
        ingest.receive(
            PubsubMessage("12D3KooWFlood", announce(NodeKey.generate(), f"p{i}"), 1), "general"
        )
        for i in range(60)
    ]
    assert results[:50] == ["accepted"] * 50 and set(results[50:]) == {"rate_limited"}
    assert ingest.peers.snapshot()["12D3KooWFlood"].invalid_reasons == {"rate_limited": 10}
