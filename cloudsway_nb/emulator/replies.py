"""Reply values handed from the protocol handlers to the ASGI app, and SSE framing helpers.

A handler returns a :class:`JSONReply` or a :class:`StreamReply`; a stream is a list of
:class:`Frame` objects whose ``token`` flag tells the app where to pace (chunk delay,
first-token latency) and where an injected fault may cut in.

Example:
    >>> sse_data({"a": 1})
    b'data: {"a":1}\\n\\n'
    >>> sse_event("ping", {"type": "ping"})
    b'event: ping\\ndata: {"type":"ping"}\\n\\n'
    >>> sse_data({"a": 1}, crlf=True)
    b'data: {"a":1}\\r\\n\\r\\n'
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from .errors import EmulatorError

__all__ = [
    "SSE_KEEPALIVE",
    "Frame",
    "JSONReply",
    "StreamReply",
    "dumps",
    "interleave",
    "sse_data",
    "sse_event",
]

T = TypeVar("T")

#: The SSE comment OpenAI streams send to keep a quiet connection open.
SSE_KEEPALIVE = b": keep-alive\n\n"


def dumps(value: Any) -> str:
    """Compact JSON text, non-ASCII kept as is.

    Example:
        >>> dumps({"é": [1, 2]})
        '{"é":[1,2]}'
    """
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def sse_data(value: Any, *, crlf: bool = False) -> bytes:
    """One ``data:`` event (``[DONE]`` and other strings are sent verbatim).

    Example:
        >>> sse_data("[DONE]")
        b'data: [DONE]\\n\\n'
    """
    text = value if isinstance(value, str) else dumps(value)
    end = "\r\n\r\n" if crlf else "\n\n"
    return f"data: {text}{end}".encode()


def sse_event(name: str, value: Any) -> bytes:
    """One event with an ``event:`` line and a ``data:`` line.

    Example:
        >>> sse_event("x", {})
        b'event: x\\ndata: {}\\n\\n'
    """
    return f"event: {name}\ndata: {dumps(value)}\n\n".encode()


def interleave(lanes: list[list[T]]) -> list[T]:
    """Round-robin merge: first items of every lane, then second items, ... (``n > 1`` streams).

    Example:
        >>> interleave([[1, 2, 3], ["a"]])
        [1, 'a', 2, 3]
    """
    merged: list[T] = []
    for step in range(max((len(lane) for lane in lanes), default=0)):
        merged.extend(lane[step] for lane in lanes if step < len(lane))
    return merged


@dataclass
class Frame:
    """Bytes to send as one piece of a stream; ``token`` marks a generated-token chunk.

    Example:
        >>> Frame(b"data: x\\n\\n", token=True).token
        True
    """

    data: bytes
    token: bool = False


@dataclass
class JSONReply:
    """A complete JSON reply; ``tokens`` is how many output tokens it carries (the app holds a
    generated reply back as long as streaming them would have taken; 0: sent at once).

    Example:
        >>> JSONReply({"ok": True}).status
        200
    """

    body: Any
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    tokens: int = 0


@dataclass
class StreamReply:
    """A streamed reply.

    Attributes:
        frames: the events in order.
        error_frame: builds the protocol's mid-stream error event, given the error and how many
            frames were sent before it.
        keepalive: the bytes of a keep-alive (an SSE comment or a ping event), or None when the
            protocol has none.
        content_type: the media type of the body.
        live: when set, called (with a ``stopped()`` test that turns true once the client has
            gone) after ``frames`` are sent; it yields more frames as they become due, waiting
            in between (a background response followed along its timeline). Faults and pacing
            apply to ``frames`` only.

    Example:
        >>> StreamReply([Frame(b"data: [DONE]\\n\\n")], lambda e, n: b"").content_type
        'text/event-stream; charset=utf-8'
    """

    frames: list[Frame]
    error_frame: Callable[[EmulatorError, int], bytes]
    keepalive: bytes | None = None
    content_type: str = "text/event-stream; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    live: Callable[[Callable[[], bool]], AsyncIterator[Frame]] | None = None
