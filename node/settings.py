"""Configuration from environment variables (docs/CONFIGURATION.md)."""

import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from node.guards.rate_limits import parse_rates

DEFAULT_IPFS_API = "/ip4/127.0.0.1/tcp/5001/http"
BOARD_PATTERN = re.compile(r"[a-z0-9-]{1,64}")


class SettingsError(ValueError):
    """A configuration value that the node cannot start with."""


def split_list(value: str | None) -> list[str]:
    """A comma-separated setting as a list (blanks dropped)."""
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


def _rate(env: Mapping[str, str], name: str, default: str) -> str:
    """A rate string such as ``30/minute;300/hour`` (``node.guards.rate_limits``), checked at
    start."""
    value = env.get(name) or default
    try:
        parse_rates(value)
    except ValueError:
        raise SettingsError(f"{name} must be like 30/minute;300/hour, got {value!r}") from None
    return value


def _switch(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = (env.get(name) or "").strip().lower()
    if raw == "":
        return default
    if raw in {"on", "true", "1", "yes"}:
        return True
    if raw in {"off", "false", "0", "no"}:
        return False
    raise SettingsError(f"{name} must be on or off, got {raw!r}")


def _networks(
    env: Mapping[str, str], name: str
) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    try:
        return tuple(ipaddress.ip_network(item, strict=False) for item in split_list(env.get(name)))
    except ValueError as exc:
        raise SettingsError(f"{name}: {exc}") from None


def _choice(env: Mapping[str, str], name: str, default: str, choices: set[str]) -> str:
    value = (env.get(name) or default).strip()
    if value.lower() not in {c.lower() for c in choices}:
        raise SettingsError(f"{name} must be one of {', '.join(sorted(choices))}, got {value!r}")
    return value


def log_settings(env: Mapping[str, str] | None = None) -> tuple[str, str]:
    """``LOG_LEVEL`` and ``LOG_FORMAT``, on their own so logging can be set up before the rest
    of the settings are read (and a bad setting is logged)."""
    env = os.environ if env is None else env
    level = _choice(env, "LOG_LEVEL", "INFO", {"DEBUG", "INFO", "WARNING", "ERROR"}).upper()
    return level, _choice(env, "LOG_FORMAT", "text", {"text", "json"}).lower()


@dataclass(frozen=True)
class Limits:
    """Open-network limits (README: "Limits"); every one has a default that is on."""

    rate_limits: bool = True
    rate_address: str = "30/minute;300/hour"
    rate_author: str = "20/minute;300/hour"
    rate_token: str = "600/minute;20000/hour"
    rate_reads: str = "20/second;600/minute"
    rate_peer: str = "100/second;3000/minute"
    rate_peer_author: str = "20/second;600/minute"
    # Counted per window of the messages' ts (node/guards/history_limit.py): an API token's.
    rate_sync_author: str = "600/minute;20000/hour"
    trusted_proxies: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    storage_budget_mb: float = 10_240.0
    min_free_disk_mb: float = 512.0
    live_clients: int = 200
    live_clients_per_address: int = 20
    max_connections: int = 500
    max_connections_per_address: int = 50
    header_timeout: float = 10.0
    body_timeout: float = 10.0
    write_timeout: float = 30.0
    poll_max_wait: float = 30.0
    peer_table: int = 1_000
    replication_queue: int = 10_000
    answer_max_bytes: int = 2_000_000

    @classmethod
    def from_env(cls, env: Mapping[str, str], on_lambda: bool) -> "Limits":
        d = cls()
        return cls(
            rate_limits=_switch(env, "RATE_LIMITS", True),
            rate_address=_rate(env, "RATE_LIMIT_ADDRESS", d.rate_address),
            rate_author=_rate(env, "RATE_LIMIT_AUTHOR", d.rate_author),
            rate_token=_rate(env, "RATE_LIMIT_TOKEN", d.rate_token),
            rate_reads=_rate(env, "RATE_LIMIT_READS", d.rate_reads),
            rate_peer=_rate(env, "RATE_LIMIT_PEER", d.rate_peer),
            rate_peer_author=_rate(env, "RATE_LIMIT_PEER_AUTHOR", d.rate_peer_author),
            rate_sync_author=_rate(env, "RATE_LIMIT_SYNC_AUTHOR", d.rate_sync_author),
            trusted_proxies=_networks(env, "TRUSTED_PROXIES"),
            storage_budget_mb=_number(env, "STORAGE_BUDGET_MB", d.storage_budget_mb),
            min_free_disk_mb=_number(env, "MIN_FREE_DISK_MB", d.min_free_disk_mb),
            live_clients=int(_number(env, "LIVE_CLIENTS_MAX", d.live_clients, 1)),
            live_clients_per_address=int(
                _number(env, "LIVE_CLIENTS_PER_ADDRESS", d.live_clients_per_address, 1)
            ),
            max_connections=int(_number(env, "MAX_CONNECTIONS", d.max_connections, 1)),
            max_connections_per_address=int(
                _number(env, "MAX_CONNECTIONS_PER_ADDRESS", d.max_connections_per_address, 1)
            ),
            header_timeout=_number(env, "HEADER_TIMEOUT", d.header_timeout, 0.1),
            body_timeout=_number(env, "BODY_TIMEOUT", d.body_timeout, 0.1),
            write_timeout=_number(env, "WRITE_TIMEOUT", d.write_timeout, 0.1),
            # API Gateway ends a request at 29 s, and each waiting poll holds a whole Lambda.
            poll_max_wait=_number(env, "POLL_MAX_WAIT", 5.0 if on_lambda else d.poll_max_wait),
            peer_table=int(_number(env, "PEER_TABLE_MAX", d.peer_table, 1)),
            replication_queue=int(_number(env, "REPLICATION_QUEUE_MAX", d.replication_queue, 1)),
            answer_max_bytes=int(_number(env, "ANSWER_MAX_BYTES", d.answer_max_bytes, 65_536)),
        )


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
    api_tokens_ssm_param: str | None = None
    ipfs_api_auth_ssm_param: str | None = None
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
    pin_service_backfill_rate: float = 20.0
    pin_service_backlog_limit: int = 1000
    on_lambda: bool = False
    log_level: str = "INFO"
    log_format: str = "text"
    limits: Limits = field(default_factory=Limits)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "Settings":
        env = os.environ if env is None else env
        boards = split_list(env.get("BOARDS")) or ["general"]
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
        on_lambda = bool(env.get("AWS_LAMBDA_FUNCTION_NAME"))
        log_level, log_format = log_settings(env)
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
            api_tokens_ssm_param=env.get("API_TOKENS_SSM_PARAM") or None,
            ipfs_api_auth_ssm_param=env.get("IPFS_API_AUTH_SSM_PARAM") or None,
            boards=boards,
            api_tokens=frozenset(split_list(env.get("API_TOKENS"))),
            port=int(_number(env, "PORT", 8888, 1)),
            peers=split_list(env.get("PEERS")),
            head_interval=_number(env, "HEAD_INTERVAL", 30.0, 0.1),
            sync_depth=int(_number(env, "SYNC_DEPTH", 20, 1)),
            sync_rate=_number(env, "SYNC_RATE", 50.0, 0.1),
            sync_horizon_days=_number(env, "SYNC_HORIZON_DAYS", 0.0),
            pin_service_url=pin_service_url,
            pin_service_token=env.get("PIN_SERVICE_TOKEN") or None,
            pin_service_token_ssm_param=env.get("PIN_SERVICE_TOKEN_SSM_PARAM") or None,
            pin_service_name=env.get("PIN_SERVICE_NAME") or "onusone",
            pin_service_replicas=_switch(env, "PIN_SERVICE_REPLICAS", False),
            pin_service_backfill_rate=_number(env, "PIN_SERVICE_BACKFILL_RATE", 20.0, 0.1),
            pin_service_backlog_limit=int(_number(env, "PIN_SERVICE_BACKLOG_LIMIT", 1000, 1)),
            on_lambda=on_lambda,
            log_level=log_level,
            log_format=log_format,
            limits=Limits.from_env(env, on_lambda),
        )
