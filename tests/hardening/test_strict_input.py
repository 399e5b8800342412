"""Strict input everywhere: invalid Unicode, deep JSON, a float ``v``, odd query parameters and
cursors are a 4xx over HTTP and WebSocket and a counted drop over pubsub; answers are bounded
in bytes; the daemon's address never reaches a stranger."""

import asyncio
import json
import logging

import pytest
import websockets

from crypto import NodeKey, canonical_bytes, cid_for_bytes, sign_envelope
from node.network.reputation import reputation
from node.protocol.announcement import message_announcement
from node.runtime.ports import free_port
from storage.cursors import encode_cursor
from storage.ipfs import PubsubMessage
from tests.conftest import signed_envelope
from tests.hardening.conftest import ON
from tests.support.processes import NodeProcess, wait_until

KEY = NodeKey.generate()
TOKEN = "strict-operator"
SECRET = "hunter2secret"
HUGE = encode_cursor([10**30, 1])


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    # A daemon address with credentials in it, which answers nothing.
    api = f"http://admin:{SECRET}@127.0.0.1:{free_port()}"
    env = {
        **ON,
        "API_TOKENS": TOKEN,
        "ANSWER_MAX_BYTES": "65536",
        # A pinning service whose URL holds a credential too (and answers nothing).
        "PIN_SERVICE_URL": f"http://pins:{SECRET}@127.0.0.1:{free_port()}",
        "PIN_SERVICE_TOKEN": "pin-token",
    }
    process = NodeProcess(tmp_path_factory.mktemp("strict") / "node", api, env).start()
    yield process
    process.stop()


def raw_envelope_text(content_json: str) -> bytes:
    """An envelope whose content is given as raw JSON text (e.g. an escaped lone surrogate)."""
    envelope = signed_envelope(KEY, "PLACEHOLDER")
    return json.dumps(envelope).replace('"PLACEHOLDER"', content_json).encode()


BODIES = {
    "lone_surrogate": (raw_envelope_text('"\\ud800"'), "invalid_utf8"),
    "invalid_utf8": (b'{"content": "\xff\xfe"}', "invalid_json"),
    "deep_json": (b"[" * 50_000 + b"]" * 50_000, "too_large"),
    "deep_json_small": (b'{"a":' * 2_000 + b"1" + b"}" * 2_000, "too_deep"),
    "nan": (b'{"v": NaN}', "invalid_json"),
    "float_v": (
        json.dumps(sign_envelope({**signed_envelope(KEY), "v": 1.0}, KEY)),
        "invalid_field",
    ),
}


@pytest.mark.parametrize("name", list(BODIES))
def test_bad_bodies_are_4xx_never_5xx(node, name):
    body, code = BODIES[name]
    response = node.post(
        "/api/broadcast", content=body, headers={"Content-Type": "application/json"}
    )
    assert 400 <= response.status_code < 500, response.text
    assert response.json()["error"] == code, response.text


@pytest.mark.parametrize(
    "path, code",
    [
        ("/api/messages?limit=%C2%B2", "bad_request"),  # "²": isdigit() but not int()
        ("/api/messages?limit=1e2", "bad_request"),
        ("/api/messages?limit=+5", "bad_request"),
        (f"/api/messages?before={HUGE}", "bad_cursor"),
        ("/api/messages?before=%F0%9F%98%80", "bad_cursor"),
        (f"/api/messages?before={'A' * 5000}", "bad_cursor"),
        (f"/api/poll?since={HUGE}&wait=0", "bad_cursor"),
        ("/api/poll?wait=nan", "bad_request"),
        ("/api/poll?wait=inf", "bad_request"),
        ("/api/poll?wait=%C2%B2", "bad_request"),
    ],
)
def test_bad_query_parameters_are_400(node, path, code):
    response = node.get(path)
    assert response.status_code == 400, response.text
    assert response.json()["error"] == code
    assert "Traceback" not in node.log()


async def test_websocket_with_a_huge_cursor_is_closed_4400(node):
    async with websockets.connect(f"ws://127.0.0.1:{node.port}/ws?since={HUGE}") as ws:
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 10)
    assert closed.value.rcvd.code == 4400 and "bad_cursor" in closed.value.rcvd.reason


def test_answers_are_bounded_in_bytes_and_page_on(node):
    cids = set()
    for i in range(8):
        envelope = signed_envelope(KEY, f"{i} " + "x" * 15_000, board="general")
        answer = node.post("/api/broadcast", json=envelope)
        assert answer.status_code in (200, 202), answer.text
        cids.add(answer.json()["cid"])
    seen, cursor = set(), None
    for _ in range(10):
        params = {"limit": "200", **({"before": cursor} if cursor else {})}
        page = node.get("/api/messages", params=params)
        assert len(page.content) < 65_536 + 20_000
        seen |= {m["cid"] for m in page.json()["messages"]}
        cursor = page.json()["nextCursor"]
        if cursor is None:
            break
    assert cids <= seen
    poll = node.get("/api/poll", params={"since": encode_cursor([0]), "wait": "0"})
    assert poll.status_code == 200 and len(poll.content) < 65_536 + 20_000


def test_status_shows_no_daemon_or_pin_service_address_to_strangers(node):
    stranger = node.get("/api/status")
    assert stranger.status_code == 200
    assert SECRET not in stranger.text and "api" not in stranger.json()["ipfs"]
    assert "127.0.0.1" not in json.dumps(stranger.json()["ipfs"])
    assert stranger.json()["pinService"]["enabled"] and "url" not in stranger.json()["pinService"]
    operator = node.get("/api/status", headers={"Authorization": f"Bearer {TOKEN}"})
    assert "api" in operator.json()["ipfs"] and "url" in operator.json()["pinService"]


def test_a_message_shows_no_pin_service_address_to_strangers(node_factory, ipfs_daemon):
    # A real daemon, so the message is pinned locally and queued for the pinning service.
    service = f"http://pins:{SECRET}@127.0.0.1:{free_port()}"
    env = {**ON, "API_TOKENS": TOKEN, "PIN_SERVICE_URL": service, "PIN_SERVICE_TOKEN": "t"}
    pinning = node_factory(ipfs_daemon.api_multiaddr, env)
    answer = pinning.post("/api/broadcast", json=signed_envelope(KEY, "where is it pinned?"))
    assert answer.status_code == 200, answer.text
    path = f"/api/messages/{answer.json()['cid']}"
    stranger = wait_until(
        lambda: (r := pinning.get(path)).json()["remotePin"] and r, 30, what="a remote pin"
    )
    assert stranger.json()["remotePin"]["status"] and SECRET not in stranger.text
    assert not {"service", "lastError"} & set(stranger.json()["remotePin"])
    operator = pinning.get(path, headers={"Authorization": f"Bearer {TOKEN}"})
    assert operator.json()["remotePin"]["service"] == service
    assert "lastError" in operator.json()["remotePin"]


# Pubsub: the same inputs are dropped, counted against the sender, and logged without a trace.

PEER = "12D3KooWHostile"


def announce(envelope_json: bytes) -> bytes:
    return (
        b'{"kind":"message","cid":"bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei4","envelope":'
        + envelope_json
        + b"}"
    )


PUBSUB = {
    "lone_surrogate": (announce(raw_envelope_text('"\\ud800"')), "invalid_utf8"),
    "invalid_utf8": (b'{"kind":"message","x":"\xff"}', "invalid_json"),
    "deep_json": (b'{"kind":' * 3_000 + b"1" + b"}" * 3_000, "too_deep"),
    "float_v": (
        announce(json.dumps(sign_envelope({**signed_envelope(KEY), "v": 1.0}, KEY)).encode()),
        "invalid_field",
    ),
}


@pytest.mark.parametrize("name", list(PUBSUB))
async def test_pubsub_bad_input_is_a_counted_drop(ingest, name, caplog):
    data, code = PUBSUB[name]
    with caplog.at_level(logging.DEBUG):
        result = ingest.receive(PubsubMessage(sender=PEER, data=data, seqno=1), "general")
    assert result == code
    assert ingest.peers.snapshot()[PEER].invalid_reasons == {code: 1}
    assert not [r for r in caplog.records if r.exc_info and r.levelno >= logging.INFO]


async def test_a_drop_no_rule_foresaw_is_counted_without_a_traceback(ingest, caplog, monkeypatch):
    def broken_book(*args):
        raise KeyError("a bug, not bad input")

    monkeypatch.setattr(ingest.peers, "seen", broken_book)
    head = json.dumps({"kind": "head", "board": "general", "cid": str(cid_for_bytes(b"x"))})
    with caplog.at_level(logging.INFO):
        result = ingest.receive(PubsubMessage(PEER, head.encode(), 1), "general")
    assert result == "unexpected"
    assert ingest.peers.snapshot()[PEER].invalid_reasons == {"unexpected": 1}
    assert not [r for r in caplog.records if r.exc_info and r.levelno >= logging.INFO]


async def test_replays_earn_no_standing(ingest):
    envelope = signed_envelope(KEY, "replayed")
    data = message_announcement(cid_for_bytes(canonical_bytes(envelope)), envelope)
    results = [ingest.receive(PubsubMessage(PEER, data, i), "general") for i in range(200)]
    assert results[0] == "accepted" and set(results[1:]) == {"duplicate"}
    stats = ingest.peers.snapshot()[PEER]
    assert stats.valid == 1 and reputation(stats) == reputation(type(stats)(PEER, valid=1))
    assert reputation(stats) < 70


def test_credentials_in_the_daemon_url_never_reach_the_log(node):
    """The node logs that nothing answers at IPFS_API, and each failed subscription, with the
    URL's password replaced."""
    wait_until(lambda: "subscription to general lost" in node.log(), 20, what="a retry logged")
    assert "nothing answers at IPFS_API=http://admin:***@" in node.log()
    assert SECRET not in node.log()
