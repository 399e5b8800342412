"""Client-id claims: per token, per id, within the window only (a real SQLite store; the
claims port is covered for DynamoDB by the storage contract)."""

from node.publish import idempotency
from storage.sqlite.store import SqliteStore

BODY = {"id": "retry-me", "type": "message", "content": "hi", "author": "bob"}


def test_a_claim_holds_for_its_token_and_id_within_the_window_only(tmp_path):
    store = SqliteStore(tmp_path / "index.sqlite3")
    try:
        assert idempotency.claimed(store.claims, "token-a", BODY, 1_000) is None
        idempotency.claim(store.claims, "token-a", BODY, "bafy-first", 1_000)
        assert idempotency.claimed(store.claims, "token-a", BODY, 2_000) == idempotency.Claim(
            "bafy-first", same_body=True
        )
        changed = idempotency.claimed(store.claims, "token-a", {**BODY, "content": "other"}, 2_000)
        assert changed == idempotency.Claim("bafy-first", same_body=False)
        assert idempotency.claimed(store.claims, "token-b", BODY, 2_000) is None
        assert idempotency.claimed(store.claims, "token-a", {**BODY, "id": "other"}, 2_000) is None
        late = 1_000 + idempotency.WINDOW_MS + 1
        assert idempotency.claimed(store.claims, "token-a", BODY, late) is None
        no_id = {k: v for k, v in BODY.items() if k != "id"}
        idempotency.claim(store.claims, "token-a", no_id, "bafy-no-id", 1_000)
        assert idempotency.claimed(store.claims, "token-a", no_id, 2_000) is None
        assert not any("token-a" in key for (key,) in store.db.query("SELECT key FROM meta"))
    finally:
        store.close()
