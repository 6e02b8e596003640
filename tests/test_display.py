"""The streaming display: throttling with a fake clock, safe rendering, reasoning and usage."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from IPython.core.history import HistoryManager
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output
from support import FakeClock

from cloudsway_nb.display import (
    MultiView,
    StreamView,
    Throttle,
    extract_code,
    render_answer,
    render_markdown,
    usage_line,
)
from cloudsway_nb.types import Choice, ReasoningDelta, Reply, TextDelta, ToolCallDelta, Usage


def shown(outputs: list) -> list[dict]:
    """What a notebook front end shows: each display's last content, empty ones left out."""
    displays: dict[str, dict] = {}
    for out in outputs:
        displays[out.transient["display_id"]] = out.data
    return [data for data in displays.values() if data.get("text/html") or data.get("text/plain")]


@pytest.fixture(scope="module")
def ip() -> Iterator[InteractiveShell]:
    HistoryManager.enabled = False
    yield InteractiveShell.instance()


def test_throttle_counts() -> None:
    clock = FakeClock(step=1 / 64)  # 64 calls a second (exact binary fractions: no float drift)
    throttle = Throttle(8, clock)
    assert sum(throttle.ready() for _ in range(1024)) == 128  # 16 s of fake time, 8 per second
    frozen = Throttle(10, FakeClock(0.0))
    assert [frozen.ready() for _ in range(5)] == [True, False, False, False, False]


def test_stream_view_updates_at_bounded_rate_then_flushes(ip: InteractiveShell) -> None:
    clock = FakeClock(step=0.001)  # a token every millisecond
    view = StreamView("gpt", rate=20, clock=clock)
    with capture_output() as captured:
        for i in range(2000):  # two seconds of fake time
            view.feed(TextDelta(f"w{i} "))
        reply = Reply(choices=[Choice(text="".join(f"w{i} " for i in range(2000)))], usage=Usage(input=1, output=2000))
        view.finish(reply)
    # at most 20 a second plus the final flush; fewer, since one paragraph growing for 2 s is
    # re-sent less often as it grows (BlockColumn's tail budget keeps the traffic linear)
    assert 5 <= view.updates <= 42
    updates = [o for o in captured.outputs if o.update]
    assert len(updates) == view.updates and len(captured.outputs) == view.updates + 1  # one display, then updates
    assert "w1999" in captured.outputs[-1].data["text/plain"]
    ids = {o.transient["display_id"] for o in captured.outputs}
    assert len(ids) == 1


def test_reasoning_collapsed_above_answer_and_usage_footer(ip: InteractiveShell) -> None:
    view = StreamView("claude", clock=FakeClock(1.0))
    with capture_output() as captured:
        view.feed(ReasoningDelta("thinking <b>hard</b>"))
        view.feed(TextDelta("**yes**"))
        streaming = "".join(d["text/html"] for d in shown(captured.outputs))
        reply = Reply(
            choices=[Choice(text="**yes**", reasoning="thinking <b>hard</b>")],
            usage=Usage(input=3, output=9, reasoning=5, cached=1), latency=1.25, ttft=0.5, model="claude-sonnet",
        )
        view.finish(reply)
    [final_bundle] = shown(captured.outputs)  # one output left, whatever streamed into several
    final = final_bundle["text/html"]
    # while streaming the reasoning shows open (labelled, escaped) above the answer
    assert streaming.index("Reasoning") < streaming.index("thinking &lt;b&gt;hard") < streaming.index("<strong>yes")
    assert final.index("<details") < final.index("<strong>yes</strong>")
    assert "<details class=\"cloudsway-reasoning\">" in final and "&lt;b&gt;hard" in final and "<b>hard" not in final
    assert "in 3 · out 9 · reasoning 5 · cached 1 · 1.25 s · first token 0.50 s" in final
    assert "claude" in final_bundle["text/plain"]


def test_hide_reasoning_and_usage(ip: InteractiveShell) -> None:
    view = StreamView("x", show_reasoning=False, show_usage=False)
    with capture_output() as captured:
        view.finish(Reply(choices=[Choice(text="ok", reasoning="secret thoughts")], usage=Usage(input=1, output=1)))
    html = captured.outputs[-1].data["text/html"]
    assert "secret thoughts" not in html and "in 1" not in html


@pytest.mark.parametrize(
    "payload",
    [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        '<a href="javascript:alert(1)">x</a>',
        "[click](javascript:alert(1))",
        '<div onmouseover="alert(1)">hi</div>',
    ],
)
def test_model_output_is_never_raw_html(payload: str) -> None:
    for fmt in ("markdown", "text", "json", "code"):
        out = render_answer(payload, fmt)
        assert "<script" not in out and "<img" not in out and "<a href=\"javascript" not in out
        assert "<div onmouseover" not in out and 'href="javascript' not in out


def test_markdown_rendering_and_formats() -> None:
    assert "<h1>Title</h1>" in render_markdown("# Title")
    assert "<table>" in render_markdown("| a | b |\n|---|---|\n| 1 | 2 |")
    assert render_answer("*x*", "text").startswith("<pre")
    assert "&quot;a&quot;: 1" in render_answer('```json\n{"a": 1}\n```', "json")
    assert render_answer("not json", "json").endswith("not json</pre>")
    assert extract_code("no code") is None
    assert extract_code("```\nx = 1\n```") == "x = 1\n"


def test_usage_line_marks_incomplete_and_unknowns() -> None:
    line = usage_line(Reply(usage=Usage(), incomplete=True))
    assert line == "in – · out – · interrupted"


def test_tool_call_fragments_show_while_streaming(ip: InteractiveShell) -> None:
    view = StreamView("gpt", clock=FakeClock(1.0))
    with capture_output() as captured:
        view.feed(ToolCallDelta(0, id="c1", name="get_weather", arguments='{"city"'))
    assert "get_weather(" in captured.outputs[-1].data["text/html"]


def test_multi_view_pumps_at_bounded_rate_and_draws_a_table(ip: InteractiveShell) -> None:
    view = MultiView(["gpt", "claude"], rate=10, clock=FakeClock(0.01))
    with capture_output() as captured:
        view.start()
        for i in range(300):
            view.feed("gpt" if i % 2 else "claude", TextDelta("t "))
            view.pump()
        a = Reply(choices=[Choice(text="A <img src=x>")], usage=Usage(input=1, output=2, reasoning=1), latency=0.5)
        view.finish({"gpt": a, "claude": RuntimeError("ServerError: 500 boom")})
    assert view.updates <= 300 * 0.01 * 10 + 2
    html = captured.outputs[-1].data["text/html"]
    assert "cloudsway-table" in html and "reasoning tokens" in html and "ServerError: 500 boom" in html
    assert "<img" not in html and "0.50 s" in html


@pytest.mark.parametrize(
    "markdown",
    ["![](http://evil.example/p.png?d=secret)", "![alt text](https://evil.example/p.png)",
     "![x][ref]\n\n[ref]: http://evil.example/q.png", "[![x](http://evil.example/i.png)](http://a.example)"],
)
def test_markdown_images_become_links_never_img(markdown: str) -> None:
    rendered = render_markdown(markdown)
    assert "<img" not in rendered and "<a href=" in rendered and "[image: " in rendered
    assert "<img" not in render_answer(markdown) and "<img" not in render_answer(markdown, "text")


def test_show_raw_of_a_stream_is_one_assembled_object(ip: InteractiveShell) -> None:
    from cloudsway_nb.protocols.chat import RawChunks

    chunks = RawChunks(['{"id": "c1", "object": "chat.completion.chunk"}', '{"id": "c1", "choices": []}'])
    reply = Reply(choices=[Choice(text="hi")], raw=chunks, protocol="chat")
    view = StreamView("gpt", show_raw=True)
    with capture_output() as captured:
        view.finish(reply)
    html = captured.outputs[-1].data["text/html"]
    assert "RawChunks" not in html and "&quot;object&quot;: &quot;chat.completion&quot;" in html
    assert "<summary>raw (assembled from 2 stream events)</summary><pre>{\n  &quot;id&quot;: &quot;c1&quot;" in html


def test_a_reply_cut_at_the_token_limit_says_so() -> None:
    from cloudsway_nb.types import Choice

    reply = Reply(choices=[Choice(text="abc", finish_reason="length")], usage=Usage(input=1, output=3))
    assert usage_line(reply).endswith("· max tokens reached")


def test_the_comparison_table_shows_plain_text_cut_at_a_word(ip: InteractiveShell) -> None:
    from cloudsway_nb.display import snippet

    long = "**Rayleigh** scattering: `short` wavelengths scatter more, so the sky looks blue " * 3
    cut = snippet(long)
    assert cut.endswith("…") and len(cut) <= 80 and "**" not in cut and "`" not in cut
    assert long.replace("**", "").replace("`", "").startswith(cut[:-1])
    assert snippet("- one\n- [two](http://x)") == "one two"
    view = MultiView(["gpt", "claude"])  # seen in JupyterLab: the answer column right-aligned, wrapped
    with capture_output() as captured:
        view.finish({a: Reply(choices=[Choice(text=long)], usage=Usage(input=1, output=2)) for a in view.aliases})
    table = captured.outputs[-1].data["text/html"].split("<table", 1)[1]
    assert '<th style="text-align:left;min-width:12em">answer</th>' in table
    assert table.count(f'<td style="text-align:left;min-width:12em">{cut}</td>') == 2 and "<td>2</td>" in table


def _long_answer(tokens: int) -> list[str]:
    from cloudsway_nb.emulator.longform import compose, read_request
    from cloudsway_nb.emulator.tokenizer import pieces

    form = read_request("Give me a long, detailed answer in Markdown about lighthouses")
    parts: list[str] = []
    for seed in range(1, 10):
        parts += pieces("\n\n".join(compose(form, f"{seed:016x}")) + "\n\n")
    return parts[:tokens]


def test_streamed_display_traffic_is_linear_and_ends_as_one_output(ip: InteractiveShell) -> None:
    """Issue 11, point 22: finished blocks are sent once, only the tail is replaced; at the end the
    first display holds the whole final answer (as one display always did) and the others are empty."""
    from cloudsway_nb.display import _final_html

    parts = _long_answer(1500)
    clock = FakeClock(step=0.01)  # 100 tokens a second
    view = StreamView("gpt", rate=12, clock=clock)
    with capture_output() as captured:
        for part in parts:
            view.feed(TextDelta(part))
        seconds = clock.now
        reply = Reply(choices=[Choice(text="".join(parts))], usage=Usage(input=1, output=1500), model="m")
        view.finish(reply)
    final = _final_html(reply, fmt="markdown", show_reasoning=True, show_usage=True, show_raw=False,
                        label="gpt", note=None)
    [result] = shown(captured.outputs)
    assert result["text/html"] == final and "".join(parts).strip() in result["text/plain"]
    sent = sum(len(v) for out in captured.outputs for v in out.data.values())
    assert sent <= 5 * len(final)  # whole-value updates sent ~140x
    streamed = len(captured.outputs) - len(view.column.handles)  # the final consolidation aside
    assert streamed / seconds <= 12.5 and len(view.column.handles) > 5
    assert view.updates == len([o for o in captured.outputs if o.update])


def test_code_blocks_are_highlighted_with_a_copy_button_the_same_while_streaming_and_after(
    ip: InteractiveShell,
) -> None:
    """Issue 11, point 11: not bare monospace; a background, Pygments colours, a copy button that
    needs no <script> (inline handlers; hidden until the pointer or focus reaches the block)."""
    out = render_markdown("Run:\n\n```python\nimport os\nprint(os.sep)\n```\n")
    assert '<div class="cw-code" data-lang="python"' in out and "background:var(--jp-cell-editor-background" in out
    assert 'style="color:var(--jp-mirror-editor-keyword-color, #008000);font-weight:bold">import</span>' in out
    assert "cw-copy" in out and "navigator.clipboard.writeText" in out and "<script" not in out
    assert "<script" not in render_markdown("```html\n<script>alert(1)</script>\n```")  # still escaped
    text = "Intro.\n\n```python\ndef f():\n    return 1\n```\n\nAfter the code.\n\nAnd more"
    view = StreamView("gpt", clock=FakeClock(1.0))
    with capture_output() as captured:
        for i in range(0, len(text), 5):
            view.feed(TextDelta(text[i : i + 5]))
        streamed = [d["text/html"] for d in shown(captured.outputs)]
        view.finish(Reply(choices=[Choice(text=text)], usage=Usage(input=1, output=1)))
    block = render_markdown("```python\ndef f():\n    return 1\n```\n")
    assert block in "".join(streamed)
    assert block in shown(captured.outputs)[0]["text/html"]


def test_side_by_side_traffic_stays_a_few_times_the_final_output(ip: InteractiveShell) -> None:
    """Issue 11, point 22, side by side: the columns sit in one display and each update re-sends them
    whole (58x the final output for two 1,500-token answers); updates grow sparser as they grow."""
    parts = _long_answer(1500)
    view = MultiView(["gpt", "claude"], rate=12, clock=FakeClock(step=0.01))
    with capture_output() as captured:
        view.start()
        for part in parts:
            view.feed("gpt", TextDelta(part))
            view.feed("claude", TextDelta(part))
            view.pump()
        text = "".join(parts)
        view.finish({a: Reply(choices=[Choice(text=text)], usage=Usage(input=1, output=1500)) for a in view.aliases})
    sent = sum(len(v) for out in captured.outputs for v in out.data.values())
    final = sum(len(v) for v in captured.outputs[-1].data.values())
    assert sent <= 5 * final and len(captured.outputs) > 20  # still streams visibly
    assert captured.outputs[-1].data["text/plain"].count(text.strip()) == 2  # both answers whole at the end
