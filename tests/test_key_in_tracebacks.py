"""No key in any traceback, ever: a canary key goes through every way a call can fail, under
`%xmode Verbose` (which prints the variables of every frame), in a real IPython shell and in a
notebook executed and saved with nbclient, and the outputs are searched for any piece of it.

The key is only ever in the environment (CLOUDSWAY_API_KEY), never in a cell's source: a cell
that needs it passes `canary()`, a call (stack_data does not evaluate calls)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from IPython.core.history import HistoryManager
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

from cloudsway_nb.emulator.testing import running_emulator
from cloudsway_nb.magics import unload_ipython_extension

CANARY = "sk-cnry-7Qp2xZ9vLm4Tr8Wd0Yk6Hs3"
REPO = Path(__file__).resolve().parents[1]

SETUP = '''\
import os, httpx
from cloudsway_nb import Client, Endpoint
def canary():
    return os.environ["CLOUDSWAY_API_KEY"]
EP = {"gpt": Endpoint("MaaS-gpt", "chat", model="gpt-4o")}
def raises(exc):
    def handler(request):
        raise exc
    return httpx.MockTransport(handler)
'''

# (cell, what its one error must say): each fails in its own way
FAILING = [
    ('Client(timeout="30")', "UsageError: timeout='30' (str) is not valid"),
    ("Client(timeout=-1)", "UsageError: timeout=-1 (int) is not valid"),
    ('Client(endpoints=EP).chat("gpt", "hi", timeout="30")', "UsageError: timeout='30' (str)"),
    ('Client(endpoints=EP).chat("gpt", "hi", timeout=0)', "UsageError: timeout=0 (int)"),
    ('Client(endpoints=EP).stream("gpt", "hi", max_retries="2")', "UsageError: max_retries='2' (str)"),
    ('%%cloudsway gpt -o timeout=30s\nhi', "UsageError: timeout='30s' (str)"),
    ('Client(base_url="ftp://typo", api_key=canary())', "ConfigError: base URL 'ftp://typo' must start"),
    ('Client(base_url="http://127.0.0.1:notaport", api_key=canary())', "ConfigError: base URL"),
    ('Client(api_key=canary() + "\\nX-Injected: 1")', "ConfigError: api_key holds whitespace or a control"),
    ('Client(api_key=canary()[:9] + "\\x07" + canary()[9:])', "ConfigError: api_key holds whitespace"),
    ('Client(endpoints=EP, transport=raises(TypeError("bad timeout"))).chat("gpt", "hi")',
     "APIConnectionError: the request could not be sent (TypeError: bad timeout)"),
    ('Client(endpoints=EP, transport=raises(ValueError("odd"))).stream("gpt", "hi").until_done()',
     "APIConnectionError: the request could not be sent (ValueError: odd)"),
    ('Client(endpoints=EP, transport=raises(httpx.LocalProtocolError("Illegal header value"))).chat("gpt", "hi")',
     "APIConnectionError: connection failed (LocalProtocolError"),
    ('Client(endpoints=EP, transport=raises(KeyboardInterrupt())).chat("gpt", "hi")', "KeyboardInterrupt"),
    ('Client(base_url="http://127.0.0.1:9", endpoints=EP, max_retries=0).chat("gpt", "hi")',
     "APIConnectionError: connection failed"),
    ('with Client(endpoints=EP, api_key=canary() + "x", max_retries=0) as c: c.chat("gpt", "hi")',
     "AuthenticationError: 401"),
]


def plain(text: str) -> str:
    """Text without terminal colours (IPython colours its tracebacks)."""
    return re.sub(r"\x1b\[[0-9;]*m", "", text)


def leaked(text: str) -> list[str]:
    """Every 8-character piece of the canary found in `text` (a key's prefix is as bad as the key)."""
    return sorted({CANARY[i:i + 8] for i in range(len(CANARY) - 7) if CANARY[i:i + 8] in text})


def foreign_frames(text: str) -> list[str]:
    """Lines of a traceback that show a frame of httpx, httpcore or h11 (whose locals hold headers)."""
    markers = ("/httpcore/", "/h11/", "/httpx/")
    return [line for line in text.splitlines() if any(m in line for m in markers)]


@pytest.fixture
def canary_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[str]:
    with running_emulator(api_key=CANARY) as url:
        monkeypatch.setenv("CLOUDSWAY_API_KEY", CANARY)
        monkeypatch.setenv("CLOUDSWAY_BASE_URL", url)
        monkeypatch.setenv("CLOUDSWAY_CONFIG", str(tmp_path / "endpoints.toml"))
        yield url


@pytest.fixture
def verbose_shell() -> Iterator[InteractiveShell]:
    HistoryManager.enabled = False
    ip = InteractiveShell.instance()
    unload_ipython_extension(ip)
    ip.run_line_magic("xmode", "Verbose")
    try:
        yield ip
    finally:
        ip.run_line_magic("xmode", "Context")
        if "cloudsway_nb" in ip.extension_manager.loaded:
            ip.extension_manager.unload_extension("cloudsway_nb")
        unload_ipython_extension(ip)


def test_every_failure_in_a_verbose_shell_shows_no_key(canary_env: str, verbose_shell: InteractiveShell) -> None:
    ip = verbose_shell
    assert ip.run_cell(SETUP).success
    assert ip.run_cell("%load_ext cloudsway_nb\n%cloudsway add gpt --path MaaS-gpt --protocol chat").success
    for cell, expected in FAILING:
        with capture_output() as out:
            result = ip.run_cell(cell)
        text = plain(out.stdout + out.stderr)
        assert not result.success, cell
        assert expected in text, (cell, text[-600:])
        assert not leaked(text), (cell, leaked(text))
        assert not foreign_frames(text), (cell, foreign_frames(text))
    with capture_output() as out:  # the verbose mode really shows frame variables (so the test can fail)
        ip.run_cell("def f(secret_value):\n    raise ValueError('x')\nf('visible-local-value')")
    assert "visible-local-value" in out.stdout + out.stderr


nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient", reason="nbclient is needed to run a notebook")


def test_every_failure_in_a_saved_notebook_shows_no_key(
    canary_env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("ipykernel", reason="ipykernel is needed to run a notebook")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
    sources = ["%xmode Verbose", SETUP, "%load_ext cloudsway_nb\n%cloudsway add gpt --path MaaS-gpt --protocol chat",
               *(cell for cell, _ in FAILING)]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(src) for src in sources])
    client = nbclient.NotebookClient(nb, timeout=60, startup_timeout=60, kernel_name="python3", allow_errors=True,
                                     resources={"metadata": {"path": str(tmp_path)}})
    try:
        client.execute()
    except (RuntimeError, OSError, TimeoutError) as exc:  # pragma: no cover - depends on the sandbox
        pytest.skip(f"a Jupyter kernel could not be started here: {exc}")
    saved = tmp_path / "verbose.ipynb"
    nbformat.write(nb, saved)
    text = saved.read_text(encoding="utf-8")
    assert not leaked(text) and not foreign_frames(text)
    for cell, (source, expected) in zip(nb.cells[3:], FAILING, strict=True):
        shown = plain(nbformat.writes(nbformat.v4.new_notebook(cells=[cell])))
        assert expected.split(":")[0] in shown, (source, shown[-800:])
