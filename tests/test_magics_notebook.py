"""A real kernel runs a notebook of %%cloudsway cells (nbclient) against the emulator with a canary
key; the saved .ipynb must show the answers and never the key."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from cloudsway_nb.emulator.testing import running_emulator

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient", reason="nbclient is needed to run a notebook (pip install nbclient)")
pytest.importorskip("ipykernel", reason="ipykernel is needed to run a notebook (pip install ipykernel)")

REPO = Path(__file__).resolve().parents[1]

CELLS = [
    "%load_ext cloudsway_nb",
    "%cloudsway add gpt --path MaaS-gpt --protocol chat --model gpt-4o\n"
    "%cloudsway add claude --path MaaS-claude --protocol messages\n"
    "%cloudsway use gpt",
    "%%cloudsway gpt -r low --out r\nHello from the notebook",
    "%%cloudsway gpt,claude --out rs\nCompare {r.endpoint}",
    "%%cloudsway nope\nhi",
    "%cloudsway config",
    "%cloudsway usage",
    "r.to_frame()",
    "%cloudsway emulator start",
    "%%cloudsway claude -r low\nVia the bundled emulator",
    "%cloudsway emulator stop",
]


def test_notebook_outputs_never_contain_the_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, canary: str) -> None:
    with running_emulator(api_key=canary) as url:
        monkeypatch.setenv("CLOUDSWAY_API_KEY", canary)
        monkeypatch.setenv("CLOUDSWAY_BASE_URL", url)
        monkeypatch.setenv("CLOUDSWAY_CONFIG", str(tmp_path / "endpoints.toml"))
        monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(src) for src in CELLS])
        client = nbclient.NotebookClient(
            nb, timeout=60, startup_timeout=60, kernel_name="python3", allow_errors=True,
            resources={"metadata": {"path": str(tmp_path)}},
        )
        try:
            client.execute()
        except (RuntimeError, OSError, TimeoutError) as exc:  # pragma: no cover - depends on the sandbox
            if "kernel" in str(exc).lower() or isinstance(exc, (OSError, TimeoutError)):
                pytest.skip(f"a Jupyter kernel could not be started here: {exc}")
            raise
    saved = tmp_path / "run.ipynb"
    nbformat.write(nb, saved)
    text = saved.read_text(encoding="utf-8")

    assert canary not in text and canary[:16] not in text
    assert "You said: Hello from the notebook." in text
    assert "You said: Compare gpt." in text and "cloudsway-table" in text
    assert "You said: Via the bundled emulator." in text

    cells = nbformat.reads(text, as_version=4)["cells"]
    errors = [o for c in cells for o in c["outputs"] if o["output_type"] == "error"]
    assert errors == []
    bad = cells[4]["outputs"]
    assert len(bad) == 1 and bad[0]["name"] == "stderr"
    assert bad[0]["text"].startswith("UsageError: unknown endpoint 'nope'") and bad[0]["text"].count("\n") == 1
    config = "".join(o.get("text", "") for o in cells[5]["outputs"])
    assert "api_key" in config and "set (from CLOUDSWAY_API_KEY)" in config
    usage = json.dumps(cells[6]["outputs"])
    assert "gpt-4o" in usage and "claude" in usage
    answer = cells[2]["outputs"]
    assert answer and all(o["output_type"] == "display_data" for o in answer)
    assert "cloudsway-reasoning" in answer[-1]["data"]["text/html"]
