"""`cloudsway-nb demo` on a machine with no key (a real kernel runs the quickstart notebook),
the command line `--lab` would run (on copies of the notebooks), `binder/start`, and the
sanitize rules nbval compares the notebooks with."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from cloudsway_nb import demo
from cloudsway_nb.cli import main as cli_main

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def fresh_machine(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No key, no base URL, no registry (the suite's conftest sets them for the notebooks)."""
    for name in ("CLOUDSWAY_API_KEY", "CLOUDSWAY_BASE_URL", demo.NOTEBOOKS_ENV):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CLOUDSWAY_CONFIG", str(tmp_path / "absent.toml"))


def test_demo_runs_the_quickstart_with_no_key_and_writes_notebook_and_html(
    fresh_machine: None, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("nbconvert", reason="the demo extra is needed: pip install -e '.[demo]'")
    pytest.importorskip("nbclient")
    out = tmp_path / "demo-out"
    status = cli_main(["demo", "--out", str(out), "--timeout", "60"])
    printed = capfd.readouterr()  # file descriptors: the kernel's own stderr too
    if status == 1 and "kernel" in printed.err.lower():  # pragma: no cover - depends on the sandbox
        pytest.skip(f"a Jupyter kernel could not be started here: {printed.err}")
    assert status == 0, printed.err
    assert printed.out.startswith("emulator: http://127.0.0.1:")
    assert f"folder: {out.resolve()}" in printed.out
    assert "IPKernelApp" not in printed.err and "WARNING" not in printed.err  # the kernel's log is kept quiet

    import nbformat

    executed = nbformat.read(out / "quickstart.ipynb", as_version=4)
    code = [c for c in executed.cells if c.cell_type == "code"]
    assert all(c.execution_count for c in code)
    assert not [o for c in code for o in c.outputs if o.output_type == "error"]
    text = nbformat.writes(executed)
    assert "You said: Why is the sky blue? One sentence, please." in text
    assert "the bundled one, set in CLOUDSWAY_BASE_URL" in text and "key from CLOUDSWAY_API_KEY" not in text
    assert demo.DEMO_KEY not in text
    page = (out / "quickstart.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "You said: Why is the sky blue?" in page
    assert os.environ.get("CLOUDSWAY_API_KEY") is None  # the env went to the kernel, not this process


@pytest.mark.parametrize("euid", [1000, 0])
def test_demo_lab_runs_jupyterlab_on_copies_of_the_notebooks_with_the_emulator_env(
    fresh_machine: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path,
    euid: int,
) -> None:
    seen: dict[str, object] = {}

    def fake_call(command: list[str], env: dict[str, str]) -> int:
        seen.update(command=command, env=env)
        assert httpx.get(f"{env['CLOUDSWAY_BASE_URL']}/health").status_code == 200  # running meanwhile
        assert Path(env["CLOUDSWAY_CONFIG"]).read_text(encoding="utf-8").count("[endpoints.") == 6
        return 0

    monkeypatch.setattr(demo, "_absent", lambda module: False)
    monkeypatch.setattr(demo.subprocess, "call", fake_call)
    monkeypatch.setattr(demo.os, "geteuid", lambda: euid)
    originals = {p.name: p.read_bytes() for p in (REPO / "notebooks").glob("*.ipynb")}
    assert demo.main(["--lab", "--out", str(tmp_path / "out")]) == 0
    assert demo.notebooks_dir() == REPO / "notebooks"
    copies = (tmp_path / "out" / "notebooks").resolve()
    assert seen["command"] == [
        sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={copies}",
        "--LabApp.default_url=/lab/tree/quickstart.ipynb", *(["--allow-root"] if euid == 0 else []),
    ]
    assert {p.name: p.read_bytes() for p in copies.glob("*.ipynb")} == originals  # Lab saves there, not in the repo
    env = seen["env"]
    assert isinstance(env, dict) and env["CLOUDSWAY_API_KEY"] == demo.DEMO_KEY
    printed = capsys.readouterr().out
    assert "starting JupyterLab" in printed and f"notebooks: {copies}\n" in printed

    (copies / "quickstart.ipynb").write_text("{}", encoding="utf-8")  # the user's edits survive a second run
    assert demo.main(["--lab", "--out", str(tmp_path / "out")]) == 0
    assert (copies / "quickstart.ipynb").read_text(encoding="utf-8") == "{}"
    kept = [line for line in capsys.readouterr().out.splitlines() if line.startswith("notebooks: ")]
    assert kept and "(kept your copies of " in kept[0] and "quickstart.ipynb" in kept[0]


def test_sanitize_hides_measured_times_but_not_media_durations() -> None:
    from nbval.plugin import get_sanitize_patterns

    patterns = get_sanitize_patterns((REPO / "notebooks" / "sanitize.cfg").read_text(encoding="utf-8"))

    def sanitize(text: str) -> str:
        for regex, replace in patterns:
            text = re.sub(regex, replace, text)  # as nbval's sanitize does
        return text

    footer = "claude · claude-sonnet · in 19 · out 34 · cached 0 · 0.02 s · first token 0.00 s"
    assert sanitize(footer) == "claude · claude-sonnet · in 19 · out 34 · cached 0 · T s · first token T s"
    assert sanitize("<td>29</td><td>0.01 s</td><td>12.50 s</td>") == "<td>29</td><td>T s</td><td>T s</td>"
    for fixed in ("Audio 1: WAV, 1.00 s, 16000 Hz mono.", "Video 1: MP4 container, 2.00 s, 64x48, 555 bytes."):
        assert sanitize(fixed) == fixed  # the emulator reports these exactly: a change must fail nbval
    assert sanitize("at http://127.0.0.1:40123 in /tmp/cloudsway-media-ab_c1/tone.wav") == (
        "at http://127.0.0.1:PORT in MEDIA_DIR/tone.wav"
    )


def test_demo_explains_what_is_missing(fresh_machine: None, monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(demo, "_absent", lambda module: module == "nbconvert")
    assert demo.main([]) == 2
    assert "missing nbconvert; install the demo extra: pip install -e '.[demo]'" in capsys.readouterr().err
    monkeypatch.setattr(demo, "_absent", lambda module: False)
    assert demo.main(["--gateway"]) == 2
    assert "set CLOUDSWAY_API_KEY" in capsys.readouterr().err
    monkeypatch.setenv(demo.NOTEBOOKS_ENV, "/nonexistent")
    monkeypatch.setattr(demo, "__file__", "/nonexistent/cloudsway_nb/demo.py")
    monkeypatch.setattr(demo.sys, "prefix", "/nonexistent")
    assert demo.main([]) == 2
    assert "the example notebooks were not found" in capsys.readouterr().err


@pytest.mark.skipif(shutil.which("bash") is None, reason="binder/start is a bash script")
def test_binder_start_runs_the_emulator_when_no_key_is_given(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLOUDSWAY_")}
    env.update(CLOUDSWAY_EMULATOR_DIR=str(tmp_path), PATH=f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}")
    try:
        done = subprocess.run([str(REPO / "binder" / "start"), "env"], env=env, capture_output=True, text=True,
                              timeout=60, check=True)
        seen = dict(line.split("=", 1) for line in done.stdout.splitlines() if line.startswith("CLOUDSWAY_"))
        assert seen["CLOUDSWAY_API_KEY"] == demo.DEMO_KEY
        assert seen["CLOUDSWAY_CONFIG"] == str(tmp_path / "endpoints.toml")
        assert httpx.get(f"{seen['CLOUDSWAY_BASE_URL']}/health").json()["status"] == "ok"
        assert "[endpoints.claude]" in Path(seen["CLOUDSWAY_CONFIG"]).read_text(encoding="utf-8")
    finally:
        pid_file = tmp_path / "emulator.pid"
        if pid_file.exists():
            os.kill(int(pid_file.read_text()), signal.SIGTERM)

    env["CLOUDSWAY_API_KEY"] = "sk-user-key"
    env["CLOUDSWAY_BASE_URL"] = "https://example.invalid"
    done = subprocess.run([str(REPO / "binder" / "start"), "env"], env=env, capture_output=True, text=True,
                          timeout=30, check=True)
    assert "CLOUDSWAY_BASE_URL=https://example.invalid" in done.stdout.splitlines()
    assert "CLOUDSWAY_CONFIG" not in done.stdout and "emulator" not in done.stderr  # left alone
