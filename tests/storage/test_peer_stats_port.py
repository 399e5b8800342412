"""``PeerStatsStore`` on both stores: counters and reasons add up, times widen, forgotten
peers are gone."""

from storage.ports.peers import PeerStats


def test_peer_stats_accumulate(store):
    peers = store.peers
    peers.record(PeerStats("peer-a", valid=2, first_seen=100, last_seen=150))
    peers.record(
        PeerStats("peer-a", valid=1, invalid=2, first_deliveries=1, last_seen=120,
                  invalid_reasons={"bad_sig": 1, "too_large": 1})
    )  # fmt: skip
    peers.record(
        PeerStats("peer-a", invalid=1, first_seen=90, last_seen=300,
                  invalid_reasons={"bad_sig": 1})
    )  # fmt: skip
    peers.record(PeerStats("peer-b", valid=1, last_seen=500))
    stats = peers.all()
    assert set(stats) == {"peer-a", "peer-b"}
    assert stats["peer-a"] == PeerStats("peer-a", 3, 3, 1, 100, 300, {"bad_sig": 2, "too_large": 1})
    assert stats["peer-b"] == PeerStats("peer-b", 1, 0, 0, 500, 500, {})


def test_forget_peers(store):
    for name in ("a", "b", "c"):
        store.peers.record(PeerStats(f"peer-{name}", valid=1, last_seen=1))
    store.peers.forget(["peer-a", "peer-c"])
    assert set(store.peers.all()) == {"peer-b"}
