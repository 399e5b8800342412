"""A hostile peer and a daemon restart: the node keeps working, counts what it drops, punishes
the peer, and resubscribes and redials by itself."""

import json
import time

from crypto import canonical_bytes, cid_for_bytes, parse_cid
from node.announcement import MAX_ANNOUNCEMENT_BYTES, message_announcement
from tests.conftest import signed_envelope
from tests.support.network import (
    message_cids,
    publish_raw,
    swarm_peer_ids,
    wait_mesh,
    wait_subscribed,
)
from tests.support.processes import wait_until


def announce(envelope: dict, cid=None) -> bytes:
    return message_announcement(cid or cid_for_bytes(canonical_bytes(envelope)), envelope)


def test_bootstrap_peer_from_peers_is_dialled(guarded_network):
    daemons = guarded_network.daemons
    wait_until(
        lambda: daemons["a"].peer_id in swarm_peer_ids(daemons["b"]),
        timeout=10,
        what="B to dial A from PEERS",
    )


def test_hostile_peer_is_dropped_counted_and_ignored(guarded_network, user_key):
    a, b = guarded_network.nodes["a"], guarded_network.nodes["b"]
    j = guarded_network.daemons["j"]
    honest = signed_envelope(user_key, "an honest message from A")
    assert a.post("/api/broadcast", json=honest).status_code == 200
    honest_cid = cid_for_bytes(canonical_bytes(honest)).to_bytes()
    wait_until(lambda: honest_cid in message_cids(b), timeout=15, what="B to get A's message")
    known = message_cids(b)

    forged = {**signed_envelope(user_key, "original"), "content": "tampered"}
    victim = signed_envelope(user_key, "its CID will be swapped")
    other = signed_envelope(user_key, "another message")
    oversized = signed_envelope(user_key, "x" * 100)
    padding = json.dumps({"pad": "y" * MAX_ANNOUNCEMENT_BYTES}).encode()
    junk = [
        padding,  # over the announcement size limit
        announce(forged),  # signature no longer matches
        announce(victim, cid_for_bytes(canonical_bytes(other))),  # CID mismatch
        b"\x00\xffnot json at all",
        b"[1, 2, 3]",
        json.dumps({"kind": "message", "cid": "nonsense", "envelope": oversized}).encode(),
        json.dumps({"kind": "head", "board": "general", "cid": str(cid_for_bytes(b"x"))}).encode(),
    ]
    for data in junk:
        publish_raw(j, "general", data)
    # Now that J is in cool-down even a valid message from it is dropped.
    from_ignored = signed_envelope(user_key, "valid, but from an ignored peer")
    publish_raw(j, "general", announce(from_ignored))

    peers = wait_until(
        lambda: (
            (p := {x["id"]: x for x in b.get("/api/peers").json()["peers"]})
            .get(j.peer_id, {})
            .get("ignoredFor")
            and p
        ),
        timeout=10,
        what="B to put J in cool-down",
    )
    time.sleep(1.5)  # let every junk message arrive before checking nothing got in
    hostile, honest_peer = peers[j.peer_id], peers[guarded_network.daemons["a"].peer_id]
    assert hostile["invalidMessages"] >= 3
    assert {"too_large", "bad_signature", "cid_mismatch"} <= set(hostile["invalidReasons"])
    assert hostile["reputation"] < honest_peer["reputation"]
    assert hostile["reputation"] < 25 and hostile["messagesRelayed"] == 0

    status = b.get("/api/status").json()
    for envelope in (forged, victim):
        cid = cid_for_bytes(canonical_bytes(envelope))
        assert b.get(f"/api/messages/{cid}").status_code == 404
    # The valid message J sent while ignored is dropped by B, but A (which has no reason to
    # ignore J) may accept it and pass it on by its head manifest: it may reach B, never from J.
    relayed = cid_for_bytes(canonical_bytes(from_ignored))
    reached = b.get(f"/api/messages/{relayed}")
    assert reached.status_code == 404 or j.peer_id not in reached.json()["source"]
    assert message_cids(b) <= known | {relayed.to_bytes()}
    assert b.get("/health").status_code == 200
    assert status["ipfs"]["reachable"] and status["subscriptions"] == {"general": "subscribed"}

    later = signed_envelope(user_key, "B still ingests after the junk")
    assert a.post("/api/broadcast", json=later).status_code == 200
    later_cid = cid_for_bytes(canonical_bytes(later)).to_bytes()
    wait_until(lambda: later_cid in message_cids(b), timeout=15, what="B to keep ingesting")


def test_daemon_restart_under_a_running_node_resubscribes_and_redials(guarded_network, user_key):
    a, b = guarded_network.nodes["a"], guarded_network.nodes["b"]
    daemons = guarded_network.daemons
    daemons["b"].stop()
    wait_until(
        lambda: b.get("/api/status").json()["subscriptions"]["general"] != "subscribed",
        timeout=10,
        what="B's subscription to show it is down",
    )
    daemons["b"].start()
    started = time.monotonic()
    wait_subscribed(b, timeout=30)
    print(f"\nresubscribed {time.monotonic() - started:.2f}s after the daemon came back")
    wait_until(
        lambda: daemons["a"].peer_id in swarm_peer_ids(daemons["b"]),
        timeout=15,
        what="B to redial A (PEERS)",
    )
    wait_mesh(daemons["a"], [daemons["b"]], timeout=30)
    envelope = signed_envelope(user_key, "after B's daemon restarted")
    response = a.post("/api/broadcast", json=envelope)
    assert response.status_code == 200
    cid = parse_cid(response.json()["cid"]).to_bytes()
    wait_until(lambda: cid in message_cids(b), timeout=20, what="B to receive again")
