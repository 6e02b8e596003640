"""Pure value types shared by every layer: messages, attachments, tools, replies, stream events.

Nothing here does I/O. Protocol adapters turn these into wire JSON and back; the client, the
session, the magic and the notebook display only ever see these shapes.

Example:
    >>> from cloudsway_nb.types import Message, Usage
    >>> Message.user("hi").role
    'user'
    >>> Usage(input=3, output=5).total
    8
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal, Union

from .errors import UsageError, bad_argument
from .tools import Tool

__all__ = [
    "FINISH_REASONS",
    "PROTOCOLS",
    "Attachment",
    "Choice",
    "Done",
    "Event",
    "Message",
    "Part",
    "Payload",
    "ReasoningDelta",
    "Reply",
    "TextDelta",
    "TokenLogprob",
    "Tool",
    "ToolCall",
    "ToolCallDelta",
    "TopLogprob",
    "Usage",
    "UsageEvent",
    "parse_tool_arguments",
    "summarize_data_url",
]

PROTOCOLS: tuple[str, ...] = ("chat", "responses", "messages", "gemini", "embeddings")

MESSAGE_ROLES: tuple[str, ...] = ("user", "assistant", "system", "developer", "tool")
"""The roles a Message may have, on every protocol."""
"""The wire protocols the gateway speaks, by the names this package uses for them."""

FINISH_REASONS: tuple[str, ...] = ("stop", "length", "tool_calls", "content_filter", "error", "cancelled", "other")
"""Normalized finish reasons; each Choice also keeps the protocol's native value."""

# ---------------------------------------------------------------------------------------------
# usage
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Usage:
    """Token usage normalized across protocols, by one convention every adapter follows.

    `input` counts every prompt token (cached included); `cached` is the part of `input` read from
    a cache; `output` counts every generated token (reasoning included); `reasoning` is the part of
    `output` spent thinking. `None` means the server did not say. `raw` keeps the server's own dict.
    `estimated` is true when some counts were estimated here because the server sent none (an
    interrupted stream; see `cloudsway_nb.estimate`).

    Example:
        >>> u = Usage(input=10, output=4, reasoning=2) + Usage(input=1, output=1)
        >>> (u.input, u.output, u.reasoning, u.total)
        (11, 5, 2, 16)
    """

    input: int | None = None
    output: int | None = None
    reasoning: int | None = None
    cached: int | None = None
    total: int | None = None
    raw: dict[str, Any] | None = field(default=None, compare=False, repr=False)
    estimated: bool = field(default=False, repr=False)

    def __post_init__(self) -> None:
        if self.total is None and self.input is not None and self.output is not None:
            object.__setattr__(self, "total", self.input + self.output)

    def __add__(self, other: Usage) -> Usage:
        def add(a: int | None, b: int | None) -> int | None:
            if a is None and b is None:
                return None
            return (a or 0) + (b or 0)

        return Usage(
            input=add(self.input, other.input),
            output=add(self.output, other.output),
            reasoning=add(self.reasoning, other.reasoning),
            cached=add(self.cached, other.cached),
            total=add(self.total, other.total),
            estimated=self.estimated or other.estimated,
        )

    def __repr__(self) -> str:
        counts = ", ".join(f"{k}={v!r}" for k, v in self.to_dict().items())
        return f"Usage({counts}{', estimated=True' if self.estimated else ''})"

    def to_dict(self) -> dict[str, int | None]:
        """The five normalized counts as a plain dict (raw left out)."""
        return {
            "input": self.input,
            "output": self.output,
            "reasoning": self.reasoning,
            "cached": self.cached,
            "total": self.total,
        }


# ---------------------------------------------------------------------------------------------
# attachments (media) and tools
# ---------------------------------------------------------------------------------------------


def summarize_data_url(mime_type: str, size: int) -> str:
    """How a base64 payload shows in reprs, logs and errors: never the payload itself.

    Example:
        >>> summarize_data_url("image/png", 126_000)
        'data:image/png;base64,… (123 KB)'
    """
    if size >= 1024 * 1024:
        amount = f"{size / (1024 * 1024):.1f} MB"
    elif size >= 1024:
        amount = f"{size // 1024} KB"
    else:
        amount = f"{size} B"
    return f"data:{mime_type};base64,… ({amount})"


class Payload(str):
    """A stand-in, inside a request's JSON, for a large base64 payload made only while the body is sent.

    Its text is a short summary (what a repr, log, ledger or DataFrame shows); `length` is the
    byte length of the real text and `chunks()` yields that text, as ASCII bytes, in pieces.
    `transport.build_request` streams a body holding Payloads with an exact Content-Length;
    `materialize()` builds the real text when something needs it whole.

    Example:
        >>> p = Payload("data:text/plain;base64,… (2 B)", 4, lambda: iter([b"aGk="]))
        >>> (str(p), p.length, p.materialize())
        ('data:text/plain;base64,… (2 B)', 4, 'aGk=')
    """

    length: int

    def __new__(cls, summary: str, length: int, chunks: Callable[[], Iterator[bytes]]) -> Payload:
        self = super().__new__(cls, summary)
        self.length = length
        self._chunks = chunks
        return self

    def chunks(self) -> Iterator[bytes]:
        """The real text in pieces (a fresh iterator each call, so a retry can send it again)."""
        return self._chunks()

    def materialize(self) -> str:
        """The whole real text (costs its full size in memory)."""
        return b"".join(self.chunks()).decode("ascii")

    def __copy__(self) -> Payload:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Payload:
        return self  # immutable: copies of a request body keep the real payload

    def __reduce__(self) -> Any:  # a pickled copy keeps only the summary text
        return (str, (str(self),))


AttachmentKind = Literal["image", "audio", "video", "document", "text"]


@dataclass(frozen=True, eq=False)
class Attachment:
    """A piece of media for a prompt: bytes with a MIME type, or a URL.

    The protocol adapter, not the attachment, decides the wire shape. `base64()` is computed
    once and cached. Its repr never shows the payload.

    Example:
        >>> a = Attachment(kind="image", mime_type="image/png", data=b"\\x89PNG...")
        >>> a.data_url().startswith("data:image/png;base64,")
        True
        >>> a
        Attachment(image, data:image/png;base64,… (7 B))
    """

    kind: AttachmentKind
    mime_type: str
    data: bytes | None = None
    url: str | None = None
    filename: str | None = None
    detail: str | None = None  # OpenAI's image detail: low | high | auto

    def __post_init__(self) -> None:
        if (self.data is None) == (self.url is None):
            raise UsageError("an Attachment needs exactly one of data= (bytes) or url= (a string); got "
                             f"{'both' if self.data is not None else 'neither'}")
        if self.data is not None and not isinstance(self.data, bytes | bytearray | memoryview):
            example = "Attachment('image', 'image/png', data=b'...')"
            raise bad_argument("data", self.data, "bytes", example)
        if self.url is not None and not isinstance(self.url, str):
            raise bad_argument("url", self.url, "a URL string", "url='https://example.com/cat.png'")
        if not isinstance(self.mime_type, str):
            raise bad_argument("mime_type", self.mime_type, "a MIME type such as 'image/png'")

    def base64(self) -> str:
        """The payload as base64 text (computed once)."""
        cached = self.__dict__.get("_b64")
        if cached is None:
            if self.data is None:
                raise UsageError(f"{self.url} is a URL attachment; it has no inline data")
            cached = base64.b64encode(self.data).decode("ascii")
            object.__setattr__(self, "_b64", cached)
        return cached

    def data_url(self) -> str:
        """`data:MIME;base64,...` for inline data, or the URL itself."""
        if self.url is not None:
            return self.url
        return f"data:{self.mime_type};base64,{self.base64()}"

    def wire_base64(self) -> str:
        """The base64 text as protocol adapters put it in a request body.

        The same as `base64()` here; lazily loaded media (`cloudsway_nb.media.Media`) return a
        `Payload` instead, which the transport streams when the request is sent.
        """
        return self.base64()

    def wire_data_url(self) -> str:
        """The data URL (or URL) as protocol adapters put it in a request body; see `wire_base64`."""
        return self.data_url()

    @property
    def size(self) -> int | None:
        return None if self.data is None else len(self.data)

    @property
    def format(self) -> str:
        """The short format name (`png`, `mp3`, `wav`, `pdf`...) taken from the MIME type."""
        sub = self.mime_type.split("/", 1)[-1].lower()
        return {"mpeg": "mp3", "x-wav": "wav", "wave": "wav", "x-m4a": "m4a", "mp4a-latm": "aac"}.get(sub, sub)

    def __repr__(self) -> str:
        where = self.url if self.url is not None else summarize_data_url(self.mime_type, self.size or 0)
        return f"Attachment({self.kind}, {where})"


def parse_tool_arguments(raw: str | dict[str, Any] | None) -> Any:
    """Tool-call arguments as Python data: parsed JSON, `{}` when empty, the raw text if not JSON.

    Example:
        >>> parse_tool_arguments('{"city": "Oslo"}')
        {'city': 'Oslo'}
        >>> parse_tool_arguments("")
        {}
    """
    if raw is None or raw == "":
        return {}
    if not isinstance(raw, str):
        return raw
    try:
        return json.loads(raw)
    except ValueError:
        return raw


@dataclass(frozen=True, slots=True)
class ToolCall:
    """One call of a tool by the model: `id` (the protocol's call id), `name`, parsed `arguments`.

    Example:
        >>> ToolCall(id="call_1", name="f", arguments={"x": 1}).arguments_json
        '{"x": 1}'
    """

    id: str
    name: str
    arguments: Any = field(default_factory=dict)
    raw_arguments: str | None = None

    @property
    def arguments_json(self) -> str:
        """The arguments as the JSON text to send back on the wire."""
        if self.raw_arguments is not None:
            return self.raw_arguments
        return json.dumps(self.arguments, ensure_ascii=False)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "arguments": self.arguments}


# ---------------------------------------------------------------------------------------------
# messages
# ---------------------------------------------------------------------------------------------

Part = Union[str, Attachment, dict[str, Any]]
"""A content part: text, an Attachment, or a dict in the target protocol's own wire shape."""


@dataclass(slots=True)
class Message:
    """One turn of a conversation, protocol-neutral.

    `content` is a string or a list of parts. Assistant turns may carry `tool_calls` and
    `reasoning`; a tool result is `role="tool"` with `tool_call_id` and `name`. `native` holds the
    protocol's own items for this turn (Anthropic thinking blocks with signatures, Responses
    reasoning items, Gemini parts with thought signatures) so that sending the turn back to the
    same protocol loses nothing; `native_protocol` says which protocol they belong to.

    Example:
        >>> Message.tool_result(ToolCall(id="c1", name="f"), {"ok": True}).content
        '{"ok": true}'
    """

    role: str
    content: str | list[Part] = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    tool_call_id: str | None = None
    name: str | None = None
    reasoning: str | None = None
    native: Any = field(default=None, repr=False)
    native_protocol: str | None = None

    @classmethod
    def user(cls, content: str | list[Part]) -> Message:
        return cls("user", content)

    @classmethod
    def system(cls, content: str) -> Message:
        return cls("system", content)

    @classmethod
    def assistant(cls, content: str = "", tool_calls: Iterable[ToolCall] = ()) -> Message:
        return cls("assistant", content, list(tool_calls))

    @classmethod
    def tool_result(cls, call: ToolCall | str, output: Any, name: str | None = None) -> Message:
        """The result of a tool call, to send back on the next turn."""
        call_id = call.id if isinstance(call, ToolCall) else call
        tool_name = name or (call.name if isinstance(call, ToolCall) else None)
        text = output if isinstance(output, str) else json.dumps(output, ensure_ascii=False, default=str)
        return cls("tool", text, tool_call_id=call_id, name=tool_name)

    @classmethod
    def coerce(cls, value: Message | dict[str, Any] | str, what: str = "message") -> Message:
        """A Message from a Message, an OpenAI-style dict, or a plain string (a user turn).

        Anything else is a UsageError naming `what` (the argument it came from).

        Example:
            >>> Message.coerce({"role": "assistant", "content": "hi"}).role
            'assistant'
            >>> Message.coerce(b"hi", "prompt")
            Traceback (most recent call last):
            ...
            cloudsway_nb.errors.UsageError: prompt=b'hi' (bytes) is not valid: it takes a string, a Message or \
a message dict such as {'role': 'user', 'content': 'hi'}; e.g. 'Hello'
        """
        if isinstance(value, Message):
            return value
        if isinstance(value, str):
            return cls.user(value)
        if isinstance(value, dict):
            role = value.get("role")
            if not isinstance(role, str) or not role:
                shown = json.dumps(value, default=str)[:200]
                raise UsageError(f"{what}: a message dict needs a 'role' (user, assistant, system, tool): {shown}")
            calls = [
                c
                if isinstance(c, ToolCall)
                else ToolCall(
                    id=c.get("id", ""),
                    name=(c.get("function") or c).get("name", ""),
                    arguments=parse_tool_arguments((c.get("function") or c).get("arguments")),
                )
                for c in value.get("tool_calls") or []
            ]
            content = value.get("content")
            if role not in MESSAGE_ROLES:
                raise bad_argument(f"{what}['role']", role, f"one of {', '.join(MESSAGE_ROLES)}", "'user'")
            if content is not None and not isinstance(content, str | list):
                raise bad_argument(f"{what}['content']", content, "a string or a list of parts", "'Hello'")
            return cls(
                role=role,
                content="" if content is None else content,
                tool_calls=calls,
                tool_call_id=value.get("tool_call_id"),
                name=value.get("name"),
                reasoning=value.get("reasoning_content") or value.get("reasoning"),
            )
        raise bad_argument(
            what, value, "a string, a Message or a message dict such as {'role': 'user', 'content': 'hi'}", "'Hello'"
        )

    def text(self) -> str:
        """The text parts of the content, joined."""
        if isinstance(self.content, str):
            return self.content
        return "".join(p for p in self.content if isinstance(p, str))


# ---------------------------------------------------------------------------------------------
# replies
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TopLogprob:
    token: str
    logprob: float


@dataclass(frozen=True, slots=True)
class TokenLogprob:
    """One generated token with its log probability and the most likely alternatives."""

    token: str
    logprob: float
    top: tuple[TopLogprob, ...] = ()


@dataclass(slots=True)
class Choice:
    """One candidate answer. Most replies have one; `n > 1` gives several."""

    index: int = 0
    text: str = ""
    reasoning: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    finish_reason: str | None = None
    native_finish_reason: str | None = None
    logprobs: list[TokenLogprob] | None = None
    native: Any = field(default=None, repr=False)


@dataclass(slots=True)
class Reply:
    """What every call returns, whatever the protocol.

    The first choice's fields are available directly (`text`, `reasoning`, `tool_calls`,
    `finish_reason`, `logprobs`); `choices` holds all of them. `raw` is the server's JSON (for a
    stream, the list of decoded events). `latency` is seconds from sending to the complete reply;
    `ttft` is seconds to the first streamed token. `incomplete` (also spelled `interrupted`) is true
    when a stream was interrupted (stopped, or cut by an error) and the reply holds only what had
    arrived; its usage is then estimated when the server sent none (`usage.estimated`).

    Example:
        >>> r = Reply(choices=[Choice(text="hi")], protocol="chat")
        >>> (r.text, str(r))
        ('hi', 'hi')
    """

    choices: list[Choice] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    protocol: str = ""
    model: str | None = None
    id: str | None = None
    status: str | None = None
    endpoint: str | None = None
    latency: float | None = None
    ttft: float | None = None
    incomplete: bool = False
    raw: Any = field(default=None, repr=False)
    cost: float | None = None  # dollars, when the endpoint has prices (set by the Session)
    polls: int | None = None  # a background response: how many times it was fetched until done

    def _first(self) -> Choice:
        return self.choices[0] if self.choices else Choice()

    @property
    def interrupted(self) -> bool:
        """The one word views use for `incomplete`: the stream was stopped or cut short."""
        return self.incomplete

    @property
    def text(self) -> str:
        return self._first().text

    @property
    def reasoning(self) -> str:
        return self._first().reasoning

    @property
    def tool_calls(self) -> list[ToolCall]:
        return self._first().tool_calls

    @property
    def finish_reason(self) -> str | None:
        return self._first().finish_reason

    @property
    def native_finish_reason(self) -> str | None:
        return self._first().native_finish_reason

    @property
    def logprobs(self) -> list[TokenLogprob] | None:
        return self._first().logprobs

    def to_message(self, choice: int = 0) -> Message:
        """The assistant turn to append to a conversation to continue it."""
        c = self.choices[choice] if self.choices else Choice()
        return Message(
            role="assistant",
            content=c.text,
            tool_calls=list(c.tool_calls),
            reasoning=c.reasoning or None,
            native=c.native,
            native_protocol=self.protocol,
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary (no raw payload)."""
        return {
            "id": self.id,
            "model": self.model,
            "protocol": self.protocol,
            "endpoint": self.endpoint,
            "status": self.status,
            "text": self.text,
            "reasoning": self.reasoning,
            "tool_calls": [t.to_dict() for t in self.tool_calls],
            "finish_reason": self.finish_reason,
            "native_finish_reason": self.native_finish_reason,
            "usage": self.usage.to_dict(),
            "latency": self.latency,
            "ttft": self.ttft,
            "incomplete": self.incomplete,
            "choices": len(self.choices),
        }

    def to_frame(self) -> Any:
        """A pandas DataFrame with one row per output part (reasoning, text, tool call) and tokens
        where known; pandas is imported only now. See `cloudsway_nb.frames.reply_frame`."""
        from .frames import reply_frame

        return reply_frame(self)

    def __str__(self) -> str:
        return self.text


# the stream events live in events.py (they hold Usage and Reply): imported once those exist
from .events import Done, Event, ReasoningDelta, TextDelta, ToolCallDelta, UsageEvent  # noqa: E402
