"""A background map in a real browser: its progress bar moves while the cell is free, and a click on
its Stop button (a comm message the kernel handles between cells) ends the run, keeping what is done."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

TIMEOUT = 30_000
LAB_IDLE = ".jp-StatusBar-Widget:has-text('| Idle')"

START = r'''
import pandas as pd
from cloudsway_nb import Session

session = Session()
session.use_emulator(pacing="none", latency=0.1)
rows = pd.DataFrame({"text": [f"review {i}" for i in range(1000)]})
job = session.map(rows, "Label: {text}", cache=False, concurrency=2, background=True)
'''

RESULT = r'''
out = job.result()
print("statuses:", dict(sorted(out["status"].value_counts().items())), "done:", job.done)
'''


def run_cell(page: Any, index: int) -> None:
    """Run cell `index` with Shift+Enter (pressed again if the editor had not taken the keypress yet)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    prompt = page.locator(".jp-Cell .jp-InputPrompt").nth(index)
    for _ in range(3):
        page.locator(".jp-Cell .cm-content").nth(index).click()
        page.keyboard.press("Shift+Enter")
        try:
            page.wait_for_function("el => /\\[\\d+\\]/.test(el.textContent)", arg=prompt.element_handle(),
                                   timeout=10_000)
            return
        except PlaywrightTimeout:
            page.wait_for_timeout(500)
    raise AssertionError(f"cell {index} did not run")


def test_the_stop_button_of_a_background_map(page: Any, lab_server: Any, screenshots: Path) -> None:
    from playwright.sync_api import expect

    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    name = lab_server.notebook("batch_stop.ipynb", [START, RESULT])
    page.goto(f"{lab_server.url}/lab/tree/{name}?reset")
    page.locator(LAB_IDLE).first.wait_for(timeout=TIMEOUT)
    run_cell(page, 0)  # it ends at once: the map goes on in the background

    output = page.locator(".jp-Cell").nth(0).locator(".jp-OutputArea")
    stop = output.get_by_role("button", name="Stop", exact=True)
    stop.wait_for(timeout=TIMEOUT)
    bar = output.locator(".widget-hprogress, .widget-progress").first
    bar.wait_for(timeout=TIMEOUT)
    # the bar moves while no cell runs: its text counts the rows done
    page.wait_for_function("el => /done=([1-9]\\d*)/.test(el.textContent)", arg=output.element_handle(),
                           timeout=TIMEOUT)
    page.screenshot(path=str(screenshots / "batch-running.png"))
    stop.click()
    expect(output.get_by_role("button", name="Stopped", exact=True)).to_be_disabled(timeout=TIMEOUT)
    expect(output).to_contain_text(re.compile(r"stopped: 1000 rows, \d+ ok, \d+ stopped"), timeout=TIMEOUT)

    run_cell(page, 1)
    result = page.locator(".jp-Cell").nth(1).locator(".jp-OutputArea")
    expect(result).to_contain_text("done: True", timeout=TIMEOUT)
    text = result.inner_text()
    ok, stopped = (int(n) for n in re.search(r"'ok': (\d+), 'stopped': (\d+)", text).groups())
    assert ok >= 1 and stopped >= 1 and ok + stopped == 1000, text
    page.screenshot(path=str(screenshots / "batch-stopped.png"))
    assert not errors, errors
