"""The API's bounds at their edges over HTTP: ``limit`` 1–200 and ``ts`` at most 5 minutes
ahead (at most 1 hour old for a new post), on both sides of each bound."""

import pytest

from crypto import sign_envelope
from node.http.api import MAX_PAGE
from node.protocol.envelope import MAX_FUTURE_SKEW_MS, MAX_POST_AGE_MS, now_ms
from tests.conftest import signed_envelope

MINUTE_MS = 60_000


@pytest.mark.parametrize(
    ("limit", "status"), [(1, 200), (MAX_PAGE, 200), (MAX_PAGE + 1, 400), (0, 400)]
)
def test_limit_is_one_to_two_hundred(live_node, limit, status):
    response = live_node.node.get("/api/messages", params={"limit": str(limit)})
    assert response.status_code == status, response.text
    if status == 400:
        assert response.json()["error"] == "bad_request" and response.json()["detail"]


@pytest.mark.parametrize(
    ("offset_ms", "accepted"),
    [
        (MAX_FUTURE_SKEW_MS - MINUTE_MS, True),
        (MAX_FUTURE_SKEW_MS + MINUTE_MS, False),
        (-MAX_POST_AGE_MS + MINUTE_MS, True),
        (-MAX_POST_AGE_MS - MINUTE_MS, False),
    ],
)
def test_ts_bounds_of_a_new_post(live_node, author_key, offset_ms, accepted):
    envelope = sign_envelope(
        {**signed_envelope(author_key, f"ts {offset_ms:+}"), "ts": now_ms() + offset_ms}, author_key
    )
    response = live_node.node.post("/api/broadcast", json=envelope)
    if accepted:
        assert response.status_code in (200, 202), response.text
        assert live_node.node.get(f"/api/messages/{response.json()['cid']}").status_code == 200
    else:
        assert response.status_code == 400, response.text
        assert response.json()["error"] == "clock_skew"
