"""A hostile peer and a daemon restart: the node keeps working, counts what it drops, punishes
the peer, and resubscribes and redials by itself."""

import json
import time

import httpx

from crypto import NodeKey, canonical_bytes, cid_for_bytes, parse_cid
from node.protocol.announcement import MAX_ANNOUNCEMENT_BYTES, message_announcement
from node.protocol.envelope import now_ms
from node.protocol.manifest import build_manifest
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


def forged_head(daemon, key: NodeKey, envelope: dict) -> bytes:
    """A head manifest whose signature no longer matches (its content was changed after
    signing), stored on ``daemon``; returns the head announcement that points to it."""
    signed = json.loads(build_manifest(key, "general", 0, now_ms(), None, [envelope]))
    forged = canonical_bytes({**signed, "seq": 1})
    response = httpx.post(
        f"{daemon.api_url}/api/v0/block/put",
        params={"cid-codec": "raw", "format": "raw", "mhtype": "sha2-256", "pin": "true"},
        files={"file": ("head", forged, "application/octet-stream")},
        timeout=10,
    )
    response.raise_for_status()
    cid = cid_for_bytes(forged)
    assert parse_cid(response.json()["Key"]) == cid
    return json.dumps({"kind": "head", "board": "general", "cid": str(cid)}).encode()


def hostile_stats(b, j) -> dict:
    return {p["id"]: p for p in b.get("/api/peers").json()["peers"]}.get(j.peer_id, {})


def test_hostile_peer_is_dropped_counted_and_ignored(guarded_network, user_key):
    a, b = guarded_network.nodes["a"], guarded_network.nodes["b"]
    daemons = guarded_network.daemons
    j = daemons["j"]
    # Whatever ran before (a restart of B's daemon drops J's connection): J and A next to B.
    guarded_network.connect("j", "b")
    wait_mesh(daemons["b"], [daemons["a"], j], timeout=30)
    wait_mesh(j, [daemons["b"]], timeout=30)
    honest = signed_envelope(user_key, "an honest message from A")
    assert a.post("/api/broadcast", json=honest).status_code == 200
    honest_cid = cid_for_bytes(canonical_bytes(honest)).to_bytes()
    wait_until(lambda: honest_cid in message_cids(b), timeout=15, what="B to get A's message")
    known = message_cids(b)

    # A forged head first: B fetches it from J's daemon, checks it, and counts it against J.
    in_forged_head = signed_envelope(user_key, "inside a forged head manifest")
    publish_raw(j, "general", forged_head(j, NodeKey.generate(), in_forged_head))
    wait_until(
        lambda: hostile_stats(b, j).get("invalidReasons", {}).get("bad_manifest"),
        timeout=30,
        what="B to refuse J's forged head",
    )

    forged = {**signed_envelope(user_key, "original"), "content": "tampered"}
    victim = signed_envelope(user_key, "its CID will be swapped")
    other = signed_envelope(user_key, "another message")
    oversized = signed_envelope(user_key, "x" * 100)
    padding = json.dumps({"pad": "y" * MAX_ANNOUNCEMENT_BYTES}).encode()
    # The third invalid message puts J in cool-down; what follows is dropped unparsed.
    junk = [
        padding,  # over the announcement size limit
        announce(victim, cid_for_bytes(canonical_bytes(other))),  # CID mismatch
        announce(forged),  # signature no longer matches
        b"\x00\xffnot json at all",
        b"[1, 2, 3]",
        json.dumps({"kind": "message", "cid": "nonsense", "envelope": oversized}).encode(),
    ]
    for data in junk:
        publish_raw(j, "general", data)
    hostile = wait_until(
        lambda: (
            (stats := hostile_stats(b, j)).get("ignoredFor")
            and {"bad_manifest", "too_large", "cid_mismatch"} <= set(stats["invalidReasons"])
            and stats
        ),
        timeout=30,
        what="B to count J's junk and put J in cool-down",
    )
    honest_peer = hostile_stats(b, daemons["a"])
    assert hostile["invalidMessages"] >= 3
    assert hostile["reputation"] < honest_peer["reputation"]
    assert hostile["reputation"] < 25 and hostile["messagesRelayed"] == 0

    # Now that J is in cool-down even a valid message from it is dropped. A message A posts
    # afterwards reaching B shows B has read past it.
    from_ignored = signed_envelope(user_key, "valid, but from an ignored peer")
    publish_raw(j, "general", announce(from_ignored))
    later = signed_envelope(user_key, "B still ingests after the junk")
    assert a.post("/api/broadcast", json=later).status_code == 200
    later_cid = cid_for_bytes(canonical_bytes(later))
    wait_until(lambda: later_cid.to_bytes() in message_cids(b), timeout=15, what="B to go on")

    for envelope in (forged, victim, in_forged_head):
        cid = cid_for_bytes(canonical_bytes(envelope))
        assert b.get(f"/api/messages/{cid}").status_code == 404
    # The valid message J sent while ignored is dropped by B, but A (which has no reason to
    # ignore J) may accept it and pass it on by its head manifest: it may reach B, never from J.
    relayed = cid_for_bytes(canonical_bytes(from_ignored))
    reached = b.get(f"/api/messages/{relayed}")
    assert reached.status_code == 404 or j.peer_id not in reached.json()["source"]
    assert message_cids(b) <= known | {relayed.to_bytes(), later_cid.to_bytes()}
    status = b.get("/api/status").json()
    assert status["ipfs"]["reachable"] and status["subscriptions"] == {"general": "subscribed"}


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
