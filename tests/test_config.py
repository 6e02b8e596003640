"""Settings resolution and the endpoint registry's TOML file."""

from __future__ import annotations

from pathlib import Path

import pytest

from cloudsway_nb import Client, ConfigError, Endpoint
from cloudsway_nb.config import (
    DEFAULT_BASE_URL,
    config_path,
    load_endpoints,
    mask_key,
    resolve_api_key,
    resolve_base_url,
    save_endpoints,
)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("CLOUDSWAY_BASE_URL", "CLOUDSWAY_API_KEY", "XDG_CONFIG_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CLOUDSWAY_CONFIG", str(tmp_path / "endpoints.toml"))


def test_base_url_argument_then_environment_then_default(monkeypatch: pytest.MonkeyPatch) -> None:
    assert resolve_base_url() == DEFAULT_BASE_URL
    monkeypatch.setenv("CLOUDSWAY_BASE_URL", "http://127.0.0.1:9999/")
    assert resolve_base_url() == "http://127.0.0.1:9999"
    assert resolve_base_url("https://other.example/") == "https://other.example"
    with pytest.raises(ConfigError, match="http"):
        resolve_base_url("localhost:8000")


def test_api_key_argument_then_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert resolve_api_key() is None
    monkeypatch.setenv("CLOUDSWAY_API_KEY", " env-key ")
    assert resolve_api_key() == "env-key"
    assert resolve_api_key("arg-key") == "arg-key"


def test_endpoint_is_a_plain_value() -> None:
    a = Endpoint("MaaS-x", "chat", model="m", temperature=0.1)
    assert a == Endpoint("MaaS-x", "chat", "m", temperature=0.1)
    assert a != Endpoint("MaaS-x", "chat", "m")
    assert a.defaults == {"temperature": 0.1}
    assert repr(a) == "Endpoint('MaaS-x', 'chat', model='m', temperature=0.1)"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("", "chat"), "endpointPath"),
        (("x", "grpc"), "protocol='grpc' \\(str\\) is not valid"),
    ],
)
def test_bad_endpoints_are_one_clear_error(args: tuple[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Endpoint(*args)


def test_defaults_cannot_hold_a_key() -> None:
    with pytest.raises(ConfigError, match="secrets"):
        Endpoint("x", "chat", api_key="sk-canary")


def test_registry_round_trips_through_toml(tmp_path: Path) -> None:
    endpoints = {
        "gpt": Endpoint("MaaS-gpt", "chat", "gpt-4o", temperature=0.2, stop=["\n\n"]),
        "claude": Endpoint("MaaS-cl/v2", "messages", thinking={"type": "enabled", "budget_tokens": 2000}),
        "e5": Endpoint("MaaS-e5", "embeddings"),
    }
    file = save_endpoints(endpoints)
    assert file == config_path() == tmp_path / "endpoints.toml"
    assert load_endpoints() == endpoints
    assert "[endpoints.gpt]" in file.read_text()


def test_missing_file_is_an_empty_registry(tmp_path: Path) -> None:
    assert load_endpoints(tmp_path / "nope.toml") == {}


def test_broken_file_names_itself(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[endpoints.x\npath=")
    with pytest.raises(ConfigError, match=r"bad\.toml"):
        load_endpoints(bad)
    bad.write_text('[endpoints.x]\npath = "p"\n')
    with pytest.raises(ConfigError, match="'x' needs both"):
        load_endpoints(bad)


def test_client_loads_adds_saves_and_never_writes_the_key() -> None:
    canary = "sk-canary-0123456789abcdef"
    client = Client(api_key=canary)
    assert client.endpoints == {}
    client.add_endpoint("gpt", path="MaaS-gpt", protocol="chat", model="gpt-4o", temperature=0)
    path = client.save_endpoints()
    assert canary not in path.read_text()
    assert Client(api_key="other").endpoints == {"gpt": Endpoint("MaaS-gpt", "chat", "gpt-4o", temperature=0)}
    assert client.remove_endpoint("gpt").path == "MaaS-gpt"
    assert client.endpoints == {}


def test_unknown_alias_says_how_to_fix_it() -> None:
    client = Client(api_key="k", endpoints={"gpt": Endpoint("p", "chat")})
    with pytest.raises(ConfigError) as info:
        client.chat("gtp", "hi")
    message = str(info.value)
    assert "unknown endpoint 'gtp'" in message and "known: gpt" in message and "add_endpoint" in message
    assert "\n" not in message


def test_missing_key_says_how_to_fix_it() -> None:
    client = Client(endpoints={"gpt": Endpoint("p", "chat")})
    with pytest.raises(ConfigError, match="CLOUDSWAY_API_KEY"):
        client.chat("gpt", "hi")


def test_bad_alias_is_refused() -> None:
    with pytest.raises(ConfigError, match="alias"):
        Client(api_key="k").add_endpoint("a,b", path="p", protocol="chat")


def test_mask_key_shows_none_of_the_key() -> None:
    assert mask_key("short") == mask_key("sk-canary-0123456789abcdef") == "set"
    assert mask_key(None) == mask_key("") == "(not set)"
