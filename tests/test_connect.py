"""`Session.connect()` and `%cloudsway connect`: the configured gateway when a key is set, else the
bundled emulator; `connect --gateway` re-reads the environment; an emulator configured through the
environment (demo, binder, the suite) is named as such; `%cloudsway login` never asks for a key while
the session talks to an emulator; `get_session()` gives Python cells the magic's Session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from IPython.core.error import UsageError
from IPython.core.history import HistoryManager
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output
from support import CANARY

from cloudsway_nb.config import EMULATOR_ENDPOINTS
from cloudsway_nb.demo import DEMO_KEY, write_registry
from cloudsway_nb.emulator.testing import running_emulator
from cloudsway_nb.magics import CloudswayMagics, get_session, unload_ipython_extension
from cloudsway_nb.session import Session

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def no_key(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A machine with no key and no registry (the suite's conftest sets both for the notebooks)."""
    monkeypatch.delenv("CLOUDSWAY_API_KEY", raising=False)
    monkeypatch.delenv("CLOUDSWAY_BASE_URL", raising=False)
    monkeypatch.setenv("CLOUDSWAY_CONFIG", str(tmp_path / "absent.toml"))


@pytest.fixture
def real_gateway(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A stand-in for a real gateway: an emulator that accepts only the canary key and that
    `Session.is_bundled_emulator` does not recognise (a real gateway has no emulator /health)."""
    from cloudsway_nb import connect

    recognise = connect.is_bundled_emulator
    with running_emulator(api_key=CANARY) as url:
        monkeypatch.setattr(connect, "is_bundled_emulator", lambda base: base != url and recognise(base))
        yield url


@pytest.fixture
def gateway(real_gateway: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    """The real gateway configured through the env, with the key."""
    monkeypatch.setenv("CLOUDSWAY_API_KEY", CANARY)
    monkeypatch.setenv("CLOUDSWAY_BASE_URL", real_gateway)
    monkeypatch.setenv("CLOUDSWAY_CONFIG", str(write_registry(tmp_path / "endpoints.toml")))
    return real_gateway


@pytest.fixture
def binder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[str]:
    """What binder/start (and `cloudsway-nb demo`, and the suite's conftest) set up: an emulator
    started outside the kernel, configured through the env with a dummy key. It accepts only
    that key, so a real key sent to it would fail."""
    with running_emulator(api_key=DEMO_KEY) as url:
        monkeypatch.setenv("CLOUDSWAY_API_KEY", DEMO_KEY)
        monkeypatch.setenv("CLOUDSWAY_BASE_URL", url)
        monkeypatch.setenv("CLOUDSWAY_CONFIG", str(write_registry(tmp_path / "binder.toml")))
        yield url


@pytest.fixture
def getpass_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """`%cloudsway login`'s hidden prompt, answering the canary key; records each prompt."""
    calls: list[str] = []

    def fake_getpass(prompt: str = "") -> str:
        calls.append(prompt)
        return CANARY

    monkeypatch.setattr("getpass.getpass", fake_getpass)
    return calls


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
            "default_endpoint": "gpt", "emulator": False,
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


def test_connect_gateway_stops_the_emulator_and_rereads_the_environment(
    no_key: None, real_gateway: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    session = Session()
    try:
        first = session.connect()
        emulator_url = session.emulator_url
        assert first["mode"] == "emulator" and first["emulator"] and emulator_url is not None
        registry = write_registry(tmp_path / "mine.toml")
        monkeypatch.setenv("CLOUDSWAY_BASE_URL", real_gateway)
        monkeypatch.setenv("CLOUDSWAY_CONFIG", str(registry))
        info = session.connect(emulator=False)
        assert info["mode"] == "gateway" and info["base_url"] == real_gateway and not info["emulator"]
        assert session.emulator_url is None and not session.client.api_key_set  # no key in the env
        with pytest.raises(httpx.TransportError):
            httpx.get(f"{emulator_url}/health", timeout=1)
        session.login(CANARY)  # the stand-in accepts only the canary: the key reached the gateway
        assert session.ask("claude", "Mine now", stream=False).text == "You said: Mine now."
        monkeypatch.setenv("CLOUDSWAY_API_KEY", "sk-another-key-from-the-env")
        assert session.connect()["base_url"] == real_gateway  # same gateway: the client (and login key) stay
        assert session.ask("claude", "Still mine", stream=False).text == "You said: Still mine."
        monkeypatch.delenv("CLOUDSWAY_API_KEY")
        session.connect(emulator=False)  # --gateway: rebuilt from the env, which has no key
        assert not session.client.api_key_set and session.emulator_url is None
    finally:
        session.close()


def test_connect_recognises_an_emulator_configured_through_the_environment(binder: str, ip: InteractiveShell) -> None:
    session = Session()
    try:
        info = session.connect()
        assert info["mode"] == "gateway" and info["emulator"] and info["base_url"] == binder
        assert session.on_emulator and session.emulator_url is None
    finally:
        session.close()
    out = connect(ip)
    assert out.splitlines()[0] == (
        f"emulator at {binder}: the bundled one, set in CLOUDSWAY_BASE_URL (no real key needed)"
    )
    assert "key from CLOUDSWAY_API_KEY" not in out


def test_is_bundled_emulator_asks_only_plain_http_and_wants_the_emulators_health(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import http.server
    import threading

    class NotFound(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"status": "ok", "name": "some other service"}')

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), NotFound)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        assert not Session.is_bundled_emulator(f"http://127.0.0.1:{server.server_address[1]}")
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
    with running_emulator() as url:
        assert Session.is_bundled_emulator(url) and Session.is_bundled_emulator(url + "/")
    assert not Session.is_bundled_emulator(url)  # stopped: nothing answers

    def no_request(*args: object, **kwargs: object) -> None:
        raise AssertionError("an https gateway must not be probed")

    monkeypatch.setattr(httpx, "get", no_request)
    assert not Session.is_bundled_emulator("https://genaiapi.cloudsway.net")


def test_login_after_connecting_to_the_emulator_asks_to_connect_to_the_gateway_first(
    no_key: None, real_gateway: str, ip: InteractiveShell, getpass_calls: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    connect(ip)  # no key: the emulator
    magics = ip.magics_manager.registry["CloudswayMagics"]
    monkeypatch.setenv("CLOUDSWAY_BASE_URL", "https://unused.invalid")  # restored after the test
    ip.run_line_magic("env", f"CLOUDSWAY_BASE_URL={real_gateway}")
    with pytest.raises(UsageError, match="connect --gateway") as refused:
        ip.run_line_magic("cloudsway", "login")
    assert "\n" not in str(refused.value) and getpass_calls == []  # one line; the key was never asked for
    assert magics.session.emulator_url is not None
    out = connect(ip, "--gateway")
    assert out.splitlines()[0] == f"gateway: {real_gateway} (no key yet: run %cloudsway login)"
    assert magics.session.emulator_url is None
    with capture_output() as captured:
        ip.run_line_magic("cloudsway", "login")
    assert getpass_calls and CANARY not in captured.stdout
    ip.run_line_magic("cloudsway", "add gpt --path emulator-gpt --protocol chat")
    with capture_output() as captured:
        ip.run_cell_magic("cloudsway", "gpt --no-stream", "Hello gateway")
    assert "You said: Hello gateway." in captured.outputs[-1].data["text/plain"]


def test_binder_readme_own_key_flow(binder: str, real_gateway: str, ip: InteractiveShell,
                                    getpass_calls: list[str], tmp_path: Path) -> None:
    """binder/README.md's own-key steps, as written there, against a binder-style emulator and a
    stand-in gateway (which accepts only the canary key)."""
    readme = (REPO / "binder" / "README.md").read_text(encoding="utf-8")
    steps = readme.split("```python\n", 1)[1].split("```", 1)[0].splitlines()
    assert [s.split("=")[0].split(" --")[0] for s in steps][:4] == [
        "%env CLOUDSWAY_BASE_URL", "%env CLOUDSWAY_CONFIG", "%cloudsway connect", "%cloudsway login",
    ]
    mine = tmp_path / "cloudsway-endpoints.toml"
    here = {"https://genaiapi.cloudsway.net": real_gateway, "~/cloudsway-endpoints.toml": str(mine),
            "YOUR-ENDPOINT-PATH": "emulator-gpt"}

    assert connect(ip).startswith(f"emulator at {binder}: the bundled one")  # the notebook's first cell
    with pytest.raises(UsageError, match="connect --gateway"):
        ip.run_line_magic("cloudsway", "login")  # too early: the key would go to the emulator
    assert getpass_calls == []
    printed = []
    for step in steps:
        for theirs, ours in here.items():
            step = step.replace(theirs, ours)
        magic, _, rest = step.lstrip("%").partition(" ")
        with capture_output() as captured:
            ip.run_line_magic(magic, rest)
        printed.append(captured.stdout)
    assert printed[2].startswith(f"gateway: {real_gateway} (key from CLOUDSWAY_API_KEY)")  # start's dummy key
    assert "endpoints: none: add one" in printed[2]
    assert getpass_calls and mine.is_file() and CANARY not in mine.read_text(encoding="utf-8")
    assert not any(CANARY in text for text in printed)
    with capture_output():
        ip.run_cell_magic("cloudsway", "gpt --no-stream --out r", "Hi.")
    assert ip.user_ns.pop("r").text == "You said: Hi."  # the canary key reached the gateway
    assert connect(ip).startswith(f"gateway: {real_gateway}")  # re-running the first cell keeps the login
    assert get_session(ip).ask("gpt", "Again", stream=False).text == "You said: Again."


@pytest.fixture
def user_started_emulator(no_key: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """What the README says a user may do: `cloudsway-nb emulator` in a terminal, then only
    `CLOUDSWAY_BASE_URL` set in the notebook (no key, no registry)."""
    with running_emulator() as url:
        monkeypatch.setenv("CLOUDSWAY_BASE_URL", url)
        yield url


@pytest.mark.parametrize("flags", ["", "--gateway"])
def test_connect_uses_the_emulator_at_the_url_it_is_given_with_no_key(
    user_started_emulator: str, ip: InteractiveShell, flags: str
) -> None:
    out = connect(ip, flags)
    session = get_session(ip)
    assert session.emulator_url is None  # no second emulator inside the kernel
    assert out.splitlines()[0].startswith(f"emulator at {user_started_emulator}")
    assert "endpoints: gpt (chat), o3 (responses), claude (messages)" in out and "none" not in out
    with capture_output() as captured:
        ip.run_cell_magic("cloudsway", "gpt --no-stream --out r", "Hello")
    assert ip.user_ns.pop("r").text == "You said: Hello." and "no API key" not in captured.stderr
    with capture_output() as config:
        ip.run_line_magic("cloudsway", "config")
    assert "emulator          at CLOUDSWAY_BASE_URL" in config.stdout
    assert "api_key           set (from the emulator, a dummy one: no real key needed)" in config.stdout


def test_an_emulator_at_the_url_needs_no_key_even_without_connect(user_started_emulator: str) -> None:
    session = Session()
    try:
        assert session.ask("claude", "Straight away", stream=False).text == "You said: Straight away."
    finally:
        session.close()
