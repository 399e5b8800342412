"""The publish service without HTTP: a node whose daemon answers nothing, so every accepted
post is queued in the outbox."""

import json

import pytest

from crypto import NodeKey
from node.guards.rate_limits import RateLimited
from node.protocol.envelope import InvalidMessage, now_ms
from node.publish.service import Caller, Forbidden, IdReused, Unauthorized
from node.runtime.ports import free_port
from node.runtime.services import NodeServices
from node.settings import Limits, Settings
from tests.conftest import signed_envelope

PLAIN = b'{"id": "m1", "type": "message", "content": "hi", "author": "a"}'
HOLDER = Caller("10.0.0.1", "tok", sent_token=True)


@pytest.fixture
def services(tmp_path):
    settings = Settings(
        ipfs_api=f"http://127.0.0.1:{free_port()}",
        data_dir=tmp_path,
        api_tokens=frozenset({"tok"}),
        limits=Limits(rate_author="1/minute"),
    )
    services = NodeServices.from_settings(settings)
    yield services
    services.store.close()


async def test_a_plain_post_is_signed_for_a_token_holder_and_its_retry_is_a_duplicate(services):
    first = await services.publisher.publish(PLAIN, HOLDER, now_ms())
    assert (first.outcome, first.delivery) == ("queued", None)
    again = await services.publisher.publish(PLAIN, HOLDER, now_ms())
    assert (again.cid, again.outcome) == (first.cid, "duplicate")
    other = PLAIN.replace(b'"hi"', b'"other"')
    with pytest.raises(IdReused) as refused:
        await services.publisher.publish(other, HOLDER, now_ms())
    assert (refused.value.status, refused.value.code) == (409, "id_reused")
    assert first.cid in refused.value.detail


@pytest.mark.parametrize(
    ("caller", "error", "status"),
    [
        (Caller("10.0.0.1", None, sent_token=False), Unauthorized, 401),
        (Caller("10.0.0.1", None, sent_token=True), Forbidden, 403),
    ],
)
async def test_only_a_token_holder_has_the_node_sign(services, caller, error, status):
    with pytest.raises(error) as refused:
        await services.publisher.publish(PLAIN, caller, now_ms())
    assert refused.value.status == status


async def test_a_signed_post_counts_against_its_author(services):
    key, caller = NodeKey.generate(), Caller("10.0.0.2", None, sent_token=False)
    body = signed_envelope(key, "one")
    first = await services.publisher.publish(_bytes(body), caller, now_ms())
    assert first.outcome == "queued"
    with pytest.raises(RateLimited) as refused:
        await services.publisher.publish(_bytes(signed_envelope(key, "two")), caller, now_ms())
    assert refused.value.headers == {"Retry-After": "60"}
    with pytest.raises(InvalidMessage) as invalid:
        await services.publisher.publish(b"[]", caller, now_ms())
    assert (invalid.value.status, invalid.value.code) == (400, "invalid_json")


def _bytes(envelope: dict) -> bytes:
    return json.dumps(envelope).encode()
