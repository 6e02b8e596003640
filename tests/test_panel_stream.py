"""One reply streaming into the panel: events, throttled updates of that message only, the final state."""

from __future__ import annotations

import json
import re
import threading

import pytest
from IPython.core.history import HistoryManager
from IPython.core.interactiveshell import InteractiveShell
from support import Displays

from cloudsway_nb.errors import RateLimitError
from cloudsway_nb.types import Choice, ReasoningDelta, Reply, TextDelta, ToolCall, ToolCallDelta, Usage, UsageEvent


class Browser:
    """What panel.js does with the `streaming` entries it receives: append each part's new blocks
    after the `from` it already holds, replace the tail (see panel/stream.py)."""

    def __init__(self) -> None:
        self.blocks: dict[tuple[str, str], list[str]] = {}
        self.tails: dict[tuple[str, str], str] = {}
        self.gaps = 0

    def apply(self, streaming: dict) -> None:
        for id, entry in streaming.items():
            for name in ("body", "reasoning_parts"):
                part = entry.get(name)
                if not part:
                    continue
                held = self.blocks.setdefault((id, name), [])
                if len(held) < part["from"]:
                    self.gaps += 1
                    continue
                del held[part["from"]:]
                held += part["add"]
                self.tails[(id, name)] = part["tail"]

    def follow(self, wire) -> None:
        for update in wire.updates:
            if "streaming" in update:
                self.apply(update["streaming"])

    def html(self, id: str, name: str = "body") -> str:
        return "".join(self.blocks.get((id, name), [])) + self.tails.get((id, name), "")

    def end(self, content: dict) -> dict | None:
        """endStream: the final message of a `stream_end`, its HTML made from the blocks held (as
        panel.js's finalPart does); None when blocks are missing (the browser asks again)."""
        message = dict(content["message"])
        if "parts" not in content:
            return message
        for name, key, html in (("body", "body", "html"), ("reasoning", "reasoning_parts", "reasoning_html")):
            part = content["parts"][name]
            held = self.blocks.get((message["id"], key), [])
            if len(held) < part["from"]:
                return None
            tail = part["tail"] if "tail" in part else self.tails.get((message["id"], key), "")
            message[html] = "".join(held[: part["from"]]) + tail
        return message


def test_updates_carry_only_the_streamed_message(panel, wire, fake_clock, fake_timers) -> None:
    for i in range(40):
        panel.add_message("user" if i % 2 == 0 else "assistant", f"message {i} " + "lorem ipsum " * 200)
    wire.clear()
    stream = panel.begin_stream(endpoint="gpt", clock=fake_clock, timer=fake_timers)
    for i in range(300):
        fake_clock.now += 0.002
        fake_timers.run_due()
        stream.feed(TextDelta(f"w{i} "))
    updates = wire.updates
    assert updates and all("messages" not in u for u in updates)  # the transcript is never resent while streaming
    assert all(set(u) <= {"streaming", "busy"} for u in updates)
    biggest = max(len(json.dumps(u)) for u in updates)
    assert biggest < 6000  # one message's HTML, not 40 long ones (about 100 KB)
    assert list(updates[-1]["streaming"]) == [stream.id]


def test_rate_is_bounded_and_the_end_always_arrives(panel, wire, fake_clock, fake_timers) -> None:
    stream = panel.begin_stream(clock=fake_clock, timer=fake_timers, rate=15)
    wire.clear()
    for i in range(2000):  # two seconds of fake time, a token a millisecond
        fake_clock.now += 0.001
        fake_timers.run_due()
        stream.feed(TextDelta(f"t{i} "))
    streamed = [u for u in wire.updates if "streaming" in u]
    # at most 15 a second; fewer, since one paragraph growing for 2 s is re-sent less often as it
    # grows (blocks.TailBudget keeps the traffic linear)
    assert 5 <= len(streamed) <= 32
    reply = Reply(choices=[Choice(text="".join(f"t{i} " for i in range(2000)))], usage=Usage(input=3, output=2000),
                  latency=2.0, ttft=0.1, model="m")
    browser = Browser()
    browser.follow(wire)
    wire.clear()
    final = stream.finish(reply)
    [end] = wire.custom  # the final message alone, then the state without it
    [last] = wire.updates
    assert end["type"] == "stream_end" and end["message"]["id"] == stream.id and "html" not in end["message"]
    made = browser.end(end)  # the final message made from the blocks the browser holds
    assert made == {k: v for k, v in panel.messages[-1].items() if k != "reasoning"}
    assert set(last) >= {"streaming", "busy"} and last["streaming"] == {} and last["busy"] is False
    assert "messages" not in last and end["message"]["footer"] == panel.messages[-1]["footer"]  # no earlier ones
    assert "t1999" in panel.messages[-1]["html"]
    assert final["footer"].startswith("gpt · m · in 3 · out 2,000")
    assert panel.totals["output"] == 2000 and panel.totals["text"].startswith("1 reply")


def test_reasoning_then_answer_and_tool_calls(panel, wire, fake_clock, fake_timers) -> None:
    browser = Browser()
    stream = panel.begin_stream(endpoint="claude", rate=0)
    stream.feed(ReasoningDelta("Let me **think**."))
    stream.feed(ReasoningDelta("ignored", index=1))
    browser.follow(wire)
    assert browser.html(stream.id, "reasoning_parts") == "<p>Let me <strong>think</strong>.</p>\n"
    assert browser.html(stream.id) == ""
    stream.feed(TextDelta("It is 4."))
    stream.feed(ToolCallDelta(call_index=0, name="add", arguments='{"a": 2'))
    stream.feed(UsageEvent(Usage(input=5, output=9, reasoning=4)))
    browser.follow(wire)
    live = browser.html(stream.id)
    assert "It is 4." in live and re.search(r"tool call add\(\{(&quot;|\")a(&quot;|\"): 2…", live)
    assert stream.usage.reasoning == 4
    reply = Reply(choices=[Choice(text="It is 4.", reasoning="Let me **think**.",
                                  tool_calls=[ToolCall(id="c1", name="add", arguments={"a": 2, "b": 2})])],
                  usage=Usage(input=5, output=9, reasoning=4), model="claude-x")
    final = stream.finish(reply)
    assert final["reasoning_tokens"] == 4 and final["reasoning"] == "Let me **think**."
    assert "tool call add(" in final["html"] and "…" not in final["html"]
    assert final["endpoint"] == "claude" and final["status"] == "done"


def test_an_incomplete_reply_is_stopped_and_keeps_its_text(panel) -> None:
    stream = panel.begin_stream(rate=0)
    stream.add_text("partial answ")
    final = stream.finish(Reply(choices=[Choice(text="partial answ")], incomplete=True))
    assert final["status"] == "interrupted" and "partial answ" in final["html"]
    assert panel.messages[-1]["status"] == "interrupted" and not panel.busy


def test_finish_without_a_reply_keeps_what_streamed(panel) -> None:
    stream = panel.begin_stream(rate=0)
    stream.add_text("so far")
    final = stream.finish(status="interrupted")
    assert final["text"] == "so far" and final["footer"] == "" and panel.totals["replies"] == 0


def test_fail_shows_the_error_under_the_partial_text(panel) -> None:
    stream = panel.begin_stream(rate=0)
    stream.add_text("half")
    final = stream.fail(RateLimitError("slow down", status=429, request_id="req_1"))
    assert final["status"] == "error" and "half" in final["html"]
    assert "RateLimitError" in final["error"] and "429" in final["error"]
    assert not panel.busy and panel.streaming == {}


def test_events_after_the_end_are_ignored(panel, wire) -> None:
    stream = panel.begin_stream(rate=0)
    stream.finish(status="interrupted")
    wire.clear()
    stream.feed(TextDelta("late"))
    assert wire.sent == [] and panel.streaming == {}


def test_regenerate_streams_in_place(panel) -> None:
    first = panel.add_message("user", "q")
    answer = panel.add_message("assistant", "old answer")
    stream = panel.begin_stream(id=answer, rate=0)
    stream.add_text("new answer")
    assert panel.messages[1]["text"] == "old answer" and stream.html == "<p>new answer</p>\n"
    stream.finish(status="done")
    assert [m["id"] for m in panel.messages] == [first, answer] and panel.messages[1]["text"] == "new answer"


def test_two_streams_at_once_for_a_comparison(panel) -> None:
    a = panel.begin_stream(endpoint="gpt", group="g1", rate=0)
    b = panel.begin_stream(endpoint="claude", group="g1", rate=0)
    a.add_text("A")
    b.add_text("B")
    assert set(panel.streaming) == {a.id, b.id}
    a.finish(status="done")
    assert panel.busy and set(panel.streaming) == {b.id}
    b.finish(status="done")
    assert not panel.busy and [m["group"] for m in panel.messages] == ["g1", "g1"]


def test_stream_from_a_thread_while_stop_arrives(panel, wire) -> None:
    stop = threading.Event()
    started = threading.Event()
    panel.on_stop(stop.set)
    stream = panel.begin_stream(rate=50)

    def run() -> None:
        i = 0
        while not stop.is_set():
            stream.add_text(f"{i} ")
            started.set()
            i += 1
            stop.wait(0.001)
        stream.finish(status="interrupted")

    worker = threading.Thread(target=run)
    worker.start()
    assert started.wait(2)
    wire.from_browser({"type": "stop"})
    worker.join(5)
    assert not worker.is_alive()
    assert panel.messages[-1]["status"] == "interrupted" and not panel.busy and panel.streaming == {}


def test_streamed_versions_do_not_fill_the_render_cache(panel) -> None:
    from cloudsway_nb.panel.render import render_message

    render_message.cache_clear()
    stream = panel.begin_stream(rate=0)
    for i in range(50):
        stream.add_text(f"w{i} ")
    assert render_message.cache_info().currsize == 0
    stream.finish(status="done")
    assert render_message.cache_info().currsize >= 1


def _long_answer(tokens: int) -> list[str]:
    from cloudsway_nb.emulator.longform import compose, read_request
    from cloudsway_nb.emulator.tokenizer import pieces

    form = read_request("Give me a long, detailed answer in Markdown about lighthouses")
    parts: list[str] = []
    for seed in range(1, 10):
        parts += pieces("\n\n".join(compose(form, f"{seed:016x}")) + "\n\n")
    return parts[:tokens]


def test_a_long_answer_streams_in_linear_traffic_and_arrives_whole(panel, wire, fake_clock, fake_timers) -> None:
    """Issue 10, streaming cost: a 2,000-token answer into a panel holding 50 messages: at most 20
    updates a second, finished blocks sent once (the bytes stay within 5x the final message's HTML),
    earlier messages never re-sent, and what the browser puts together is the final rendering."""
    from cloudsway_nb.panel.render import render_message

    for i in range(50):
        panel.add_message("user" if i % 2 == 0 else "assistant", f"message {i} " + "lorem ipsum " * 50)
    parts = _long_answer(2000)
    stream = panel.begin_stream(endpoint="gpt", clock=fake_clock, timer=fake_timers)
    wire.clear()
    browser = Browser()
    for part in parts:
        fake_clock.now += 0.01  # 100 tokens a second
        fake_timers.run_due()
        stream.feed(TextDelta(part))
    for _ in range(8):  # the model pauses: within a second the browser has caught up
        fake_clock.now += 0.125
        fake_timers.run_due()
    seconds = len(parts) * 0.01
    earlier = json.dumps(panel.messages[0])
    streamed = list(wire.sent)
    browser.follow(wire)
    text = "".join(parts)
    final_html = render_message(text)
    assert browser.html(stream.id) == final_html and browser.gaps == 0  # nothing lost, nothing twice
    assert all(set(u) <= {"streaming", "busy"} for u in wire.updates)  # the transcript is never re-sent
    sent = sum(len(json.dumps(data)) for data, _ in streamed)
    assert sent <= 5 * len(final_html)  # whole-message updates sent ~100x
    assert len(streamed) / seconds <= 15.5
    wire.clear()
    final = stream.finish(Reply(choices=[Choice(text=text)], usage=Usage(input=5, output=2000)))
    assert final["html"] == final_html and panel.messages[-1]["html"] == final_html and panel.streaming == {}
    assert earlier not in json.dumps([data for data, _ in wire.sent])  # not even at the end
    end = sum(len(json.dumps(data)) for data, _ in wire.sent)
    assert end < 1.6 * len(final_html)  # the final message (its HTML and Markdown), the totals


def test_a_browser_missing_blocks_asks_for_them_again(panel, wire) -> None:
    stream = panel.begin_stream(rate=0)
    stream.add_text("# One\n\ntwo\n\nthree")
    late = Browser()  # a page reloaded mid-stream: it holds nothing
    stream.add_text("\n\nfour")
    late.apply(panel.streaming)
    assert late.gaps == 1
    wire.from_browser({"type": "stream_sync", "id": stream.id})
    late.apply(panel.streaming)  # every block again, from 0
    stream.add_text(" and more")
    late.apply(panel.streaming)
    assert late.html(stream.id) == stream.html == "<h1>One</h1>\n<p>two</p>\n<p>three</p>\n<p>four and more</p>\n"
    stream.finish(status="done")
    wire.from_browser({"type": "stream_sync", "id": stream.id})  # after the end: nothing to do, no error


def test_the_browsers_copy_of_the_transcript_never_replaces_the_kernels(panel, wire) -> None:
    """The browser adds a finished stream's message to its copy of `messages` itself; when that copy
    comes back (with the next settings change) it is ignored, settings are not."""
    panel.add_message("user", "hi")
    wire.edit(messages=[], streaming={"x": {}}, temperature=0.5)
    assert [m["text"] for m in panel.messages] == ["hi"] and panel.streaming == {} and panel.temperature == 0.5


def test_a_held_back_tail_arrives_when_the_model_pauses(panel, wire, fake_clock, fake_timers) -> None:
    """The byte budget may hold a long block's tail back; a pause of MessageStream.CATCH_UP sends it."""
    stream = panel.begin_stream(clock=fake_clock, timer=fake_timers, rate=10)
    stream.budget.floor = 0
    browser = Browser()
    table = "| a | b |\n|---|---|\n" + "".join(f"| {i} | x |\n" for i in range(40))
    for i in range(0, len(table), 8):
        fake_clock.now += 0.05
        fake_timers.run_due()
        stream.feed(TextDelta(table[i : i + 8]))
    browser.follow(wire)
    assert browser.html(stream.id) != stream.html  # held back (the whole table is one growing block)
    fake_clock.now += 0.2
    fake_timers.run_due()  # the trailing push, held back too
    fake_clock.now += stream.CATCH_UP
    fake_timers.run_due()
    browser.follow(wire)
    assert browser.html(stream.id) == stream.html and "<td>39</td>" in stream.html


@pytest.fixture(scope="module")
def ip():
    HistoryManager.enabled = False
    yield InteractiveShell.instance()


def test_a_turn_sends_the_answer_once_and_no_earlier_message_comm_and_static_copy(
        ip, panel, wire, fake_clock, fake_timers) -> None:
    """Issue 10, streaming cost, counted whole: the comm messages and the static copy's display
    updates of a turn into a panel holding 50 messages stay within 5x the final HTML, none carries
    an earlier message, and the end does not send the HTML the browser holds already."""
    from cloudsway_nb.panel.fallback import COPY_BUTTON
    from cloudsway_nb.panel.render import render_message

    for i in range(50):
        panel.add_message("user" if i % 2 == 0 else "assistant", f"earlier-{i} " + "lorem ipsum " * 50)
    earlier = [m["html"] for m in panel.messages]
    with Displays(ip) as shown:
        panel.show()
        wire.from_browser({"type": "view_ready"})  # a view renders it
        shown.clear()
        wire.clear()
        panel.add_message("user", "Tell me everything.")
        stream = panel.begin_stream(endpoint="gpt", clock=fake_clock, timer=fake_timers)
        parts = _long_answer(2000)
        for part in parts:
            fake_clock.now += 0.01
            fake_timers.run_due()
            stream.feed(TextDelta(part))
        browser = Browser()
        browser.follow(wire)
        streamed = sum(len(json.dumps(data)) for data, _ in wire.sent)
        wire.clear()
        text = "".join(parts)
        stream.finish(Reply(choices=[Choice(text=text)], usage=Usage(input=5, output=2000), model="m"))
    final_html = render_message(text)
    [end] = wire.custom
    assert "html" not in end["message"] and final_html not in json.dumps(end)
    assert browser.end(end)["html"] == final_html == panel.messages[-1]["html"]  # made from what it holds
    sent = json.dumps([data for data, _ in wire.sent]) + json.dumps(shown.sent)
    assert not any(html in sent for html in earlier) and "earlier-" not in sent  # not even in the static copy
    total = streamed + sum(len(json.dumps(data)) for data, _ in wire.sent) + shown.bytes
    assert total <= 5 * len(final_html)
    static = final_html.replace(COPY_BUTTON, "")  # (no script wires a copy button there)
    assert sum(static in s["data"].get("text/html", "") for s in shown.sent) == 1  # the static copy: once


def test_a_browser_missing_blocks_at_the_end_gets_the_whole_message(panel, wire) -> None:
    stream = panel.begin_stream(rate=0)
    stream.add_text("# One\n\ntwo\n\nthree")
    wire.clear()
    stream.finish(status="done")
    [end] = wire.custom
    assert end["parts"]["body"]["from"] == 2 and Browser().end(end) is None  # a page reloaded: it lacks them
    wire.clear()
    wire.from_browser({"type": "stream_sync", "id": stream.id})  # as panel.js's endStream asks
    [again] = wire.custom
    assert again["type"] == "stream_end" and "parts" not in again and again["message"] == panel.messages[-1]
    assert Browser().end(again)["html"] == "<h1>One</h1>\n<p>two</p>\n<p>three</p>\n"
    wire.clear()
    other = panel.begin_stream(rate=0)
    wire.from_browser({"type": "stream_sync", "id": other.id})  # still streaming: its stream answers, not the view
    assert not [c for c in wire.custom if c.get("type") == "stream_end"]
    other.finish(status="done")


def test_a_reply_whose_text_differs_from_the_stream_is_sent_whole(panel, wire) -> None:
    stream = panel.begin_stream(rate=0)
    stream.add_text("draft one\n\ndraft two")
    wire.clear()
    stream.finish(Reply(choices=[Choice(text="something else entirely")]))
    [end] = wire.custom
    assert "parts" not in end and end["message"]["html"] == "<p>something else entirely</p>\n"
