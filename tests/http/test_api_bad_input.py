"""Every kind of bad request gets a clear 4xx {"error", "detail"} and the node keeps working."""

import socket

import pytest

from crypto import NodeKey, sign_envelope
from node.protocol.envelope import now_ms
from node.runtime.ports import free_port
from tests.conftest import signed_envelope
from tests.support.daemons import start_daemon
from tests.support.processes import NodeProcess

TOKEN = "bad-input-token"
KEY = NodeKey.generate()


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    base = tmp_path_factory.mktemp("bad-input")
    daemon = start_daemon(base / "ipfs")
    process = NodeProcess(
        base / "node", daemon.api_multiaddr, {"API_TOKENS": TOKEN, "BOARDS": "general,paging"}
    ).start()
    yield process
    process.stop()
    daemon.stop()


def future_envelope() -> dict:
    return sign_envelope({**signed_envelope(KEY), "ts": now_ms() + 3_600_000}, KEY)


PLAIN = {"id": "t", "type": "message", "content": "hi", "author": "bob"}

CASES = {
    "tampered": (lambda: {**signed_envelope(KEY), "content": "changed"}, {}, 400, "bad_signature"),
    "plain_without_token": (lambda: PLAIN, {}, 401, "unauthorized"),
    "plain_with_wrong_token": (lambda: PLAIN, {"Authorization": "Bearer nope"}, 403, "forbidden"),
    "bad_board": (
        lambda: sign_envelope({**signed_envelope(KEY), "board": "No Spaces"}, KEY),
        {},
        400,
        "invalid_board",
    ),
    "plain_bad_board": (
        lambda: {**PLAIN, "board": "UPPER"},
        {"Authorization": f"Bearer {TOKEN}"},
        400,
        "invalid_board",
    ),
    "far_future": (future_envelope, {}, 400, "clock_skew"),
    "unknown_fields": (
        lambda: sign_envelope({**signed_envelope(KEY), "x": 1}, KEY),
        {},
        400,
        "unknown_fields",
    ),
    "plain_unknown_fields": (
        lambda: {**PLAIN, "admin": True},
        {"Authorization": f"Bearer {TOKEN}"},
        400,
        "unknown_fields",
    ),
    "content_too_large": (
        lambda: sign_envelope({**signed_envelope(KEY), "content": "x" * 17000}, KEY),
        {},
        400,
        "content_too_large",
    ),
    "not_an_object": (lambda: [1, 2], {}, 400, "invalid_json"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_broadcasts_are_refused_clearly(node, name):
    make, headers, status, code = CASES[name]
    response = node.post("/api/broadcast", json=make(), headers=headers)
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == code and isinstance(body["detail"], str) and body["detail"]
    assert node.get("/health").status_code == 200


def test_a_403_on_a_node_without_api_tokens_says_none_are_configured(node_factory):
    tokenless = node_factory(f"/ip4/127.0.0.1/tcp/{free_port()}/http")
    response = tokenless.post("/api/broadcast", json=PLAIN, headers={"Authorization": "Bearer x"})
    assert response.status_code == 403, response.text
    assert "no API_TOKENS configured" in response.json()["detail"]


def test_malformed_json(node):
    response = node.post(
        "/api/broadcast", content=b'{"v": 1,', headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400 and response.json()["error"] == "invalid_json"


def test_oversized_body_with_content_length_is_refused(node):
    response = node.post("/api/broadcast", content=b"x" * (65 * 1024))
    assert response.status_code == 413 and response.json()["error"] == "too_large"


def test_oversized_chunked_body_is_refused_before_it_is_read_whole(node):
    """10 MB streamed without Content-Length: the node answers 413 and does not wait for it."""
    with socket.create_connection(("127.0.0.1", node.port), timeout=10) as sock:
        sock.sendall(
            b"POST /api/broadcast HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
            b"Content-Type: application/json\r\n\r\n"
        )
        chunk = b"x" * 65536
        sent = 0
        try:
            for _ in range(160):
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                sent += 1
        except (BrokenPipeError, ConnectionResetError):
            pass
        answer = sock.recv(4096)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert node.get("/health").status_code == 200


@pytest.mark.parametrize(
    "path, status, code",
    [
        ("/api/messages?limit=0", 400, "bad_request"),
        ("/api/messages?limit=abc", 400, "bad_request"),
        ("/api/messages?board=BAD!", 400, "invalid_board"),
        ("/api/messages?before=garbage", 400, "bad_cursor"),
        ("/api/messages/not-a-cid", 400, "bad_cid"),
        (
            "/api/messages/bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei4",
            404,
            "not_found",
        ),
        ("/api/nothing-here", 404, "not_found"),
    ],
)
def test_bad_reads_are_refused_clearly(node, path, status, code):
    response = node.get(path)
    assert response.status_code == status, response.text
    assert response.json()["error"] == code and response.json()["detail"]


def test_wrong_method(node):
    response = node.get("/api/broadcast")
    assert response.status_code == 405 and response.json()["error"] == "method_not_allowed"


def test_pagination_walks_every_message_once(node):
    board = "paging"
    cids = [
        node.post("/api/broadcast", json=signed_envelope(KEY, f"m{i}", board=board)).json()["cid"]
        for i in range(7)
    ]
    seen, cursor = [], None
    while True:
        params = {"board": board, "limit": 3, **({"before": cursor} if cursor else {})}
        page = node.get("/api/messages", params=params).json()
        seen += [m["cid"] for m in page["messages"]]
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(cids) and len(seen) == 7
    newest = node.get("/api/messages", params={"board": board, "limit": 1}).json()["messages"]
    assert newest[0]["envelope"]["content"] == "m6"
