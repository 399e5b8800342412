"""Reputation formula, cool-down rule, and batched persistence of peer counters."""

from node.network import peerbook
from node.network.peerbook import COOL_DOWN_SECONDS, PeerBook
from node.network.reputation import baseline, earns_cool_down, reputation
from storage.ports.peers import PeerStats
from storage.sqlite.peers import SqlitePeers
from storage.sqlite.store import SqliteStore


def test_formula():
    assert reputation(None) == 50
    assert reputation(PeerStats("p", valid=98)) == 99
    assert reputation(PeerStats("p", valid=4, invalid=1)) == 45
    assert reputation(PeerStats("p", invalid=3)) == 6


def test_cool_down_needs_evidence_and_distance_from_the_others():
    assert not earns_cool_down(PeerStats("p", invalid=2), baseline([90]))
    assert earns_cool_down(PeerStats("p", invalid=3), baseline([90]))
    assert earns_cool_down(PeerStats("p", invalid=3), baseline([]))
    assert not earns_cool_down(PeerStats("p", invalid=3), baseline([20, 30]))
    assert not earns_cool_down(PeerStats("p", valid=100, invalid=3), baseline([99]))


class CountingPeers(SqlitePeers):
    writes = 0

    def record(self, stats):
        self.writes += 1
        super().record(stats)


async def test_counters_are_flushed_once_per_peer_and_survive_a_restart(tmp_path):
    store = SqliteStore(tmp_path / "i.sqlite3")
    peers = CountingPeers(store.db)
    book = PeerBook(peers)
    for _ in range(1000):
        book.valid("a")
    book.first_deliveries("a", 10)
    book.invalid("b", "bad_signature")
    assert peers.writes == 0
    assert await book.flush() == 2 and peers.writes == 2
    store.close()

    reopened = PeerBook(SqliteStore(tmp_path / "i.sqlite3").peers)
    stats = reopened.snapshot()
    assert (stats["a"].valid, stats["a"].first_deliveries) == (1000, 10)
    assert stats["b"].invalid_reasons == {"bad_signature": 1}
    assert stats["a"].last_seen >= stats["a"].first_seen > 0


def test_cool_down_lasts_its_time_then_expires(tmp_path, monkeypatch):
    now = [5000.0]
    monkeypatch.setattr(peerbook.time, "monotonic", lambda: now[0])
    book = PeerBook(SqliteStore(tmp_path / "i.sqlite3").peers, cool_down=COOL_DOWN_SECONDS)
    book.valid("honest")
    for _ in range(2):
        book.invalid("bad", "invalid_json")
    assert not book.ignored("bad"), "two invalid messages are not enough"
    book.invalid("bad", "invalid_json")
    assert book.ignored("bad") and book.ignored_for("bad") == COOL_DOWN_SECONDS
    assert not book.ignored("honest")
    now[0] += COOL_DOWN_SECONDS - 1
    assert book.ignored("bad") and book.ignored_for("bad") == 1
    now[0] += 1
    assert not book.ignored("bad") and book.ignored_for("bad") == 0
    # Expired, and a further invalid message starts a new cool-down.
    book.invalid("bad", "invalid_json")
    assert book.ignored("bad") and book.ignored_for("bad") == COOL_DOWN_SECONDS


def test_a_crowd_of_sybils_does_not_drag_the_baseline_down(tmp_path, monkeypatch):
    """Peer ids cost nothing: a thousand low-scoring ones that never delivered anything new do
    not count in the baseline, so a misbehaving peer is still put in cool-down."""
    monkeypatch.setattr(peerbook, "BASELINE_SECONDS", 0.0)
    book = PeerBook(SqliteStore(tmp_path / "i.sqlite3").peers, max_peers=2000)
    for _ in range(100):
        book.valid("honest")
    book.first_deliveries("honest", 100)
    for n in range(1000):
        for _ in range(3):
            book.invalid(f"sybil-{n}", "invalid_json")
    for _ in range(3):
        book.invalid("bad", "bad_signature")
    assert book.baseline() == reputation(book.snapshot()["honest"])
    assert book.ignored("bad")


def test_a_drop_does_not_cost_a_pass_over_the_peer_table(tmp_path, monkeypatch):
    scored = []
    monkeypatch.setattr(peerbook, "reputation", lambda stats: scored.append(1) or reputation(stats))
    book = PeerBook(SqliteStore(tmp_path / "i.sqlite3").peers)
    for n in range(1000):
        book.valid(f"peer-{n}")
        book.first_deliveries(f"peer-{n}", 1)
    for n in range(1000):
        book.invalid(f"peer-{n % 10}", "invalid_json")
    assert len(scored) < 10_000, len(scored)
