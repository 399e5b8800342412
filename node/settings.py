"""Configuration from environment variables (DESIGN: "External contract")."""

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_IPFS_API = "/ip4/127.0.0.1/tcp/5001/http"
BOARD_PATTERN = re.compile(r"[a-z0-9-]{1,64}")


class SettingsError(ValueError):
    """A configuration value that the node cannot start with."""


def _split(value: str | None) -> list[str]:
    return [item.strip() for item in (value or "").split(",") if item.strip()]


def _number(env: Mapping[str, str], name: str, default: float, minimum: float = 0) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number, got {raw!r}") from None
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}, got {raw!r}")
    return value


def _flag(env: Mapping[str, str], name: str) -> bool:
    raw = (env.get(name) or "").strip().lower()
    if raw in ("", "0", "false", "no", "off"):
        return False
    if raw in ("1", "true", "yes", "on"):
        return True
    raise SettingsError(f"{name} must be true or false, got {raw!r}")


@dataclass(frozen=True)
class Settings:
    ipfs_api: str = DEFAULT_IPFS_API
    ipfs_api_set: bool = False
    ipfs_api_auth: str | None = None
    data_dir: Path = Path("data")
    store: str = "sqlite"
    dynamodb_table: str | None = None
    node_key: str | None = None
    node_key_file: Path | None = None
    node_key_ssm_param: str | None = None
    boards: list[str] = field(default_factory=lambda: ["general"])
    api_tokens: frozenset[str] = frozenset()
    port: int = 8888
    peers: list[str] = field(default_factory=list)
    head_interval: float = 30.0
    sync_depth: int = 20
    sync_rate: float = 50.0
    sync_horizon_days: float = 0.0
    pin_service_url: str | None = None
    pin_service_token: str | None = None
    pin_service_token_ssm_param: str | None = None
    pin_service_name: str = "onusone"
    pin_service_replicas: bool = False

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "Settings":
        env = os.environ if env is None else env
        boards = _split(env.get("BOARDS")) or ["general"]
        for board in boards:
            if not BOARD_PATTERN.fullmatch(board):
                raise SettingsError(f"BOARDS entry {board!r} is not [a-z0-9-]{{1,64}}")
        store = env.get("STORE", "sqlite")
        if store not in {"sqlite", "dynamodb"}:
            raise SettingsError(f"STORE must be sqlite or dynamodb, got {store!r}")
        if store == "dynamodb" and not env.get("DYNAMODB_TABLE"):
            raise SettingsError("STORE=dynamodb needs DYNAMODB_TABLE")
        pin_service_url = env.get("PIN_SERVICE_URL") or None
        if pin_service_url and not pin_service_url.startswith(("http://", "https://")):
            raise SettingsError(f"PIN_SERVICE_URL must be an http(s) URL, got {pin_service_url!r}")
        return cls(
            ipfs_api=env.get("IPFS_API") or DEFAULT_IPFS_API,
            ipfs_api_set=bool(env.get("IPFS_API")),
            ipfs_api_auth=env.get("IPFS_API_AUTH") or None,
            data_dir=Path(env.get("DATA_DIR") or "data"),
            store=store,
            dynamodb_table=env.get("DYNAMODB_TABLE") or None,
            node_key=env.get("NODE_KEY") or None,
            node_key_file=Path(env["NODE_KEY_FILE"]) if env.get("NODE_KEY_FILE") else None,
            node_key_ssm_param=env.get("NODE_KEY_SSM_PARAM") or None,
            boards=boards,
            api_tokens=frozenset(_split(env.get("API_TOKENS"))),
            port=int(_number(env, "PORT", 8888, 1)),
            peers=_split(env.get("PEERS")),
            head_interval=_number(env, "HEAD_INTERVAL", 30.0, 0.1),
            sync_depth=int(_number(env, "SYNC_DEPTH", 20, 1)),
            sync_rate=_number(env, "SYNC_RATE", 50.0, 0.1),
            sync_horizon_days=_number(env, "SYNC_HORIZON_DAYS", 0.0),
            pin_service_url=pin_service_url,
            pin_service_token=env.get("PIN_SERVICE_TOKEN") or None,
            pin_service_token_ssm_param=env.get("PIN_SERVICE_TOKEN_SSM_PARAM") or None,
            pin_service_name=env.get("PIN_SERVICE_NAME") or "onusone",
            pin_service_replicas=_flag(env, "PIN_SERVICE_REPLICAS"),
        )
