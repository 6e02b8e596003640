"""ChatPanel end to end against the emulator, through the view's dummy comm: the browser's messages
in (`Wire.from_browser`), the Session's conversation and the view's state checked to agree."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import CANARY, ENDPOINTS, open_panel

from cloudsway_nb import Client, Session
from cloudsway_nb.emulator.testing import running_emulator
from cloudsway_nb.panel import ChatPanel, interrupts


@pytest.fixture
def session(canary_emulator_url: str) -> Iterator[Session]:
    s = Session(Client(canary_emulator_url, CANARY, dict(ENDPOINTS)), default_endpoint="gpt")
    yield s
    for view in list(s.views.values()):
        view.view.close()
    s.close()


def roles(panel: ChatPanel) -> list[str]:
    return [m["role"] for m in panel.view.messages]


def agree(panel: ChatPanel) -> None:
    """What the panel shows is what the model gets next: the same turns, the same texts."""
    shown = [(m["role"], m["text"]) for m in panel.view.messages]
    history = [(m.role, m.text()) for m in panel.conversation.messages]
    assert shown == history


def test_send_streams_the_answer_into_the_conversation(session: Session) -> None:
    panel, wire = open_panel(session, endpoint="claude", system="Be brief.")
    wire.from_browser({"type": "send", "text": "Hello there"})
    reply = panel.wait(10)
    assert reply is not None and reply.text.startswith("You said: Hello there.")
    assert roles(panel) == ["user", "assistant"] and panel.view.messages[1]["status"] == "done"
    footer = panel.view.messages[1]["footer"]
    assert footer.startswith("claude · ") and " in " in footer and " out " in footer and "first token" in footer
    assert panel.view.totals["replies"] == 1 and panel.view.totals["input"] > 0
    agree(panel)
    assert session.ledger[-1].chat == "panel" and session.ledger[-1].endpoint == "claude"
    assert any(u.get("streaming") for u in wire.updates)  # the answer streamed into the view
    assert ChatPanel(session, save=False) is panel  # the same conversation: reattached


def test_stop_ends_a_slow_stream_at_once_and_keeps_what_the_model_will_see() -> None:
    with running_emulator(chunk_delay=0.2) as url:
        session = Session(Client(url, "sk-x", dict(ENDPOINTS)), default_endpoint="gpt")
        try:
            panel, wire = open_panel(session)
            wire.from_browser({"type": "send", "text": "Tell me a long story about the sea and the mountains"})
            time.sleep(0.5)
            started = time.monotonic()
            wire.from_browser({"type": "stop"})
            panel.wait(5)
            assert time.monotonic() - started < 0.5 + 0.3  # Stop closes the stream within half a second
            answer = panel.view.messages[-1]
            assert answer["status"] == "interrupted" and session.ledger[-1].status == "interrupted"
            agree(panel)  # the partial answer is in the conversation, exactly as shown
            wire.from_browser({"type": "send", "text": "Go on"})
            panel.wait(10)
            assert roles(panel) == ["user", "assistant", "user", "assistant"]
            agree(panel)
        finally:
            for view in list(session.views.values()):
                view.view.close()
            session.close()


def test_a_kernel_interrupt_stops_the_panel_stream() -> None:
    with running_emulator(chunk_delay=0.2) as url:
        session = Session(Client(url, "sk-x", dict(ENDPOINTS)), default_endpoint="gpt")
        try:
            panel, wire = open_panel(session)
            wire.from_browser({"type": "send", "text": "Tell me a long story about the sea and the mountains"})
            time.sleep(0.4)
            interrupts.interrupt_streams()  # what the SIGINT handler does first
            panel.wait(5)
            assert panel.view.messages[-1]["status"] == "interrupted" and not panel.busy
        finally:
            for view in list(session.views.values()):
                view.view.close()
            session.close()


def test_edit_regenerate_delete(session: Session) -> None:
    panel, wire = open_panel(session)
    panel.ask("First question")
    panel.ask("Second question")
    first_user = panel.view.messages[0]["id"]
    wire.from_browser({"type": "edit", "id": first_user, "text": "Edited question"})
    panel.wait(10)
    assert [m["text"] for m in panel.view.messages if m["role"] == "user"] == ["Edited question"]
    agree(panel)
    answer = panel.view.messages[-1]["id"]
    wire.from_browser({"type": "regenerate", "id": answer, "endpoint": "gemini"})
    panel.wait(10)
    assert roles(panel) == ["user", "assistant"] and panel.view.messages[-1]["endpoint"] == "gemini"
    assert panel.conversation.replies[-1].endpoint == "gemini"
    agree(panel)
    wire.from_browser({"type": "edit", "id": panel.view.messages[-1]["id"], "text": "A corrected answer."})
    assert panel.conversation.messages[-1].text() == "A corrected answer."
    wire.from_browser({"type": "delete", "id": panel.view.messages[-1]["id"]})
    assert roles(panel) == ["user"]
    agree(panel)


def test_compare_shows_both_and_the_pick_continues_the_conversation(session: Session) -> None:
    panel, wire = open_panel(session)
    panel.ask("Name a prime")
    answer = panel.view.messages[-1]["id"]
    wire.from_browser({"type": "compare", "id": answer, "endpoint": "claude"})
    panel.wait(10)
    group = [m for m in panel.view.messages if m.get("group")]
    assert [m["endpoint"] for m in group] == ["gpt", "claude"] and len(panel.conversation) == 2
    wire.from_browser({"type": "pick", "id": group[1]["id"]})
    assert roles(panel) == ["user", "assistant"] and panel.view.messages[-1]["endpoint"] == "claude"
    assert panel.conversation.replies[-1].endpoint == "claude" and not panel.view.messages[-1]["group"]
    agree(panel)


def test_attachments_refused_at_attach_time_and_carried_when_accepted(session: Session, tmp_path: Path) -> None:
    from PIL import Image

    from cloudsway_nb.media import samples
    from cloudsway_nb.panel import Upload

    panel, wire = open_panel(session, endpoint="claude")
    panel.view.add_upload(Upload("u1", "song.wav", "audio/wav", samples.wav(0.2)))
    assert panel.view.pending == [] and "protocols that can: chat, gemini" in panel.view.notice
    image = Image.new("RGB", (40, 30), "green")
    panel.attach(image)
    assert [c["mime"] for c in panel.view.pending] == ["image/png"] and panel.view.pending[0]["thumb"]
    wire.from_browser({"type": "send", "text": "Describe"})
    reply = panel.wait(10)
    assert reply is not None and "Image 1: PNG, 40x30 pixels" in reply.text
    assert panel.view.messages[0]["attachments"] and panel.view.pending == []
    with pytest.raises(Exception, match="protocols that can"):
        panel.attach(samples.wav(0.2))


def test_a_failed_turn_leaves_the_conversation_and_gives_the_text_back(canary_emulator_url: str) -> None:
    failing = Client(canary_emulator_url, CANARY, dict(ENDPOINTS), headers={"x-emulator-fault": "500"}, max_retries=0)
    session = Session(failing, default_endpoint="gpt")
    try:
        panel, wire = open_panel(session)
        wire.from_browser({"type": "send", "text": "Will fail"})
        panel.wait(10)
        assert panel.view.messages == [] and len(panel.conversation) == 0
        assert "ServerError: 500" in panel.view.notice and "\n" not in panel.view.notice
        assert {"type": "set_input", "text": "Will fail"} in wire.custom
    finally:
        panel.view.close()
        session.close()


def test_the_transcript_survives_a_restart_and_exports(
    session: Session, tmp_path: Path, canary_emulator_url: str
) -> None:
    panel, _ = open_panel(session, save=True, folder=tmp_path, name="notes")
    panel.ask("Remember 42")
    saved = tmp_path / "notes.json"
    assert saved.exists() and CANARY not in saved.read_text()
    again = Session(Client(canary_emulator_url, CANARY, dict(ENDPOINTS)))  # a new kernel
    try:
        restored = ChatPanel(again, name="notes", folder=tmp_path)
        assert [m["text"] for m in restored.view.messages] == [m["text"] for m in panel.view.messages]
        assert restored.view.messages[-1]["footer"] == panel.view.messages[-1]["footer"]
        restored.view.close()
    finally:
        again.close()
    exported = panel.export_json(tmp_path / "copy.json")
    loaded = ChatPanel.load(exported, session, name="copy", save=False)
    assert [m.text() for m in loaded.conversation.messages] == [m.text() for m in panel.conversation.messages]
    assert "**User:** Remember 42" in panel.export_markdown()
    cells = panel.to_cells(insert=False)
    assert [c["cell_type"] for c in cells] == ["markdown", "markdown"]
    assert "cw-fallback" in panel.view.fallback_html() and "Remember 42" in panel.view.fallback_html()


def test_the_key_is_in_no_widget_state(session: Session) -> None:
    panel, wire = open_panel(session)
    panel.ask("Hi")
    state = json.dumps(panel.view.get_state(), default=str) + json.dumps([u for u in wire.updates], default=str)
    assert CANARY not in state and CANARY[:12] not in state


def test_while_a_reply_streams_the_kernel_is_free(session: Session) -> None:
    panel, wire = open_panel(session)
    done = threading.Event()
    wire.from_browser({"type": "send", "text": "Hi"})  # returns at once: the reply streams in a thread
    done.set()
    assert done.is_set()
    panel.wait(10)
    with pytest.raises(Exception, match="still streaming"):
        panel._worker = threading.Thread(target=time.sleep, args=(0.5,))
        panel._worker.start()
        panel.ask("Too soon", wait=False)


def test_the_magic_opens_the_panel_and_a_second_call_reattaches(session: Session, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from IPython.core.history import HistoryManager
    from IPython.core.interactiveshell import InteractiveShell

    from cloudsway_nb.magics import CloudswayMagics, unload_ipython_extension

    monkeypatch.chdir(tmp_path)
    HistoryManager.enabled = False
    ip = InteractiveShell.instance()
    unload_ipython_extension(ip)
    ip.register_magics(CloudswayMagics(ip, session=session))
    try:
        panel = ip.run_line_magic("cloudsway", "chat claude -s 'Be kind.'")
        assert isinstance(panel, ChatPanel) and panel.view.endpoint == "claude"
        assert panel.conversation.system == "Be kind."
        panel.ask("Hi")
        again = ip.run_line_magic("cloudsway", "chat")
        assert again is panel and len(again.view.messages) == 2
        assert (tmp_path / ".cloudsway" / "panel.json").exists()  # kept next to the notebook
        ip.run_cell_magic("cloudsway", "gpt --chat panel --no-stream", "From a cell")
        third = ip.run_line_magic("cloudsway", "chat")  # the cell's turn shows in the panel too
        assert [m["text"] for m in third.view.messages if m["role"] == "user"] == ["Hi", "From a cell"]
    finally:
        unload_ipython_extension(ip)


def test_a_real_sigint_reaches_the_panel_streams_even_when_the_kernel_ignores_it() -> None:
    import os
    import signal

    before = signal.getsignal(signal.SIGINT)
    chain = list(interrupts._installed)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # an idle ipykernel ignores SIGINT
    try:
        interrupts.install()
        stop = threading.Event()
        with interrupts.watch(stop):
            os.kill(os.getpid(), signal.SIGINT)
            assert stop.wait(2)
    finally:  # the handler and the chain behind it as they were: a later Ctrl-C must not meet SIG_IGN
        signal.signal(signal.SIGINT, before)
        interrupts._installed[:] = chain


def test_actions_while_a_reply_streams_are_refused_and_change_nothing() -> None:
    with running_emulator(chunk_delay=0.1) as url:
        session = Session(Client(url, "sk-x", dict(ENDPOINTS)), default_endpoint="gpt")
        try:
            panel, wire = open_panel(session)
            panel.ask("one")
            wire.from_browser({"type": "send", "text": "Tell me a long story about the sea and the mountains"})
            first = panel.view.messages[0]["id"]
            for action in ({"type": "delete", "id": first}, {"type": "edit", "id": first, "text": "x"},
                           {"type": "regenerate", "id": panel.view.messages[1]["id"], "endpoint": "gpt"}):
                wire.from_browser(action)
                assert "still streaming" in panel.view.notice
            panel.stop()
            panel.wait(5)
            agree(panel)
            assert panel.view.messages[0]["text"] == "one"
        finally:
            for view in list(session.views.values()):
                view.view.close()
            session.close()


def test_turns_from_the_magic_keep_the_panel_and_the_history_in_line(session: Session) -> None:
    panel, wire = open_panel(session)
    panel.ask("A")
    session.ask("gpt", "B", chat="panel")  # what %%cloudsway gpt --chat panel does
    panel.ask("C")
    agree(panel)  # B shows in the panel too
    wire.from_browser({"type": "delete", "id": panel.view.messages[-1]["id"]})  # C's answer, not B's
    assert [m.text() for m in panel.conversation.messages if m.role == "user"] == ["A", "B", "C"]
    agree(panel)


def test_a_failed_regenerate_or_edit_gives_back_what_was_there(canary_emulator_url: str) -> None:
    session = Session(Client(canary_emulator_url, CANARY, dict(ENDPOINTS)), default_endpoint="gpt")
    try:
        panel, wire = open_panel(session)
        panel.ask("one")
        panel.ask("two")
        before = [(m.role, m.text()) for m in panel.conversation.messages]
        session.use_client(Client(canary_emulator_url, CANARY, dict(ENDPOINTS), max_retries=0,
                                  headers={"x-emulator-fault": "500"}))
        wire.from_browser({"type": "regenerate", "id": panel.view.messages[-1]["id"], "endpoint": "gpt"})
        panel.wait(10)
        assert [(m.role, m.text()) for m in panel.conversation.messages] == before and "500" in panel.view.notice
        agree(panel)
        wire.from_browser({"type": "edit", "id": panel.view.messages[0]["id"], "text": "edited"})
        panel.wait(10)
        assert [(m.role, m.text()) for m in panel.conversation.messages] == before
        agree(panel)
    finally:
        for view in list(session.views.values()):
            view.view.close()
        session.close()


def test_stopping_before_the_answer_begins_keeps_no_empty_answer() -> None:
    with running_emulator(first_token_delay=3.0) as url:
        session = Session(Client(url, "sk-x", dict(ENDPOINTS)), default_endpoint="claude")
        try:
            panel, wire = open_panel(session)
            wire.from_browser({"type": "send", "text": "Hello"})
            time.sleep(0.2)
            wire.from_browser({"type": "stop"})
            panel.wait(5)
            assert panel.view.messages == [] and len(panel.conversation) == 0
            assert {"type": "set_input", "text": "Hello"} in wire.custom and "nothing was kept" in panel.view.notice
        finally:
            for view in list(session.views.values()):
                view.view.close()
            session.close()


def test_reattaching_keeps_the_totals_and_the_system_prompt_can_be_cleared(session: Session) -> None:
    panel, wire = open_panel(session, system="Be brief.")
    assert "Instructions noted: Be brief." in panel.ask("Hi").text
    totals = dict(panel.view.totals)
    assert ChatPanel(session, save=False).view.totals == totals  # reattached: the same totals
    wire.edit(system_prompt="")
    assert "Instructions noted" not in panel.ask("Again").text


def test_an_uploaded_file_keeps_its_name(session: Session) -> None:
    from cloudsway_nb.panel import Upload

    panel, wire = open_panel(session)
    panel.view.add_upload(Upload("u1", "notes.txt", "text/plain", b"remember the milk"))
    wire.from_browser({"type": "send", "text": "Read this"})
    panel.wait(10)
    assert panel.view.messages[0]["attachments"][0]["name"] == "notes.txt"
    part = panel.conversation.messages[0].content[1]
    assert part.filename == "notes.txt"


def test_the_endpoint_switcher_offers_only_endpoints_that_chat(session: Session) -> None:
    panel, _ = open_panel(session)
    assert "e5" not in panel.view.endpoints and {"gpt", "claude", "gemini", "o3"} <= set(panel.view.endpoints)
