"""The real chat panel (`%cloudsway chat`, a ChatPanel over a Session on the bundled emulator) in
JupyterLab and Notebook 7: type and press Enter, the answer streams in, Stop mid-stream, jump to the
latest message, attach an image by the file picker and by a drop (described by the emulator),
switch endpoint, a failed turn and its Retry, an empty send, `to_cells()` inserting every cell,
and the dark theme. A screenshot of each state goes to the screenshots folder."""

from __future__ import annotations

import base64
import io
import re
from pathlib import Path
from typing import Any

from test_panel_browser import LAB_IDLE, NOTEBOOK7_IDLE, TIMEOUT, _luminance, last_assistant, run_first_cell

REAL_PANEL = """%load_ext cloudsway_nb
%cloudsway emulator start --chunk-delay 0.03
%cloudsway chat claude -s "Be brief." --name browser --no-save"""
FAULT_ON = """from cloudsway_nb.magics import get_session
get_session().client.extra_headers["x-emulator-fault"] = "500"  # every call fails from now on"""
FAULT_OFF = """get_session().client.extra_headers.pop("x-emulator-fault")"""
TO_CELLS = """from cloudsway_nb.magics import get_session
cells = get_session().views["panel:browser"].to_cells()
len(cells)"""

DROP = """([composer, data]) => {
    const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
    const dropped = new DataTransfer();
    dropped.items.add(new File([bytes], "dropped.png", {type: "image/png"}));
    for (const type of ["dragenter", "dragover", "drop"]) {
        composer.dispatchEvent(new DragEvent(type, {dataTransfer: dropped, bubbles: true, cancelable: true}));
    }
}"""


def _png(width: int, height: int, colour: tuple[int, int, int]) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buffer, format="PNG")
    return buffer.getvalue()


def run_cell(page: Any, index: int) -> None:
    """Run notebook cell `index` (click its editor, Ctrl+Enter: run in place, no new cell below) and wait
    for its prompt to show a number."""
    cell = page.locator(".jp-Notebook .jp-Cell").nth(index)
    cell.locator(".cm-content").click()
    page.keyboard.press("Control+Enter")
    page.wait_for_function("el => /\\[\\d+\\]/.test(el.textContent)",
                           arg=cell.locator(".jp-InputPrompt").element_handle(), timeout=TIMEOUT)


def ask(panel: Any, text: str) -> Any:
    box = panel.locator(".cw-input")
    box.click()
    box.type(text)
    box.press("Enter")
    return last_assistant(panel)


def test_the_real_panel_in_jupyterlab(page: Any, lab_server: Any, screenshots: Path, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    name = lab_server.notebook("real_panel.ipynb", [REAL_PANEL, FAULT_ON, FAULT_OFF, TO_CELLS])
    panel = run_first_cell(page, f"{lab_server.url}/lab/tree/{name}?reset", LAB_IDLE)
    shot = lambda label: panel.screenshot(path=str(screenshots / f"real-{label}.png"))  # noqa: E731

    # an empty Enter says so in one line, and sends nothing
    panel.locator(".cw-input").press("Enter")
    expect(panel.locator(".cw-notice")).to_have_text("nothing to send: type a message or attach a file")
    expect(panel.locator(".cw-msg")).to_have_count(0)
    shot("empty-input")

    # type, Enter: the answer streams in (aria-busy while it does), with its footer
    answer = ask(panel, "Hello from the browser")
    expect(answer).to_have_attribute("aria-busy", "true", timeout=TIMEOUT)
    expect(answer.locator(".cw-body")).to_contain_text("You said: Hello from the browser.", timeout=TIMEOUT)
    expect(answer).to_have_attribute("aria-busy", "false", timeout=TIMEOUT)
    expect(answer.locator(".cw-footer")).to_contain_text("claude · claude-sonnet · in ", timeout=TIMEOUT)
    expect(panel.locator(".cw-notice")).to_have_count(1)
    assert panel.locator(".cw-notice").inner_text() == ""
    transcript = panel.locator(".cw-transcript")
    assert transcript.get_attribute("role") == "log" and transcript.get_attribute("aria-live") == "polite"
    shot("answer")

    # a long answer: scrolling up pauses the autoscroll, "Jump to latest" brings it back; Stop mid-stream
    answer = ask(panel, "Write a long essay about lighthouses")
    expect(answer.locator(".cw-status-streaming")).to_be_visible(timeout=TIMEOUT)
    page.wait_for_function("el => el.scrollHeight > el.clientHeight + 200", arg=transcript.element_handle(),
                           timeout=TIMEOUT)
    jump = panel.get_by_role("button", name="↓ Jump to latest")
    expect(jump).to_be_hidden()
    transcript.hover()
    page.mouse.wheel(0, -2000)
    expect(jump).to_be_visible(timeout=TIMEOUT)
    top = transcript.evaluate("el => el.scrollTop")
    page.wait_for_timeout(600)  # more text arrives; the view stays where the user put it
    assert transcript.evaluate("el => el.scrollTop") == top and answer.get_attribute("aria-busy") == "true"
    shot("jump-to-latest")
    jump.click()
    expect(jump).to_be_hidden()
    assert transcript.evaluate("el => el.scrollHeight - el.scrollTop - el.clientHeight < 48")
    panel.get_by_role("button", name="Stop", exact=True).click()
    # (the word is "stopped", or "interrupted" where the Session's word is used)
    expect(answer.locator(".cw-status-stopped, .cw-status-interrupted")).to_have_text(
        re.compile("^(stopped|interrupted)$"), timeout=TIMEOUT)
    expect(answer).to_have_attribute("aria-busy", "false")
    partial = answer.locator(".cw-body").inner_text()
    assert "lighthouse" in partial.lower()
    assert "interrupted" in answer.locator(".cw-footer").inner_text()
    shot("stopped")

    # an image by the file picker, one by a drop: the emulator describes each
    picture = tmp_path / "picked.png"
    picture.write_bytes(_png(40, 30, (30, 120, 200)))
    with page.expect_file_chooser() as chooser:
        panel.get_by_role("button", name="Attach", exact=True).click()
    chooser.value.set_files(str(picture))
    chip = panel.locator(".cw-composer .cw-chip:not(.cw-uploading)")
    expect(chip).to_have_count(1, timeout=TIMEOUT)
    assert "picked.png" in chip.inner_text() and chip.locator("img").count() == 1
    shot("attached")
    answer = ask(panel, "Describe the picture")
    expect(answer.locator(".cw-body")).to_contain_text("Image 1: PNG, 40x30 pixels", timeout=TIMEOUT)
    expect(answer.locator(".cw-status-done, .cw-footer:has-text('claude')").first).to_be_attached(timeout=TIMEOUT)
    page.evaluate(DROP, [panel.locator(".cw-composer").element_handle(),
                         base64.b64encode(_png(20, 10, (200, 40, 40))).decode()])
    expect(chip).to_have_count(1, timeout=TIMEOUT)
    assert "dropped.png" in chip.inner_text()
    answer = ask(panel, "And this one?")
    expect(answer.locator(".cw-body")).to_contain_text("Image 2: PNG, 20x10 pixels", timeout=TIMEOUT)
    expect(answer.locator(".cw-footer")).to_contain_text("claude · claude-sonnet", timeout=TIMEOUT)
    shot("described")

    # switch endpoint: the conversation goes on with the other one
    panel.get_by_label("Endpoint").select_option("gpt")
    answer = ask(panel, "Who answers now?")
    expect(answer.locator(".cw-role")).to_have_text("Assistant · gpt", timeout=TIMEOUT)
    expect(answer.locator(".cw-footer")).to_contain_text("gpt · gpt-4o · in ", timeout=TIMEOUT)
    users = panel.locator(".cw-msg.cw-user").count()

    # a failed turn: one line with a Retry button; Retry sends it once
    run_cell(page, 1)
    ask(panel, "This one fails first")
    retry = panel.get_by_role("button", name="Retry", exact=True)
    expect(retry).to_be_visible(timeout=TIMEOUT)
    notice = panel.locator(".cw-notice").inner_text()
    assert notice.startswith("ServerError: 500 ") and "\n" not in notice
    assert panel.locator(".cw-input").input_value() == "This one fails first"  # given back, nothing lost
    expect(panel.locator(".cw-msg.cw-user")).to_have_count(users)
    shot("failed")
    run_cell(page, 2)
    retry.click()
    expect(last_assistant(panel).locator(".cw-body")).to_contain_text("You said: This one fails first.",
                                                                      timeout=TIMEOUT)
    expect(panel.locator(".cw-msg.cw-user")).to_have_count(users + 1)
    expect(retry).to_be_hidden()
    assert panel.locator(".cw-input").input_value() == ""
    expect(panel.locator(".cw-totals")).to_contain_text("6 replies", timeout=TIMEOUT)

    # to_cells(): one markdown cell per message, code blocks as code cells, all below the asking cell
    ask(panel, "Write python code to add two numbers")
    expect(last_assistant(panel).locator(".cw-code")).to_have_count(1, timeout=TIMEOUT)
    expect(last_assistant(panel).locator(".cw-footer")).to_contain_text("gpt · gpt-4o", timeout=TIMEOUT)
    cells = page.locator(".jp-Notebook .jp-Cell")
    before = cells.count()
    run_cell(page, 3)
    count = int(cells.nth(3).locator(".jp-OutputArea-output").last.inner_text())
    expect(cells).to_have_count(before + count, timeout=TIMEOUT)
    expect(panel.locator(".cw-notice")).to_contain_text(f"{count} cells inserted below", timeout=TIMEOUT)
    inserted = [cells.nth(4 + i) for i in range(count)]
    kinds = ["code" if "jp-CodeCell" in (c.get_attribute("class") or "") else "markdown" for c in inserted]
    assert kinds.count("markdown") >= 12 and kinds.count("code") == 1, kinds
    code = inserted[kinds.index("code")].locator(".cm-content").inner_text()
    assert code.startswith("def add_two_numbers(")
    assert "Hello from the browser" in inserted[0].inner_text()
    page.locator(".jp-Notebook .jp-Cell").nth(4 + count - 1).scroll_into_view_if_needed()
    page.screenshot(path=str(screenshots / "real-to-cells.png"))

    # every control has a name and is reachable with Tab
    unnamed = panel.evaluate("""el => [...el.querySelectorAll('button, select, input, textarea, summary, [tabindex]')]
        .filter((c) => !c.closest('.cw-hidden') && c.type !== 'file')
        .filter((c) => !(c.getAttribute('aria-label') || c.textContent.trim() || c.closest('label')))
        .map((c) => c.outerHTML.slice(0, 80))""")
    assert unnamed == []
    negative = panel.evaluate("el => el.querySelectorAll('[tabindex^=\"-\"]').length")
    assert negative == 0

    # the dark theme
    panel.scroll_into_view_if_needed()
    page.evaluate("window.jupyterapp.commands.execute('apputils:change-theme', {theme: 'JupyterLab Dark'})")
    page.wait_for_function("() => document.body.dataset.jpThemeLight === 'false'", timeout=TIMEOUT)
    page.wait_for_timeout(500)
    assert _luminance(panel.evaluate("el => getComputedStyle(el).backgroundColor")) < 0.2
    shot("dark")
    page.evaluate("window.jupyterapp.commands.execute('apputils:change-theme', {theme: 'JupyterLab Light'})")
    page.wait_for_function("() => document.body.dataset.jpThemeLight === 'true'", timeout=TIMEOUT)
    assert errors == []


def test_the_real_panel_in_notebook7_inserts_cells(page: Any, lab_server: Any, screenshots: Path) -> None:
    from playwright.sync_api import expect

    name = lab_server.notebook("real_panel_nb7.ipynb", [REAL_PANEL, FAULT_ON, FAULT_OFF, TO_CELLS])
    panel = run_first_cell(page, f"{lab_server.url}/notebooks/{name}", NOTEBOOK7_IDLE)
    answer = ask(panel, "Write python code to add two numbers")
    expect(answer.locator(".cw-code")).to_have_count(1, timeout=TIMEOUT)
    expect(answer.locator(".cw-footer")).to_contain_text("claude · claude-sonnet", timeout=TIMEOUT)
    cells = page.locator(".jp-Notebook .jp-Cell")
    before = cells.count()
    run_cell(page, 3)
    expect(cells).to_have_count(before + 4, timeout=TIMEOUT)  # user, the answer's text, its code, its rest
    kinds = ["code" if "jp-CodeCell" in (cells.nth(4 + i).get_attribute("class") or "") else "markdown"
             for i in range(4)]
    assert kinds == ["markdown", "markdown", "code", "markdown"]
    page.screenshot(path=str(screenshots / "real-notebook7-to-cells.png"))
