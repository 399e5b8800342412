"""The node-state ports over one small key-value table, the layout of every release so far
(v0.2.0 wrote these keys and values): both backends provide the table, this module alone
knows its keys.

    sync:<board>:<peer>               a peer's chain on a board (the syncer's JSON)
    head:<board>                      {"head": cid, "cursor": position}
    clientid:<token>:<id>             {"cid", "at", "body"} (digests in the key)
    remotepin:service                 the service the backfill last ran for
    remotepin:resend                  the service a resend pass is for ("" when none)
    remotepin:backfill:<board>        the backfill's position in the board ("": start)
    remotepin:backfill-pages:<board>  the newest sealed page it offered ("": none)
    remotepin:state                   [state, last_error] of the pinning service
"""

import json
from typing import Protocol

from storage.ports.claims import ClientIdClaim
from storage.ports.state import HeadState, PinServiceHealth

SYNC_PREFIX = "sync:"


class MetaTable(Protocol):
    def get(self, key: str) -> str | None: ...

    def set(self, key: str, value: str) -> None: ...

    def scan(self, prefix: str) -> dict[str, str]:
        """Every entry whose key starts with ``prefix``."""


class MetaFrontiers:
    def __init__(self, meta: MetaTable) -> None:
        self._meta = meta

    def get(self, board: str, peer: str) -> str | None:
        return self._meta.get(f"{SYNC_PREFIX}{board}:{peer}")

    def put(self, board: str, peer: str, chain: str) -> None:
        self._meta.set(f"{SYNC_PREFIX}{board}:{peer}", chain)

    def all(self) -> list[str]:
        return list(self._meta.scan(SYNC_PREFIX).values())


class MetaHeads:
    def __init__(self, meta: MetaTable) -> None:
        self._meta = meta

    def get(self, board: str) -> HeadState | None:
        saved = self._meta.get(f"head:{board}")
        if not saved:
            return None
        state = json.loads(saved)
        return HeadState(state["head"], state["cursor"])

    def put(self, board: str, state: HeadState) -> None:
        self._meta.set(f"head:{board}", json.dumps({"head": state.head, "cursor": state.cursor}))


class MetaClaims:
    def __init__(self, meta: MetaTable) -> None:
        self._meta = meta

    def get(self, token_digest: str, id_digest: str) -> ClientIdClaim | None:
        saved = self._meta.get(f"clientid:{token_digest}:{id_digest}")
        if saved is None:
            return None
        entry = json.loads(saved)
        return ClientIdClaim(entry["cid"], entry["at"], entry["body"])

    def put(self, token_digest: str, id_digest: str, claim: ClientIdClaim) -> None:
        entry = {"cid": claim.cid, "at": claim.at, "body": claim.body}
        self._meta.set(f"clientid:{token_digest}:{id_digest}", json.dumps(entry))


class MetaBackfill:
    """Cleared values are stored as "" (as v0.2.0 did) and read back as None."""

    def __init__(self, meta: MetaTable) -> None:
        self._meta = meta

    def _get(self, key: str) -> str | None:
        return self._meta.get(key) or None

    def service(self) -> str | None:
        return self._get("remotepin:service")

    def set_service(self, url: str) -> None:
        self._meta.set("remotepin:service", url)

    def resending(self) -> str | None:
        return self._get("remotepin:resend")

    def set_resending(self, url: str | None) -> None:
        self._meta.set("remotepin:resend", url or "")

    def cursor(self, board: str) -> str | None:
        return self._get(f"remotepin:backfill:{board}")

    def set_cursor(self, board: str, cursor: str | None) -> None:
        self._meta.set(f"remotepin:backfill:{board}", cursor or "")

    def sealed_page(self, board: str) -> str | None:
        return self._get(f"remotepin:backfill-pages:{board}")

    def set_sealed_page(self, board: str, cid: str | None) -> None:
        self._meta.set(f"remotepin:backfill-pages:{board}", cid or "")


class MetaPinService:
    def __init__(self, meta: MetaTable) -> None:
        self._meta = meta

    def get(self) -> PinServiceHealth | None:
        saved = self._meta.get("remotepin:state")
        return PinServiceHealth(*json.loads(saved)) if saved else None

    def put(self, health: PinServiceHealth) -> None:
        self._meta.set("remotepin:state", json.dumps([health.state, health.last_error]))
