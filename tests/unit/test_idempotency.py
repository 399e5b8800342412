"""Client-id claims: per token, per id, within the window only (a real SQLite index; the meta
entries they live in are covered for DynamoDB by the index contract)."""

from node.publish import idempotency
from storage.sqlite_index import SqliteMessageIndex

BODY = {"id": "retry-me", "type": "message", "content": "hi", "author": "bob"}


def test_a_claim_holds_for_its_token_and_id_within_the_window_only(tmp_path):
    index = SqliteMessageIndex(tmp_path / "index.sqlite3")
    try:
        assert idempotency.claimed(index, "token-a", BODY, 1_000) is None
        idempotency.claim(index, "token-a", BODY, "bafy-first", 1_000)
        assert idempotency.claimed(index, "token-a", BODY, 2_000) == idempotency.Claim(
            "bafy-first", same_body=True
        )
        changed = idempotency.claimed(index, "token-a", {**BODY, "content": "other"}, 2_000)
        assert changed == idempotency.Claim("bafy-first", same_body=False)
        assert idempotency.claimed(index, "token-b", BODY, 2_000) is None
        assert idempotency.claimed(index, "token-a", {**BODY, "id": "other"}, 2_000) is None
        late = 1_000 + idempotency.WINDOW_MS + 1
        assert idempotency.claimed(index, "token-a", BODY, late) is None
        no_id = {k: v for k, v in BODY.items() if k != "id"}
        idempotency.claim(index, "token-a", no_id, "bafy-no-id", 1_000)
        assert idempotency.claimed(index, "token-a", no_id, 2_000) is None
        assert not any("token-a" in key for key in index.meta_scan(idempotency.PREFIX))
    finally:
        index.close()
