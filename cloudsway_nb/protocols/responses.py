"""The OpenAI Responses API (`POST /v1/ai/{endpointPath}/responses`).

Requests carry `input` (a string, or a list of message / function_call / function_call_output
items), `instructions` for the system text, flat function tools and `reasoning: {effort, summary}`.
Replies are a `response` object whose `output` items (message, reasoning, function_call...) are kept
as `Choice.native`, so that a conversation sent back to this protocol re-sends them verbatim
(reasoning items included). Background responses are polled with `build_retrieve` until their
status is one of `TERMINAL_STATUSES`, and cancelled with `build_cancel`. Replies are parsed in
`responses_reply`.

Example:
    >>> from cloudsway_nb.protocols.base import CallSpec
    >>> from cloudsway_nb.types import Message
    >>> adapter = ResponsesAdapter()
    >>> spec = CallSpec([Message.user("1+2+n=?")], "openai/o3", params={"reasoning": "high"})
    >>> request = adapter.build_request(spec)
    >>> request.path, request.json
    ('/v1/ai/openai/o3/responses', {'input': '1+2+n=?', 'reasoning': {'effort': 'high', 'summary': 'auto'}})
    >>> reply = adapter.parse_reply({"id": "resp_1", "status": "completed", "output": [
    ...     {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "3 + n"}]}]})
    >>> reply.text, reply.finish_reason, reply.usage.input
    ('3 + n', 'stop', None)
    >>> adapter.build_retrieve("openai/o3", "resp_1").params
    {'stream': 'false', 'api-version': 'preview'}
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from ..errors import StreamError, UnsupportedError, UsageError
from ..types import (
    Attachment,
    Event,
    Message,
    ReasoningDelta,
    Reply,
    TextDelta,
    Tool,
    ToolCallDelta,
    UsageEvent,
)
from .base import (
    Adapter,
    CallSpec,
    HttpRequest,
    RawEvents,
    ServerSentEvent,
    StreamParser,
    split_params,
    split_system,
)
from .responses_reply import parse_response, parse_usage

__all__ = ["TERMINAL_STATUSES", "ResponsesAdapter", "ResponsesStreamParser"]

TERMINAL_STATUSES: tuple[str, ...] = ("completed", "failed", "cancelled", "incomplete")
"""Statuses after which a (background) response will not change any more."""

#: OpenAI's own effort names, sent verbatim; "max" (a common effort name here) becomes "high".
_OPENAI_EFFORTS = ("none", "minimal", "low", "medium", "high", "xhigh")

_LOGPROBS_INCLUDE = "message.output_text.logprobs"

#: `strict` for a `schema=` given as a bare JSON schema. OpenAI's strict mode rejects schemas
#: without `additionalProperties: false` and a full `required` list, so it is opt-in
#: (pass `schema={"name": ..., "schema": ..., "strict": True}`).
DEFAULT_SCHEMA_STRICT = False


def _path(endpoint_path: str) -> str:
    return f"/v1/ai/{endpoint_path.strip('/')}/responses"


class ResponsesAdapter(Adapter):
    """Build Responses API requests and parse its replies and event streams."""

    name = "responses"
    media_kinds = ("image", "document", "text")
    capabilities = frozenset({"chat", "stream", "background"})
    TERMINAL_STATUSES = TERMINAL_STATUSES

    # -----------------------------------------------------------------------------------------
    # requests
    # -----------------------------------------------------------------------------------------

    def build_request(self, call: CallSpec) -> HttpRequest:
        system, turns = split_system(call)
        body: dict[str, Any] = {}
        if call.model is not None:
            body["model"] = call.model
        if system:
            body["instructions"] = system
        if len(turns) == 1 and not system and turns[0].role == "user" and isinstance(turns[0].content, str):
            body["input"] = turns[0].content
        elif turns:
            body["input"] = self._input_items(turns)
        if call.tools:
            body["tools"] = [self._tool(t) for t in call.tools]
        if call.stream:
            body["stream"] = True

        common, passthrough = split_params(call.params)
        self._map_params(common, body)
        if passthrough.get("background") is True and "store" not in passthrough:
            body["store"] = True
        body.update(passthrough)
        return HttpRequest("POST", _path(call.endpoint_path), json=body, stream=call.stream)

    def build_retrieve(
        self,
        endpoint_path: str,
        response_id: str,
        stream: bool = False,
        starting_after: int | None = None,
    ) -> HttpRequest:
        """GET a stored (e.g. background) response; with `stream=True`, replay its events as SSE,
        after sequence number `starting_after` when given (to resume a dropped stream).

        Example:
            >>> r = ResponsesAdapter().build_retrieve("o3", "resp_1", stream=True, starting_after=7)
            >>> r.method, r.path, r.params
            ('GET', '/v1/ai/o3/responses/resp_1', {'stream': 'true', 'api-version': 'preview', 'starting_after': '7'})
        """
        params = {"stream": "true" if stream else "false", "api-version": "preview"}
        if stream and starting_after is not None:
            params["starting_after"] = str(starting_after)
        path = f"{_path(endpoint_path)}/{quote(response_id, safe='')}"
        return HttpRequest("GET", path, params=params, stream=stream)

    def build_cancel(self, endpoint_path: str, response_id: str) -> HttpRequest:
        """POST that cancels a background response.

        Example:
            >>> ResponsesAdapter().build_cancel("o3", "resp_1").path
            '/v1/ai/o3/responses/resp_1/cancel'
        """
        return HttpRequest("POST", f"{_path(endpoint_path)}/{quote(response_id, safe='')}/cancel")

    def _input_items(self, turns: list[Message]) -> list[Any]:
        items: list[Any] = []
        for m in turns:
            if m.role == "user":
                items.append({"role": "user", "content": self._parts(m.content, "input_text")})
            elif m.role == "assistant":
                if m.native_protocol == self.name and m.native:
                    items.extend(m.native if isinstance(m.native, list) else [m.native])
                    continue
                if m.content:
                    items.append({"role": "assistant", "content": self._parts(m.content, "output_text")})
                for tc in m.tool_calls:
                    items.append(
                        {"type": "function_call", "call_id": tc.id, "name": tc.name, "arguments": tc.arguments_json}
                    )
            elif m.role == "tool":
                if not m.tool_call_id:
                    raise UsageError("a tool result message needs tool_call_id (the call's id) for responses")
                output: Any = m.content
                if not isinstance(output, str):
                    output = self._parts(output, "input_text")
                items.append({"type": "function_call_output", "call_id": m.tool_call_id, "output": output})
            else:
                raise UsageError(f"role {m.role!r} is not known; use system, developer, user, assistant or tool")
        return items

    def _parts(self, content: str | list[Any], text_type: str) -> list[dict[str, Any]]:
        if isinstance(content, str):
            return [{"type": text_type, "text": content}]
        parts: list[dict[str, Any]] = []
        for part in content:
            if isinstance(part, str):
                parts.append({"type": text_type, "text": part})
            elif isinstance(part, dict):
                parts.append(part)
            elif isinstance(part, Attachment):
                parts.append(self._media(part, text_type))
            else:
                raise UsageError(f"a content part must be a str, an Attachment or a dict, not {type(part).__name__}")
        return parts

    def _media(self, att: Attachment, text_type: str) -> dict[str, Any]:
        self.check_attachment(att)
        if att.kind == "text" and att.url is None and att.data is not None:
            return {"type": text_type, "text": att.data.decode("utf-8", errors="replace")}
        if text_type != "input_text":
            raise UnsupportedError(f"an assistant turn cannot carry a {att.kind} attachment in the responses protocol")
        if att.kind == "image":
            part = {"type": "input_image", "image_url": att.wire_data_url()}
            if att.detail:
                part["detail"] = att.detail
            return part
        # documents (and text given by URL) go as files
        if att.url is not None:
            part = {"type": "input_file", "file_url": att.url}
            if att.filename:
                part["filename"] = att.filename
            return part
        return {
            "type": "input_file",
            "filename": att.filename or f"document.{att.format}",
            "file_data": att.wire_data_url(),
        }

    @staticmethod
    def _tool(spec: Tool | dict[str, Any]) -> dict[str, Any]:
        if isinstance(spec, dict) and spec.get("type") not in (None, "function"):
            return spec  # a built-in tool (web_search, file_search, mcp...)
        tool = Tool.from_any(spec)
        out: dict[str, Any] = {
            "type": "function",
            "name": tool.name,
            "description": tool.description,
            "parameters": tool.parameters,
        }
        if tool.strict is not None:
            out["strict"] = tool.strict
        return out

    @staticmethod
    def _map_params(common: dict[str, Any], body: dict[str, Any]) -> None:
        for key in ("temperature", "top_p"):
            if key in common:
                body[key] = common[key]
        if "max_tokens" in common:
            body["max_output_tokens"] = common["max_tokens"]
        if "stop" in common:
            raise UnsupportedError(
                "the responses protocol has no stop sequences; protocols that have them: chat, messages, gemini"
            )
        if "n" in common and common["n"] != 1:
            raise UnsupportedError(
                f"the responses protocol returns one answer per call (n={common['n']!r}); "
                "protocols that can return several: chat, gemini"
            )
        reasoning = common.get("reasoning")
        if reasoning is not None and reasoning is not False and reasoning != 0:
            body["reasoning"] = (
                reasoning
                if isinstance(reasoning, dict)
                else {
                    "effort": _effort(reasoning),
                    "summary": "auto",
                }
            )
        if common.get("logprobs") or "top_logprobs" in common:
            body["include"] = [_LOGPROBS_INCLUDE]
        if "top_logprobs" in common:
            body["top_logprobs"] = common["top_logprobs"]
        schema = common.get("schema")
        json_mode = common.get("json")
        if schema is not None:
            body["text"] = {"format": _schema_format(schema)}
        elif isinstance(json_mode, dict):  # verbatim: a whole `text` object or just its `format`
            body["text"] = json_mode if "format" in json_mode else {"format": json_mode}
        elif json_mode:
            body["text"] = {"format": {"type": "json_object"}}
        if "tool_choice" in common:
            choice = common["tool_choice"]
            if isinstance(choice, str) and choice not in ("auto", "none", "required"):
                choice = {"type": "function", "name": choice}
            body["tool_choice"] = choice

    # -----------------------------------------------------------------------------------------
    # replies
    # -----------------------------------------------------------------------------------------

    def parse_reply(self, data: Any) -> Reply:
        return parse_response(data)

    def stream_parser(self) -> ResponsesStreamParser:
        return ResponsesStreamParser()


def _effort(reasoning: str | int) -> str:
    if isinstance(reasoning, str) and not reasoning.isdigit():
        effort = reasoning.lower()
        if effort == "max":
            return "high"
        if effort in _OPENAI_EFFORTS:
            return effort
        raise UnsupportedError(f"reasoning={reasoning!r} is not known; use low, medium, high, max or a token budget")
    if isinstance(reasoning, bool) or not isinstance(reasoning, int | str):
        raise UnsupportedError(f"reasoning must be low|medium|high|max or a token budget, not {reasoning!r}")
    budget = int(reasoning)
    if budget <= 2048:
        return "low"
    if budget <= 8192:
        return "medium"
    return "high"


_SCHEMA_WRAPPER_KEYS = frozenset(("name", "schema", "strict", "description"))


def _schema_format(schema: Any) -> dict[str, Any]:
    if not isinstance(schema, dict):
        raise UnsupportedError(f"schema must be a JSON schema dict, not {type(schema).__name__}")
    if isinstance(schema.get("schema"), dict) and set(schema) <= _SCHEMA_WRAPPER_KEYS:
        fmt = {
            "type": "json_schema",
            "name": schema.get("name") or "reply",
            "schema": schema["schema"],
            "strict": schema.get("strict", DEFAULT_SCHEMA_STRICT),
        }
        if schema.get("description"):
            fmt["description"] = schema["description"]
        return fmt
    return {"type": "json_schema", "name": "reply", "schema": schema, "strict": DEFAULT_SCHEMA_STRICT}


# ---------------------------------------------------------------------------------------------
# streaming
# ---------------------------------------------------------------------------------------------


class _Item:
    """What has arrived for one output item (by output_index)."""

    __slots__ = ("args", "done", "item", "parts", "summaries")

    def __init__(self, item: dict[str, Any] | None = None) -> None:
        self.item: dict[str, Any] = item if item is not None else {}
        self.done = False
        self.parts: dict[Any, list[Any]] = {}  # content/summary key -> [pieces, logprobs]
        self.summaries: dict[int, list[str]] = {}
        self.args: list[str] | None = None


class ResponsesStreamParser(StreamParser):
    """Events of one streamed response -> TextDelta / ReasoningDelta / ToolCallDelta / UsageEvent.

    `response_id` and `sequence_number` (the last one seen) are kept so that a dropped stream can
    be resumed with `build_retrieve(..., stream=True, starting_after=parser.sequence_number)`.
    Text is kept as pieces joined at `finish`, and the events' JSON text for `Reply.raw` rather
    than the decoded events (see RawEvents).
    """

    protocol = "responses"

    def __init__(self) -> None:
        self.done = False
        self._raw: list[str] = []  # the events' JSON text (see RawEvents)
        self.response_id: str | None = None
        self.model: str | None = None
        self.status: str | None = None
        self.sequence_number: int | None = None
        self._items: dict[int, _Item] = {}
        self._by_item_id: dict[str, int] = {}
        self._calls: dict[int, int] = {}  # output_index -> call_index
        self._last_index = 0
        self._reasoning_seen = False
        self._final: dict[str, Any] | None = None
        self._usage: dict[str, Any] | None = None
        self._error: dict[str, Any] | None = None

    @property
    def events(self) -> RawEvents:
        """The events decoded so far (decoded on access)."""
        return RawEvents(self._raw.copy())

    # -- feeding ----------------------------------------------------------------------------

    def feed(self, sse: ServerSentEvent) -> list[Event]:
        data = self.decode(sse)
        if data is None:
            return []
        self._raw.append(sse.data)
        if data.__class__ is not dict and not isinstance(data, dict):
            return []
        kind = data.get("type") or sse.event
        seq = data.get("sequence_number")
        if isinstance(seq, int):
            self.sequence_number = seq

        if kind == "response.output_text.delta":
            # the hot path: a piece of a part already seen (else _part makes the item and the part)
            index = data.get("output_index")
            entry = self._items.get(index) if index.__class__ is int else None
            slot = None if entry is None else entry.parts.get(("text", data.get("content_index", 0)))
            if slot is None:
                slot = self._part(data, "content_index")
            delta = data.get("delta") or ""
            slot[0].append(delta)
            if data.get("logprobs"):
                slot[1].extend(data["logprobs"])
            return [TextDelta(delta)]
        if kind == "response.reasoning_summary_text.delta":
            return self._reason(data, data.get("delta") or "")
        if kind == "response.function_call_arguments.delta":
            return self._args(data, data.get("delta") or "")
        if kind == "response.refusal.delta":
            slot = self._part(data, "content_index", "refusal")
            slot[0].append(data.get("delta") or "")
            return [TextDelta(data.get("delta") or "")]
        if kind == "response.reasoning_text.delta":
            slot = self._part(data, "content_index", "reasoning_text")
            slot[0].append(data.get("delta") or "")
            return self._reasoning_event(data.get("delta") or "", first=len(slot[0]) == 1)

        # "done" events repeat the full text: only used when no deltas came before them
        if kind == "response.output_text.done":
            slot = self._part(data, "content_index")
            if not slot[0] and data.get("text"):
                slot[0].append(data["text"])
                return [TextDelta(data["text"])]
            return []
        if kind == "response.content_part.done":
            part = data.get("part") if isinstance(data.get("part"), dict) else {}
            ptype = part.get("type")
            if ptype in ("output_text", "refusal"):
                slot = self._part(data, "content_index", "text" if ptype == "output_text" else "refusal")
                text = part.get("text" if ptype == "output_text" else "refusal") or ""
                if not slot[0] and text:
                    slot[0].append(text)
                    return [TextDelta(text)]
            return []
        if kind == "response.reasoning_summary_text.done":
            entry = self._entry(data)
            key = data.get("summary_index", 0)
            if not entry.summaries.get(key) and data.get("text"):
                return self._reason(data, data["text"])
            return []
        if kind == "response.function_call_arguments.done":
            index = self._index(data)
            entry = self._items.get(index)
            if (entry is None or not entry.args) and data.get("arguments"):
                return self._args(data, data["arguments"])
            return []

        if kind == "response.output_item.added" or kind == "response.output_item.done":
            return self._item_event(data, done=kind == "response.output_item.done")
        if kind == "error":
            err = data.get("error") if isinstance(data.get("error"), dict) else data
            self._error = err
            raise StreamError(
                err.get("message") or "the server reported an error in the stream",
                code=_code(err),
                body=data,
                partial=self._finish(incomplete=True),
            )
        if kind is not None and kind.startswith("response.") and isinstance(data.get("response"), dict):
            return self._response_event(kind, data["response"])
        if kind is None and isinstance(data.get("error"), dict):  # a gateway-style error chunk
            self._error = data["error"]
            raise StreamError(
                data["error"].get("message") or "the server reported an error in the stream",
                code=_code(data["error"]),
                body=data,
                partial=self._finish(incomplete=True),
            )
        return []  # content_part.added, summary_part.done, annotations, pings, unknown events

    def _index(self, data: dict[str, Any]) -> int:
        index = data.get("output_index")
        if isinstance(index, int):
            return index
        item_id = data.get("item_id")
        if item_id in self._by_item_id:
            return self._by_item_id[item_id]
        return self._last_index

    def _entry(self, data: dict[str, Any]) -> _Item:
        index = self._index(data)
        entry = self._items.get(index)
        if entry is None:
            entry = self._items[index] = _Item()
            item_id = data.get("item_id")
            if item_id:
                entry.item["id"] = item_id
                self._by_item_id[item_id] = index
            if index > self._last_index:
                self._last_index = index
        return entry

    def _part(self, data: dict[str, Any], index_key: str, kind: str = "text") -> list[Any]:
        entry = self._entry(data)
        key = (kind, data.get(index_key, 0))
        slot = entry.parts.get(key)
        if slot is None:
            slot = entry.parts[key] = [[], []]
        return slot

    def _reasoning_event(self, text: str, first: bool) -> list[Event]:
        events: list[Event] = []
        if first and self._reasoning_seen:
            events.append(ReasoningDelta("\n\n"))  # a new summary part: same separator as the Reply
        self._reasoning_seen = True
        events.append(ReasoningDelta(text))
        return events

    def _reason(self, data: dict[str, Any], text: str) -> list[Event]:
        entry = self._entry(data)
        key = data.get("summary_index", 0)
        pieces = entry.summaries.get(key)
        first = pieces is None or not pieces
        if pieces is None:
            pieces = entry.summaries[key] = []
        pieces.append(text)
        return self._reasoning_event(text, first)

    def _call_index(self, index: int) -> tuple[int, bool]:
        call_index = self._calls.get(index)
        if call_index is None:
            call_index = self._calls[index] = len(self._calls)
            return call_index, True
        return call_index, False

    def _args(self, data: dict[str, Any], text: str) -> list[Event]:
        entry = self._entry(data)
        index = self._index(data)
        if entry.args is None:
            entry.args = []
        entry.args.append(text)
        call_index, new = self._call_index(index)
        if new:  # arguments before output_item.added (a resumed stream): say what we know
            return [
                ToolCallDelta(call_index, id=entry.item.get("call_id"), name=entry.item.get("name"), arguments=text)
            ]
        return [ToolCallDelta(call_index, arguments=text)]

    def _item_event(self, data: dict[str, Any], done: bool) -> list[Event]:
        item = data.get("item")
        if not isinstance(item, dict):
            return []
        entry = self._entry(data)
        index = self._index(data)
        if item.get("id"):
            self._by_item_id[item["id"]] = index
        entry.item = item
        entry.done = done
        kind = item.get("type")
        if kind != "function_call":
            return self._unstreamed(entry, item) if done else []
        call_index, new = self._call_index(index)
        if new:
            args = item.get("arguments") or ""
            if args:
                entry.args = [args]
            return [ToolCallDelta(call_index, id=item.get("call_id"), name=item.get("name"), arguments=args)]
        if done and item.get("arguments") and not entry.args:
            entry.args = [item["arguments"]]
            return [ToolCallDelta(call_index, arguments=item["arguments"])]
        return []

    def _unstreamed(self, entry: _Item, item: dict[str, Any]) -> list[Event]:
        """A finished message / reasoning item whose text never came as deltas: emit it now."""
        events: list[Event] = []
        if item.get("type") == "message" and not entry.parts:
            for part in item.get("content") or ():
                if isinstance(part, dict):
                    text = part.get("text") if part.get("type") == "output_text" else part.get("refusal")
                    if isinstance(text, str) and text:
                        events.append(TextDelta(text))
        elif item.get("type") == "reasoning" and not entry.summaries and not entry.parts:
            for summary in item.get("summary") or ():
                if isinstance(summary, dict) and summary.get("text"):
                    events.extend(self._reasoning_event(summary["text"], first=True))
        return events

    def _response_event(self, kind: str, response: dict[str, Any]) -> list[Event]:
        self.response_id = response.get("id") or self.response_id
        self.model = response.get("model") or self.model
        self.status = response.get("status") or self.status
        events: list[Event] = []
        usage = response.get("usage")
        if isinstance(usage, dict):
            self._usage = usage
            events.append(UsageEvent(parse_usage(usage)))
        if kind in ("response.completed", "response.incomplete", "response.failed", "response.cancelled"):
            self.done = True
            self._final = response
            if kind == "response.failed":
                err = response.get("error") if isinstance(response.get("error"), dict) else {}
                self._error = err
                raise StreamError(
                    err.get("message") or "the response failed",
                    code=_code(err),
                    body=response,
                    partial=self._finish(incomplete=True),
                )
        return events

    # -- assembling ---------------------------------------------------------------------------

    def finish(self) -> Reply:
        return self._finish(incomplete=not self.done)

    def _assembled_output(self) -> list[dict[str, Any]]:
        output: list[dict[str, Any]] = []
        for index in sorted(self._items):
            entry = self._items[index]
            item = dict(entry.item)
            if entry.done:
                output.append(item)
                continue
            kind = item.get("type")
            if kind is None:  # only deltas arrived (a resumed stream): infer the item type
                if entry.args is not None:
                    kind = "function_call"
                elif entry.summaries or any(k[0] == "reasoning_text" for k in entry.parts):
                    kind = "reasoning"
                else:
                    kind = "message"
                item["type"] = kind
            if kind == "function_call":
                if entry.args is not None:
                    item["arguments"] = "".join(entry.args)
            elif kind == "reasoning":
                if entry.summaries:
                    item["summary"] = [
                        {"type": "summary_text", "text": "".join(entry.summaries[k])} for k in sorted(entry.summaries)
                    ]
                texts = [(k[1], v) for k, v in entry.parts.items() if k[0] == "reasoning_text"]
                if texts:
                    item["content"] = [{"type": "reasoning_text", "text": "".join(v[0])} for _, v in sorted(texts)]
            elif kind == "message":
                item.setdefault("role", "assistant")
                content = []
                for (ptype, _), (pieces, lps) in sorted(entry.parts.items(), key=lambda kv: kv[0][1]):
                    if ptype == "text":
                        part: dict[str, Any] = {"type": "output_text", "text": "".join(pieces)}
                        if lps:
                            part["logprobs"] = lps
                        content.append(part)
                    elif ptype == "refusal":
                        content.append({"type": "refusal", "refusal": "".join(pieces)})
                if content:
                    item["content"] = content
            output.append(item)
        return output

    def _finish(self, incomplete: bool) -> Reply:
        final = self._final
        assembled = self._assembled_output()
        if final is not None and (final.get("output") or not assembled):
            data = dict(final)
        else:
            data = dict(final or {})
            data["output"] = assembled
            data.setdefault("id", self.response_id)
            data.setdefault("model", self.model)
            data["status"] = (final or {}).get("status") or self.status or "in_progress"
        if data.get("usage") is None and self._usage is not None:
            data["usage"] = self._usage
        if self._error is not None and data.get("status") not in ("failed",):
            data["status"] = "failed"
            data["error"] = self._error
        reply = parse_response(data)
        reply.raw = RawEvents(self._raw.copy())
        reply.incomplete = incomplete
        return reply


def _code(err: dict[str, Any]) -> str | None:
    code = err.get("code") or err.get("type")
    return None if code is None else str(code)
