"""The magic's streamed answer in a real JupyterLab: code blocks highlighted with a background and a
copy button while streaming and after (issue 11, point 11), finished blocks streamed once into
displays of their own and one output left at the end (point 22), the saved notebook read without a
kernel. Screenshots of the streaming and the finished answer (see the conftest for where they go).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from test_panel_browser import LAB_IDLE, TIMEOUT, run_first_cell  # noqa: F401  (run_first_cell: the same steps)

CELL = r'''
import time
from cloudsway_nb.display import StreamView
from cloudsway_nb.types import Choice, ReasoningDelta, Reply, TextDelta, Usage

THOUGHTS = "The user wants a function that squares a number.\n\nA one-liner will do; add a docstring."

ANSWER = "Here is a function that squares a number:\n\n```python\ndef square(x: int) -> int:\n" \
    "    \"\"\"x times x.\"\"\"\n    return x ** 2\n```\n\n" + "".join(
    f"Paragraph {i}: the function above takes one integer and returns its square, so it is easy to test.\n\n"
    for i in range(12)) + "Run it:\n\n```bash\npython square.py\n```\n"
view = StreamView("gpt", rate=12)
for i in range(0, len(THOUGHTS), 6):
    view.feed(ReasoningDelta(THOUGHTS[i : i + 6]))
    time.sleep(0.03)
for i in range(0, len(ANSWER), 6):
    view.feed(TextDelta(ANSWER[i : i + 6]))
    time.sleep(0.03)
view.finish(Reply(choices=[Choice(text=ANSWER, reasoning=THOUGHTS)], usage=Usage(input=9, output=240, reasoning=20),
                  model="fake-1",
                  latency=4.2, ttft=0.1))
'''


def _outputs(page: Any) -> Any:
    return page.locator(".jp-Cell").first.locator(".jp-OutputArea-output")


def test_magic_code_blocks_stream_and_end_as_one_output(page: Any, lab_server: Any, screenshots: Path) -> None:
    from playwright.sync_api import expect

    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    name = lab_server.notebook("magic_stream.ipynb", [CELL])
    page.goto(f"{lab_server.url}/lab/tree/{name}?reset")
    page.locator(LAB_IDLE).first.wait_for(timeout=TIMEOUT)
    page.locator(".jp-Cell .cm-content").first.click()
    page.keyboard.press("Shift+Enter")

    # while streaming: the first code block is finished, highlighted, with a background
    code = page.locator(".jp-OutputArea .cw-code").first
    code.wait_for(timeout=TIMEOUT)
    page.wait_for_function("() => document.body.textContent.includes('Paragraph 3')", timeout=TIMEOUT)
    assert page.locator(".cloudsway-usage").count() == 0  # still streaming
    thoughts = page.locator(".jp-OutputArea .cloudsway-reasoning-part")
    assert "A one-liner will do" in "".join(thoughts.all_inner_texts())  # open above the answer while streaming
    assert code.evaluate("el => getComputedStyle(el).backgroundColor") not in ("rgba(0, 0, 0, 0)", "transparent")
    keyword = code.locator("span", has_text="def").first
    assert keyword.evaluate("el => getComputedStyle(el).fontWeight") in ("700", "bold")
    left_streaming = code.bounding_box()["x"]
    assert _outputs(page).count() > 1  # finished blocks went into displays of their own
    page.locator(".jp-Notebook").screenshot(path=str(screenshots / "magic-streaming.png"))

    # the end: one output shows the whole answer (the other displays are empty), the code did not move
    page.locator(".cloudsway-usage").wait_for(timeout=TIMEOUT)
    visible = [t for t in _outputs(page).all_inner_texts() if t.strip()]
    assert len(visible) == 1 and "Paragraph 11" in visible[0] and "fake-1" in visible[0]
    code = page.locator(".jp-OutputArea .cw-code").first
    assert abs(code.bounding_box()["x"] - left_streaming) < 1
    assert page.locator(".jp-OutputArea .cw-code").count() == 2
    reasoning = page.locator(".jp-OutputArea details.cloudsway-reasoning")  # collapsed once done
    assert reasoning.count() == 1 and reasoning.get_attribute("open") is None
    assert "Reasoning (20 tokens)" in reasoning.inner_text()

    # the copy button appears on hover and copies the code
    copy = code.locator(".cw-copy")
    assert not copy.is_visible()
    code.hover()
    expect(copy).to_be_visible()
    copy.click()
    expect(copy).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()").startswith("def square(x: int) -> int:")
    page.locator(".jp-Notebook").screenshot(path=str(screenshots / "magic-final.png"))

    # saved: one output with content; exported as nbviewer does, read without a kernel or script
    page.keyboard.press("Escape")
    page.keyboard.press("Control+s")
    page.wait_for_function(
        "() => !document.querySelector('.jp-mod-current.jp-mod-dirty, .jp-Document.jp-mod-dirty')", timeout=TIMEOUT)
    path = lab_server.root / name
    outputs = json.loads(path.read_text(encoding="utf-8"))["cells"][0]["outputs"]
    shown = [o for o in outputs if "".join(o.get("data", {}).get("text/html", "")).strip()]
    assert len(shown) == 1 and "Paragraph 11" in "".join(shown[0]["data"]["text/html"])
    subprocess.run([sys.executable, "-m", "jupyter", "nbconvert", "--to", "html", str(path)],
                   check=True, capture_output=True)
    static = page.context.new_page()
    static.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:") else route.abort())
    static.goto(path.with_suffix(".html").as_uri())
    static.locator(".cw-code").first.wait_for(timeout=TIMEOUT)
    assert static.locator(".cw-copy").first.is_hidden()  # no script ran: no dead button
    static.screenshot(path=str(screenshots / "magic-saved-nbconvert.png"), full_page=True)
    static.close()
    assert errors == []


def test_a_saved_answer_opened_untrusted_shows_code_without_a_dead_copy_button(page: Any, lab_server: Any,
                                                                              screenshots: Path) -> None:
    """A notebook from elsewhere opens untrusted: JupyterLab sanitizes its outputs (inline handlers
    removed). The code still reads, and the copy button, which could no longer work, stays hidden."""
    import nbformat

    from cloudsway_nb.display import render_markdown

    nb = nbformat.v4.new_notebook()
    answer = render_markdown("Squares:\n\n```python\ndef square(x: int) -> int:\n    return x ** 2\n```\n")
    nb.cells = [nbformat.v4.new_code_cell("%%cloudsway gpt\nSquare a number", outputs=[
        nbformat.v4.new_output("display_data", data={"text/html": f'<div class="cloudsway-reply">{answer}</div>',
                                                      "text/plain": "Squares: ..."})])]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, lab_server.root / "untrusted.ipynb")  # not signed: untrusted
    page.goto(f"{lab_server.url}/lab/tree/untrusted.ipynb?reset")
    code = page.locator(".jp-OutputArea .cw-code").first
    code.wait_for(timeout=TIMEOUT)
    assert code.locator("pre").inner_text().startswith("def square(x: int) -> int:")
    assert code.get_attribute("onmouseenter") is None  # sanitized
    code.hover()
    page.wait_for_timeout(200)
    assert code.locator(".cw-copy").count() == 0 or code.locator(".cw-copy").is_hidden()
    page.locator(".jp-Notebook").screenshot(path=str(screenshots / "magic-untrusted.png"))
