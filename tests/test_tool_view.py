"""The tool loop in a cell (%%cloudsway -T) and its view: tool blocks, rich results, approval buttons."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest
from IPython.core.error import UsageError
from IPython.core.history import HistoryManager
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output
from support import CANARY, ENDPOINTS

from cloudsway_nb import Client
from cloudsway_nb.agent import AgentRun
from cloudsway_nb.approval import revoke_all
from cloudsway_nb.magics import CloudswayMagics, unload_ipython_extension
from cloudsway_nb.session import Session
from cloudsway_nb.tool_view import WidgetSurface, run_tools_cell
from cloudsway_nb.tools import Tool, tool


def get_weather(city: str) -> str:
    """The weather in a city.

    Args:
        city: Its name.
    """
    return f"sunny in {city}"


def rainfall_table(city: str) -> pd.DataFrame:
    """Rainfall by month.

    Args:
        city: Its name.
    """
    return pd.DataFrame({"month": ["Jan", "Feb", "Mar"], "mm": [49, 36, 47]})


@pytest.fixture(scope="module")
def ip() -> Iterator[InteractiveShell]:
    HistoryManager.enabled = False
    yield InteractiveShell.instance()


@pytest.fixture
def magics(ip: InteractiveShell, canary_emulator_url: str) -> Iterator[CloudswayMagics]:
    unload_ipython_extension(ip)
    client = Client(canary_emulator_url, CANARY, dict(ENDPOINTS), sleep=lambda _: None)
    magics = CloudswayMagics(ip, session=Session(client, default_endpoint="gpt"))
    ip.register_magics(magics)
    ip.user_ns.update(get_weather=get_weather, frame_tools=[rainfall_table], not_a_tool=42)
    yield magics
    revoke_all(magics.session)
    unload_ipython_extension(ip)
    for name in ("r", "get_weather", "frame_tools", "not_a_tool"):
        ip.user_ns.pop(name, None)


@pytest.mark.parametrize("stream", ["", "--no-stream"])
def test_a_cell_runs_the_loop_with_a_block_per_tool_call_and_rich_results(ip: InteractiveShell,
                                                                         magics: CloudswayMagics, stream: str) -> None:
    with capture_output() as captured:
        ip.run_cell_magic("cloudsway", f"claude -T get_weather -T frame_tools --out r {stream}",
                          "What is the weather and the rainfall table for Oslo?")
    run = ip.user_ns["r"]
    assert isinstance(run, AgentRun) and run.stopped is None
    assert [t.name for t in run.tool_runs] == ["get_weather", "rainfall_table"]
    html = [o.data.get("text/html", "") for o in captured.outputs]
    blocks = [h for h in html if h.startswith('<details class="cloudsway-tool"')]  # shown, then updated
    assert len(blocks) == 4 and "get_weather(city=&quot;Oslo&quot;) -&gt; pending" in blocks[0]
    assert "get_weather(city=&quot;Oslo&quot;) -&gt; ok in " in blocks[2] and "Feb  36" in blocks[3]
    assert any("<table" in h and "Feb" in h for h in html)  # the DataFrame shown as itself
    assert "DataFrame with 3 rows x 2 columns" in run.text  # the model got its compact form
    assert run.text in captured.outputs[-1].data["text/plain"]  # the answer comes last, with its usage
    assert [e.tool for e in magics.session.ledger] == [None, "get_weather", "rainfall_table", None]


def test_a_bad_tool_name_is_one_line(ip: InteractiveShell, magics: CloudswayMagics) -> None:
    with pytest.raises(UsageError, match=r"^-T get_weathr: no such variable in the notebook"):
        ip.run_cell_magic("cloudsway", "gpt -T get_weathr", "Weather?")
    with pytest.raises(UsageError, match=r"^-T not_a_tool: a int is not a tool"):
        ip.run_cell_magic("cloudsway", "gpt -T not_a_tool", "Weather?")
    with pytest.raises(UsageError, match="one endpoint"):
        ip.run_cell_magic("cloudsway", "gpt,claude -T get_weather", "Weather?")


@pytest.mark.parametrize("button", ["approve", "edit", "reject", "approve_all"])
def test_the_approval_buttons_decide_the_call(magics: CloudswayMagics, button: str) -> None:
    session = magics.session
    ran: list[str] = []

    @tool(requires_approval=True)
    def drop_table(table: str) -> str:
        """Drop a table.

        Args:
            table: Its name.
        """
        ran.append(table)
        return f"dropped {table}"

    finished: list[Any] = []
    with capture_output():
        thread = run_tools_cell(session, "gemini", "Drop the table Orders.", [drop_table],
                                kwargs={"stream": True}, on_done=finished.append)
    view = thread.view
    assert isinstance(view.surface, WidgetSurface)
    assert view.asking.wait(10)
    [prompt] = view.prompts
    assert prompt.request.name == "drop_table" and "Orders" in prompt.title.value
    if button == "edit":
        prompt.arguments.value = "not json"
        prompt.edit_button.click()
        assert "not JSON" in prompt.status.value and not prompt.approve_button.disabled  # still waiting
        prompt.arguments.value = '{"table": "Backup"}'
        prompt.edit_button.click()
    elif button == "reject":
        prompt.reason.value = "keep it"
        prompt.reject_button.click()
    else:
        getattr(prompt, f"{button}_button").click()
    thread.join(10)
    [run] = finished
    [call] = run.tool_runs
    assert run.stopped is None and prompt.approve_button.disabled
    expected = {"approve": ("approved", ["Orders"]), "edit": ("edited", ["Backup"]),
                "reject": ("rejected", []), "approve_all": ("session", ["Orders"])}[button]
    assert (call.approval, ran) == expected
    shown = " ".join(getattr(child, "value", "") for child in view.surface.box.children)
    assert f"-&gt; {call.status}" in shown
    said = {"approve": "Approved.", "edit": "Approved with edited arguments.",
            "reject": "Rejected: keep it (the model is told).",
            "approve_all": "Approved, and every later call in this session."}[button]
    assert prompt.status.value == said  # the choice said in words, not a bare action name
    if button == "reject":
        assert "rejected this call of drop_table: keep it" in run.text
    again = session.ask("gemini", "Drop the table Orders.", tools=[drop_table], run_tools=True,
                        approve=lambda r: False)  # after "approve all", nobody is asked
    assert (again.tool_runs[0].approval == "session") == (button == "approve_all")


def test_the_stop_button_ends_a_waiting_approval_and_resume_asks_again(magics: CloudswayMagics) -> None:
    drop_table = tool(requires_approval=True)(_drop)
    finished: list[Any] = []
    with capture_output():
        thread = run_tools_cell(magics.session, "gpt", "Drop the table Orders.", [drop_table],
                                kwargs={"stream": False}, on_done=finished.append)
    assert thread.view.asking.wait(10)
    thread.view.stop_button.click()
    thread.join(10)
    [run] = finished
    assert run.stopped == "cancelled" and not run.tool_runs and "1 tool call(s) to run" in run.message
    assert thread.view.stop_button.disabled
    run.agent.approve = lambda request: True  # resumed in Python: this approver is asked now
    done = run.resume()
    assert done.stopped is None and done.tool_runs[0].approval == "approved" and "dropped" in done.text


def _drop(table: str) -> str:
    """Drop a table.

    Args:
        table: Its name.
    """
    return f"dropped {table}"


def test_a_tool_from_a_dict_cannot_run(magics: CloudswayMagics) -> None:
    run = magics.session.ask("gpt", "Search for cats.", tools=[Tool("search")], run_tools=True)
    assert run.tool_runs[0].status == "error" and "there is no tool named 'search' to run" in run.tool_runs[0].error


def test_budget_flag_and_usage_totals_count_model_calls_only(ip: InteractiveShell, magics: CloudswayMagics) -> None:
    from cloudsway_nb.frames import usage_totals_frame

    with capture_output():
        ip.run_cell_magic("cloudsway", "gpt -T get_weather --budget 1 --out r", "Weather in Oslo?")
    run = ip.user_ns["r"]
    assert run.stopped == "budget" and len(run.replies) == 1
    with capture_output():
        ip.run_cell_magic("cloudsway", "gpt -T get_weather --out r", "Weather in Oslo?")
    totals = usage_totals_frame(magics.session.ledger)
    assert list(totals["calls"]) == [3]  # three model calls; the tool call is in the ledger, not counted here
    assert sum(1 for e in magics.session.ledger if e.tool) == 2  # one per run: tools spend no tokens
