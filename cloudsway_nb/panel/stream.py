"""One reply streaming into the panel: events in, throttled updates of that message only out.

`ChatView.begin_stream()` makes one. Its `feed` takes the package's stream events (so it can be
`Session.ask(..., on_event=stream.feed)`), keeps the text and reasoning so far, and pokes a
`Coalescer`, whose push renders the Markdown and sets the panel's `streaming` entry for this
message: the browser receives this one message, never the whole transcript, at most `rate` times
a second. `finish(reply)` (or `fail(error)`) flushes, moves the final message into `messages`,
adds the usage to the totals and removes the streaming entry.

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

from ..types import ReasoningDelta, TextDelta, ToolCallDelta, UsageEvent
from .state import MessageState, footer_line, message_state
from .throttle import Coalescer, TimerHandle

if TYPE_CHECKING:
    from .widget import ChatView

__all__ = ["MessageStream"]


class MessageStream:
    """The assistant message `id` being streamed into `panel`.

    Example (no widget needed: anything with the two `_stream_*` methods is a panel here):
        >>> class Sink:
        ...     def _stream_update(self, id, state): self.last = state
        ...     def _stream_end(self, id, state, usage, cost): self.final = state
        >>> sink = Sink()
        >>> s = MessageStream(sink, "m1", rate=0)
        >>> s.feed(TextDelta("**bold"))
        >>> sink.last["html"], sink.last["status"]
        ('<p>**bold</p>\\n', 'streaming')
        >>> s.finish(status="interrupted")["status"]
        'interrupted'
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
        options: dict[str, Any] = {"clock": clock}
        if timer is not None:
            options["timer"] = timer
        self.coalescer = Coalescer(self._push, rate, **options)

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

    def _push(self) -> None:
        self.panel._stream_update(self.id, self._state("streaming"))

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
        usage = getattr(reply, "usage", None) or self.usage
        if status is None:
            status = "interrupted" if getattr(reply, "incomplete", False) else "done"
        calls = [f"{c.name}({c.arguments_json})" for c in getattr(reply, "tool_calls", None) or []]
        footer = footer_line(reply, endpoint=self.endpoint or None, cost=cost) if reply is not None else ""
        tokens = getattr(usage, "reasoning", None)
        state = self._state(status, footer=footer, with_text=True, reasoning_tokens=tokens,
                            calls=calls if reply is not None else None)
        self.panel._stream_end(self.id, state, usage, cost)
        return state

    def fail(self, error: BaseException | str, *, status: str = "error") -> MessageState:
        """End the stream with an error line under whatever had arrived."""
        from ..errors import describe_error

        with self._lock:
            self.finished = True
        self.coalescer.close(flush=False)
        message = error if isinstance(error, str) else describe_error(error)
        state = self._state(status, error=message, with_text=True)
        self.panel._stream_end(self.id, state, self.usage, None)
        return state
