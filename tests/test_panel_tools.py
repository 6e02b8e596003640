"""ChatPanel with tools: turns through the Agent loop, tool blocks streamed into the panel, approval
in the panel (granted, edited, rejected with a reason, approve all), Stop mid-loop and Resume (or a
new message), and tool calls kept through the JSON export / load, a restart, turns made by the
magic's -T, the Markdown export, to_cells and the static transcript."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from support import CANARY, ENDPOINTS, open_panel

from cloudsway_nb import Client, Session
from cloudsway_nb.approval import approved_for_session, revoke_all
from cloudsway_nb.panel import ChatPanel
from cloudsway_nb.panel.render import render_transcript
from cloudsway_nb.tools import tool


def get_weather(city: str) -> str:
    """The weather in a city.

    Args:
        city: Its name.
    """
    return f"sunny in {city}"


@tool(requires_approval=True)
def pay(city: str) -> str:
    """Pay for a trip.

    Args:
        city: Where to.
    """
    return f"paid for {city}"


@pytest.fixture
def session(canary_emulator_url: str) -> Iterator[Session]:
    s = Session(Client(canary_emulator_url, CANARY, dict(ENDPOINTS)), default_endpoint="gpt")
    yield s
    revoke_all(s)
    for view in list(s.views.values()):
        view.view.close()
    s.close()


def until(condition: Callable[[], Any], timeout: float = 10.0) -> Any:
    """Wait for a condition the worker thread makes true (polled: the panel has no event for it)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.01)
    raise AssertionError("the condition did not come true in time")


def asking(panel: ChatPanel) -> str:
    """The view id of the block waiting for approval (once it shows)."""
    return until(lambda: next((k for k, v in panel.view.streaming.items()
                               if v.get("tool", {}).get("status") == "asking"), None))


def blocks(panel: ChatPanel) -> list[dict[str, Any]]:
    return [m["tool"] for m in panel.view.messages if m["role"] == "tool"]


def in_line(panel: ChatPanel) -> None:
    """Each message on screen is one of the conversation, in order (tool results as their blocks)."""
    conv = panel.conversation.messages
    assert [m["role"] for m in panel.view.messages] == [m.role for m in conv]
    assert panel._ids == [m["id"] for m in panel.view.messages]
    for shown, message in zip(panel.view.messages, conv, strict=True):
        if message.role == "tool":
            assert shown["tool"]["call_id"] == message.tool_call_id and shown["tool"]["output"] == message.content
        elif message.role == "assistant":
            assert shown["text"].strip(), "an assistant bubble is never empty"


def test_a_turn_runs_the_loop_and_streams_each_tool_block(session: Session) -> None:
    panel, wire = open_panel(session, endpoint="claude", tools=[get_weather])
    wire.from_browser({"type": "send", "text": "What is the weather in Oslo?"})
    panel.wait(10)
    assert panel.view.messages[-1]["text"] == ("The tool get_weather returned: sunny in Oslo. "
                                               "You asked: What is the weather in Oslo?")
    [block] = blocks(panel)
    assert (block["name"], block["status"], block["output"]) == ("get_weather", "ok", "sunny in Oslo")
    assert block["duration"] is not None and json.loads(block["arguments"]) == {"city": "Oslo"}
    live = [e for u in wire.updates for e in (u.get("streaming") or {}).values() if e.get("role") == "tool"]
    assert [e["tool"]["status"] for e in live] == ["running"]  # streamed while it ran, then finished
    in_line(panel)
    assert not panel.view.busy and not panel.busy
    assert [e.tool for e in session.ledger if e.tool] == ["get_weather"]
    live_texts = [(m["role"], m["text"]) for m in panel.view.messages]
    panel._show_conversation()  # drawn again from the conversation (a reattach, a restore): the same
    assert [(m["role"], m["text"]) for m in panel.view.messages] == live_texts
    assert all(e.chat == "panel" for e in session.ledger)


def test_tools_set_later_and_turned_off(session: Session) -> None:
    panel, _ = open_panel(session, endpoint="gpt")
    panel.tools = [get_weather]
    assert panel.ask("Weather in Rome?").text.startswith("The tool get_weather returned: sunny in Rome")
    panel.tools = []
    assert "tool" not in panel.ask("Weather in Rome?").text
    in_line(panel)


def test_approval_granted_in_the_panel(session: Session) -> None:
    panel, wire = open_panel(session, tools=[pay])
    wire.from_browser({"type": "send", "text": "Pay for a trip to Oslo"})
    block_id = asking(panel)
    assert panel.busy and panel.view.busy  # the loop waits in its thread; the click arrives
    wire.from_browser({"type": "tool_decision", "id": block_id, "action": "approve"})
    panel.wait(10)
    [block] = blocks(panel)
    assert (block["status"], block["approval"], block["output"]) == ("ok", "approved", "paid for Oslo")
    assert "paid for Oslo" in panel.view.messages[-1]["text"]
    in_line(panel)


def test_approval_with_edited_arguments_and_a_bad_edit_first(session: Session) -> None:
    panel, wire = open_panel(session, tools=[pay])
    wire.from_browser({"type": "send", "text": "Pay for a trip to Oslo"})
    block_id = asking(panel)
    wire.from_browser({"type": "tool_decision", "id": block_id, "action": "edit", "arguments": "{city: Bergen"})
    assert panel.view.notice.startswith("the edited arguments are not JSON") and panel.busy  # still asking
    wire.from_browser({"type": "tool_decision", "id": block_id, "action": "edit", "arguments": '{"city": "Bergen"}'})
    panel.wait(10)
    [block] = blocks(panel)
    assert (block["approval"], block["output"]) == ("edited", "paid for Bergen")
    assert json.loads(block["asked_with"]) == {"city": "Oslo"}
    in_line(panel)


def test_rejected_with_a_reason_the_model_is_told(session: Session) -> None:
    panel, wire = open_panel(session, tools=[pay])
    wire.from_browser({"type": "send", "text": "Pay for a trip to Oslo"})
    wire.from_browser({"type": "tool_decision", "id": asking(panel), "action": "reject", "reason": "too expensive"})
    panel.wait(10)
    [block] = blocks(panel)
    assert (block["status"], block["approval"], block["reason"]) == ("rejected", "rejected", "too expensive")
    result = next(m for m in panel.conversation.messages if m.role == "tool")
    assert "too expensive" in result.text()
    in_line(panel)


def test_approve_all_stops_asking_for_the_session(session: Session) -> None:
    panel, wire = open_panel(session, tools=[pay])
    wire.from_browser({"type": "send", "text": "Pay for a trip to Oslo"})
    wire.from_browser({"type": "tool_decision", "id": asking(panel), "action": "approve_all"})
    panel.wait(10)
    assert approved_for_session(session) and blocks(panel)[0]["approval"] == "session"
    panel.ask("Pay for a trip to Rome")  # not asked: it would wait forever
    assert [b["output"] for b in blocks(panel)] == ["paid for Oslo", "paid for Rome"]
    in_line(panel)


def test_stop_while_asking_then_resume(session: Session) -> None:
    panel, wire = open_panel(session, tools=[pay])
    wire.from_browser({"type": "send", "text": "Pay for a trip to Oslo"})
    asking(panel)
    wire.from_browser({"type": "stop"})
    panel.wait(10)
    assert panel.last_run.stopped == "cancelled" and panel.view.resumable
    assert "Resume goes on" in panel.view.notice
    assert [m.role for m in panel.conversation.messages] == ["user", "assistant"]  # kept: the partial transcript
    assert [b["status"] for b in blocks(panel)] == ["not run"] and not panel.view.busy  # shown, not sent yet
    wire.from_browser({"type": "resume"})
    wire.from_browser({"type": "tool_decision", "id": asking(panel), "action": "approve"})
    panel.wait(10)
    assert not panel.view.resumable and "paid for Oslo" in panel.view.messages[-1]["text"]
    assert [b["status"] for b in blocks(panel)] == ["ok"]
    in_line(panel)


def test_a_new_message_after_a_stop_gives_up_the_calls_not_run(session: Session) -> None:
    panel, wire = open_panel(session, tools=[pay])
    wire.from_browser({"type": "send", "text": "Pay for a trip to Oslo"})
    asking(panel)
    wire.from_browser({"type": "stop"})
    panel.wait(10)
    panel.tools = [get_weather]
    panel.ask("Weather in Oslo?")
    roles = [m.role for m in panel.conversation.messages]
    assert roles == ["user", "assistant", "tool", "user", "assistant", "tool", "assistant"]
    assert panel.conversation.messages[2].text() == "Not run: the user stopped the loop."
    assert [b["status"] for b in blocks(panel)] == ["not run", "ok"]
    in_line(panel)


def test_stop_while_the_first_answer_streams_takes_the_turn_back() -> None:
    from cloudsway_nb.emulator.testing import running_emulator

    with running_emulator(chunk_delay=0.2) as url:
        session = Session(Client(url, "sk-x", dict(ENDPOINTS)), default_endpoint="gpt")
        try:
            panel, wire = open_panel(session, tools=[get_weather])
            wire.from_browser({"type": "send", "text": "Tell me a long story about the sea, not the weather"})
            until(lambda: any(u.get("streaming") and any("body" in e for e in u["streaming"].values())
                              for u in wire.updates))
            wire.from_browser({"type": "stop"})
            panel.wait(5)
            assert panel.conversation.messages == [] and panel.view.messages == [] and not panel.view.busy
            assert panel.view.notice == "stopped before the answer began: nothing was kept"
            assert {"type": "set_input", "text": "Tell me a long story about the sea, not the weather"} in wire.custom
        finally:
            for view in list(session.views.values()):
                view.view.close()
            session.close()


def test_tool_calls_survive_export_load_and_a_restart(session: Session, tmp_path: Path) -> None:
    panel, wire = open_panel(session, tools=[pay], save=True, folder=tmp_path)
    wire.from_browser({"type": "send", "text": "Pay for a trip to Oslo"})
    block_id = asking(panel)
    wire.from_browser({"type": "tool_decision", "id": block_id, "action": "edit", "arguments": '{"city": "Bergen"}'})
    panel.wait(10)
    before = blocks(panel)
    panel.export_json(tmp_path / "trip.json")
    loaded = ChatPanel.load(tmp_path / "trip.json", session, save=False)
    assert [m["role"] for m in loaded.view.messages] == ["user", "assistant", "tool", "assistant"]
    [block] = blocks(loaded)
    keep = ("name", "arguments", "asked_with", "status", "output", "duration", "approval")
    assert {k: block[k] for k in keep} == {k: before[0][k] for k in keep}
    in_line(loaded)
    restarted = Session(Client(session.client.base_url, CANARY, dict(ENDPOINTS)), default_endpoint="gpt")
    try:
        again = ChatPanel(restarted, save=True, folder=tmp_path)
        assert {k: blocks(again)[0][k] for k in keep} == {k: before[0][k] for k in keep}
        in_line(again)
    finally:
        for view in list(restarted.views.values()):
            view.view.close()
        restarted.close()


def test_turns_from_the_magic_with_tools_render_in_the_panel(session: Session) -> None:
    panel, _ = open_panel(session, endpoint="gpt")
    session.ask("gpt", "Weather in Oslo?", tools=[get_weather], run_tools=True, chat="panel")
    panel._ready()  # what any action does first: the turns another view added are drawn
    [block] = blocks(panel)
    assert (block["name"], block["status"], block["output"], block["duration"]) == (
        "get_weather", "ok", "sunny in Oslo", None)
    assert 'get_weather({"city": "Oslo"})' in panel.view.messages[1]["text"]  # not an empty bubble
    in_line(panel)


def test_markdown_cells_and_the_static_transcript_show_the_calls(session: Session) -> None:
    panel, _ = open_panel(session, endpoint="gpt", tools=[get_weather])
    panel.ask("Weather in Oslo?")
    markdown = panel.export_markdown()
    assert '*calls* `get_weather({"city": "Oslo"})`' in markdown
    assert "**Tool result** `get_weather`:\n\n```text\nsunny in Oslo\n```" in markdown
    cells = panel.to_cells(insert=False)
    assert all(c["cell_type"] == "markdown" for c in cells) and any("sunny in Oslo" in c["source"] for c in cells)
    static = render_transcript(panel.view.messages)
    assert '<details class="cw-tool cw-tool-ok">' in static and "sunny in Oslo" in static
    assert "get_weather(city=&quot;Oslo&quot;) → ok" in static
    from cloudsway_nb.panel.fallback import StaticCopy

    copy = StaticCopy(display=lambda bundle, **_: SimpleNamespace(update=lambda *a, **k: None))
    copy.show(panel.view.messages, title="t", totals="")
    assert 'class="cw-tool cw-tool-ok"' in copy.html() and "sunny in Oslo" in copy.html()  # the saved notebook's copy


def test_a_dataframe_result_is_shown_compactly_and_escaped(session: Session) -> None:
    import pandas as pd

    def table(city: str) -> pd.DataFrame:
        """A table.

        Args:
            city: Its name.
        """
        return pd.DataFrame({"city": [f"<b>{city}</b>"] * 50, "n": range(50)})

    panel, _ = open_panel(session, endpoint="gpt", tools=[table])
    panel.ask("Table for Oslo?")
    rich = blocks(panel)[0]["rich"]
    assert rich["kind"] == "table" and rich["shape"] == "50 rows × 2 columns"
    assert "&lt;b&gt;Oslo&lt;/b&gt;" in rich["html"] and "<b>" not in rich["html"]
    assert rich["html"].count("<tr>") <= 10


def test_the_magic_opens_a_panel_with_tools(session: Session) -> None:
    from IPython.core.history import HistoryManager
    from IPython.core.interactiveshell import InteractiveShell

    from cloudsway_nb.magics import CloudswayMagics, unload_ipython_extension

    HistoryManager.enabled = False
    ip = InteractiveShell.instance()
    unload_ipython_extension(ip)
    ip.register_magics(CloudswayMagics(ip, session=session))
    try:
        ip.user_ns["get_weather"] = get_weather
        panel = ip.run_line_magic("cloudsway", "chat gpt -T get_weather --no-save --name magic-tools")
        assert [t.name for t in panel.tools] == ["get_weather"]
        assert panel.ask("Weather in Oslo?").text.startswith("The tool get_weather returned: sunny in Oslo")
        ip.run_cell_magic("cloudsway", "gpt --chat magic-tools -T get_weather --no-stream", "Weather in Rome?")
        again = ip.run_line_magic("cloudsway", "chat --name magic-tools --no-save")
        assert [b["output"] for b in blocks(again)] == ["sunny in Oslo", "sunny in Rome"]
        in_line(again)
    finally:
        unload_ipython_extension(ip)


def test_max_turns_stops_the_panel_loop_and_resume_goes_on(session: Session) -> None:
    panel, _ = open_panel(session, endpoint="gpt", tools=[get_weather], max_turns=1)
    assert panel.ask("Weather in Oslo?") is not None
    assert panel.last_run.stopped == "max_turns" and panel.view.resumable
    assert panel.view.notice.startswith("max_turns=1 reached after 1 model call(s)")
    answer = panel.resume()
    assert answer is not None and answer.text.startswith("The tool get_weather returned: sunny in Oslo")
    assert not panel.view.resumable and [b["status"] for b in blocks(panel)] == ["ok"]
    in_line(panel)
    with pytest.raises(Exception, match="nothing to resume"):
        panel.resume()


def test_the_key_is_in_no_tool_block_state_or_transcript(session: Session, tmp_path: Path) -> None:
    panel, wire = open_panel(session, tools=[pay], save=True, folder=tmp_path)
    wire.from_browser({"type": "send", "text": "Pay for a trip to Oslo"})
    wire.from_browser({"type": "tool_decision", "id": asking(panel), "action": "approve"})
    panel.wait(10)
    sent = json.dumps([data for data, _ in wire.sent], default=str)
    assert "paid for Oslo" in sent and CANARY not in sent
    assert CANARY not in (tmp_path / "panel.json").read_text() and CANARY not in json.dumps(panel.view.get_state(),
                                                                                             default=str)
