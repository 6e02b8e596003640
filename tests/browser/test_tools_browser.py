"""Tool calls in a real JupyterLab: the chat panel with a tool that needs approval (approve in the
panel, see the tool block and the answer), and the magic's approval buttons (`%%cloudsway -T`, the
loop in a thread so the click arrives). Screenshots of each state go to the screenshots folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from test_panel_browser import LAB_IDLE, TIMEOUT, run_first_cell

TOOLS = '''%load_ext cloudsway_nb
%cloudsway emulator start --chunk-delay 0.02
from cloudsway_nb import tool

@tool(requires_approval=True)
def pay(city: str) -> str:
    """Pay for a trip.

    Args:
        city: Where to.
    """
    return f"paid for {city}"
'''
PANEL = TOOLS + '''
import pandas as pd

def city_table(city: str) -> pd.DataFrame:
    """A table of facts about a city.

    Args:
        city: Its name.
    """
    return pd.DataFrame({"city": [city] * 30, "day": range(30), "rain_mm": [d % 7 for d in range(30)]})

%cloudsway chat gpt -T pay -T city_table --name tools --no-save'''
MAGIC = "%%cloudsway gpt -T pay\nPay for a trip to Oslo"


def test_approve_a_tool_call_in_the_panel(page: Any, lab_server: Any, screenshots: Path) -> None:
    from playwright.sync_api import expect

    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    name = lab_server.notebook("panel_tools.ipynb", [PANEL])
    panel = run_first_cell(page, f"{lab_server.url}/lab/tree/{name}?reset", LAB_IDLE)
    box = panel.locator(".cw-input")
    box.click()
    box.type("Pay for a trip to Oslo")
    box.press("Enter")

    block = panel.locator(".cw-tool-msg .cw-tool").first
    approve = block.get_by_role("button", name="Approve", exact=True)
    approve.wait_for(timeout=TIMEOUT)
    expect(block.get_by_label("Arguments for pay (JSON)")).to_have_value('{\n "city": "Oslo"\n}')
    expect(block.get_by_label("Reason for rejecting pay")).to_be_visible()
    panel.screenshot(path=str(screenshots / "tools-panel-asking.png"))

    approve.focus()  # keyboard reachable: Enter on the focused button approves
    page.keyboard.press("Enter")
    answer = panel.locator(".cw-msg.cw-assistant").last
    expect(answer.locator(".cw-body")).to_contain_text("You asked: Pay for a trip to Oslo", timeout=TIMEOUT)
    expect(block.locator("summary")).to_contain_text("pay(city=\"Oslo\") → ok")
    expect(block.locator("summary")).to_contain_text("approved")
    expect(panel.locator(".cw-send")).to_be_enabled()
    block.locator("summary").click()  # opens: arguments and result
    expect(block.locator(".cw-tool-pre").nth(1)).to_have_text("paid for Oslo")
    panel.screenshot(path=str(screenshots / "tools-panel-done.png"))

    # a DataFrame result: its first rows as a table in the block, the shape above it
    box.click()
    box.type("Show the city table for Oslo")
    box.press("Enter")
    table_block = panel.locator(".cw-tool-msg .cw-tool").nth(1)
    expect(table_block.locator("summary")).to_contain_text("city_table(city=\"Oslo\") → ok", timeout=TIMEOUT)
    table_block.locator("summary").click()
    expect(table_block.locator(".cw-tool-table table tbody tr")).to_have_count(8)
    expect(table_block).to_contain_text("result · 30 rows × 3 columns")
    expect(table_block).not_to_contain_text("DataFrame with 30 rows")  # shown once, as the table
    expect(panel.locator(".cw-send")).to_be_enabled(timeout=TIMEOUT)
    table_block.scroll_into_view_if_needed()
    panel.screenshot(path=str(screenshots / "tools-panel-table.png"))
    assert not errors


def test_the_magics_approval_buttons(page: Any, lab_server: Any, screenshots: Path) -> None:
    from playwright.sync_api import expect

    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    name = lab_server.notebook("magic_tools.ipynb", [TOOLS, MAGIC])
    page.goto(f"{lab_server.url}/lab/tree/{name}?reset")
    page.locator(LAB_IDLE).first.wait_for(timeout=TIMEOUT)
    first = page.locator(".jp-Notebook .jp-Cell").nth(0)
    first.locator(".cm-content").click()
    page.keyboard.press("Shift+Enter")  # runs it and moves to the magic's cell
    page.wait_for_function("el => /\\[\\d+\\]/.test(el.textContent)",
                           arg=first.locator(".jp-InputPrompt").element_handle(), timeout=TIMEOUT)
    cell = page.locator(".jp-Notebook .jp-Cell").nth(1)
    cell.locator(".cm-content").click()
    page.keyboard.press("Control+Enter")

    approve = cell.get_by_role("button", name="Approve", exact=True)
    approve.wait_for(timeout=TIMEOUT)
    cell.screenshot(path=str(screenshots / "tools-magic-asking.png"))
    approve.click()
    expect(cell.locator(".jp-OutputArea")).to_contain_text("You asked: Pay for a trip to Oslo", timeout=TIMEOUT)
    for label in ("Run with these arguments", "Approve all (this session)"):  # whole labels, not cut
        button = cell.get_by_role("button", name=label, exact=True)
        assert button.evaluate("b => b.scrollWidth <= b.clientWidth + 1"), label
    expect(cell.locator("details.cloudsway-tool summary")).to_contain_text("pay(city=\"Oslo\") -> ok")
    expect(approve).to_be_disabled()
    cell.screenshot(path=str(screenshots / "tools-magic-done.png"))
    assert not errors
