"""The typed events a stream yields: text, reasoning and tool-call pieces, usage, and the end.

Plain slotted classes (a long stream makes one per chunk); `cloudsway_nb.types` re-exports them.

Example:
    >>> TextDelta("Hi"), Done(Reply()).reply.text
    (TextDelta(text='Hi', index=0), '')
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Union

from .types import Reply, Usage

__all__ = ["Done", "Event", "ReasoningDelta", "TextDelta", "ToolCallDelta", "UsageEvent"]


_new_object = object.__new__


@dataclass(slots=True)
class TextDelta:
    """A piece of answer text for choice `index`."""

    text: str
    index: int = 0


@dataclass(slots=True)
class ReasoningDelta:
    """A piece of reasoning / thinking text for choice `index`."""

    text: str
    index: int = 0


@dataclass(slots=True)
class ToolCallDelta:
    """A fragment of a tool call: the first of a call carries `id` and `name`; later ones
    carry pieces of the JSON `arguments` text to concatenate."""

    call_index: int
    id: str | None = None
    name: str | None = None
    arguments: str = ""
    index: int = 0


@dataclass
class UsageEvent:
    """Token usage as known so far (some protocols send it more than once, cumulatively).

    A parser may leave the normalizing to the first read of `usage`: `UsageEvent.deferred(
    normalize, raw)` keeps the server's dict and makes `normalize(raw)` then, once. Gemini sends
    its cumulative usage with every chunk, and most consumers read only the last one, or none.

    Example:
        >>> event = UsageEvent.deferred(lambda raw: Usage(input=raw["in"], output=raw["out"]), {"in": 3, "out": 4})
        >>> event
        UsageEvent(usage=Usage(input=3, output=4, reasoning=None, cached=None, total=7))
    """

    __slots__ = ("_pending", "usage")  # _pending: (normalize, raw) of a deferred event, until `usage` is read

    usage: Usage

    @classmethod
    def deferred(cls, normalize: Callable[[Any], Usage], raw: Any) -> UsageEvent:
        """An event whose `usage` is `normalize(raw)`, made when first read."""
        event = _new_object(cls)
        event._pending = (normalize, raw)  # type: ignore[attr-defined]  # a slot, not a field
        return event

    def __getattr__(self, name: str) -> Any:
        # called only for a slot that is not set: `usage` of a deferred event
        if name == "usage":
            normalize, raw = self._pending
            usage = self.usage = normalize(raw)
            del self._pending
            return usage
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")


@dataclass(slots=True)
class Done:
    """The stream is over; `reply` is the assembled Reply."""

    reply: Reply


Event = Union[TextDelta, ReasoningDelta, ToolCallDelta, UsageEvent, Done]
