"""Anthropic's native Messages API (`POST /{endpointPath}/v1/messages`).

Neutral messages become Anthropic turns: the system text goes to the top-level `system` string,
assistant tool calls become `tool_use` blocks, consecutive tool results become `tool_result`
blocks in ONE user turn, attachments become `image` / `document` blocks. Replies keep their
content blocks (thinking blocks with their signatures included) in `Choice.native`, so a turn
sent back to this protocol loses nothing.

Example:
    >>> from cloudsway_nb.types import Message
    >>> from cloudsway_nb.protocols.base import CallSpec
    >>> adapter = MessagesAdapter()
    >>> req = adapter.build_request(CallSpec(messages=[Message.user("hi")], endpoint_path="cl/x"))
    >>> (req.path, req.json["max_tokens"], req.headers["anthropic-version"])
    ('/cl/x/v1/messages', 4096, '2023-06-01')
    >>> reply = adapter.parse_reply({"id": "msg_1", "type": "message", "role": "assistant",
    ...     "content": [{"type": "text", "text": "Hello"}], "stop_reason": "end_turn",
    ...     "usage": {"input_tokens": 5, "output_tokens": 2}})
    >>> (reply.text, reply.finish_reason, reply.usage.total)
    ('Hello', 'stop', 7)
"""

from __future__ import annotations

import json
from typing import Any

from ..errors import MalformedReplyError, StreamError, UnsupportedError, UsageError
from ..types import (
    Attachment,
    Choice,
    Event,
    Message,
    ReasoningDelta,
    Reply,
    TextDelta,
    Tool,
    ToolCall,
    ToolCallDelta,
    Usage,
    UsageEvent,
    parse_tool_arguments,
)
from .base import (
    Adapter,
    CallSpec,
    HttpRequest,
    RawEvents,
    ServerSentEvent,
    StreamParser,
    reasoning_budget,
    split_params,
    split_system,
)

__all__ = ["ANTHROPIC_VERSION", "DEFAULT_MAX_TOKENS", "MessagesAdapter", "MessagesStreamParser"]

ANTHROPIC_VERSION = "2023-06-01"
"""The `anthropic-version` header every request carries."""

DEFAULT_MAX_TOKENS = 4096
"""`max_tokens` is required by Anthropic; this is sent when the call gives none (plus the thinking budget)."""

_FINISH = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
    "pause_turn": "other",
}

_TOOL_CHOICE = {"auto": "auto", "none": "none", "required": "any", "any": "any"}

# tool dicts of these "type"s are function tools in some protocol's shape (Tool.from_any reads them)
_FUNCTION_TOOL_TYPES = (None, "function", "custom")


def _finish_reason(native: str | None) -> str | None:
    if native is None:
        return None
    return _FINISH.get(native, "other")


def _usage(raw: dict[str, Any] | None) -> Usage:
    """Anthropic usage normalized: input counts cache writes and reads too (see `types.Usage`)."""
    if not isinstance(raw, dict):
        return Usage()
    parts = [raw.get("input_tokens"), raw.get("cache_creation_input_tokens"), raw.get("cache_read_input_tokens")]
    known = [p for p in parts if isinstance(p, int)]
    details = raw.get("output_tokens_details")
    reasoning = details.get("thinking_tokens") if isinstance(details, dict) else None
    return Usage(
        input=sum(known) if known else None,
        output=raw.get("output_tokens"),
        reasoning=reasoning,
        cached=raw.get("cache_read_input_tokens"),
        raw=raw,
    )


def _tool_input(tc: ToolCall) -> dict[str, Any]:
    """The `input` object of a tool_use block (Anthropic wants an object, never a string)."""
    args = tc.arguments
    if not isinstance(args, dict):
        args = parse_tool_arguments(tc.raw_arguments) if tc.raw_arguments is not None else args
    if isinstance(args, dict):
        return args
    if args in (None, "", []):
        return {}
    return {"arguments": args}


def _data_url_parts(url: str) -> tuple[str, str] | None:
    """(mime type, base64 payload) of a `data:...;base64,` URL, else None."""
    if not url.startswith("data:"):
        return None
    head, sep, payload = url[5:].partition(",")
    if not sep or not head.endswith(";base64"):
        return None
    return head[: -len(";base64")] or "application/octet-stream", payload


def _attachment_text(att: Attachment, protocol: str) -> str:
    if att.data is None:
        raise UnsupportedError(
            f"the {protocol} protocol cannot fetch a text attachment from a URL ({att.url}); "
            "read the text and pass it as a string"
        )
    return att.data.decode("utf-8", errors="replace")


def _to_int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


class MessagesAdapter(Adapter):
    """Anthropic Messages: thinking, tool_use / tool_result round trips, image and PDF blocks."""

    name = "messages"
    media_kinds: tuple[str, ...] = ("image", "document", "text")

    # ----------------------------------------------------------------------------------------
    # request
    # ----------------------------------------------------------------------------------------

    def build_request(self, call: CallSpec) -> HttpRequest:
        common, passthrough = split_params(call.params)
        system, turns = split_system(call)
        body: dict[str, Any] = {}
        if call.model is not None:
            body["model"] = call.model
        if isinstance(call.system, list):  # blocks as given (cache_control kept), then any system turns
            extra = [{"type": "text", "text": m.text()} for m in call.messages if m.role in ("system", "developer")]
            body["system"] = [*call.system, *extra]
        elif system:
            body["system"] = system
        body["messages"] = self.render_messages(turns)
        tools = [self.render_tool(t) for t in call.tools]
        if tools:
            body["tools"] = tools
        self._map_params(common, body)
        if call.stream:
            body["stream"] = True
        body.update(passthrough)
        return HttpRequest(
            method="POST",
            path=f"/{call.endpoint_path.strip('/')}/v1/messages",
            json=body,
            headers={"anthropic-version": ANTHROPIC_VERSION},
            stream=call.stream,
        )

    def _map_params(self, common: dict[str, Any], body: dict[str, Any]) -> None:
        for key in ("temperature", "top_p"):
            if key in common:
                body[key] = common[key]

        stop = common.get("stop")
        if stop:
            body["stop_sequences"] = [stop] if isinstance(stop, str) else list(stop)

        n = common.get("n")
        if n is not None and n != 1:
            raise UnsupportedError(
                f"n={n}: the messages protocol returns one answer per call; make {n} calls "
                "(or use a chat or gemini endpoint, which support n)"
            )
        if common.get("logprobs") or common.get("top_logprobs"):
            raise UnsupportedError(
                "the messages protocol (Anthropic) has no logprobs; use a chat, responses or gemini endpoint"
            )
        if common.get("json"):
            raise UnsupportedError(
                "json=True is not supported by the messages protocol; ask for JSON in the system prompt, "
                "or give a tool whose input schema is the shape you want and set tool_choice to its name"
            )
        if common.get("schema"):
            raise UnsupportedError(
                "schema= is not supported by the messages protocol; give a tool whose input_schema is the "
                "schema and set tool_choice to its name (or describe the schema in the system prompt)"
            )

        if "tool_choice" in common:
            body["tool_choice"] = self.render_tool_choice(common["tool_choice"])

        budget = 0
        reasoning = common.get("reasoning")
        if isinstance(reasoning, dict):
            body["thinking"] = reasoning
            budget = _to_int(reasoning.get("budget_tokens"))
        elif reasoning is not None and reasoning is not False and reasoning != 0:
            budget = reasoning_budget(reasoning)
            body["thinking"] = {"type": "enabled", "budget_tokens": budget}

        max_tokens = common.get("max_tokens")
        if max_tokens is None:
            body["max_tokens"] = DEFAULT_MAX_TOKENS + budget
        else:
            if budget and isinstance(max_tokens, int) and max_tokens <= budget:
                raise UsageError(
                    f"max_tokens={max_tokens} must be larger than the thinking budget ({budget} tokens, "
                    f"from reasoning={reasoning!r}); raise max_tokens or lower reasoning"
                )
            body["max_tokens"] = max_tokens

    @staticmethod
    def render_tool_choice(choice: Any) -> dict[str, Any]:
        """A neutral tool_choice ("auto", "none", "required", a tool name) in Anthropic's shape.

        Example:
            >>> MessagesAdapter.render_tool_choice("required"), MessagesAdapter.render_tool_choice("f")
            ({'type': 'any'}, {'type': 'tool', 'name': 'f'})
        """
        if isinstance(choice, dict):
            # an OpenAI-shaped choice naming a function is translated; anything else is Anthropic's own
            fn = choice.get("function")
            if choice.get("type") == "function":
                name = fn.get("name") if isinstance(fn, dict) else choice.get("name")
                if name:
                    return {"type": "tool", "name": name}
            return choice
        if isinstance(choice, str) and choice in _TOOL_CHOICE:
            return {"type": _TOOL_CHOICE[choice]}
        if isinstance(choice, Tool):
            return {"type": "tool", "name": choice.name}
        return {"type": "tool", "name": str(choice)}

    @staticmethod
    def render_tool(tool: Tool | dict[str, Any]) -> dict[str, Any]:
        """A tool as Anthropic's `{"name", "description", "input_schema"}` (built-in tools verbatim)."""
        if isinstance(tool, dict) and tool.get("type") not in _FUNCTION_TOOL_TYPES:
            return tool
        t = Tool.from_any(tool)
        return {"name": t.name, "description": t.description, "input_schema": t.parameters}

    def render_messages(self, turns: list[Message]) -> list[dict[str, Any]]:
        """Neutral turns (no system ones) as Anthropic `messages`."""
        out: list[dict[str, Any]] = []
        results: list[dict[str, Any]] | None = None  # the tool_result blocks of the open user turn
        for m in turns:
            if m.role == "tool":
                block: dict[str, Any] = {"type": "tool_result", "tool_use_id": m.tool_call_id or ""}
                if isinstance(m.content, str):
                    block["content"] = m.content
                else:
                    block["content"] = self.render_parts(m.content)
                if results is None:
                    results = []
                    out.append({"role": "user", "content": results})
                results.append(block)
                continue
            if m.role == "user":
                if results is not None:
                    # text right after tool results joins their user turn (tool_result blocks first)
                    results.extend(self.render_parts(m.content))
                    results = None
                    continue
                content: Any = m.content if isinstance(m.content, str) else self.render_parts(m.content)
                out.append({"role": "user", "content": content})
            elif m.role == "assistant":
                out.append({"role": "assistant", "content": self._assistant_content(m)})
            else:
                raise UsageError(f"the messages protocol has no {m.role!r} role; use user, assistant or tool")
            results = None
        return out

    def _assistant_content(self, m: Message) -> Any:
        if m.native_protocol == self.name and m.native:
            return m.native
        if not m.tool_calls:
            return m.content if isinstance(m.content, str) else self.render_parts(m.content)
        blocks = self.render_parts(m.content)
        for tc in m.tool_calls:
            blocks.append({"type": "tool_use", "id": tc.id, "name": tc.name, "input": _tool_input(tc)})
        return blocks

    def render_parts(self, content: str | list[Any]) -> list[dict[str, Any]]:
        """Content parts as Anthropic blocks: text, image, document; dicts pass verbatim."""
        if isinstance(content, str):
            return [{"type": "text", "text": content}] if content else []
        blocks: list[dict[str, Any]] = []
        for part in content:
            if isinstance(part, str):
                if part:
                    blocks.append({"type": "text", "text": part})
            elif isinstance(part, Attachment):
                blocks.append(self.render_attachment(part))
            elif isinstance(part, dict):
                blocks.append(part)
            else:
                raise UsageError(f"a content part must be a str, an Attachment or a dict, not {type(part).__name__}")
        return blocks

    def render_attachment(self, att: Attachment) -> dict[str, Any]:
        """An Attachment as an `image` / `document` / text block."""
        if att.kind == "text":
            return {"type": "text", "text": _attachment_text(att, self.name)}
        self.check_attachment(att)
        mime = att.mime_type.lower()
        if att.kind == "document" and mime.startswith("text/"):
            source: dict[str, Any] = {
                "type": "text",
                "media_type": "text/plain",
                "data": _attachment_text(att, self.name),
            }
        elif att.kind == "document" and mime != "application/pdf":
            raise UnsupportedError(
                f"the messages protocol carries PDF and plain-text documents, not {att.mime_type}; "
                "convert it to PDF or text first"
            )
        else:
            source = self._source(att)
        block: dict[str, Any] = {"type": att.kind if att.kind == "image" else "document", "source": source}
        if att.kind == "document" and att.filename:
            block["title"] = att.filename
        return block

    @staticmethod
    def _source(att: Attachment) -> dict[str, Any]:
        if att.url is not None:
            inline = _data_url_parts(att.url)
            if inline is None:
                return {"type": "url", "url": att.url}
            return {"type": "base64", "media_type": inline[0], "data": inline[1]}
        return {"type": "base64", "media_type": att.mime_type, "data": att.wire_base64()}

    # ----------------------------------------------------------------------------------------
    # reply
    # ----------------------------------------------------------------------------------------

    def parse_reply(self, data: Any) -> Reply:
        if not isinstance(data, dict):
            raise MalformedReplyError(f"a messages reply must be a JSON object, not {type(data).__name__}")
        if data.get("type") == "error" or ("error" in data and "content" not in data):
            err = data.get("error")
            message = err.get("message") if isinstance(err, dict) else err
            code = err.get("type") if isinstance(err, dict) else None
            raise MalformedReplyError(f"the server answered with an error: {message}", code=code, body=data)
        if "content" not in data and data.get("type") != "message":
            raise MalformedReplyError("a messages reply needs 'content' blocks", body=data)
        blocks = data.get("content") or []
        if not isinstance(blocks, list):
            raise MalformedReplyError("'content' of a messages reply must be a list of blocks", body=data)
        choice = _choice(blocks, data.get("stop_reason"))
        return Reply(
            choices=[choice],
            usage=_usage(data.get("usage")),
            protocol=self.name,
            model=data.get("model"),
            id=data.get("id"),
            raw=data,
        )

    def stream_parser(self) -> MessagesStreamParser:
        return MessagesStreamParser()


def _choice(blocks: list[Any], stop_reason: str | None) -> Choice:
    texts: list[str] = []
    thoughts: list[str] = []
    calls: list[ToolCall] = []
    for block in blocks:
        if not isinstance(block, dict):
            continue
        kind = block.get("type")
        if kind == "text":
            texts.append(block.get("text") or "")
        elif kind == "thinking":
            thoughts.append(block.get("thinking") or "")
        elif kind == "tool_use":
            args = block.get("input")
            raw = args if isinstance(args, str) else json.dumps(args if args is not None else {}, ensure_ascii=False)
            calls.append(
                ToolCall(
                    id=block.get("id") or "",
                    name=block.get("name") or "",
                    arguments=parse_tool_arguments(raw),
                    raw_arguments=raw,
                )
            )
    return Choice(
        index=0,
        text="".join(texts),
        reasoning="\n\n".join(t for t in thoughts if t),
        tool_calls=calls,
        finish_reason=_finish_reason(stop_reason),
        native_finish_reason=stop_reason,
        native=blocks,
    )


class MessagesStreamParser(StreamParser):
    """Anthropic stream events -> TextDelta / ReasoningDelta / ToolCallDelta / UsageEvent.

    On the hot path (a `text_delta` or `thinking_delta` of a started block) `feed` does one JSON
    decode, a few dict lookups and one small event object; it keeps the events' JSON text for
    `Reply.raw`, not the decoded dicts (see RawEvents).
    """

    protocol = "messages"

    def __init__(self) -> None:
        self.done = False
        self._raw: list[str] = []  # the events' JSON text (see RawEvents)
        self._blocks: dict[int, dict[str, Any]] = {}  # block index -> the block as started
        self._pieces: dict[int, list[str]] = {}  # block index -> text / thinking / partial_json pieces
        self._call_index: dict[int, int] = {}  # block index of a tool_use -> its tool-call index
        self._usage: dict[str, Any] = {}
        self._stop_reason: str | None = None
        self._id: str | None = None
        self._model: str | None = None

    def feed(self, sse: ServerSentEvent) -> list[Event]:
        data = self.decode(sse)
        if data is None:
            return []
        if data.__class__ is not dict and not isinstance(data, dict):
            raise MalformedReplyError("a messages stream event must be a JSON object", partial=self.finish())
        self._raw.append(sse.data)
        kind = data.get("type") or sse.event

        if kind == "content_block_delta":
            delta = data.get("delta")
            if delta.__class__ is dict:  # the hot path: a piece of a started text or thinking block
                dtype = delta.get("type")
                if dtype == "text_delta" or dtype == "thinking_delta":
                    pieces = self._pieces.get(data.get("index", 0))
                    if pieces is not None:
                        piece = delta.get("text" if dtype == "text_delta" else "thinking") or ""
                        pieces.append(piece)
                        if not piece:
                            return []
                        return [TextDelta(piece) if dtype == "text_delta" else ReasoningDelta(piece)]
            return self._delta(data)
        if kind == "content_block_start":
            return self._start(data)
        if kind == "message_start":
            message = data.get("message") or {}
            self._id = message.get("id", self._id)
            self._model = message.get("model", self._model)
            out: list[Event] = []
            for i, block in enumerate(message.get("content") or []):
                out.extend(self._start({"index": i, "content_block": block}))
            if isinstance(message.get("usage"), dict):
                self._usage.update({k: v for k, v in message["usage"].items() if v is not None})
                out.append(UsageEvent(_usage(dict(self._usage))))
            return out
        if kind == "message_delta":
            delta = data.get("delta") or {}
            if delta.get("stop_reason") is not None:
                self._stop_reason = delta["stop_reason"]
            usage = data.get("usage")
            if isinstance(usage, dict):
                # cumulative counts: overwrite, but keep message_start's values the delta leaves out
                self._usage.update({k: v for k, v in usage.items() if v is not None})
                return [UsageEvent(_usage(dict(self._usage)))]
            return []
        if kind == "message_stop":
            self.done = True
            return []
        if kind == "error" or "error" in data:
            err = data.get("error")
            if isinstance(err, dict):
                message, code = err.get("message") or "stream error", err.get("type") or err.get("code")
            else:
                message, code = str(err or "stream error"), None
            raise StreamError(message, code=code, body=data, partial=self.finish())
        return []  # content_block_stop, ping, unknown events

    def _start(self, data: dict[str, Any]) -> list[Event]:
        index = data.get("index", len(self._blocks))
        block = dict(data.get("content_block") or {})
        self._blocks[index] = block
        pieces: list[str] = []
        self._pieces[index] = pieces
        kind = block.get("type")
        if kind == "text" and block.get("text"):
            pieces.append(block["text"])
            return [TextDelta(block["text"])]
        if kind == "thinking" and block.get("thinking"):
            pieces.append(block["thinking"])
            return [ReasoningDelta(block["thinking"])]
        if kind == "tool_use":
            call_index = len(self._call_index)
            self._call_index[index] = call_index
            return [ToolCallDelta(call_index, id=block.get("id"), name=block.get("name"))]
        if kind == "fallback":
            # a mid-stream fallback: the model named in `to` serves the rest (message_start named the
            # first one); the non-streamed reply names it too, and so does the SDK's streamed message
            target = block.get("to")
            if isinstance(target, dict) and target.get("model"):
                self._model = target["model"]
        return []

    def _delta(self, data: dict[str, Any]) -> list[Event]:
        index = data.get("index", 0)
        delta = data.get("delta") or {}
        kind = delta.get("type")
        if index not in self._blocks:  # a delta without its start: make the block it implies
            implied = {
                "text_delta": {"type": "text", "text": ""},
                "thinking_delta": {"type": "thinking", "thinking": "", "signature": ""},
                "signature_delta": {"type": "thinking", "thinking": "", "signature": ""},
                "input_json_delta": {"type": "tool_use", "id": "", "name": "", "input": {}},
            }.get(kind)
            if implied is None:
                return []
            self._start({"index": index, "content_block": implied})
        if kind == "text_delta":
            piece = delta.get("text") or ""
            self._pieces[index].append(piece)
            return [TextDelta(piece)] if piece else []
        if kind == "thinking_delta":
            piece = delta.get("thinking") or ""
            self._pieces[index].append(piece)
            return [ReasoningDelta(piece)] if piece else []
        if kind == "input_json_delta":
            piece = delta.get("partial_json") or ""
            self._pieces[index].append(piece)
            call_index = self._call_index.get(index)
            if call_index is None or not piece:
                return []
            return [ToolCallDelta(call_index, arguments=piece)]
        if kind == "signature_delta":
            self._blocks[index]["signature"] = delta.get("signature", "")
        elif kind == "citations_delta" and delta.get("citation") is not None:
            block = self._blocks[index]
            block["citations"] = [*(block.get("citations") or []), delta["citation"]]
        elif kind == "compaction_delta":
            # the summary and its opaque encrypted_content: both must go back verbatim in the next turn
            block = self._blocks[index]
            for key in ("content", "encrypted_content"):
                if key in delta:
                    block[key] = delta[key]
        return []

    def finish(self) -> Reply:
        blocks: list[dict[str, Any]] = []
        raw_inputs: list[str | None] = []  # the argument text each tool_use streamed, in order
        for index in sorted(self._blocks):
            block = dict(self._blocks[index])
            joined = "".join(self._pieces.get(index, ()))
            kind = block.get("type")
            if kind == "text":
                block["text"] = joined
            elif kind == "thinking":
                block["thinking"] = joined
            elif kind == "tool_use" or "input" in block:  # tool_use, server_tool_use, mcp_tool_use...
                if kind == "tool_use":
                    raw_inputs.append(joined or None)
                if joined:
                    parsed = parse_tool_arguments(joined)
                    block["input"] = parsed if isinstance(parsed, dict) else {}
            blocks.append(block)
        choice = _choice(blocks, self._stop_reason)
        choice.tool_calls = [
            tc if raw is None else ToolCall(tc.id, tc.name, parse_tool_arguments(raw), raw)
            for tc, raw in zip(choice.tool_calls, raw_inputs, strict=True)
        ]
        return Reply(
            choices=[choice],
            usage=_usage(dict(self._usage)) if self._usage else Usage(),
            protocol="messages",
            model=self._model,
            id=self._id,
            incomplete=not self.done,
            raw=RawEvents(self._raw.copy()),
        )
