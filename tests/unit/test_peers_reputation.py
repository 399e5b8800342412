"""Reputation formula, cool-down rule, and batched persistence of peer counters."""

from node.network import peerbook
from node.network.peerbook import COOL_DOWN_SECONDS, PeerBook
from node.network.reputation import far_below_others, reputation
from storage.index import PeerStats
from storage.sqlite_index import SqliteMessageIndex


def test_formula():
    assert reputation(None) == 50
    assert reputation(PeerStats("p", valid=98)) == 99
    assert reputation(PeerStats("p", valid=4, invalid=1)) == 45
    assert reputation(PeerStats("p", invalid=3)) == 6


def test_cool_down_needs_evidence_and_distance_from_the_others():
    assert not far_below_others(PeerStats("p", invalid=2), [90])
    assert far_below_others(PeerStats("p", invalid=3), [90])
    assert far_below_others(PeerStats("p", invalid=3), [])
    assert not far_below_others(PeerStats("p", invalid=3), [20, 30])
    assert not far_below_others(PeerStats("p", valid=100, invalid=3), [99])


class CountingIndex(SqliteMessageIndex):
    writes = 0

    def record_peer(self, stats):
        self.writes += 1
        super().record_peer(stats)


async def test_counters_are_flushed_once_per_peer_and_survive_a_restart(tmp_path):
    index = CountingIndex(tmp_path / "i.sqlite3")
    book = PeerBook(index)
    for _ in range(1000):
        book.valid("a")
    book.first_deliveries("a", 10)
    book.invalid("b", "bad_signature")
    assert index.writes == 0
    assert await book.flush() == 2 and index.writes == 2
    index.close()

    reopened = PeerBook(SqliteMessageIndex(tmp_path / "i.sqlite3"))
    stats = reopened.snapshot()
    assert (stats["a"].valid, stats["a"].first_deliveries) == (1000, 10)
    assert stats["b"].invalid_reasons == {"bad_signature": 1}
    assert stats["a"].last_seen >= stats["a"].first_seen > 0


def test_cool_down_lasts_its_time_then_expires(tmp_path, monkeypatch):
    now = [5000.0]
    monkeypatch.setattr(peerbook.time, "monotonic", lambda: now[0])
    book = PeerBook(SqliteMessageIndex(tmp_path / "i.sqlite3"), cool_down=COOL_DOWN_SECONDS)
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
