"""One reply streaming into the panel: events in, throttled updates of that message only out.

`ChatView.begin_stream()` makes one. Its `feed` takes the package's stream events (so it can be
`Session.ask(..., on_event=stream.feed)`), keeps the text and reasoning so far, and pokes a
`Coalescer`, whose push sets the panel's `streaming` entry for this message: the browser receives
this one message, never the whole transcript, at most `rate` times a second. `finish(reply)` (or
`fail(error)`) moves the final message, rendered whole, into `messages`, adds the usage to the
totals and removes the streaming entry; the browser gets the final message without the HTML it
holds already (`parts`: how many of its blocks to keep, and the tail when it differs), so an
answer's HTML crosses the wire once.

The streaming entry does not carry the message's whole HTML (re-sending it on every update grows
with the square of the answer): the answer and the reasoning each go as *parts*,
`{"from": n, "add": [html, ...], "tail": html}`: the Markdown blocks that finished since the last
update (`blocks.BlockSplitter`: rendered once, to be appended after the first `n` the browser
holds) and the open tail, which replaces the previous one (re-sent within `blocks.TailBudget`).
Applying an entry twice changes nothing; a browser that lacks earlier blocks (a page reloaded
mid-stream) sends `{"type": "stream_sync", "id": ...}` and the next update starts from 0.

Example:
    stream = panel.begin_stream(endpoint="gpt")
    reply = session.ask("gpt", text, on_event=stream.feed, cancel=stop_event)
    stream.finish(reply, status="interrupted" if reply.incomplete else "done")
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..blocks import BlockSplitter, TailBudget
from ..types import ReasoningDelta, TextDelta, ToolCallDelta, UsageEvent
from .render import _parser, render_partial
from .state import MessageState, footer_line, message_state
from .throttle import Coalescer, TimerHandle, _thread_timer

if TYPE_CHECKING:
    from .widget import ChatView

__all__ = ["MessageStream"]


class MessageStream:
    """The assistant message `id` being streamed into `panel`.

    Example (no widget needed: anything with the two `_stream_*` methods is a panel here):
        >>> class Sink:
        ...     def _stream_update(self, id, state): self.last = state
        ...     def _stream_end(self, id, state, usage, cost, parts=None): self.final, self.parts = state, parts
        >>> sink = Sink()
        >>> s = MessageStream(sink, "m1", rate=0)
        >>> s.feed(TextDelta("**bold"))
        >>> sink.last["body"], sink.last["seq"]
        ({'from': 0, 'add': [], 'tail': '<p>**bold</p>\\n'}, 1)
        >>> s.feed(TextDelta("**\\n\\nnext"))
        >>> sink.last["body"]
        {'from': 0, 'add': ['<p><strong>bold</strong></p>\\n'], 'tail': '<p>next</p>\\n'}
        >>> s.html
        '<p><strong>bold</strong></p>\\n<p>next</p>\\n'
        >>> s.finish(status="interrupted")["status"], sink.parts   # the browser holds all but the last tail
        ('interrupted', {'body': {'from': 1}, 'reasoning': {'from': 0}})
    """

    def __init__(
        self,
        panel: ChatView | Any,
        id: str,
        *,
        endpoint: str = "",
        group: str = "",
        rate: float = 15.0,
        clock: Callable[[], float] = time.monotonic,
        timer: Callable[[float, Callable[[], None]], TimerHandle] | None = None,
    ) -> None:
        self.panel = panel
        self.id = id
        self.endpoint = endpoint
        self.group = group
        self.usage: Any = None
        self.finished = False
        self._text: list[str] = []
        self._reasoning: list[str] = []
        self._calls: dict[int, list[str]] = {}
        self._lock = threading.Lock()
        self._body = BlockSplitter(_parser())
        self._thoughts = BlockSplitter(_parser())
        self._sent = {"body": 0, "reasoning": 0}  # blocks of each part the browser holds
        self._tails = {"body": "", "reasoning": ""}  # and the tail it shows
        # the turn adds ~1.5x besides: the question, the final Markdown, the static copy of the final HTML
        self.budget = TailBudget(ratio=0.6)
        self.seq = 0
        self._resync = False
        if hasattr(panel, "on_msg"):
            panel.on_msg(self._on_msg)
        self._timer = timer or _thread_timer
        self._catch_up: TimerHandle | None = None
        self._push_lock = threading.RLock()
        self.coalescer = Coalescer(self._push, rate, clock=clock, timer=self._timer)

    @property
    def text(self) -> str:
        return "".join(self._text)

    @property
    def reasoning(self) -> str:
        return "".join(self._reasoning)

    def feed(self, event: Any) -> None:
        """Take one stream event (TextDelta, ReasoningDelta, ToolCallDelta, UsageEvent; others are ignored)."""
        with self._lock:
            if self.finished:
                return
            if isinstance(event, TextDelta):
                if event.index != 0:
                    return
                self._text.append(event.text)
            elif isinstance(event, ReasoningDelta):
                if event.index != 0:
                    return
                self._reasoning.append(event.text)
            elif isinstance(event, ToolCallDelta):
                parts = self._calls.setdefault(event.call_index, [])
                parts.append(f"{event.name}(" if event.name else "")
                parts.append(event.arguments)
            elif isinstance(event, UsageEvent):
                self.usage = event.usage
                return
            else:
                return
        self.coalescer.poke()

    def add_text(self, delta: str) -> None:
        """Append answer text (for a source that is not a Session stream)."""
        self.feed(TextDelta(delta))

    def add_reasoning(self, delta: str) -> None:
        """Append reasoning text."""
        self.feed(ReasoningDelta(delta))

    def _markdown(self, text: str, calls: list[str]) -> str:
        if not calls:
            return text
        fence = "\n".join(f"tool call {call}" for call in calls)
        return f"{text}\n\n```text\n{fence}\n```\n"

    def _state(self, status: str, *, footer: str = "", error: str = "", with_text: bool = False,
               reasoning_tokens: int | None = None, calls: list[str] | None = None) -> MessageState:
        with self._lock:
            text, reasoning = self.text, self.reasoning
            live_calls = ["".join(parts) + "…" for parts in self._calls.values()]
        return message_state(
            "assistant", self._markdown(text, live_calls if calls is None else calls), id=self.id,
            reasoning=reasoning, reasoning_tokens=reasoning_tokens, footer=footer, status=status,
            error=error, endpoint=self.endpoint, group=self.group, with_text=with_text,
        )

    @property
    def html(self) -> str:
        """The answer's HTML as the browser shows it now (its blocks and tail)."""
        return "".join(self._body.blocks) + self._body.tail_html

    def _parts(self, name: str, splitter: BlockSplitter, text: str) -> tuple[dict[str, Any], int]:
        splitter.update(text)
        start = self._sent[name]
        add = splitter.blocks[start:]
        self._sent[name] = len(splitter.blocks)
        return {"from": start, "add": add, "tail": splitter.tail_html}, sum(map(len, add))

    CATCH_UP = 0.5
    """Seconds without any update after the budget held one back (the model paused in a long block)
    before the browser gets the tail anyway."""

    def _push(self, force: bool = False) -> None:
        with self._push_lock:
            if self.finished:
                return
            with self._lock:
                text, reasoning = self.text, self.reasoning
                calls = ["".join(parts) + "…" for parts in self._calls.values()]
            body, new = self._parts("body", self._body, text)
            thoughts, new_thoughts = self._parts("reasoning", self._thoughts, reasoning)
            if calls:  # tool calls so far go after the tail (a fence of their own, not part of the answer's blocks)
                body["tail"] += render_partial(self._markdown("", calls))
            tail = len(body["tail"]) + len(thoughts["tail"])
            if not self.budget.take(new + new_thoughts, tail, force=force or self._resync):
                self._hold()  # a long open block: wait until it has grown more, or the model pauses
                return
            self._resync = False
            self._cancel_catch_up()
            self._tails = {"body": body["tail"], "reasoning": thoughts["tail"]}
            self.seq += 1
            # only what changes while streaming: the browser keeps the rest (role, status, endpoint, group)
            # from the entry `begin_stream` made
            state: dict[str, Any] = {"id": self.id, "seq": self.seq, "body": body}
            if reasoning:
                state["reasoning_parts"] = thoughts
            self.panel._stream_update(self.id, state)

    def _hold(self) -> None:
        self._cancel_catch_up()
        self._catch_up = self._timer(self.CATCH_UP, lambda: self._push(force=True))

    def _cancel_catch_up(self) -> None:
        if self._catch_up is not None:
            self._catch_up.cancel()
            self._catch_up = None

    def _on_msg(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if isinstance(content, dict) and content.get("type") == "stream_sync" and content.get("id") == self.id:
            self._sent = {"body": 0, "reasoning": 0}
            self._tails = {"body": "", "reasoning": ""}
            self._resync = True  # the next update goes, whatever the budget says
            self.coalescer.poke()

    def _end_part(self, name: str, splitter: BlockSplitter, html: str) -> dict[str, Any] | None:
        """How the browser makes the final `html` of a part from what it holds: its first `from` blocks,
        then `tail` (absent: the tail it shows is right); None when the final HTML does not start with
        the blocks it holds (a reply whose text differs from what streamed)."""
        held = "".join(splitter.blocks[: self._sent[name]])
        if not html.startswith(held):
            return None
        rest = html[len(held):]
        return {"from": self._sent[name]} if rest == self._tails[name] else {"from": self._sent[name], "tail": rest}

    def _end(self, state: MessageState, usage: Any, cost: float | None) -> None:
        """Hand the final state to the panel, with the parts the browser lacks of its HTML (or None)."""
        with self._push_lock:
            body = self._end_part("body", self._body, state.get("html", ""))
            thoughts = self._end_part("reasoning", self._thoughts, state.get("reasoning_html", ""))
        parts = {"body": body, "reasoning": thoughts} if body is not None and thoughts is not None else None
        self.panel._stream_end(self.id, state, usage, cost, parts=parts)

    def _detach(self) -> None:
        if hasattr(self.panel, "on_msg"):
            self.panel.on_msg(self._on_msg, remove=True)

    def finish(self, reply: Any = None, *, status: str | None = None, cost: float | None = None) -> MessageState:
        """The final message: from `reply` when given (its text, reasoning, tool calls and footer), else
        from what was streamed. `status` defaults to "interrupted" for an interrupted reply, else "done"."""
        with self._lock:
            self.finished = True
            if reply is not None:
                self._text = [reply.text]
                if reply.reasoning:
                    self._reasoning = [reply.reasoning]
        self.coalescer.close(flush=False)
        self._detach()
        with self._push_lock:
            self._cancel_catch_up()
        usage = getattr(reply, "usage", None) or self.usage
        if status is None:
            status = "interrupted" if getattr(reply, "incomplete", False) else "done"
        calls = [f"{c.name}({c.arguments_json})" for c in getattr(reply, "tool_calls", None) or []]
        footer = footer_line(reply, endpoint=self.endpoint or None, cost=cost) if reply is not None else ""
        tokens = getattr(usage, "reasoning", None)
        state = self._state(status, footer=footer, with_text=True, reasoning_tokens=tokens,
                            calls=calls if reply is not None else None)
        self._end(state, usage, cost)
        return state

    def fail(self, error: BaseException | str, *, status: str = "error") -> MessageState:
        """End the stream with an error line under whatever had arrived."""
        from ..errors import describe_error

        with self._lock:
            self.finished = True
        self.coalescer.close(flush=False)
        self._detach()
        with self._push_lock:
            self._cancel_catch_up()
        message = error if isinstance(error, str) else describe_error(error)
        state = self._state(status, error=message, with_text=True)
        self._end(state, self.usage, None)
        return state
