"""The chat panel widget through a dummy comm: traits, custom messages both ways, hooks, uploads,
the static fallback, and the import cost."""

from __future__ import annotations

import json
import logging
import subprocess
import sys

import pytest
from IPython.core.history import HistoryManager
from IPython.core.interactiveshell import InteractiveShell
from support import Displays

from cloudsway_nb.panel.fallback import COPY_BUTTON, EMPTY, SEGMENTS
from cloudsway_nb.panel.render import transcript_rows as rendered_rows
from cloudsway_nb.panel.uploads import Upload
from cloudsway_nb.panel.widget import ChatView
from cloudsway_nb.types import Choice, Reply, Usage


def test_defaults_and_settings_from_the_browser(panel, wire) -> None:
    assert panel.endpoint == "gpt" and panel.messages == [] and panel.streaming == {} and not panel.busy
    assert panel.totals["text"] == "no replies yet" and panel.efforts == ["", "minimal", "low", "medium", "high", "max"]
    assert panel.ask_options() == {}
    wire.edit(endpoint="claude", system_prompt="Be brief.", effort="high", temperature=0.3, max_tokens=256)
    assert panel.endpoint == "claude"
    assert panel.ask_options() == {"system": "Be brief.", "reasoning": "high", "temperature": 0.3, "max_tokens": 256}
    wire.edit(temperature=None, max_tokens=None, effort="", system_prompt="  ")
    assert panel.ask_options() == {}


def test_send_calls_the_hook_with_text_and_attachments(panel, wire) -> None:
    calls = []
    panel.on_send(lambda text, uploads: calls.append((text, uploads)))
    upload = Upload("u1", "a.txt", "text/plain", b"hi")
    panel.add_upload(upload)
    assert [c["name"] for c in panel.pending] == ["a.txt"]
    wire.from_browser({"type": "send", "text": "hello\nworld"})
    assert calls == [("hello\nworld", [upload])] and panel.pending == []
    wire.from_browser({"type": "send", "text": "   "})  # nothing to send
    wire.from_browser({"type": "send", "text": 42})  # not text
    assert len(calls) == 1


def test_send_without_a_hook_keeps_the_attachments(panel, wire) -> None:
    panel.add_upload(Upload("u1", "a.txt", "text/plain", b"hi"))
    wire.from_browser({"type": "send", "text": "hello"})
    assert "nothing handles send" in panel.notice and [c["id"] for c in panel.pending] == ["u1"]


def test_attachments_alone_can_be_sent(panel, wire) -> None:
    calls = []
    panel.on_send(lambda text, uploads: calls.append((text, [u.name for u in uploads])))
    panel.add_upload(Upload("u1", "cat.png", "image/png", b"x"))
    wire.from_browser({"type": "send", "text": ""})
    assert calls == [("", ["cat.png"])]


@pytest.mark.parametrize(
    ("content", "hook", "args"),
    [
        ({"type": "stop"}, "on_stop", ()),
        ({"type": "edit", "id": "m1", "text": "new"}, "on_edit", ("m1", "new")),
        ({"type": "regenerate", "id": "m2", "endpoint": "claude"}, "on_regenerate", ("m2", "claude")),
        ({"type": "compare", "id": "m2", "endpoint": "gemini"}, "on_compare", ("m2", "gemini")),
        ({"type": "delete", "id": "m3"}, "on_delete", ("m3",)),
    ],
)
def test_each_action_reaches_its_hook(panel, wire, content, hook, args) -> None:
    calls = []
    getattr(panel, hook)(lambda *a: calls.append(a))
    wire.from_browser(content)
    assert calls == [args]


def test_actions_without_an_id_and_unknown_messages_are_ignored(panel, wire) -> None:
    calls = []
    panel.on_delete(lambda *a: calls.append(a))
    wire.from_browser({"type": "delete"})
    wire.from_browser({"type": "explode"})
    wire.from_browser(["not", "a", "dict"])
    assert calls == [] and panel.notice == ""


def test_hooks_can_be_removed_and_used_as_decorators(panel, wire) -> None:
    calls = []

    @panel.on_stop
    def stop() -> None:
        calls.append("stop")

    wire.from_browser({"type": "stop"})
    panel.on_stop(stop, remove=True)
    wire.from_browser({"type": "stop"})
    assert calls == ["stop"]
    assert panel.notice == "nothing handles stop: register a function with panel.on_stop(fn)"


def test_a_failing_hook_is_one_line_in_the_notice_and_a_log_record(panel, wire, caplog) -> None:
    def broken(text, uploads):
        raise RuntimeError("boom")

    panel.on_send(broken)
    with caplog.at_level(logging.ERROR, logger="cloudsway_nb.panel.widget"):
        wire.from_browser({"type": "send", "text": "hi"})
    assert panel.notice == "send failed: RuntimeError: boom"
    assert "the send hook failed" in caplog.text and "RuntimeError: boom" in caplog.text


def test_uploads_arrive_in_chunks_and_are_acknowledged(panel, wire) -> None:
    data = b"0123456789" * 100
    panel.upload_chunk = 300
    for offset in range(0, len(data), 300):
        wire.from_browser({"type": "upload", "id": "f1", "name": "digits.txt", "mime": "text/plain",
                           "size": len(data), "offset": offset, "final": offset + 300 >= len(data)},
                          [memoryview(data[offset:offset + 300])])
    assert wire.custom == [{"type": "upload_done", "id": "f1"}]
    assert panel.pending == [{"id": "f1", "name": "digits.txt", "size": 1000, "mime": "text/plain", "thumb": ""}]
    (upload,) = panel.take_pending()
    assert upload.data == data and panel.pending == []


def test_an_upload_over_the_limit_is_refused_with_a_message(panel, wire) -> None:
    panel.max_upload = 10
    wire.from_browser({"type": "upload", "id": "big", "name": "big.bin", "size": 11, "offset": 0, "final": True},
                      [b"x" * 11])
    assert wire.custom == [{"type": "upload_error", "id": "big", "message": "big.bin is 11 B, over the 10 B limit"}]
    assert panel.pending == [] and "over the 10 B limit" in panel.notice


def test_removing_a_chip(panel, wire) -> None:
    panel.add_upload(Upload("u1", "a", "text/plain", b"a"))
    panel.add_upload(Upload("u2", "b", "text/plain", b"b"))
    wire.from_browser({"type": "unattach", "id": "u1"})
    assert [c["id"] for c in panel.pending] == ["u2"] and [u.id for u in panel.take_pending()] == ["u2"]


def test_messages_to_the_browser(panel, wire) -> None:
    panel.set_input("edit me")
    panel.focus()
    assert wire.custom == [{"type": "set_input", "text": "edit me"}, {"type": "focus"}]


def test_transcript_editing(panel) -> None:
    a = panel.add_message("user", "one", attachments=[{"id": "x", "name": "n", "size": 1, "mime": "", "thumb": ""}])
    b = panel.add_message("assistant", "two", endpoint="gpt", footer="gpt · in 1")
    c = panel.add_message("user", "three")
    panel.update_message(a, text="**one!**")
    first = panel.get_message(a)
    assert first["html"] == "<p><strong>one!</strong></p>\n" and first["attachments"][0]["name"] == "n"
    panel.update_message(b, status="interrupted")
    assert panel.get_message(b)["footer"] == "gpt · in 1" and panel.get_message(b)["status"] == "interrupted"
    with pytest.raises(KeyError):
        panel.update_message("nope", text="x")
    panel.truncate_after(a)
    assert [m["id"] for m in panel.messages] == [a]
    panel.remove_message(a)
    panel.remove_message(c)
    assert panel.messages == [] and panel.get_message(a) is None
    panel.add_message("user", "x")
    panel.clear()
    assert panel.messages == [] and panel.totals["replies"] == 0


def test_message_html_is_always_rendered_by_python(panel) -> None:
    panel.add_message("assistant", "<img src=x onerror=alert(1)>")
    assert panel.messages[0]["html"] == "<p>&lt;img src=x onerror=alert(1)&gt;</p>\n"


def test_the_mimebundle_carries_a_static_transcript(panel) -> None:
    panel.add_message("user", "What is $x$?")
    data, _ = panel._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in data
    start = '<div class="cw-fallback mathjax_ignore"><div class="cloudsway-panel cw-static"><style>'
    assert data["text/html"].startswith(start)
    assert "<math" in data["text/html"]


def test_the_live_stylesheet_hides_the_fallback_but_the_fallback_does_not() -> None:
    assert ".cw-fallback{display:none !important}" in ChatView._css
    panel = ChatView()
    assert "cw-fallback{" not in panel.fallback_html()
    panel.close()


@pytest.fixture(scope="module")
def ip():
    HistoryManager.enabled = False
    yield InteractiveShell.instance()


def transcript_rows(messages) -> str:
    """The whole transcript's static HTML (its code blocks without the copy button no script wires)."""
    return rendered_rows(messages).replace(COPY_BUTTON, "")


def _static(shown) -> tuple[str, str]:
    """What the saved notebook shows without a kernel, from the displays after the widget: the header's
    HTML, and the transcript (the segments' messages, concatenated)."""
    import re

    pieces = [d.get("text/html", "") for d in shown.current() if "application/vnd.jupyter.widget-view+json" not in d]
    style, head, *segments = pieces
    wrap = '<div class="cw-fallback mathjax_ignore">'
    assert style.startswith(wrap + "<style>") and all(p.startswith(wrap) for p in [head, *(s for s in segments if s)])
    inner = [re.fullmatch(r'<div class="cw-fallback mathjax_ignore"><div class="cloudsway-panel cw-static cw-piece">'
                          r'<div class="cw-transcript">(.*)</div></div></div>', s, re.S) for s in segments if s]
    assert all(inner)
    return head, "".join(m.group(1) for m in inner)


def _turn(panel, question: str, answer: str) -> None:
    panel.add_message("user", question)
    stream = panel.begin_stream(rate=0)
    stream.add_text(answer[: len(answer) // 2])  # streaming updates do not touch the static copy
    stream.add_text(answer[len(answer) // 2 :])
    stream.finish(Reply(choices=[Choice(text=answer)], usage=Usage(input=3, output=7)))


def test_show_keeps_the_fallback_up_to_date(ip, panel) -> None:
    with Displays(ip) as shown:
        panel.show()
        widget, _style, head, *segments = shown.sent
        assert "application/vnd.jupyter.widget-view+json" in widget["data"] and "text/html" not in widget["data"]
        assert len(segments) == SEGMENTS and all(s["data"] == EMPTY for s in segments)  # empty: shows nothing
        panel.add_message("user", "first question")
        stream = panel.begin_stream(rate=0)
        stream.add_text("streamed")
        assert len(shown.updates) == 1  # the question's segment; the streaming updates do not touch the copy
        stream.finish(status="done")
    assert all(u["transient"] in [s["transient"] for s in [head, *segments]] for u in shown.updates)
    header, transcript = _static(shown)
    assert transcript == transcript_rows(panel.messages) and "streamed" in transcript
    assert "Cloudsway chat" in header and panel.totals["text"] in header


def test_a_turn_never_sends_earlier_turns_to_the_static_copy_again(ip, panel) -> None:
    """Issue 10: earlier messages are never re-sent, the static copy included (it was one display
    holding the whole transcript, sent whole each time a message finished)."""
    for i in range(10):
        panel.add_message("user" if i % 2 == 0 else "assistant", f"history-{i} " + "words " * 100)
    with Displays(ip) as shown:
        panel.show()
        for turn in range(6):
            shown.clear()
            _turn(panel, f"question-{turn}", f"answer-{turn} **bold**\n\nmore")
            sent = json.dumps(shown.sent)
            assert f"answer-{turn}" in sent and "history-" not in sent
            assert not any(f"answer-{t}" in sent or f"question-{t}" in sent for t in range(turn))
            assert len(shown.updates) == 3  # the question's segment, then with its answer; the header's totals
            header, transcript = _static(shown)
            assert transcript == transcript_rows(panel.messages)
            assert panel.totals["text"] in header and f"{turn + 1} repl" in header


def test_edit_and_delete_update_only_the_segments_they_touch(ip, panel) -> None:
    with Displays(ip) as shown:
        panel.show()
        for turn in range(4):
            _turn(panel, f"question-{turn}", f"answer-{turn}")
        ids = [m["id"] for m in panel.messages]
        shown.clear()
        panel.update_message(ids[3], text="answer-1 edited")  # turn 1's answer
        [update] = shown.updates
        assert "answer-1 edited" in json.dumps(update) and "question-1" in json.dumps(update)
        assert not any(f"-{t}" in json.dumps(update) for t in (0, 2, 3))
        assert _static(shown)[1] == transcript_rows(panel.messages)
        shown.clear()
        panel.remove_message(ids[4])  # turn 2's question
        [update] = shown.updates
        assert "answer-2" in json.dumps(update) and "question-2" not in json.dumps(update)
        assert _static(shown)[1] == transcript_rows(panel.messages)
        shown.clear()
        panel.truncate_after(ids[1])  # regenerate from turn 0: turns 1-3 emptied
        assert len(shown.updates) == 3 and all(u["data"] == EMPTY for u in shown.updates)
        _turn(panel, "question-again", "answer-again")  # into the segment after turn 0 again
        assert _static(shown)[1] == transcript_rows(panel.messages)
        assert [m["text"] for m in panel.messages][-2:] == ["question-again", "answer-again"]


def test_a_comparison_stays_in_its_turns_segment(ip, panel) -> None:
    with Displays(ip) as shown:
        panel.show()
        _turn(panel, "q0", "a0")
        _turn(panel, "q1", "a1")
        first = panel.messages[1]["id"]
        shown.clear()
        panel.update_message(first, group="g")
        stream = panel.begin_stream(endpoint="claude", after=first, group="g", rate=0)
        stream.add_text("b0")
        stream.finish(status="done")
        assert "q1" not in json.dumps(shown.sent) and all("q0" in json.dumps(u) for u in shown.updates)
        rows = transcript_rows(panel.messages)
        assert _static(shown)[1] == rows and rows.count("cw-row") == 1


def test_turns_beyond_the_segments_go_into_the_last_one(ip, panel, monkeypatch) -> None:
    import cloudsway_nb.panel.fallback as fallback

    monkeypatch.setattr(fallback, "SEGMENTS", 3)
    with Displays(ip) as shown:
        panel.show()
        for turn in range(5):
            _turn(panel, f"question-{turn}", f"answer-{turn}")
        assert len(shown.current()) == 1 + 2 + 3
        assert _static(shown)[1] == transcript_rows(panel.messages)  # complete, the last segment holding turns 2-4


def test_a_restored_transcript_starts_in_the_first_segment(ip) -> None:
    panel = ChatView(endpoints=["gpt"])
    for i in range(6):  # what ChatPanel does with a transcript saved before a restart, before showing it
        panel.add_message("user" if i % 2 == 0 else "assistant", f"saved-{i}")
    with Displays(ip) as shown:
        panel.show()
        assert _static(shown)[1] == transcript_rows(panel.messages)
        shown.clear()
        _turn(panel, "after the restart", "fine")
        assert "saved-" not in json.dumps(shown.sent) and _static(shown)[1] == transcript_rows(panel.messages)
    panel.close()


def test_importing_the_package_does_not_import_the_panel() -> None:
    code = (
        "import sys, cloudsway_nb, cloudsway_nb.panel\n"
        "heavy = ['anywidget', 'cloudsway_nb.panel.widget', 'cloudsway_nb.panel.render', 'pygments', 'latex2mathml']\n"
        "print(','.join(m for m in heavy if m in sys.modules))\n"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == ""


def test_a_comparison_answer_streams_right_after_the_answer_it_is_compared_with(panel) -> None:
    q = panel.add_message("user", "q")
    a = panel.add_message("assistant", "A", endpoint="gpt", group="g")
    later = panel.add_message("user", "a later question")
    stream = panel.begin_stream(endpoint="claude", after=a, group="g", rate=0)
    assert [m["id"] for m in panel.messages] == [q, a, stream.id, later]
    assert panel.get_message(stream.id)["status"] == "streaming"
    stream.add_text("B")
    stream.finish(status="done")
    assert [m["id"] for m in panel.messages] == [q, a, stream.id, later]
    assert panel.messages[2]["html"] == "<p>B</p>\n" and panel.messages[2]["group"] == "g"
    third = panel.add_message("assistant", "C", after=a, group="g")  # after the whole group
    assert [m["id"] for m in panel.messages] == [q, a, stream.id, third, later]


def test_repr_is_short(panel) -> None:
    panel.add_message("user", "x")
    assert repr(panel) == "ChatView('Cloudsway chat', 1 messages)"


def test_a_message_added_goes_alone_once_a_view_listens(panel, wire) -> None:
    panel.add_message("user", "before any view")
    assert [list(u) for u in wire.updates] == [["messages"]] and not wire.custom  # no view: the state
    wire.from_browser({"type": "view_ready"})
    wire.clear()
    mid = panel.add_message("assistant", "added")
    first = panel.add_message("user", "inserted", after=None)
    assert not wire.updates and [c["type"] for c in wire.custom] == ["message", "message"]
    assert wire.custom[0]["message"]["id"] == mid and wire.custom[0]["at"] == 1 and wire.custom[1]["at"] == 2
    assert "before any view" not in json.dumps(wire.sent) and [m["id"] for m in panel.messages][1:] == [mid, first]


def test_the_static_copy_has_no_dead_copy_button_and_no_typeset_prices(ip, panel) -> None:
    panel.add_message("assistant", "It costs $5 and $10:\n\n```python\nx = 1\n```")
    with Displays(ip) as shown:
        panel.show()
    assert COPY_BUTTON in panel.messages[0]["html"]  # the live widget wires it
    html = "".join(d.get("text/html", "") for d in shown.current())
    assert 'class="cw-copy"' not in html and "<pre" in html and "costs $5 and $10" in html
    assert html.count('class="cw-fallback mathjax_ignore"') == html.count("cw-fallback")
