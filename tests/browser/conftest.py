"""Browser tests of the chat panel: a JupyterLab server on 127.0.0.1 for the whole session, driven
by Playwright with Debian's chromium (`apt-get install chromium`; `playwright install` downloads a
browser, which does not work here).

Everything here skips cleanly when Playwright or chromium is missing, unless
`CLOUDSWAY_REQUIRE_BROWSER=1` (set by `.ci/run`), where a missing piece is a failure: CI must not
pass by skipping. Screenshots go to `CLOUDSWAY_SCREENSHOTS` (default: a pytest temp folder, whose
path is printed).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
]


def _missing() -> str | None:
    try:
        import playwright  # noqa: F401
        import pytest_playwright  # noqa: F401
    except ImportError as exc:
        return f"playwright / pytest-playwright not installed ({exc.name})"
    if _chromium() is None:
        return "chromium not installed (apt-get install chromium)"
    return None


def _chromium() -> str | None:
    return os.environ.get("CLOUDSWAY_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark the browser tests, skip them when a piece is missing, and run them last: Playwright's sync
    API keeps an event loop set on the main thread from its first use to the end of the session
    (its fixtures are session-scoped), which breaks every asyncio test that would come after."""
    here = Path(__file__).parent
    ours = [item for item in items if here in item.path.parents]
    if ours:
        items[:] = [item for item in items if here not in item.path.parents] + ours
    for item in ours:
        item.add_marker(pytest.mark.browser)
    reason = _missing() if ours else None
    if reason is None:
        return
    if os.environ.get("CLOUDSWAY_REQUIRE_BROWSER") == "1":
        raise pytest.UsageError(f"browser tests required (CLOUDSWAY_REQUIRE_BROWSER=1) but {reason}")
    for item in ours:
        item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """pytest-playwright's launch options, pointed at the system's chromium."""
    return {**browser_type_launch_args, "executable_path": _chromium(), "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_context_args, "viewport": {"width": 1100, "height": 900},
            "permissions": ["clipboard-read", "clipboard-write"]}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _write_json(path: Path, value: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value), encoding="utf-8")


class LabServer:
    def __init__(self, url: str, root: Path) -> None:
        self.url = url
        self.root = root

    def notebook(self, name: str, cells: list[str]) -> str:
        """Write a notebook of code cells into the server's root; returns its name."""
        import nbformat

        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell(source) for source in cells]
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nbformat.write(nb, self.root / name)
        return name


@pytest.fixture(scope="session")
def lab_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabServer]:
    """One JupyterLab (which also serves Notebook 7 at /notebooks/...) for the session, with its own
    config, data, runtime and workspace folders, no token, and nothing fetched from the network."""
    base = tmp_path_factory.mktemp("lab")
    root = base / "root"
    root.mkdir()
    config = base / "config"
    _write_json(config / "labconfig" / "page_config.json",
                {"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}})
    port = _free_port()
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(config),
        "JUPYTER_DATA_DIR": str(base / "data"),
        "JUPYTER_RUNTIME_DIR": str(base / "runtime"),
        "IPYTHONDIR": str(base / "ipython"),
        "PYTHONPATH": os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p),
        "JUPYTER_PLATFORM_DIRS": "1",
    }
    cmd = [
        sys.executable, "-m", "jupyter", "lab", "--no-browser", "--allow-root",
        "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
        f"--ServerApp.root_dir={root}", "--IdentityProvider.token=", "--ServerApp.password=",
        "--ServerApp.disable_check_xsrf=True", "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate", "--LabApp.expose_app_in_browser=True",
        f"--LabApp.workspaces_dir={base / 'workspaces'}",
    ]
    log = (base / "server.log").open("wb")
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=root)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for(url, proc, base / "server.log")
        yield LabServer(url, root)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def _wait_for(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"jupyter lab exited with {proc.returncode}:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/api/status", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"jupyter lab did not answer within {timeout:.0f} s:\n{log.read_text(errors='replace')[-3000:]}")


@pytest.fixture(scope="session")
def base_url(lab_server: LabServer) -> str:
    """pytest-playwright's base URL: our server. Defining it here also keeps the plugin's fallback
    fixture from running: pytest 9.2 deprecates it (a session fixture written as an instance method),
    and the deprecation warning is an error in this suite."""
    return lab_server.url


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = Path(os.environ.get("CLOUDSWAY_SCREENSHOTS") or tmp_path_factory.mktemp("screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    print(f"\nscreenshots in {folder}")
    return folder
