"""The quickstart notebook run cell by cell in a real JupyterLab, as a new user would: every cell
ends without an error, the answers show (code blocks highlighted, the side-by-side table, reasoning,
footers) and each streamed answer leaves one output. Screenshots of every code cell's output go to
the screenshots folder (see the conftest).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import nbformat
from test_panel_browser import LAB_IDLE, TIMEOUT

REPO = Path(__file__).resolve().parents[2]


def test_quickstart_runs_in_jupyterlab(page: Any, lab_server: Any, screenshots: Path) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    nb = nbformat.read(REPO / "notebooks" / "quickstart.ipynb", as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    # as a new user: nothing configured, so connect starts the bundled emulator, paced as it is by
    # default (the suite's own emulator answers at once): the streaming shows
    nb.cells.insert(0, nbformat.v4.new_code_cell(
        "import os\nfor name in ('CLOUDSWAY_EMULATOR_PACING', 'CLOUDSWAY_BASE_URL', 'CLOUDSWAY_API_KEY'):\n"
        "    os.environ.pop(name, None)\nos.environ['CLOUDSWAY_CONFIG'] = 'no-such-registry.toml'"))
    nbformat.write(nb, lab_server.root / "quickstart.ipynb")
    page.goto(f"{lab_server.url}/lab/tree/quickstart.ipynb?reset")
    page.locator(LAB_IDLE).first.wait_for(timeout=TIMEOUT)
    page.locator(".jp-Cell").first.click()
    for _ in nb.cells:  # Shift+Enter on each cell in turn (markdown ones render)
        page.keyboard.press("Shift+Enter")
    codes = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    last = page.locator(".jp-Cell").nth(codes[-1])
    page.wait_for_function("el => /\\[\\d+\\]/.test(el.textContent)",
                           arg=last.locator(".jp-InputPrompt").element_handle(), timeout=4 * TIMEOUT)
    page.locator(LAB_IDLE).first.wait_for(timeout=TIMEOUT)
    for i in codes:
        cell = page.locator(".jp-Cell").nth(i)
        cell.scroll_into_view_if_needed()
        cell.screenshot(path=str(screenshots / f"quickstart-cell{i:02d}.png"))
    page.keyboard.press("Escape")
    page.keyboard.press("Control+s")
    page.wait_for_function(
        "() => !document.querySelector('.jp-mod-current.jp-mod-dirty, .jp-Document.jp-mod-dirty')", timeout=TIMEOUT)
    saved = json.loads((lab_server.root / "quickstart.ipynb").read_text(encoding="utf-8"))["cells"]
    assert [o for c in saved for o in c.get("outputs", []) if o["output_type"] == "error"] == []
    for i in codes:
        assert saved[i]["execution_count"], f"cell {i} did not run"
    magic_cells = [i for i in codes if "".join(saved[i]["source"]).startswith("%%cloudsway")]
    for i in magic_cells:  # one output per streamed answer, none left empty
        outputs = saved[i]["outputs"]
        html = "".join(outputs[0]["data"]["text/html"]) if outputs else ""
        assert len(outputs) == 1 and ("cloudsway-usage" in html or "cloudsway-table" in html), (i, outputs)
    assert errors == []
