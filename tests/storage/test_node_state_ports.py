"""The node-state ports on both stores: sync frontiers, head states, client-id claims, the
remote-pin backfill's progress and the pin service's last state, each typed, each surviving a
reopening, none reading another's entries."""

from storage.ports.claims import ClientIdClaim
from storage.ports.state import HeadState, PinServiceHealth


def test_frontiers_are_kept_per_board_and_peer_and_survive_reopening(open_store):
    first = open_store()
    assert first.frontiers.all() == [] and first.frontiers.get("general", "peer-a") is None
    first.frontiers.put("general", "peer-a", '{"gaps": 1}')
    first.frontiers.put("general", "peer-b", "b")
    first.frontiers.put("general", "peer-a", '{"gaps": 0}')
    first.frontiers.put("other", "peer-a", "o")
    first.heads.put("general", HeadState("not a frontier", None))
    first.claims.put("sync", "general", ClientIdClaim("not a frontier either", 1, "x"))
    first.close()
    again = open_store()
    assert again.frontiers.get("general", "peer-a") == '{"gaps": 0}'
    assert again.frontiers.get("other", "peer-b") is None
    assert sorted(again.frontiers.all()) == sorted(['{"gaps": 0}', "b", "o"])


def test_head_states(open_store):
    first = open_store()
    assert first.heads.get("general") is None
    first.heads.put("general", HeadState("bafk-one", None))
    first.heads.put("general", HeadState("bafk-two", "cursor-2"))
    first.heads.put("other", HeadState("bafk-other", "x"))
    first.close()
    again = open_store()
    assert again.heads.get("general") == HeadState("bafk-two", "cursor-2")
    assert again.heads.get("other") == HeadState("bafk-other", "x")
    assert again.heads.get("empty") is None


def test_claims_per_token_and_id(store):
    assert store.claims.get("token", "id") is None
    store.claims.put("token", "id", ClientIdClaim("bafy-first", 1_000, "body-1"))
    store.claims.put("token", "id", ClientIdClaim("bafy-again", 2_000, "body-2"))
    store.claims.put("token", "other", ClientIdClaim("bafy-other", 3_000, "body-3"))
    assert store.claims.get("token", "id") == ClientIdClaim("bafy-again", 2_000, "body-2")
    assert store.claims.get("token", "other") == ClientIdClaim("bafy-other", 3_000, "body-3")
    assert store.claims.get("other-token", "id") is None


def test_backfill_progress_and_its_cleared_values(open_store):
    first = open_store()
    progress = first.backfill
    assert progress.service() is None and progress.resending() is None
    assert progress.cursor("general") is None and progress.sealed_page("general") is None
    progress.set_service("http://pins")
    progress.set_resending("http://pins")
    progress.set_cursor("general", "cursor-1")
    progress.set_sealed_page("general", "bafk-sealed")
    progress.set_cursor("other", "cursor-other")
    first.close()
    again = open_store().backfill
    assert again.service() == "http://pins" and again.resending() == "http://pins"
    assert again.cursor("general") == "cursor-1" and again.cursor("other") == "cursor-other"
    assert again.sealed_page("general") == "bafk-sealed" and again.sealed_page("other") is None
    again.set_resending(None)
    again.set_cursor("general", None)
    again.set_sealed_page("general", None)
    assert again.resending() is None and again.cursor("general") is None
    assert again.sealed_page("general") is None and again.cursor("other") == "cursor-other"


def test_pin_service_state(open_store):
    first = open_store()
    assert first.pin_service.get() is None
    first.pin_service.put(PinServiceHealth("unreachable", "503 from the service"))
    first.close()
    again = open_store()
    assert again.pin_service.get() == PinServiceHealth("unreachable", "503 from the service")
    again.pin_service.put(PinServiceHealth("ok", ""))
    assert again.pin_service.get() == PinServiceHealth("ok", "")
