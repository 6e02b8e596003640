"""OpenAI chat completions: `POST /v1/ai/{endpointPath}/chat/completions`.

Builds the request body from a neutral `CallSpec`, parses replies (DeepSeek `reasoning_content`,
logprobs, `n > 1`, the gateway's `choices[].messages[0]` quirk) and streams (tool-call argument
fragments assembled per call, choices kept apart by index). The stream parser is on the hot path:
per chunk it does one JSON decode, a few dict lookups and one small event object.

Example:
    >>> from cloudsway_nb.types import Message
    >>> adapter = ChatAdapter()
    >>> req = adapter.build_request(CallSpec([Message.user("hi")], "MaaS-4o", params={"max_tokens": 5}))
    >>> req.path, req.json
    ('/v1/ai/MaaS-4o/chat/completions', {'messages': [{'role': 'user', 'content': 'hi'}], 'max_tokens': 5})
    >>> parser = adapter.stream_parser()
    >>> parser.feed(ServerSentEvent('{"choices": [{"index": 0, "delta": {"content": "Hel"}}]}'))
    [TextDelta(text='Hel', index=0)]
    >>> _ = parser.feed(ServerSentEvent("[DONE]"))
    >>> parser.finish().text, parser.done
    ('Hel', True)
"""

from __future__ import annotations

import json
from typing import Any

from ..errors import MalformedReplyError, StreamError, UnsupportedError
from ..types import (
    Attachment,
    Choice,
    Event,
    Message,
    ReasoningDelta,
    Reply,
    TextDelta,
    TokenLogprob,
    Tool,
    ToolCall,
    ToolCallDelta,
    TopLogprob,
    Usage,
    UsageEvent,
    parse_tool_arguments,
)
from .base import (
    EFFORTS,
    Adapter,
    CallSpec,
    HttpRequest,
    RawEvents,
    ServerSentEvent,
    StreamParser,
    reasoning_budget,
    split_params,
)

__all__ = ["ChatAdapter", "ChatStreamParser", "RawChunks", "chat_usage", "normalize_finish_reason"]

_loads = json.loads
# json.loads without its Python wrappers (two regex matches and two frames per call); falls back to
# json.loads for anything unusual (leading whitespace, trailing text, not JSON)
_scan = json.JSONDecoder().scan_once

_FINISH = {
    "stop": "stop",
    "length": "length",
    "tool_calls": "tool_calls",
    "function_call": "tool_calls",
    "content_filter": "content_filter",
    # what some gateways pass through unchanged from the upstream vendor
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "tool_use": "tool_calls",
    "insufficient_system_resource": "error",  # DeepSeek
    "error": "error",
}
_TOOL_CHOICES = ("auto", "none", "required")
_SCHEMA_WRAPPER_KEYS = frozenset(("name", "schema", "strict", "description"))


def normalize_finish_reason(native: str | None) -> str | None:
    """A chat finish reason mapped to one of `types.FINISH_REASONS` (None stays None).

    Example:
        >>> normalize_finish_reason("tool_calls"), normalize_finish_reason("weird")
        ('tool_calls', 'other')
    """
    if not native:
        return None
    return _FINISH.get(native, "other")


def chat_usage(usage: dict[str, Any] | None) -> Usage:
    """An OpenAI-style (or DeepSeek) usage dict normalized to `Usage`, keeping it as `raw`.

    Example:
        >>> u = chat_usage({"prompt_tokens": 10, "completion_tokens": 68, "total_tokens": 78,
        ...                 "completion_tokens_details": {"reasoning_tokens": 58}, "prompt_cache_hit_tokens": 4})
        >>> (u.input, u.output, u.reasoning, u.cached, u.total)
        (10, 68, 58, 4, 78)
    """
    if not isinstance(usage, dict):
        return Usage()
    prompt_details = usage.get("prompt_tokens_details") or {}
    completion_details = usage.get("completion_tokens_details") or {}
    cached = usage.get("prompt_cache_hit_tokens")  # DeepSeek's own count wins over the OpenAI-shaped copy
    if cached is None and isinstance(prompt_details, dict):
        cached = prompt_details.get("cached_tokens")
    reasoning = completion_details.get("reasoning_tokens") if isinstance(completion_details, dict) else None
    return Usage(
        input=usage.get("prompt_tokens"),
        output=usage.get("completion_tokens"),
        reasoning=reasoning,
        cached=cached,
        total=usage.get("total_tokens"),
        raw=usage,
    )


def _logprobs(items: list[dict[str, Any]] | None) -> list[TokenLogprob] | None:
    if items is None:
        return None
    return [
        TokenLogprob(
            token=item.get("token", ""),
            logprob=item.get("logprob", 0.0),
            top=tuple(TopLogprob(t.get("token", ""), t.get("logprob", 0.0)) for t in item.get("top_logprobs") or ()),
        )
        for item in items
    ]


def _error_text(error: Any) -> tuple[str, str | None]:
    """(message, code) of an OpenAI-style error object (or a bare string)."""
    if isinstance(error, dict):
        message = error.get("message") or json.dumps(error)[:300]
        code = error.get("code") or error.get("type")
        return str(message), (None if code is None else str(code))
    return str(error), None


def _text_of(content: Any) -> str:
    """Message content as text: a string, None, or (some gateways) a list of text parts."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p.get("text") or "" if isinstance(p, dict) else str(p) for p in content)
    return str(content)


def _model_family(model: str | None) -> str:
    """Which vendor's model a chat endpoint serves, from its model name: deepseek, claude, gemini, or ''.

    Example:
        >>> _model_family("MaaS_Deepseek_V4_pro"), _model_family("claude-3-7-sonnet"), _model_family(None)
        ('deepseek', 'claude', '')
    """
    name = (model or "").lower()
    return next((family for family in ("deepseek", "claude", "gemini") if family in name), "")


class ChatAdapter(Adapter):
    """The OpenAI chat completions protocol (also DeepSeek, and Claude / Gemini through the gateway)."""

    name = "chat"
    media_kinds = ("image", "audio", "video", "document", "text")

    # ------------------------------------------------------------------ request

    def build_request(self, call: CallSpec) -> HttpRequest:
        messages: list[dict[str, Any]] = []
        if call.system:
            messages.append({"role": "system", "content": call.system})
        messages.extend(self._message(m) for m in call.messages)

        body: dict[str, Any] = {}
        if call.model is not None:
            body["model"] = call.model
        body["messages"] = messages
        if call.tools:
            body["tools"] = [self._tool(t) for t in call.tools]
        common, passthrough = split_params(call.params)
        self._map_params(common, body)
        if call.stream:
            body["stream"] = True
            body["stream_options"] = {"include_usage": True}
        body.update(passthrough)  # last, so users can override anything
        path = call.endpoint_path.strip("/")
        return HttpRequest("POST", f"/v1/ai/{path}/chat/completions", json=body, stream=call.stream)

    def _message(self, m: Message) -> dict[str, Any]:
        if m.native_protocol == self.name and isinstance(m.native, dict):
            return m.native
        role = m.role
        if role == "tool":
            return {"role": "tool", "tool_call_id": m.tool_call_id or "", "content": _text_of(m.content)}
        out: dict[str, Any] = {"role": role}
        if isinstance(m.content, str):
            out["content"] = m.content
        elif all(isinstance(p, str) for p in m.content):
            out["content"] = "\n".join(m.content)  # type: ignore[arg-type]  # "Describe" + "/tmp/x.png" stay apart
        else:
            out["content"] = [self._part(p) for p in m.content]
        if m.name:
            out["name"] = m.name
        if role == "assistant" and m.tool_calls:
            if not out["content"]:
                out["content"] = None
            out["tool_calls"] = [
                {"id": tc.id, "type": "function", "function": {"name": tc.name, "arguments": tc.arguments_json}}
                for tc in m.tool_calls
            ]
            # DeepSeek's thinking mode requires the reasoning of tool-calling turns to be sent back;
            # only do so when it came from a chat endpoint (others may reject the unknown field)
            if m.reasoning and m.native_protocol in (None, self.name):
                out["reasoning_content"] = m.reasoning
        return out

    def _part(self, part: Any) -> dict[str, Any]:
        if isinstance(part, str):
            return {"type": "text", "text": part}
        if isinstance(part, dict):
            return part
        if isinstance(part, Attachment):
            return self._media(part)
        raise TypeError(f"a content part must be str, Attachment or dict, not {type(part).__name__}")

    def _media(self, att: Attachment) -> dict[str, Any]:
        self.check_attachment(att)
        kind = att.kind
        if kind in ("image", "video"):  # the gateway takes data:video/... URLs in an image_url part
            image_url: dict[str, Any] = {"url": att.wire_data_url()}
            if att.detail:
                image_url["detail"] = att.detail
            return {"type": "image_url", "image_url": image_url}
        if kind == "audio":
            if att.url is not None:
                raise UnsupportedError(
                    f"the chat protocol takes audio only as inline data, not a URL ({att.url}); "
                    "load the file and attach its bytes"
                )
            return {"type": "input_audio", "input_audio": {"data": att.wire_base64(), "format": att.format}}
        if kind == "document":
            if att.url is not None and not att.url.startswith("data:"):
                raise UnsupportedError(
                    f"the chat protocol takes documents only as inline data (file_data), not a URL ({att.url}); "
                    "download the file and attach its bytes, or use an endpoint on the messages (PDF only), "
                    "responses or gemini protocol, which take document URLs"
                )
            filename = att.filename or f"document.{att.format}"
            return {"type": "file", "file": {"filename": filename, "file_data": att.wire_data_url()}}
        # kind == "text": inlined as a text part
        if att.data is None:
            raise UnsupportedError(f"a text attachment needs inline data to be inlined, not a URL ({att.url})")
        from ..media._sniff import to_utf8  # lazy: media imports the protocols; UTF-16 / cp1252 text too

        return {"type": "text", "text": (to_utf8(att.data) or att.data).decode("utf-8", errors="replace")}

    @staticmethod
    def _tool(tool: Tool | dict[str, Any]) -> dict[str, Any]:
        if isinstance(tool, dict) and tool.get("type") not in (None, "function"):
            return tool  # a built-in tool ({"type": "web_search"}, ...): verbatim
        t = Tool.from_any(tool)
        function: dict[str, Any] = {"name": t.name, "description": t.description, "parameters": t.parameters}
        if t.strict is not None:
            function["strict"] = t.strict
        return {"type": "function", "function": function}

    @staticmethod
    def _map_params(common: dict[str, Any], body: dict[str, Any]) -> None:
        for key in ("temperature", "top_p", "max_tokens", "stop", "n", "logprobs", "top_logprobs"):
            if key in common:
                body[key] = common[key]
        if "top_logprobs" in common and "logprobs" not in common:
            body["logprobs"] = True  # the API rejects top_logprobs without it

        reasoning = common.get("reasoning")
        if isinstance(reasoning, dict):
            body["thinking"] = reasoning
        elif reasoning is True:
            body["thinking"] = {"type": "enabled"}
        elif reasoning:  # None / False / 0 -> omitted
            family = _model_family(body.get("model"))
            if isinstance(reasoning, str) and reasoning.lower() in EFFORTS and family == "deepseek":
                # DeepSeek takes only high and max (003): the weaker efforts mean its lowest, high
                body["thinking"] = {"type": "enabled"}
                body["reasoning_effort"] = "max" if reasoning.lower() == "max" else "high"
            elif isinstance(reasoning, str) and reasoning.lower() in EFFORTS and family in ("claude", "gemini"):
                # Claude and Gemini behind the chat protocol think by a token budget (000)
                body["thinking"] = {"type": "enabled", "budget_tokens": reasoning_budget(reasoning)}
            elif isinstance(reasoning, str) and reasoning.lower() in EFFORTS:
                body["reasoning_effort"] = reasoning.lower()
            elif isinstance(reasoning, int) or (isinstance(reasoning, str) and reasoning.isdigit()):
                body["thinking"] = {"type": "enabled", "budget_tokens": int(reasoning)}
            else:
                raise UnsupportedError(
                    f"reasoning={reasoning!r} is not known; use low, medium, high, max or a token budget"
                )

        schema = common.get("schema")
        if schema is not None:
            if not isinstance(schema, dict):
                raise UnsupportedError(f"schema must be a JSON schema dict, not {type(schema).__name__}")
            if isinstance(schema.get("schema"), dict) and set(schema) <= _SCHEMA_WRAPPER_KEYS:
                spec = {
                    "name": schema.get("name") or "reply",
                    "schema": schema["schema"],
                    "strict": schema.get("strict", False),
                }
                if schema.get("description"):
                    spec["description"] = schema["description"]
            else:
                spec = {"name": "reply", "schema": schema, "strict": False}
            body["response_format"] = {"type": "json_schema", "json_schema": spec}
        elif isinstance(common.get("json"), dict):
            body["response_format"] = common["json"]
        elif common.get("json"):
            body["response_format"] = {"type": "json_object"}

        choice = common.get("tool_choice")
        if choice is not None:
            if isinstance(choice, str) and choice not in _TOOL_CHOICES:
                choice = {"type": "function", "function": {"name": choice}}
            body["tool_choice"] = choice

    # ------------------------------------------------------------------ reply

    def parse_reply(self, data: Any) -> Reply:
        if not isinstance(data, dict):
            raise MalformedReplyError(f"a chat reply must be a JSON object, not {type(data).__name__}", body=data)
        choices = data.get("choices")
        if not isinstance(choices, list):
            if data.get("error"):
                message, code = _error_text(data["error"])
                raise MalformedReplyError(f"the server sent an error: {message}", code=code, body=data)
            raise MalformedReplyError("a chat reply needs a 'choices' list", body=data)
        return Reply(
            choices=[self._choice(c, i) for i, c in enumerate(choices) if isinstance(c, dict)],
            usage=chat_usage(data.get("usage")),
            protocol=self.name,
            model=data.get("model"),
            id=data.get("id"),
            raw=data,
        )

    @staticmethod
    def _choice(c: dict[str, Any], position: int) -> Choice:
        message = c.get("message")
        if not isinstance(message, dict):
            messages = c.get("messages")  # the gateway's quirk: choices[].messages[0]
            message = messages[0] if isinstance(messages, list) and messages else {}
            if not isinstance(message, dict):
                message = {}
        text = _text_of(message["content"] if "content" in message else c.get("text"))
        reasoning = message.get("reasoning_content") or message.get("reasoning")
        calls: list[ToolCall] = []
        for i, tc in enumerate(message.get("tool_calls") or ()):
            if not isinstance(tc, dict):
                continue
            fn = tc.get("function") or {}
            calls.append(_tool_call(tc.get("id") or f"call_{i}", fn.get("name") or "", fn.get("arguments")))
        legacy = message.get("function_call")
        if isinstance(legacy, dict) and not calls:
            calls.append(_tool_call("call_0", legacy.get("name") or "", legacy.get("arguments")))
        finish = normalize_finish_reason(c.get("finish_reason"))
        # the gateway passes the upstream model's own reason on (DeepSeek, Claude behind chat): keep it
        native_finish = c.get("native_finish_reason") or c.get("finish_reason")
        refusal = message.get("refusal")
        if isinstance(refusal, str) and refusal and not text:  # OpenAI's refusal field: the model declined
            text, finish = refusal, "content_filter"
        lp = c.get("logprobs")
        index = c.get("index")
        return Choice(
            index=index if isinstance(index, int) else position,
            text=text,
            reasoning=reasoning if isinstance(reasoning, str) else "",
            tool_calls=calls,
            finish_reason=finish,
            native_finish_reason=native_finish,
            logprobs=_logprobs(lp.get("content")) if isinstance(lp, dict) else None,
        )

    # ------------------------------------------------------------------ stream

    def stream_parser(self) -> ChatStreamParser:
        return ChatStreamParser()


def _tool_call(call_id: str, name: str, arguments: Any) -> ToolCall:
    raw = arguments if isinstance(arguments, str) else None
    if arguments is not None and raw is None:  # some servers send an object, not JSON text
        raw = json.dumps(arguments, ensure_ascii=False)
    return ToolCall(id=call_id, name=name, arguments=parse_tool_arguments(arguments), raw_arguments=raw)


RawChunks = RawEvents
"""`Reply.raw` of a chat stream: its chunks, decoded on first access (the name it had before the
other protocols' parsers shared it)."""


class ChatStreamParser(StreamParser):
    """Chat completion chunks -> events; `finish()` assembles the Reply. See the module docstring."""

    protocol = "chat"

    __slots__ = (
        "_calls", "_finish", "_logprobs", "_native", "_raw", "_reasoning", "_refused", "_texts", "_usage", "done",
    )  # fmt: skip

    def __init__(self) -> None:
        self.done = False
        self._raw: list[str] = []  # the chunks' JSON text (see RawEvents)
        self._texts: dict[int, list[str]] = {}
        self._reasoning: dict[int, list[str]] = {}
        # choice index -> call index -> [id, name, argument pieces]
        self._calls: dict[int, dict[int, list[Any]]] = {}
        self._finish: dict[int, str] = {}
        self._native: dict[int, str] = {}  # the gateway's native_finish_reason, when it sends one
        self._refused: set[int] = set()  # choices whose answer is a refusal
        self._logprobs: dict[int, list[dict[str, Any]]] = {}
        self._usage: dict[str, Any] | None = None

    def feed(self, sse: ServerSentEvent) -> list[Event]:
        data = sse.data
        try:
            chunk, end = _scan(data, 0)
            choices = chunk["choices"]
        except (StopIteration, ValueError):
            return self._unusual(data)
        except (KeyError, TypeError):
            return self._other(chunk, data)
        if end != len(data):
            return self._unusual(data)
        self._raw.append(data)
        # the hot path: one choice whose delta is only a piece of text (usage, when a server sends it
        # on such a chunk, is cumulative and comes again with the finish reason or on its own)
        if choices.__class__ is list and len(choices) == 1 and (c := choices[0]).__class__ is dict:
            delta = c.get("delta")
            if delta.__class__ is dict and len(delta) == 1:
                text = delta.get("content")
                if text.__class__ is str and text and not c.get("finish_reason") and not c.get("logprobs"):
                    idx = c.get("index") or 0
                    texts = self._texts.get(idx)
                    if texts is None:
                        texts = self._texts[idx] = []
                    texts.append(text)
                    return [TextDelta(text, idx)]
        return self._chunk(chunk, choices)

    def _chunk(self, chunk: dict[str, Any], choices: list[dict[str, Any]] | None) -> list[Event]:
        """Everything but the hot path: roles, reasoning, tool calls, finish reasons, logprobs, usage."""
        out: list[Event] = []
        if choices and isinstance(choices, list):
            for c in choices:
                if not isinstance(c, dict):
                    continue
                idx = c.get("index") or 0
                delta = c.get("delta")
                if delta is None:
                    delta = c.get("message")
                if isinstance(delta, dict):
                    text = delta.get("content")
                    if text and isinstance(text, str):
                        self._texts.setdefault(idx, []).append(text)
                        out.append(TextDelta(text, idx))
                    text = delta.get("reasoning_content") or delta.get("reasoning")
                    if text and isinstance(text, str):
                        self._reasoning.setdefault(idx, []).append(text)
                        out.append(ReasoningDelta(text, idx))
                    calls = delta.get("tool_calls")
                    if calls and isinstance(calls, list):
                        self._tool_fragments(idx, calls, out)
                    refusal = delta.get("refusal")
                    if refusal and isinstance(refusal, str):  # the model declined: its words are the answer
                        self._refused.add(idx)
                        self._texts.setdefault(idx, []).append(refusal)
                        out.append(TextDelta(refusal, idx))
                finish = c.get("finish_reason")
                if finish:
                    self._finish[idx] = finish
                native = c.get("native_finish_reason")
                if native:
                    self._native[idx] = native
                logprobs = c.get("logprobs")
                if isinstance(logprobs, dict):
                    items = logprobs.get("content")
                    if items:
                        self._logprobs.setdefault(idx, []).extend(items)
        elif chunk.get("error"):
            self._raise(chunk)
        usage = chunk.get("usage")
        if usage:
            self._usage = usage
            out.append(UsageEvent(chat_usage(usage)))
        return out

    def _unusual(self, data: str) -> list[Event]:
        """`[DONE]`, empty data, JSON with surrounding whitespace, or not JSON at all."""
        text = data.strip()
        if text == "[DONE]":
            self.done = True
            return []
        if not text:
            return []
        try:
            chunk = _loads(text)
        except ValueError:
            raise MalformedReplyError(
                f"a chat stream sent data that is not JSON: {text[:200]!r}", body=data, partial=self.finish()
            ) from None
        return self._other(chunk, text)

    def _other(self, chunk: Any, data: str) -> list[Event]:
        if not isinstance(chunk, dict):
            raise MalformedReplyError("a chat stream chunk must be a JSON object", body=chunk, partial=self.finish())
        self._raw.append(data)
        if chunk.get("error"):
            self._raise(chunk)
        return self._chunk(chunk, chunk.get("choices"))

    def _raise(self, chunk: dict[str, Any]) -> None:
        message, code = _error_text(chunk["error"])
        raise StreamError(message, code=code, body=chunk, partial=self.finish())

    def _tool_fragments(self, idx: int, fragments: list[dict[str, Any]], out: list[Event]) -> None:
        calls = self._calls.get(idx)
        if calls is None:
            calls = self._calls[idx] = {}
        for frag in fragments:
            if not isinstance(frag, dict):
                continue
            call_id = frag.get("id")
            fn = frag.get("function") or {}
            name = fn.get("name")
            args = fn.get("arguments")
            if args is not None and args.__class__ is not str:
                args = json.dumps(args, ensure_ascii=False)
            ci = frag.get("index")
            if ci is None:  # servers that omit the index: a new id starts a new call
                last = max(calls) if calls else None
                ci = last if last is not None and (not call_id or calls[last][0] in (None, call_id)) else len(calls)
            entry = calls.get(ci)
            if entry is None:
                entry = calls[ci] = [call_id, name, []]
            else:
                if call_id and entry[0] and call_id != entry[0]:  # a second call reusing an index
                    ci = max(calls) + 1
                    entry = calls[ci] = [call_id, name, []]
                if call_id and not entry[0]:
                    entry[0] = call_id
                if name and not entry[1]:
                    entry[1] = name
            if args:
                entry[2].append(args)
            out.append(ToolCallDelta(ci, call_id, name, args or "", idx))

    def finish(self) -> Reply:
        indices = sorted({*self._texts, *self._reasoning, *self._calls, *self._finish})
        choices = []
        for idx in indices:
            native = self._native.get(idx) or self._finish.get(idx)
            finish = "content_filter" if idx in self._refused else normalize_finish_reason(self._finish.get(idx))
            calls = []
            for ci, (call_id, name, pieces) in sorted(self._calls.get(idx, {}).items()):
                arguments = "".join(pieces)
                calls.append(ToolCall(call_id or f"call_{ci}", name or "", parse_tool_arguments(arguments), arguments))
            choices.append(
                Choice(
                    index=idx,
                    text="".join(self._texts.get(idx, ())),
                    reasoning="".join(self._reasoning.get(idx, ())),
                    tool_calls=calls,
                    finish_reason=finish,
                    native_finish_reason=native,
                    logprobs=_logprobs(self._logprobs.get(idx)),
                )
            )
        reply_id = model = None
        for text in self._raw[:8]:  # the id and model, from the first chunks that name them
            chunk = _loads(text)
            reply_id = reply_id or chunk.get("id") or None
            model = model or chunk.get("model") or None
            if reply_id and model:
                break
        if model is None and self._usage is not None:
            model = _loads(self._raw[-1]).get("model") or None
        return Reply(
            choices=choices,
            usage=chat_usage(self._usage),
            protocol="chat",
            model=model,
            id=reply_id,
            incomplete=not self.done,
            raw=RawChunks(self._raw.copy()),
        )
