"""The two other faces of session.map: `df.cloudsway.map` and `%%cloudsway ENDPOINT --map df`."""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
import pytest
from IPython.core.error import UsageError as IPythonUsageError
from IPython.core.history import HistoryManager
from IPython.core.interactiveshell import InteractiveShell
from support import CANARY, ENDPOINTS
from test_batch import emulated, sent, texts

from cloudsway_nb import Client, Session
from cloudsway_nb.magics import CloudswayMagics, get_session, unload_ipython_extension


@pytest.fixture(scope="module")
def ip() -> Iterator[InteractiveShell]:
    HistoryManager.enabled = False
    yield InteractiveShell.instance()


def test_the_accessor_uses_the_notebooks_session(ip, tmp_path):
    import cloudsway_nb.accessor  # noqa: F401 - registers df.cloudsway

    with emulated() as (server, session):
        unload_ipython_extension(ip)
        ip.register_magics(CloudswayMagics(ip, session=session))
        try:
            assert get_session(ip) is session
            out = texts(3).cloudsway.map("Say {text}", cache=tmp_path / "c.sqlite", progress=False)
            assert list(out["status"]) == ["ok"] * 3 and sent(server) == 3
            assert texts(3).cloudsway.estimate("Say {text}", cache=tmp_path / "c.sqlite").to_send == 0
        finally:
            unload_ipython_extension(ip)


def test_the_magic_runs_the_cell_as_a_template(ip, tmp_path):
    with emulated() as (server, session):
        unload_ipython_extension(ip)
        ip.register_magics(CloudswayMagics(ip, session=session))
        ip.user_ns["reviews"] = pd.DataFrame({"text": ["good", "bad"]}, index=[7, 9])
        ip.user_ns["path"] = str(tmp_path / "c.sqlite")
        try:
            result = ip.run_cell_magic("cloudsway", "claude --map reviews --out labels -o cache=False "
                                       "-o progress=False --max-tokens 20", "Label {text}\n")
            assert result is ip.user_ns["labels"]
            assert list(result.index) == [7, 9] and list(result["status"]) == ["ok", "ok"]
            assert result.loc[7, "answer"].startswith("You said: Label good")
            assert sent(server) == 2
            with pytest.raises(IPythonUsageError, match="column 'body'"):
                ip.run_cell_magic("cloudsway", "gpt --map reviews -o cache=False", "Label {body}")
            with pytest.raises(IPythonUsageError, match="not a DataFrame"):
                ip.run_cell_magic("cloudsway", "gpt --map nothing_here", "Label {text}")
            assert sent(server) == 2
        finally:
            unload_ipython_extension(ip)
            for name in ("reviews", "path", "labels"):
                ip.user_ns.pop(name, None)


def test_a_session_outside_a_notebook_is_made_once(monkeypatch):
    from cloudsway_nb import accessor

    monkeypatch.setattr("IPython.get_ipython", lambda: None)
    monkeypatch.setattr(accessor, "_SESSION", [Session(Client("http://127.0.0.1:9", CANARY, dict(ENDPOINTS)))])
    assert accessor.default_session() is accessor.default_session()
    accessor._SESSION[0].close()
