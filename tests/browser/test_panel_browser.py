"""The chat panel in a real browser: JupyterLab 4 and Notebook 7, light and dark themes.

One notebook shows a ChatView with a fake transcript whose hooks are fed by a fake streaming
generator in the kernel. The tests type, press Enter, watch text stream in, press Stop, and take
screenshots (see the conftest for where they go). Without Playwright or chromium the conftest marks
them skipped (playwright is imported only inside the tests, so this module collects without it).
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest
from panel_notebook import CELL

TIMEOUT = 30_000


@pytest.fixture
def notebook(lab_server: Any, request: pytest.FixtureRequest) -> str:
    """A notebook of its own for each test (so its own kernel, and no outputs saved by another test
    whose widgets that kernel would still draw)."""
    name = re.sub(r"\W+", "_", request.node.name).strip("_")
    return lab_server.notebook(f"{name}.ipynb", [CELL])


# JupyterLab's status bar reads "Python 3 (ipykernel) | Idle" once the kernel is ready (its execution
# indicator's idle attribute comes too early); Notebook 7 has no status bar, only that indicator
LAB_IDLE = ".jp-StatusBar-Widget:has-text('| Idle')"
NOTEBOOK7_IDLE = ".jp-Notebook-ExecutionIndicator[data-status='idle']"


def run_first_cell(page: Any, url: str, idle: str = LAB_IDLE) -> Any:
    """Open the notebook, run its first cell with Shift+Enter (pressed again if a keypress was lost
    while the page settled), and return the panel's locator."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page.goto(url)
    page.locator(idle).first.wait_for(timeout=TIMEOUT)
    prompt = page.locator(".jp-Cell .jp-InputPrompt").first
    for _ in range(3):
        page.locator(".jp-Cell .cm-content").first.click()
        page.keyboard.press("Shift+Enter")
        try:
            page.wait_for_function("el => !/\\[\\s*\\]/.test(el.textContent)", arg=prompt.element_handle(),
                                   timeout=5000)
            break
        except PlaywrightTimeout:  # the cell did not start: the editor had not taken the keypress yet
            page.wait_for_timeout(500)
    panel = page.locator(".cloudsway-panel:not(.cw-static)").first
    panel.wait_for(timeout=TIMEOUT)
    return panel


def last_assistant(panel: Any) -> Any:
    return panel.locator(".cw-msg.cw-assistant").last


def test_jupyterlab_panel_streams_stops_and_follows_the_theme(page: Any, lab_server: Any, notebook: str,
                                                              screenshots: Path) -> None:
    from playwright.sync_api import expect

    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    panel = run_first_cell(page, f"{lab_server.url}/lab/tree/{notebook}?reset")

    # the fake transcript: highlighted code with a copy button, MathML, escaped HTML, reasoning, footer
    answer = last_assistant(panel)
    answer.locator(".cw-code .cw-highlight .k").first.wait_for()
    assert answer.locator("math").count() == 2
    assert "costs $5 and $10" in answer.inner_text()
    assert "<img src=x onerror=alert(1)>" in answer.inner_text() and answer.locator(".cw-body img").count() == 0
    assert answer.locator(".cw-reasoning summary").inner_text() == "Reasoning · 12 tokens"
    assert "$0.0011" in answer.locator(".cw-footer").inner_text()
    answer.locator(".cw-copy").click()
    expect(answer.locator(".cw-copy")).to_have_text("Copied")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith("def square(x: int) -> int:") and "return x ** 2" in copied
    page.wait_for_timeout(300)
    panel.screenshot(path=str(screenshots / "lab-light.png"))

    # Shift+Enter is a new line in the input (not "run cell"), Enter sends
    box = panel.locator(".cw-input")
    box.click()
    box.type("Hello")
    page.keyboard.press("Shift+Enter")
    box.type("panel")
    assert box.input_value() == "Hello\npanel"
    page.keyboard.press("Enter")
    assert box.input_value() == ""
    expect(panel.locator(".cw-msg.cw-user")).to_have_count(2)
    assert panel.locator(".cw-msg.cw-user").last.locator(".cw-body").inner_text() == "Hello\npanel"

    # the reply streams into the last message: reasoning first, then the answer
    streaming = last_assistant(panel)
    streaming.locator(".cw-status-streaming").wait_for(timeout=TIMEOUT)
    page.wait_for_function(
        "() => /word[5-9]\\d/.test(document.querySelector('.cloudsway-panel .cw-msg.cw-assistant:last-child .cw-body')"
        "?.textContent || '')", timeout=TIMEOUT)
    assert "Hello" in streaming.locator(".cw-reasoning-body").text_content()  # collapsed once the answer began
    assert panel.locator(".cw-send").is_disabled() and panel.locator(".cw-stop").is_enabled()
    panel.screenshot(path=str(screenshots / "lab-streaming.png"))

    # Stop: the message says interrupted and stops growing
    panel.get_by_role("button", name="Stop", exact=True).click()
    stopped = last_assistant(panel).locator(".cw-status-interrupted")
    stopped.wait_for(timeout=TIMEOUT)
    assert stopped.inner_text() == "interrupted"
    text = last_assistant(panel).locator(".cw-body").inner_text()
    page.wait_for_timeout(500)
    assert last_assistant(panel).locator(".cw-body").inner_text() == text
    assert "word2000" not in text
    assert panel.locator(".cw-send").is_enabled() and panel.locator(".cw-stop").is_disabled()
    footer = last_assistant(panel).locator(".cw-footer").inner_text()
    assert footer.startswith("gpt · fake-1 · in 2 · out ") and "first token" in footer and "interrupted" in footer
    assert panel.locator(".cw-totals").inner_text().startswith("1 reply · in 2 · out ")
    # the reasoning, open while it streamed alone, closed once the answer came; its count shows
    assert last_assistant(panel).locator(".cw-reasoning summary").inner_text() == "Reasoning · 12 tokens"
    assert last_assistant(panel).locator(".cw-reasoning").get_attribute("open") is None

    # the static fallback below the widget is up to date, and hidden while the widget is live
    fallback = page.locator(".cw-fallback").first
    assert not fallback.is_visible()
    page.wait_for_function(
        "() => [...document.querySelectorAll('.cw-fallback')].some((el) => el.textContent.includes('Hello'))",
        timeout=TIMEOUT)
    # its displays (style, header, segments, most of them empty) take no room under the live widget
    below = page.evaluate("""() => {
        const area = document.querySelector('.cloudsway-panel:not(.cw-static)').closest('.jp-OutputArea');
        return [...area.querySelectorAll(':scope > .jp-OutputArea-child')]
            .filter((child) => !child.querySelector('.cloudsway-panel:not(.cw-static)'))
            .reduce((sum, child) => sum + child.getBoundingClientRect().height, 0); }""")
    assert below < 30, below

    # typing letters in the input is not a notebook shortcut (a: insert above, d d: delete, m: markdown)
    cells = page.locator(".jp-Notebook .jp-Cell").count()
    box.click()
    box.type("a b d d m y z")
    assert box.input_value() == "a b d d m y z" and page.locator(".jp-Notebook .jp-Cell").count() == cells
    box.fill("")
    # ... while Ctrl+S still saves the notebook, and the saved file carries the transcript as HTML
    page.keyboard.press("Control+s")
    page.wait_for_function(
        "() => !document.querySelector('.jp-mod-current.jp-mod-dirty, .jp-Document.jp-mod-dirty')", timeout=TIMEOUT)
    saved = _saved_fallback(lab_server.root / notebook)
    assert "Hello" in saved and "interrupted" in saved and "<math" in saved and "$0.0011" in saved
    _check_nbconvert_html(page, lab_server.root / notebook, screenshots)
    _check_untrusted_without_kernel(page, lab_server, notebook, screenshots)

    # dark theme: the same panel follows JupyterLab's variables
    page.evaluate("window.jupyterapp.commands.execute('apputils:change-theme', {theme: 'JupyterLab Dark'})")
    page.wait_for_function("() => document.body.dataset.jpThemeLight === 'false'", timeout=TIMEOUT)
    page.wait_for_timeout(500)
    background = panel.evaluate("el => getComputedStyle(el).backgroundColor")
    assert _luminance(background) < 0.2, background
    panel.screenshot(path=str(screenshots / "lab-dark.png"))
    panel.locator(".cw-transcript").evaluate("el => { el.scrollTop = 0; }")
    page.wait_for_timeout(200)
    panel.screenshot(path=str(screenshots / "lab-dark-code.png"))
    page.evaluate("window.jupyterapp.commands.execute('apputils:change-theme', {theme: 'JupyterLab Light'})")
    page.wait_for_function("() => document.body.dataset.jpThemeLight === 'true'", timeout=TIMEOUT)
    assert errors == []


def test_attachments_by_file_picker_and_delete(page: Any, lab_server: Any, notebook: str, screenshots: Path,
                                               tmp_path: Path) -> None:
    from PIL import Image

    image = tmp_path / "red.png"
    buffer = io.BytesIO()
    Image.new("RGB", (320, 200), (220, 40, 40)).save(buffer, format="PNG")
    image.write_bytes(buffer.getvalue())
    notes = tmp_path / "notes.txt"
    notes.write_text("some notes\n" * 300)
    big = tmp_path / "big.bin"
    big.write_bytes(bytes(range(256)) * 5000)  # 1.2 MB: three 512 KB chunks

    panel = run_first_cell(page, f"{lab_server.url}/lab/tree/{notebook}?reset")
    with page.expect_file_chooser() as chooser:
        panel.get_by_role("button", name="Attach", exact=True).click()
    chooser.value.set_files([str(image), str(notes), str(big)])
    chips = panel.locator(".cw-composer .cw-chip:not(.cw-uploading)")
    chips.nth(2).wait_for(timeout=TIMEOUT)
    by_name = {chips.nth(i).locator(".cw-chip-name").inner_text(): chips.nth(i) for i in range(3)}
    assert by_name["red.png"].locator("img").get_attribute("src").startswith("data:image/png;base64,")
    assert by_name["notes.txt"].locator(".cw-chip-size").inner_text() == "3 KB"
    assert by_name["big.bin"].locator(".cw-chip-size").inner_text() == "1.2 MB"
    assert panel.locator(".cw-composer .cw-uploading").count() == 0
    panel.screenshot(path=str(screenshots / "lab-attachments.png"))

    panel.locator(".cw-input").fill("What is in these?")
    panel.locator(".cw-input").press("Enter")
    sent = panel.locator(".cw-msg.cw-user").last
    sent.locator(".cw-chip").nth(2).wait_for(timeout=TIMEOUT)
    assert panel.locator(".cw-composer .cw-chip").count() == 0
    panel.get_by_role("button", name="Stop", exact=True).click()
    last_assistant(panel).locator(".cw-status-interrupted").wait_for(timeout=TIMEOUT)

    # delete goes to the hook, which removes the message
    count = panel.locator(".cw-msg").count()
    sent.hover()
    sent.get_by_role("button", name="Delete", exact=True).click()
    page.wait_for_function(f"() => document.querySelectorAll('.cloudsway-panel:not(.cw-static) .cw-msg').length"
                           f" === {count - 1}", timeout=TIMEOUT)


DROP_AND_PASTE = """([composer, input]) => {
    const dropped = new DataTransfer();
    dropped.items.add(new File(["dropped text"], "dropped.txt", {type: "text/plain"}));
    for (const type of ["dragenter", "dragover", "drop"]) {
        composer.dispatchEvent(new DragEvent(type, {dataTransfer: dropped, bubbles: true, cancelable: true}));
    }
    const pasted = new DataTransfer();
    pasted.items.add(new File([new Uint8Array([137, 80, 78, 71])], "image.png", {type: "image/png"}));
    input.dispatchEvent(new ClipboardEvent("paste", {clipboardData: pasted, bubbles: true, cancelable: true}));
}"""


def test_drop_paste_edit_compare_and_settings(page: Any, lab_server: Any, notebook: str, screenshots: Path) -> None:
    from playwright.sync_api import expect

    panel = run_first_cell(page, f"{lab_server.url}/lab/tree/{notebook}?reset")

    # a dropped file and a pasted image become chips
    handles = [panel.locator(".cw-composer").element_handle(), panel.locator(".cw-input").element_handle()]
    page.evaluate(DROP_AND_PASTE, handles)
    chips = panel.locator(".cw-composer .cw-chip:not(.cw-uploading)")
    expect(chips).to_have_count(2, timeout=TIMEOUT)
    assert "dropped.txt" in chips.nth(0).inner_text() and "image.png" in chips.nth(1).inner_text()
    chips.nth(1).get_by_role("button", name="Remove image.png").click()
    expect(chips).to_have_count(1, timeout=TIMEOUT)

    # edit a message in place: Enter saves, the hook re-renders it
    first = panel.locator(".cw-msg.cw-user").first
    first.get_by_role("button", name="Edit", exact=True).click()
    editor = first.locator(".cw-edit textarea")
    editor.fill("Show me **bold** code, please.")
    editor.press("Enter")
    expect(first.locator(".cw-body strong")).to_have_text("bold", timeout=TIMEOUT)

    # compare: the other endpoint's answer streams beside the first one
    answer = panel.locator(".cw-msg.cw-assistant").first
    answer.get_by_role("button", name="Compare", exact=True).click()
    answer.locator(".cw-menu").get_by_role("button", name="claude", exact=True).click()
    row = panel.locator(".cw-row.cw-group")
    expect(row.locator(".cw-msg")).to_have_count(2, timeout=TIMEOUT)
    expect(row.locator(".cw-msg").nth(1).locator(".cw-footer")).to_contain_text("claude-model", timeout=TIMEOUT)
    assert row.locator(".cw-msg").nth(1).locator(".cw-role").inner_text() == "Assistant · claude"
    panel.locator(".cw-transcript").evaluate("el => { el.scrollTop = 0; }")
    panel.screenshot(path=str(screenshots / "lab-compare.png"))

    # the endpoint switcher reaches the kernel: the next answer comes from the chosen endpoint
    panel.get_by_label("Endpoint").select_option("claude")
    panel.get_by_label("Max tokens").fill("64")
    panel.get_by_label("Max tokens").press("Tab")
    panel.locator(".cw-input").fill("with the dropped file")
    panel.locator(".cw-input").press("Enter")
    last = panel.locator(".cw-msg.cw-assistant").last
    expect(last.locator(".cw-role")).to_have_text("Assistant · claude", timeout=TIMEOUT)
    expect(panel.locator(".cw-msg.cw-user").last.locator(".cw-chip")).to_have_count(1)
    panel.get_by_role("button", name="Stop", exact=True).click()
    expect(last.locator(".cw-status-interrupted")).to_have_text("interrupted", timeout=TIMEOUT)


def test_notebook7_panel_streams_and_stops(page: Any, lab_server: Any, notebook: str, screenshots: Path) -> None:
    panel = run_first_cell(page, f"{lab_server.url}/notebooks/{notebook}", NOTEBOOK7_IDLE)
    box = panel.locator(".cw-input")
    box.click()
    box.type("Hi from Notebook 7")
    box.press("Enter")
    page.wait_for_function(
        "() => /word\\d\\d/.test(document.querySelector('.cloudsway-panel .cw-msg.cw-assistant:last-child .cw-body')"
        "?.textContent || '')", timeout=TIMEOUT)
    box.press("Escape")  # Escape stops too
    stopped = last_assistant(panel).locator(".cw-status-interrupted")
    stopped.wait_for(timeout=TIMEOUT)
    panel.screenshot(path=str(screenshots / "notebook7.png"))


def _saved_fallback(path: Path) -> str:
    """The static transcript in the saved notebook: its text/html outputs (style, header, segments), joined."""
    import json
    import time

    for _ in range(50):
        outputs = [o for cell in json.loads(path.read_text(encoding="utf-8"))["cells"] for o in cell.get("outputs", [])]
        html = ["".join(o.get("data", {}).get("text/html", "")) for o in outputs]
        if any("cw-fallback" in h and "Hello" in h for h in html):
            return "".join(h for h in html if "cw-fallback" in h)
        time.sleep(0.1)
    raise AssertionError(f"no up-to-date transcript among the saved outputs of {path}")


def _check_nbconvert_html(page: Any, notebook: Path, screenshots: Path) -> None:
    """The saved notebook exported to HTML as nbviewer does, opened with the network cut off:
    the transcript reads (code, MathML, footers) without a kernel or any widget JavaScript."""
    import subprocess
    import sys

    subprocess.run([sys.executable, "-m", "jupyter", "nbconvert", "--to", "html", str(notebook)],
                   check=True, capture_output=True)
    static = page.context.new_page()
    static.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:")
                 else route.abort())
    static.goto(notebook.with_suffix(".html").as_uri())
    # the cell's outputs: the widget's (nothing to show here), then the static copy's displays
    transcript = static.locator(".jp-OutputArea").filter(has=static.locator(".cw-fallback .cw-static")).first
    transcript.wait_for(timeout=TIMEOUT)
    assert transcript.locator(".cw-static .cw-totals").inner_text().startswith("1 reply")
    assert transcript.locator("math").count() == 2 and transcript.locator(".cw-highlight .k").count() >= 1
    assert "interrupted" in transcript.inner_text() and "Hello" in transcript.inner_text()
    transcript.screenshot(path=str(screenshots / "nbconvert-static.png"))
    static.close()


def _check_untrusted_without_kernel(page: Any, lab_server: Any, notebook: str, screenshots: Path) -> None:
    """The saved notebook as someone else opens it: untrusted (a copy not signed here), no kernel
    running it. JupyterLab sanitizes the static copy (no stylesheet) but the transcript reads, in order."""
    import nbformat

    nb = nbformat.read(lab_server.root / notebook, as_version=4)
    nb.metadata["copied"] = True  # another notebook: its signature is not in this server's database
    nbformat.write(nb, lab_server.root / "copied.ipynb")
    other = page.context.new_page()
    other.goto(f"{lab_server.url}/lab/tree/copied.ipynb?reset")
    static = other.locator(".jp-OutputArea .cw-fallback").filter(has_text="Hello").first
    static.wait_for(timeout=TIMEOUT)
    text = other.locator(".jp-OutputArea").first.inner_text()
    assert text.index("Show me some code") < text.index("def square") < text.index("Hello") < text.index("word1")
    other.wait_for_timeout(300)
    other.locator(".jp-OutputArea").first.screenshot(path=str(screenshots / "lab-untrusted-static.png"))
    other.close()


def _luminance(css_colour: str) -> float:
    r, g, b = (int(v) / 255 for v in re.findall(r"\d+(?:\.\d+)?", css_colour)[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b
