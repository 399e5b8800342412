from pathlib import Path

import pytest

from node.http.network_health import network_health
from node.settings import DEFAULT_IPFS_API, Settings, SettingsError
from node.toolkit import retry
from node.toolkit.retry import BASE_DELAY_MS, MAX_DELAY_MS, backoff_ms
from storage.ipfs import api_url, auth_header


def test_defaults_need_no_settings():
    settings = Settings.from_env({})
    assert settings.ipfs_api == DEFAULT_IPFS_API and not settings.ipfs_api_set
    assert settings.data_dir == Path("data") and settings.port == 8888
    assert settings.boards == ["general"] and settings.store == "sqlite"
    assert settings.head_interval == 30


def test_lists_and_numbers_are_parsed():
    settings = Settings.from_env(
        {
            "BOARDS": "general, dev",
            "API_TOKENS": "a,b",
            "PEERS": "/ip4/127.0.0.1/tcp/1/p2p/x",
            "PORT": "9000",
            "HEAD_INTERVAL": "1.5",
        }
    )
    assert settings.boards == ["general", "dev"] and settings.api_tokens == {"a", "b"}
    assert settings.peers == ["/ip4/127.0.0.1/tcp/1/p2p/x"]
    assert settings.port == 9000 and settings.head_interval == 1.5


@pytest.mark.parametrize(
    "env",
    [
        {"BOARDS": "Bad"},
        {"STORE": "redis"},
        {"STORE": "dynamodb"},
        {"PORT": "x"},
        {"HEAD_INTERVAL": "-1"},
    ],
)
def test_bad_settings_are_refused(env):
    with pytest.raises(SettingsError):
        Settings.from_env(env)


@pytest.mark.parametrize(
    "address, url",
    [
        ("/ip4/127.0.0.1/tcp/5001/http", "http://127.0.0.1:5001"),
        ("/dns/ipfs.example/tcp/443/https", "https://ipfs.example:443"),
        ("/ip6/::1/tcp/5001", "http://[::1]:5001"),
        ("http://10.0.0.1:5001/", "http://10.0.0.1:5001"),
    ],
)
def test_ipfs_api_accepts_multiaddr_and_url(address, url):
    assert api_url(address) == url


@pytest.mark.parametrize("address", ["/ip4/1.2.3.4/udp/1", "ftp://x", "nonsense"])
def test_bad_ipfs_api_is_refused(address):
    with pytest.raises(ValueError):
        api_url(address)


def test_auth_header_basic_or_bearer():
    assert auth_header(None) == {}
    assert auth_header("alice:pw") == {"Authorization": "Basic YWxpY2U6cHc="}
    assert auth_header("tok") == {"Authorization": "Bearer tok"}


def test_network_health_follows_observations():
    assert network_health(False, 5, 0, True) == "offline"
    assert network_health(True, 5, 1, True) == "degraded"
    assert network_health(True, 5, 0, False) == "degraded"
    assert network_health(True, 0, 0, True) == "isolated"
    assert network_health(True, 1, 0, True) == "fair"
    assert network_health(True, 2, 0, True) == "good"
    assert network_health(True, 3, 0, True) == "excellent"


@pytest.mark.parametrize("attempts", range(0, 25))
def test_backoff_doubles_per_attempt_with_full_jitter_up_to_the_cap(attempts, monkeypatch):
    delay = min(MAX_DELAY_MS, BASE_DELAY_MS * 2**attempts)
    monkeypatch.setattr(retry.random, "random", lambda: 0.0)
    assert backoff_ms(attempts) == delay // 2
    monkeypatch.setattr(retry.random, "random", lambda: 0.999999)
    assert backoff_ms(attempts) == int(delay / 2 + 0.999999 * delay / 2)
    monkeypatch.undo()
    samples = {backoff_ms(attempts) for _ in range(50)}
    assert all(delay / 2 <= d <= delay for d in samples) and len(samples) > 1


def test_backoff_stays_at_the_cap_for_any_number_of_attempts():
    assert all(MAX_DELAY_MS / 2 <= backoff_ms(n) <= MAX_DELAY_MS for n in (30, 10_000))
