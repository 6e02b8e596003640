"""What every protocol adapter provides, and the I/O-free values passed to and from it.

An adapter is pure: `build_request` turns a protocol-neutral `CallSpec` into an `HttpRequest`
(method, path, query, JSON body); `parse_reply` turns the server's JSON into a `Reply`;
`stream_parser()` returns a fresh `StreamParser` that is fed decoded server-sent events one by
one and returns the typed events each produced, and whose `finish()` assembles the final Reply.

Example:
    >>> from cloudsway_nb.protocols import get_adapter
    >>> get_adapter("chat").name
    'chat'
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import MalformedReplyError, UnsupportedError
from ..options import REASONING_EFFORTS
from ..types import Attachment, Event, Message, Reply, Tool

__all__ = [
    "COMMON_PARAMS",
    "EFFORTS",
    "Adapter",
    "CallSpec",
    "HttpRequest",
    "ProtocolAdapter",
    "RawEvents",
    "ServerSentEvent",
    "StreamParser",
    "reasoning_budget",
    "split_params",
    "split_system",
    "system_text",
]

COMMON_PARAMS = (
    "temperature",
    "top_p",
    "max_tokens",
    "stop",
    "reasoning",
    "n",
    "logprobs",
    "top_logprobs",
    "json",
    "schema",
    "tool_choice",
)
"""Parameters each adapter maps to its protocol's own names; any other passes through verbatim."""

EFFORTS = REASONING_EFFORTS

_loads = json.loads
# json.loads without its Python wrappers (two regex matches and two frames per call); `decode`
# falls back to json.loads for anything unusual (surrounding whitespace, trailing text, not JSON)
_scan = json.JSONDecoder().scan_once

# Token budgets for the effort names, for protocols that take a budget (Anthropic, Gemini);
# 1024 is the smallest budget Anthropic accepts.
_EFFORT_BUDGET = {"minimal": 1024, "low": 1024, "medium": 4096, "high": 16384, "max": 32768}


def reasoning_budget(reasoning: str | int) -> int:
    """A thinking-token budget for an effort name or a budget given as a number.

    Example:
        >>> reasoning_budget("medium"), reasoning_budget(2000)
        (4096, 2000)
    """
    if isinstance(reasoning, bool):
        raise UnsupportedError("reasoning must be low|medium|high|max or a token budget, not a bool")
    if isinstance(reasoning, int):
        return reasoning
    try:
        return _EFFORT_BUDGET[str(reasoning).lower()]
    except KeyError:
        if str(reasoning).isdigit():
            return int(reasoning)
        raise UnsupportedError(
            f"reasoning={reasoning!r} is not known; use {', '.join(EFFORTS)} or a token budget"
        ) from None


@dataclass(slots=True)
class ServerSentEvent:
    """One decoded SSE event: its `event:` name (or None) and its joined `data:` text."""

    data: str
    event: str | None = None
    id: str | None = None
    retry: int | None = None


@dataclass(slots=True)
class HttpRequest:
    """What to send: everything but the base URL and auth, which the client adds."""

    method: str
    path: str  # starts with "/", relative to the base URL
    json: Any = None
    params: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    stream: bool = False
    #: False when the body surely holds no media Payloads, so it is serialized in one go
    may_hold_payloads: bool = True


@dataclass(slots=True)
class CallSpec:
    """A protocol-neutral request: what `Client.chat` was asked for, before any wire shape.

    `params` holds the endpoint's defaults merged with the call's keyword arguments; the common
    ones (COMMON_PARAMS) are mapped by the adapter, the rest pass through verbatim.
    """

    messages: list[Message]
    endpoint_path: str
    model: str | None = None
    system: str | list[dict[str, Any]] | None = None  # a string, or text blocks (e.g. with cache_control)
    tools: list[Tool | dict[str, Any]] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)
    stream: bool = False


class RawEvents(Sequence[Any]):
    """A stream's decoded events, decoded on first access: `Reply.raw` of a streamed reply.

    The parsers keep each event's JSON text rather than the decoded dict: holding 100,000 nested
    dicts alive while a stream runs costs more in garbage collection than parsing them did (the
    collector rescans the growing heap), while strings are not tracked at all. This behaves as a
    read-only list of the decoded events and compares equal to one; `list(raw)` gives a real one.

    An item that is a `str` is JSON text; any other item is an event that arrived decoded already
    (e.g. a chunk of a JSON array), kept as it is.

    Example:
        >>> raw = RawEvents(['{"type": "ping"}', {"type": "message_stop"}])
        >>> len(raw), raw[0], raw == [{"type": "ping"}, {"type": "message_stop"}]
        (2, {'type': 'ping'}, True)
    """

    __slots__ = ("_decoded", "_texts")

    def __init__(self, texts: list[Any]) -> None:
        self._texts = texts
        self._decoded: list[Any] | None = None

    def _items(self) -> list[Any]:
        if self._decoded is None:
            self._decoded = [_loads(t) if t.__class__ is str else t for t in self._texts]
        return self._decoded

    def __len__(self) -> int:
        return len(self._texts)

    def __getitem__(self, i: Any) -> Any:
        return self._items()[i]

    def __iter__(self) -> Iterator[Any]:
        return iter(self._items())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, RawEvents):
            return self._texts == other._texts or self._items() == other._items()
        return isinstance(other, list) and self._items() == other

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return repr(self._items())


class StreamParser:
    """Turns one reply's server-sent events into typed events and, at the end, a Reply.

    Subclasses implement `feed` (may raise a `StreamError` built by `self.error(...)` when the
    server reports an error mid-stream) and `finish`.

    Parsers are on the hot path (one `feed` per event, 100,000 events in a long reply): they keep
    what they assemble as lists of pieces joined at `finish` (never a string grown piece by piece,
    which is quadratic) and the events' JSON text for `Reply.raw` (see RawEvents), not the dicts.
    """

    #: True once the protocol's own end marker has been seen ([DONE], message_stop, ...).
    done: bool = False
    #: the protocol's name, for error messages
    protocol: str = ""

    @property
    def events(self) -> RawEvents:
        """The events decoded so far (decoded on access), from the JSON text a parser keeps in `_raw`."""
        return RawEvents(self._raw.copy())  # type: ignore[attr-defined]  # every parser keeps `_raw`

    def decode(self, sse: ServerSentEvent) -> Any:
        """The event's JSON; None for empty data and a stray `[DONE]`; MalformedReplyError if not JSON.

        The error's `partial` keeps what had arrived, marked incomplete.
        """
        data = sse.data
        try:
            value, end = _scan(data, 0)
        except (StopIteration, ValueError):
            return self._decode_slowly(data)
        if end != len(data):  # trailing whitespace or text
            return self._decode_slowly(data)
        return value

    def _decode_slowly(self, data: str) -> Any:
        text = data.strip()
        if not text or text == "[DONE]":
            return None
        try:
            return json.loads(text)
        except ValueError:
            partial = self.finish()
            partial.incomplete = True
            raise MalformedReplyError(
                f"a {self.protocol} stream event was not JSON: {text[:120]!r}", partial=partial
            ) from None

    def feed(self, sse: ServerSentEvent) -> list[Event]:
        raise NotImplementedError

    def finish(self) -> Reply:
        """The reply assembled from what has arrived; `incomplete` unless the stream ended properly."""
        raise NotImplementedError


class ProtocolAdapter:
    """What every adapter has: a name, the attachment kinds it carries, and what it can do.

    The client asks `capabilities` rather than the protocol's name: "chat" (build_request,
    parse_reply), "stream" (stream_parser), "background" (build_retrieve, build_cancel and
    TERMINAL_STATUSES: responses stored on the server, polled until done), "embeddings"
    (build_embed_request, parse_embeddings).
    """

    name: str = ""
    #: attachment kinds this protocol can carry inline
    media_kinds: tuple[str, ...] = ()
    capabilities: frozenset[str] = frozenset()

    def can(self, capability: str) -> bool:
        """Whether this protocol offers a capability (see the class docstring)."""
        return capability in self.capabilities


class Adapter(ProtocolAdapter):
    """Base of the chat protocol adapters. Subclasses set `name` and implement the three methods."""

    capabilities: frozenset[str] = frozenset({"chat", "stream"})

    def build_request(self, call: CallSpec) -> HttpRequest:
        raise NotImplementedError

    def parse_reply(self, data: Any) -> Reply:
        raise NotImplementedError

    def stream_parser(self) -> StreamParser:
        raise NotImplementedError

    def check_attachment(self, attachment: Attachment) -> None:
        """Raise UnsupportedError, naming the protocols that can, if this one cannot carry it;
        UsageError (naming the limit) if inline data is over the protocol's size limit."""
        if attachment.kind not in self.media_kinds:
            from . import protocols_carrying

            able = ", ".join(protocols_carrying(attachment.kind)) or "none"
            name = getattr(attachment, "display_name", None)
            raise UnsupportedError(
                f"{name + ': ' if name else ''}the {self.name} protocol cannot carry {attachment.kind} "
                f"({attachment.mime_type}); protocols that can: {able}"
            )
        from ..media import check_limits  # lazy: the size table lives with the media code

        check_limits(attachment, self.name)


def split_system(call: CallSpec) -> tuple[str | None, list[Message]]:
    """The system text (from `call.system` and any system / developer messages) and the other turns.

    For protocols with a separate system field (messages, gemini, responses' `instructions`).

    Example:
        >>> spec = CallSpec(messages=[Message.system("be brief"), Message.user("hi")], endpoint_path="x")
        >>> split_system(spec)[0]
        'be brief'
    """
    texts = [system_text(call.system)] if call.system else []
    rest: list[Message] = []
    for message in call.messages:
        if message.role in ("system", "developer"):
            texts.append(message.text())
        else:
            rest.append(message)
    return ("\n\n".join(texts) if texts else None), rest


def system_text(system: str | list[dict[str, Any]] | None) -> str:
    """A system prompt as text: a string as it is, a list of text blocks (Anthropic's shape, maybe with
    `cache_control`) joined.

    Example:
        >>> system_text([{"type": "text", "text": "Be brief."}, {"type": "text", "text": "Cite sources."}])
        'Be brief.\\n\\nCite sources.'
    """
    if isinstance(system, list):
        return "\n\n".join(str(block.get("text", "")) for block in system)
    return system or ""


def split_params(params: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(common, passthrough): the COMMON_PARAMS an adapter maps, and the rest, sent verbatim.

    `None` values are dropped from both, so a default can be switched off per call.
    """
    common = {k: v for k, v in params.items() if k in COMMON_PARAMS and v is not None}
    rest = {k: v for k, v in params.items() if k not in COMMON_PARAMS and v is not None}
    return common, rest
