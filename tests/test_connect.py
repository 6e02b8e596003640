"""`Session.connect()` and `%cloudsway connect`: the configured gateway when a key is set, else the
bundled emulator; `get_session()` gives Python cells the magic's Session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from IPython.core.error import UsageError
from IPython.core.history import HistoryManager
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

from cloudsway_nb.demo import write_registry
from cloudsway_nb.emulator.testing import running_emulator
from cloudsway_nb.magics import CloudswayMagics, get_session, unload_ipython_extension
from cloudsway_nb.session import EMULATOR_ENDPOINTS, Session

CANARY = "sk-canary-connect-0123456789abcdef"


@pytest.fixture
def no_key(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A machine with no key and no registry (the suite's conftest sets both for the notebooks)."""
    monkeypatch.delenv("CLOUDSWAY_API_KEY", raising=False)
    monkeypatch.delenv("CLOUDSWAY_BASE_URL", raising=False)
    monkeypatch.setenv("CLOUDSWAY_CONFIG", str(tmp_path / "absent.toml"))


@pytest.fixture
def gateway(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[str]:
    """A 'real' gateway: an emulator that accepts only the canary key, configured through the env."""
    with running_emulator(api_key=CANARY) as url:
        monkeypatch.setenv("CLOUDSWAY_API_KEY", CANARY)
        monkeypatch.setenv("CLOUDSWAY_BASE_URL", url)
        monkeypatch.setenv("CLOUDSWAY_CONFIG", str(write_registry(tmp_path / "endpoints.toml")))
        yield url


@pytest.fixture
def ip() -> Iterator[InteractiveShell]:
    HistoryManager.enabled = False
    shell = InteractiveShell.instance()
    unload_ipython_extension(shell)
    shell.register_magics(CloudswayMagics(shell))
    yield shell
    unload_ipython_extension(shell)


def connect(ip: InteractiveShell, flags: str = "") -> str:
    with capture_output() as captured:
        ip.run_line_magic("cloudsway", f"connect {flags}".strip())
    return captured.stdout


def test_without_a_key_connect_starts_the_emulator(no_key: None) -> None:
    session = Session()
    try:
        info = session.connect()
        assert info["mode"] == "emulator" and info["base_url"].startswith("http://127.0.0.1:")
        assert info["endpoints"] == {alias: proto for alias, (_p, proto, _m) in EMULATOR_ENDPOINTS.items()}
        assert info["default_endpoint"] == "gpt" == session.default_endpoint
        assert session.ask("claude", "Hello", stream=False).text == "You said: Hello."
        assert httpx.get(f"{info['base_url']}/health").status_code == 200
        assert session.connect() == info  # connecting again keeps the running emulator
    finally:
        url = session.emulator_url
        session.close()
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{url}/health", timeout=1)


def test_with_a_key_connect_uses_the_configured_gateway(gateway: str) -> None:
    session = Session()
    try:
        info = session.connect()
        assert info == {
            "mode": "gateway", "base_url": gateway,
            "endpoints": {alias: proto for alias, (_p, proto, _m) in EMULATOR_ENDPOINTS.items()},
            "default_endpoint": "gpt",
        }
        assert session.emulator_url is None
        assert CANARY not in repr(info)
        # the emulator here accepts only the canary key: this proves the key came from the env
        assert session.ask("gemini", "Hi there", stream=False).text == "You said: Hi there."
    finally:
        session.close()


def test_connect_keeps_a_default_it_knows_and_can_force_either_way(gateway: str) -> None:
    session = Session(default_endpoint="claude")
    try:
        assert session.connect()["default_endpoint"] == "claude"
        forced = session.connect(emulator=True)
        assert forced["mode"] == "emulator" and forced["base_url"] != gateway
        back = session.connect(emulator=False)
        assert back["mode"] == "gateway" and back["base_url"] == gateway and session.emulator_url is None
    finally:
        session.close()


def test_magic_connect_without_a_key_prints_the_emulator_and_its_endpoints(no_key: None,
                                                                           ip: InteractiveShell) -> None:
    out = connect(ip)
    magics = ip.magics_manager.registry["CloudswayMagics"]
    assert out.startswith(f"emulator running at {magics.session.emulator_url} with a dummy key")
    assert "endpoints: gpt (chat), o3 (responses), claude (messages), gemini (gemini), e5 (embeddings)" in out
    assert out.rstrip().endswith("default: gpt") and magics.default_endpoint == "gpt"
    with capture_output() as captured:
        ip.run_cell_magic("cloudsway", "--no-stream", "Hello")
    assert "You said: Hello." in captured.outputs[-1].data["text/plain"]


def test_magic_connect_with_a_key_prints_the_gateway_never_the_key(gateway: str, ip: InteractiveShell) -> None:
    out = connect(ip)
    assert out.splitlines()[0] == f"gateway: {gateway} (key from CLOUDSWAY_API_KEY)"
    assert "claude (messages)" in out and "default: gpt" in out
    assert CANARY not in out and CANARY[-8:] not in out
    assert ip.magics_manager.registry["CloudswayMagics"].session.emulator_url is None


def test_magic_connect_gateway_without_endpoints_says_how_to_add_one(no_key: None, ip: InteractiveShell) -> None:
    out = connect(ip, "--gateway")
    assert "gateway: https://genaiapi.cloudsway.net" in out
    assert "endpoints: none: add one with %cloudsway add NAME --path P --protocol X" in out
    assert "default: None" in out
    with pytest.raises(UsageError):
        ip.run_line_magic("cloudsway", "connect --gateway --emulator")


def test_get_session_is_the_magics_session(no_key: None, ip: InteractiveShell) -> None:
    connect(ip, "--emulator")
    session = get_session(ip)
    assert session is ip.magics_manager.registry["CloudswayMagics"].session
    assert session.ask("gpt", "Shared", stream=False).text == "You said: Shared."
    with capture_output() as captured:
        frame = ip.run_line_magic("cloudsway", "usage")
    assert list(frame["endpoint"]) == ["gpt"] and not captured.stdout
