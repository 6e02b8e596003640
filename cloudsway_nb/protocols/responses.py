"""The OpenAI Responses API (`POST /v1/ai/{endpointPath}/responses`).

Requests carry `input` (a string, or a list of message / function_call / function_call_output
items), `instructions` for the system text, flat function tools and `reasoning: {effort, summary}`.
Replies are a `response` object whose `output` items (message, reasoning, function_call...) are kept
as `Choice.native`, so that a conversation sent back to this protocol re-sends them verbatim
(reasoning items included). Background responses are polled with `build_retrieve` until their
status is one of `TERMINAL_STATUSES`, and cancelled with `build_cancel`.

This module builds the requests; replies are parsed in `responses_reply` and event streams in
`responses_stream` (`ResponsesStreamParser`, importable from here as well).

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

from ..errors import UnsupportedError, UsageError
from ..types import Attachment, Message, Reply, Tool
from .base import Adapter, CallSpec, HttpRequest, split_params, split_system
from .responses_reply import parse_response
from .responses_stream import ResponsesStreamParser

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
