"""ChatPanel: a failed turn and its Retry, bad input as one line (panel and notebook), settings and
cost kept across a restart and a JSON round trip, `load` never replacing a conversation, estimated
counts marked in the footer, and `to_cells` inserting every cell through the front end."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from IPython.core.history import HistoryManager
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output
from support import CANARY, ENDPOINTS, Wire, open_panel

from cloudsway_nb import Client, Session, UsageError
from cloudsway_nb.conversation import Conversation
from cloudsway_nb.panel import ChatPanel
from cloudsway_nb.panel.state import NOTHING_TO_SEND, footer_line
from cloudsway_nb.panel.transcript import conversation_from_dict, conversation_to_dict
from cloudsway_nb.panel.widget import ChatView
from cloudsway_nb.types import Choice, Message, Reply, Usage

FAULT = "x-emulator-fault"


@pytest.fixture
def client(canary_emulator_url: str) -> Iterator[Client]:
    c = Client(canary_emulator_url, CANARY, dict(ENDPOINTS), max_retries=0)
    yield c
    c.close()


@pytest.fixture
def session(client: Client) -> Iterator[Session]:
    s = Session(client, default_endpoint="gpt")
    yield s
    for view in list(s.views.values()):
        view.view.close()


def shown(panel: ChatPanel) -> list[tuple[str, str]]:
    return [(m["role"], m["text"]) for m in panel.view.messages]


def history(panel: ChatPanel) -> list[tuple[str, str]]:
    return [(m.role, m.text()) for m in panel.conversation.messages]


# -- a failed turn, and Retry ---------------------------------------------------------------------


def test_a_failed_send_is_one_line_with_retry_and_retry_sends_it_once(session: Session, client: Client) -> None:
    panel, wire = open_panel(session)
    panel.ask("First")
    client.extra_headers[FAULT] = "500"
    wire.from_browser({"type": "send", "text": "Second"})
    panel.wait(10)
    assert panel.view.retry is True and panel.last_error is not None
    notice = panel.view.notice
    assert notice.startswith("ServerError: 500 ") and "emulated fault" in notice and "\n" not in notice
    if panel.last_error.request_id:  # the request id, when the server gave one
        assert panel.last_error.request_id in notice
    assert shown(panel) == history(panel) == [("user", "First"), ("assistant", shown(panel)[1][1])]
    assert {"type": "set_input", "text": "Second"} in wire.custom  # the text is back in the input box

    del client.extra_headers[FAULT]
    wire.clear()
    wire.from_browser({"type": "retry"})
    panel.wait(10)
    assert {"type": "set_input", "text": "", "only_if": "Second"} in wire.custom  # not sent twice
    assert [r for r, _ in shown(panel)] == ["user", "assistant", "user", "assistant"]
    assert shown(panel) == history(panel) and shown(panel)[2] == ("user", "Second")
    assert panel.view.retry is False and panel.view.notice == "" and panel.last_error is None
    assert [row.status for row in session.ledger][-2:] == ["error", "ok"]


def test_retry_carries_the_attachments_once_and_the_chips_go(session: Session, client: Client, tmp_path: Path) -> None:
    from PIL import Image

    picture = tmp_path / "dot.png"
    Image.new("RGB", (40, 30), "red").save(picture)
    panel, wire = open_panel(session)
    panel.attach(picture)
    client.extra_headers[FAULT] = "503"
    wire.from_browser({"type": "send", "text": "Describe"})
    panel.wait(10)
    assert [c["name"] for c in panel.view.pending] == ["dot.png"] and panel.view.retry  # given back
    del client.extra_headers[FAULT]
    wire.from_browser({"type": "retry"})
    panel.wait(10)
    assert panel.view.pending == [] and len(panel.view.messages[0]["attachments"]) == 1
    assert "Image 1: PNG, 40x30 pixels" in panel.conversation.messages[1].text()
    wire.from_browser({"type": "retry"})  # nothing failed: one line, nothing sent
    assert panel.view.notice.startswith("retry failed: UsageError: nothing to retry") and len(panel.conversation) == 2


def test_a_failed_regenerate_retries_as_a_regenerate(session: Session, client: Client) -> None:
    panel, wire = open_panel(session)
    panel.ask("Hello")
    before = history(panel)
    client.extra_headers[FAULT] = "429"
    wire.from_browser({"type": "regenerate", "id": panel.view.messages[1]["id"], "endpoint": "claude"})
    panel.wait(10)
    assert history(panel) == before == shown(panel) and panel.view.retry
    del client.extra_headers[FAULT]
    wire.from_browser({"type": "retry"})
    panel.wait(10)
    assert len(panel.conversation) == 2 and panel.view.messages[1]["endpoint"] == "claude"
    assert shown(panel) == history(panel)


def test_a_turn_refused_as_bad_input_offers_no_retry(session: Session) -> None:
    panel, wire = open_panel(session, endpoint="claude")
    wire.edit(effort="low", max_tokens=128)  # less than the thinking budget: refused before sending
    wire.from_browser({"type": "send", "text": "Hi"})
    panel.wait(10)
    assert "must be larger than the thinking budget" in panel.view.notice and not panel.view.retry
    assert len(session.ledger) == 0 and len(panel.conversation) == 0


def test_ask_returns_none_for_a_failed_turn_and_retry_returns_the_reply(session: Session, client: Client) -> None:
    panel, _ = open_panel(session)
    client.extra_headers[FAULT] = "500"
    assert panel.ask("Hi") is None and "500" in str(panel.last_error)
    del client.extra_headers[FAULT]
    reply = panel.retry()
    assert reply is not None and reply.text.startswith("You said: Hi.") and len(panel.conversation) == 2
    with pytest.raises(UsageError, match="nothing to retry"):
        panel.retry()


# -- bad input: one line ---------------------------------------------------------------------------


def test_empty_input_from_the_browser_is_one_line(session: Session) -> None:
    panel, wire = open_panel(session)
    panel.view.retry = True  # a failed turn's line, replaced by this one (its Retry button goes with it)
    wire.from_browser({"type": "send", "text": "  \n "})
    assert panel.view.notice == NOTHING_TO_SEND and panel.view.messages == [] and len(panel.conversation) == 0
    assert panel.view.retry is False
    view = ChatView(endpoints=["gpt"])  # the bare view says so too
    calls: list[Any] = []
    view.on_send(lambda *args: calls.append(args))
    Wire(view).from_browser({"type": "send", "text": ""})
    assert view.notice == NOTHING_TO_SEND and calls == []
    view.close()


@pytest.fixture
def shell(session: Session) -> Iterator[InteractiveShell]:
    HistoryManager.enabled = False
    ip = InteractiveShell.instance()
    ip.user_ns.update(session=session, ChatPanel=ChatPanel)
    yield ip


@pytest.mark.parametrize(("cell", "line"), [
    ('panel.ask("")', "UsageError: nothing to send: type a message or attach a file"),
    ('panel.ask(42)', "UsageError: text=42 (int) is not valid: it takes the message, a str"),
    ('ChatPanel(session, endpoint="nope", name="other", save=False)', "ConfigError: unknown endpoint 'nope' (known: "),
    ('panel.attach("missing.png")', "UsageError: missing.png: no such file"),
    ('panel.ask("Look", "missing.png")', "UsageError: missing.png: no such file"),
    ('ChatPanel.load("missing.json", session)', "UsageError: cannot read the transcript missing.json"),
])
def test_bad_input_from_a_cell_is_one_line_and_no_traceback(shell: InteractiveShell, session: Session, cell: str,
                                                            line: str) -> None:
    panel, _ = open_panel(session)
    shell.user_ns["panel"] = panel
    with capture_output() as out:
        result = shell.run_cell(cell)
    text = out.stdout + out.stderr
    assert not result.success and isinstance(result.error_in_exec, UsageError)
    assert text.startswith(line) and text.count("\n") == 1, text  # one line: no "Traceback", no frames
    assert "other" not in session.chats and len(panel.conversation) == 0  # refused before anything changed


# -- settings, cost, load --------------------------------------------------------------------------


def test_settings_survive_a_restart(session: Session, tmp_path: Path, canary_emulator_url: str) -> None:
    panel, wire = open_panel(session, name="tuned", save=True, folder=tmp_path)
    wire.edit(endpoint="claude", effort="low", temperature=0.3, max_tokens=2048, system_prompt="Be terse.")
    saved = json.loads((tmp_path / "tuned.json").read_text())  # kept at once, before any turn
    assert saved["panel"] == {"name": "tuned", "endpoint": "claude", "effort": "low", "temperature": 0.3,
                              "max_tokens": 2048}
    assert panel.ask("Hello") is not None, panel.last_error
    assert session.ledger[-1].endpoint == "claude"
    again = Session(Client(canary_emulator_url, CANARY, dict(ENDPOINTS)))  # a new kernel
    try:
        restored = ChatPanel(again, name="tuned", folder=tmp_path)
        view = restored.view
        assert (view.endpoint, view.effort, view.temperature, view.max_tokens, view.system_prompt) == (
            "claude", "low", 0.3, 2048, "Be terse.")
        restored.view.close()
    finally:
        again.close()


def test_json_keeps_the_cost_and_every_reply_field(session: Session, tmp_path: Path) -> None:
    reply = Reply(choices=[Choice(text="Hello!", reasoning="think", finish_reason="stop")], protocol="chat",
                  usage=Usage(input=3, output=2, reasoning=1, cached=0), model="m", id="r1", status="completed",
                  endpoint="gpt", latency=0.5, ttft=0.1, cost=0.0123, polls=2)
    conv = session.chats["priced"] = Conversation("gpt", "sys")
    conv.add([Message.user("Hi")], reply)
    again = conversation_from_dict(json.loads(json.dumps(conversation_to_dict(conv))))
    back = again.replies[1]
    assert back is not None and back.cost == 0.0123 and back.polls == 2 and back.status == "completed"
    assert (back.text, back.reasoning, back.usage, back.model, back.id, back.latency, back.ttft) == (
        "Hello!", "think", reply.usage, "m", "r1", 0.5, 0.1)
    panel, _ = open_panel(session, name="priced")
    loaded = ChatPanel.load(panel.export_json(tmp_path / "priced.json"), session, save=False)
    assert loaded.conversation.replies[1].cost == 0.0123 and "$0.0123" in loaded.view.messages[1]["footer"]
    assert loaded.view.totals["cost"] == pytest.approx(0.0123)


def test_load_never_replaces_a_conversation(session: Session, tmp_path: Path) -> None:
    panel, _ = open_panel(session, name="notes")
    panel.ask("Keep me")
    exported = panel.export_json(tmp_path / "notes.json")
    panel.ask("And me")
    loaded = ChatPanel.load(exported, session, save=False)
    assert loaded.name == "notes-2" and loaded is not panel
    assert "loaded as 'notes-2'" in loaded.view.notice and "\n" not in loaded.view.notice
    assert len(session.chats["notes"]) == 4 and len(session.chats["notes-2"]) == 2  # both kept
    assert ChatPanel.load(exported, session, save=False).name == "notes-3"
    with pytest.raises(UsageError, match="a conversation named 'notes' exists already"):
        ChatPanel.load(exported, session, name="notes")
    assert len(session.chats["notes"]) == 4
    assert ChatPanel.load(exported, session, name="fresh", save=False).name == "fresh"


def test_load_does_not_take_the_name_of_an_autosaved_transcript(session: Session, tmp_path: Path) -> None:
    panel, _ = open_panel(session, name="a", save=True, folder=tmp_path)
    panel.ask("Saved")
    exported = panel.export_json(tmp_path / "elsewhere" / "b.json")
    (tmp_path / "b.json").write_text((tmp_path / "a.json").read_text())  # another kernel's autosave of "b"
    exported.write_text(exported.read_text().replace('"name": "a"', '"name": "b"'))
    loaded = ChatPanel.load(exported, session, folder=tmp_path)
    assert loaded.name == "b-2" and (tmp_path / "b-2.json").exists()
    again = ChatPanel.load(tmp_path / "a.json", Session(session.client), folder=tmp_path)  # its own autosave
    assert again.name == "a"
    again.view.close()


# -- estimated counts ----------------------------------------------------------------------------


def test_an_estimated_count_is_marked_in_the_footer_and_kept_in_the_json(session: Session) -> None:
    exact = Reply(usage=Usage(input=12, output=40, reasoning=5), model="m", incomplete=True)
    assert "out 40" in footer_line(exact, endpoint="claude") and "~" not in footer_line(exact, endpoint="claude")
    flagged = Reply(usage=Usage(input=12, output=40, reasoning=5, estimated=True), model="m", incomplete=True)
    line = footer_line(flagged, endpoint="claude")
    assert "out ~40" in line and line.count("~40") == 1, line
    conv = Conversation("claude")
    conv.add([Message.user("Hi")], flagged)
    back = conversation_from_dict(json.loads(json.dumps(conversation_to_dict(conv)))).replies[1]
    assert back is not None and back.usage.estimated and "out ~40" in footer_line(back, endpoint="claude")


# -- to_cells ------------------------------------------------------------------------------------


def test_to_cells_asks_the_front_end_to_insert_every_cell(session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    panel, wire = open_panel(session)
    panel.ask("Write python code to add numbers")
    parent = {"metadata": {"cellId": "cell-7"}}
    fake = SimpleNamespace(kernel=SimpleNamespace(get_parent=lambda channel="shell": parent))
    monkeypatch.setattr("IPython.get_ipython", lambda: fake)
    wire.clear()
    cells = panel.to_cells()
    kinds = [c["cell_type"] for c in cells]
    assert kinds.count("markdown") >= 2 and "code" in kinds
    [request] = [m for m in wire.custom if m["type"] == "insert_cells"]
    assert request["after_cell"] == "cell-7" and request["model_id"] == panel.view.model_id
    assert [(c["cell_type"], c["source"]) for c in request["cells"]] == [(c["cell_type"], c["source"]) for c in cells]
    wire.from_browser({"type": "cells_inserted", "request": request["request"], "message": "3 cells inserted below"})
    assert panel.view.notice == "3 cells inserted below"
    monkeypatch.setattr("IPython.get_ipython", lambda: None)  # outside a kernel: the cells, nothing sent
    wire.clear()
    assert panel.to_cells() == cells and wire.custom == []
