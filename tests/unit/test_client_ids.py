"""Client-id claims: per token, per id, within the window only (a real SQLite index; the meta
entries they live in are covered for DynamoDB by the index contract)."""

from node import client_ids
from storage.sqlite_index import SqliteMessageIndex

BODY = {"id": "retry-me", "type": "message", "content": "hi", "author": "bob"}


def test_a_claim_holds_for_its_token_and_id_within_the_window_only(tmp_path):
    index = SqliteMessageIndex(tmp_path / "index.sqlite3")
    try:
        assert client_ids.claimed(index, "token-a", BODY, 1_000) is None
        client_ids.claim(index, "token-a", BODY, "bafy-first", 1_000)
        assert client_ids.claimed(index, "token-a", BODY, 2_000) == client_ids.Claim(
            "bafy-first", same_body=True
        )
        changed = client_ids.claimed(index, "token-a", {**BODY, "content": "other"}, 2_000)
        assert changed == client_ids.Claim("bafy-first", same_body=False)
        assert client_ids.claimed(index, "token-b", BODY, 2_000) is None
        assert client_ids.claimed(index, "token-a", {**BODY, "id": "other"}, 2_000) is None
        late = 1_000 + client_ids.WINDOW_MS + 1
        assert client_ids.claimed(index, "token-a", BODY, late) is None
        no_id = {k: v for k, v in BODY.items() if k != "id"}
        client_ids.claim(index, "token-a", no_id, "bafy-no-id", 1_000)
        assert client_ids.claimed(index, "token-a", no_id, 2_000) is None
        assert not any("token-a" in key for key in index.meta_scan(client_ids.PREFIX))
    finally:
        index.close()
