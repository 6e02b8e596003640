"""Gemini's native generateContent (`POST /v1/ai/{endpointPath}/generateContent`).

Neutral messages become `contents` with roles `user` / `model`; the system text becomes
`systemInstruction`; sampling parameters go in `generationConfig` (thinking in its
`thinkingConfig`); tools become one `functionDeclarations` entry. Tool results go back as a
user-role content of `functionResponse` parts. Streaming uses `streamGenerateContent?alt=sse`,
whose chunks each carry partial candidates and the cumulative `usageMetadata`. Replies are
camelCase but snake_case keys (`usage_metadata`, `finish_reason`, ...) are read too.
`Choice.native` keeps the candidate's parts (thought signatures included) for re-sending.

Example:
    >>> from cloudsway_nb.types import Message
    >>> from cloudsway_nb.protocols.base import CallSpec
    >>> adapter = GeminiAdapter()
    >>> req = adapter.build_request(CallSpec(messages=[Message.user("hi")], endpoint_path="ge/x",
    ...                                      params={"temperature": 0.2}))
    >>> (req.path, req.json["contents"], req.json["generationConfig"])
    ('/v1/ai/ge/x/generateContent', [{'role': 'user', 'parts': [{'text': 'hi'}]}], {'temperature': 0.2})
    >>> reply = adapter.parse_reply({"candidates": [{"content": {"role": "model",
    ...     "parts": [{"text": "Hello"}]}, "finishReason": "STOP"}],
    ...     "usageMetadata": {"promptTokenCount": 3, "candidatesTokenCount": 2, "totalTokenCount": 5}})
    >>> (reply.text, reply.finish_reason, reply.usage.output)
    ('Hello', 'stop', 2)
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Any

from ..errors import MalformedReplyError, UsageError
from ..types import (
    Attachment,
    Choice,
    Message,
    Reply,
    TokenLogprob,
    Tool,
    ToolCall,
    TopLogprob,
    Usage,
    parse_tool_arguments,
)
from .base import (
    Adapter,
    CallSpec,
    HttpRequest,
    reasoning_budget,
    split_params,
    split_system,
)

__all__ = ["GENERATION_CONFIG_FIELDS", "GeminiAdapter", "GeminiStreamParser", "camel_case"]

GENERATION_CONFIG_FIELDS = frozenset(
    {
        "audioTimestamp",
        "candidateCount",
        "enableAffectiveDialog",
        "enableEnhancedCivicAnswers",
        "frequencyPenalty",
        "logprobs",
        "maxOutputTokens",
        "mediaResolution",
        "modelSelectionConfig",
        "presencePenalty",
        "responseJsonSchema",
        "responseLogprobs",
        "responseMimeType",
        "responseModalities",
        "responseSchema",
        "routingConfig",
        "seed",
        "speechConfig",
        "stopSequences",
        "temperature",
        "thinkingConfig",
        "topK",
        "topP",
    }
)
"""generationConfig fields (camelCase); a passthrough param naming one, in either case, goes there."""

# top-level request fields a user may pass in snake_case; sent camelCase like the rest of the body
_TOP_LEVEL_FIELDS = frozenset(
    {"cachedContent", "safetySettings", "toolConfig", "systemInstruction", "labels", "tools", "contents"}
)

_CONTENT_FILTER = frozenset(
    {
        "SAFETY",
        "RECITATION",
        "BLOCKLIST",
        "PROHIBITED_CONTENT",
        "SPII",
        "IMAGE_SAFETY",
        "IMAGE_PROHIBITED_CONTENT",
        "IMAGE_RECITATION",
    }
)

_MODES = {"auto": "AUTO", "none": "NONE", "required": "ANY", "any": "ANY"}

# tool dicts of these "type"s are function tools in some protocol's shape (Tool.from_any reads them)
_FUNCTION_TOOL_TYPES = (None, "function", "custom")

_SNAKE = re.compile(r"(?<!^)(?=[A-Z])")


def camel_case(name: str) -> str:
    """`max_output_tokens` -> `maxOutputTokens` (camelCase names are returned unchanged).

    Example:
        >>> camel_case("response_mime_type"), camel_case("topK")
        ('responseMimeType', 'topK')
    """
    head, *rest = name.split("_")
    return head + "".join(word[:1].upper() + word[1:] for word in rest)


@lru_cache(maxsize=256)
def _snake(name: str) -> str:
    return _SNAKE.sub("_", name).lower()


def _get(d: dict[str, Any], camel: str) -> Any:
    """`d[camel]`, or `d[snake_case(camel)]` for servers that answer in snake_case."""
    value = d.get(camel)
    if value is None:
        value = d.get(_snake(camel))
    return value


def _finish_reason(native: str | None, has_calls: bool) -> str | None:
    if native is None:
        return None
    if native == "STOP":
        return "tool_calls" if has_calls else "stop"
    if native == "MAX_TOKENS":
        return "length"
    if native in _CONTENT_FILTER:
        return "content_filter"
    return "other"


def _usage(raw: Any) -> Usage:
    """usageMetadata normalized: output counts thoughts too; total is the server's (see `types.Usage`).

    Gemini's JSON leaves out a count that is zero (`thoughtsTokenCount` without thinking,
    `cachedContentTokenCount` without a cache hit): once the output is counted they are 0, as the
    other protocols report them, not blank.
    """
    if not isinstance(raw, dict):
        return Usage()
    # _get spelled out: a stream sends usage with every chunk
    get = raw.get
    if (prompt := get("promptTokenCount")) is None:
        prompt = get("prompt_token_count")
    if (candidates := get("candidatesTokenCount")) is None:
        candidates = get("candidates_token_count")
    if (thoughts := get("thoughtsTokenCount")) is None:
        thoughts = get("thoughts_token_count")
    if (cached := get("cachedContentTokenCount")) is None:
        cached = get("cached_content_token_count")
    if (total := get("totalTokenCount")) is None:
        total = get("total_token_count")
    if (tool_prompt := get("toolUsePromptTokenCount")) is None:
        tool_prompt = get("tool_use_prompt_token_count")
    if tool_prompt is not None:  # the prompt of a built-in tool (code execution) is prompt too
        prompt = (prompt or 0) + tool_prompt
    if candidates is not None:  # a whole count: proto3 JSON leaves zero counts out, so absent means 0
        thoughts = 0 if thoughts is None else thoughts
        cached = 0 if cached is None else cached
    output = None if candidates is None and thoughts is None else (candidates or 0) + (thoughts or 0)
    return Usage(input=prompt, output=output, reasoning=thoughts, cached=cached, total=total, raw=raw)


def _synthetic_id(index: int, name: str) -> str:
    return f"call_{index}_{name}"


def _name_from_synthetic_id(call_id: str | None) -> str | None:
    match = re.fullmatch(r"call_\d+_(.+)", call_id or "")
    return match.group(1) if match else None


def _tool_call(part_call: dict[str, Any], index: int) -> ToolCall:
    name = part_call.get("name") or ""
    args = part_call.get("args")
    if args is None:
        args = {}
    raw = args if isinstance(args, str) else json.dumps(args, ensure_ascii=False)
    return ToolCall(
        id=part_call.get("id") or _synthetic_id(index, name),
        name=name,
        arguments=parse_tool_arguments(raw),
        raw_arguments=raw,
    )


def _logprobs(result: Any) -> list[TokenLogprob] | None:
    if not isinstance(result, dict):
        return None
    chosen = _get(result, "chosenCandidates") or []
    tops = _get(result, "topCandidates") or []
    out: list[TokenLogprob] = []
    for i, c in enumerate(chosen):
        alternatives: tuple[TopLogprob, ...] = ()
        if i < len(tops) and isinstance(tops[i], dict):
            alternatives = tuple(
                # proto3 JSON leaves out zero values: a missing logProbability is 0.0
                TopLogprob(a.get("token", ""), float(_get(a, "logProbability") or 0.0))
                for a in tops[i].get("candidates") or []
            )
        out.append(TokenLogprob(c.get("token", ""), float(_get(c, "logProbability") or 0.0), alternatives))
    return out


def _data_url_parts(url: str) -> tuple[str, str] | None:
    """(mime type, base64 payload) of a `data:...;base64,` URL, else None."""
    if not url.startswith("data:"):
        return None
    head, sep, payload = url[5:].partition(",")
    if not sep or not head.endswith(";base64"):
        return None
    return head[: -len(";base64")] or "application/octet-stream", payload


def _schema_of(value: dict[str, Any]) -> dict[str, Any]:
    """The JSON schema of `schema=`: the dict itself, or the "schema" of a {"name", "schema"} wrapper."""
    inner = value.get("schema")
    if isinstance(inner, dict) and "type" not in value and "properties" not in value:
        return inner
    return value


class GeminiAdapter(Adapter):
    """Gemini generateContent: thinking, function calls, every media kind, candidateCount."""

    name = "gemini"
    media_kinds: tuple[str, ...] = ("image", "audio", "video", "document", "text")

    # ----------------------------------------------------------------------------------------
    # request
    # ----------------------------------------------------------------------------------------

    def build_request(self, call: CallSpec) -> HttpRequest:
        common, passthrough = split_params(call.params)
        system, turns = split_system(call)
        body: dict[str, Any] = {"contents": self.render_contents(turns)}
        if system:
            body["systemInstruction"] = {"parts": [{"text": system}]}
        tools = self.render_tools(call.tools)
        if tools:
            body["tools"] = tools
        config: dict[str, Any] = {}
        self._map_params(common, config, body)

        for key, value in passthrough.items():
            camel = camel_case(key)
            if camel in GENERATION_CONFIG_FIELDS:
                config[camel] = value
            elif camel == "generationConfig" and isinstance(value, dict):
                config.update({camel_case(k): v for k, v in value.items()})
            elif camel in _TOP_LEVEL_FIELDS:
                body[camel] = value
            else:
                body[key] = value
        if config:
            body["generationConfig"] = config

        path = call.endpoint_path.strip("/")
        if call.stream:
            return HttpRequest(
                method="POST",
                path=f"/v1/ai/{path}/streamGenerateContent",
                json=body,
                params={"alt": "sse"},
                stream=True,
            )
        return HttpRequest(method="POST", path=f"/v1/ai/{path}/generateContent", json=body)

    def _map_params(self, common: dict[str, Any], config: dict[str, Any], body: dict[str, Any]) -> None:
        if "temperature" in common:
            config["temperature"] = common["temperature"]
        if "top_p" in common:
            config["topP"] = common["top_p"]
        if "max_tokens" in common:
            config["maxOutputTokens"] = common["max_tokens"]
        stop = common.get("stop")
        if stop:
            config["stopSequences"] = [stop] if isinstance(stop, str) else list(stop)
        if "n" in common:
            config["candidateCount"] = common["n"]

        reasoning = common.get("reasoning")
        if isinstance(reasoning, dict):
            config["thinkingConfig"] = reasoning
        elif reasoning is not None and reasoning is not False:
            if reasoning == 0:
                config["thinkingConfig"] = {"thinkingBudget": 0}
            else:
                effort = str(reasoning).lower()
                budget = -1 if effort == "max" else reasoning_budget(reasoning)
                config["thinkingConfig"] = {"includeThoughts": True, "thinkingBudget": budget}

        if common.get("logprobs"):
            config["responseLogprobs"] = True
        top = common.get("top_logprobs")
        if top:
            config["responseLogprobs"] = True
            config["logprobs"] = top

        if common.get("json"):
            config["responseMimeType"] = "application/json"
        schema = common.get("schema")
        if schema:
            if not isinstance(schema, dict):
                raise UsageError(f"schema= must be a JSON schema dict, not {type(schema).__name__}")
            config["responseMimeType"] = "application/json"
            config["responseJsonSchema"] = _schema_of(schema)

        if "tool_choice" in common:
            body["toolConfig"] = self.render_tool_choice(common["tool_choice"])

    @staticmethod
    def render_tool_choice(choice: Any) -> dict[str, Any]:
        """A neutral tool_choice as Gemini's `toolConfig`.

        Example:
            >>> GeminiAdapter.render_tool_choice("get_weather")
            {'functionCallingConfig': {'mode': 'ANY', 'allowedFunctionNames': ['get_weather']}}
        """
        if isinstance(choice, dict):
            fn = choice.get("function")
            name = fn.get("name") if isinstance(fn, dict) else choice.get("name")
            if choice.get("type") in ("function", "tool") and name:  # an OpenAI / Anthropic shaped choice
                return {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": [name]}}
            return choice  # Gemini's own toolConfig
        if isinstance(choice, str) and choice.lower() in _MODES:
            return {"functionCallingConfig": {"mode": _MODES[choice.lower()]}}
        name = choice.name if isinstance(choice, Tool) else str(choice)
        return {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": [name]}}

    @staticmethod
    def render_tools(tools: list[Tool | dict[str, Any]]) -> list[dict[str, Any]]:
        """One `functionDeclarations` entry holding every function; built-in tools verbatim."""
        declarations: list[dict[str, Any]] = []
        builtins: list[dict[str, Any]] = []
        for tool in tools:
            if isinstance(tool, dict) and (
                tool.get("type") not in _FUNCTION_TOOL_TYPES
                or ("name" not in tool and not isinstance(tool.get("function"), dict))
            ):
                builtins.append(tool)  # {"type": "web_search"}, {"googleSearch": {}}, {"codeExecution": {}}...
                continue
            t = Tool.from_any(tool)
            declaration: dict[str, Any] = {"name": t.name, "description": t.description}
            params = t.parameters
            # Gemini rejects an OBJECT schema with no properties: a function without arguments has none
            if params and not (params.get("type") == "object" and not params.get("properties")):
                declaration["parameters"] = params
            declarations.append(declaration)
        out = [{"functionDeclarations": declarations}] if declarations else []
        return out + builtins

    def render_contents(self, turns: list[Message]) -> list[dict[str, Any]]:
        """Neutral turns (no system ones) as Gemini `contents`."""
        contents: list[dict[str, Any]] = []
        call_names: dict[str, str] = {}  # tool-call id -> function name, for the results
        server_ids: set[str] = set()  # ids the server itself gave its function calls
        responses: list[dict[str, Any]] | None = None  # parts of the open functionResponse turn
        for m in turns:
            if m.role == "tool":
                if responses is None:
                    responses = []
                    contents.append({"role": "user", "parts": responses})
                responses.append(self._function_response(m, call_names, server_ids))
                continue
            responses = None
            if m.role == "user":
                contents.append({"role": "user", "parts": self.render_parts(m.content)})
            elif m.role in ("assistant", "model"):
                contents.append({"role": "model", "parts": self._model_parts(m, call_names, server_ids)})
            else:
                raise UsageError(f"the gemini protocol has no {m.role!r} role; use user, assistant or tool")
        return contents

    def _model_parts(self, m: Message, call_names: dict[str, str], server_ids: set[str]) -> list[dict[str, Any]]:
        for tc in m.tool_calls:
            call_names[tc.id] = tc.name
        if m.native_protocol == self.name and m.native:
            for part in m.native:
                fc = _get(part, "functionCall") if isinstance(part, dict) else None
                if isinstance(fc, dict) and fc.get("id"):
                    server_ids.add(fc["id"])
                    call_names.setdefault(fc["id"], fc.get("name") or "")
            return list(m.native)
        parts = self.render_parts(m.content)
        for tc in m.tool_calls:
            args = tc.arguments
            if not isinstance(args, dict):
                args = parse_tool_arguments(tc.arguments_json)
            call: dict[str, Any] = {"name": tc.name, "args": args if isinstance(args, dict) else {"value": args}}
            parts.append({"functionCall": call})
        return parts

    @staticmethod
    def _function_response(m: Message, call_names: dict[str, str], server_ids: set[str]) -> dict[str, Any]:
        name = m.name or call_names.get(m.tool_call_id or "") or _name_from_synthetic_id(m.tool_call_id)
        if not name:
            raise UsageError(
                f"a tool result for the gemini protocol needs the function's name (tool_call_id "
                f"{m.tool_call_id!r} matches no earlier call); pass name= to Message.tool_result"
            )
        if isinstance(m.content, str):
            try:
                result: Any = json.loads(m.content)
            except ValueError:
                result = m.content
        else:
            result = m.text()
        response: dict[str, Any] = {"name": name, "response": {"result": result}}
        if m.tool_call_id and m.tool_call_id in server_ids:
            response["id"] = m.tool_call_id
        return {"functionResponse": response}

    def render_parts(self, content: str | list[Any]) -> list[dict[str, Any]]:
        """Content parts as Gemini parts: text, inlineData / fileData; dicts pass verbatim."""
        if isinstance(content, str):
            return [{"text": content}] if content else []
        parts: list[dict[str, Any]] = []
        for part in content:
            if isinstance(part, str):
                if part:
                    parts.append({"text": part})
            elif isinstance(part, Attachment):
                parts.append(self.render_attachment(part))
            elif isinstance(part, dict):
                parts.append(part)
            else:
                raise UsageError(f"a content part must be a str, an Attachment or a dict, not {type(part).__name__}")
        return parts

    def render_attachment(self, att: Attachment) -> dict[str, Any]:
        """An Attachment as `inlineData` (bytes, data URLs), `fileData` (URLs) or text."""
        self.check_attachment(att)
        if att.kind == "text" and att.url is None and att.data is not None:
            return {"text": att.data.decode("utf-8", errors="replace")}
        if att.url is not None:
            inline = _data_url_parts(att.url)
            if inline is None:
                return {"fileData": {"mimeType": att.mime_type, "fileUri": att.url}}
            return {"inlineData": {"mimeType": inline[0], "data": inline[1]}}
        return {"inlineData": {"mimeType": att.mime_type, "data": att.wire_base64()}}

    # ----------------------------------------------------------------------------------------
    # reply
    # ----------------------------------------------------------------------------------------

    def parse_reply(self, data: Any) -> Reply:
        if isinstance(data, list) and data and all(isinstance(d, dict) for d in data):
            # a non-SSE streamGenerateContent answer is a JSON array of chunks: assemble them
            parser = self.stream_parser()
            for chunk in data:
                parser.feed_chunk(chunk)
            reply = parser.finish()
            reply.incomplete = False
            return reply
        if not isinstance(data, dict):
            raise MalformedReplyError(f"a gemini reply must be a JSON object, not {type(data).__name__}")
        candidates = data.get("candidates")
        feedback = _get(data, "promptFeedback")
        usage_raw = _get(data, "usageMetadata")
        if candidates is None:
            if "error" in data:
                err = data["error"]
                message = err.get("message") if isinstance(err, dict) else err
                code = err.get("status") if isinstance(err, dict) else None
                raise MalformedReplyError(f"the server answered with an error: {message}", code=code, body=data)
            if feedback is None and usage_raw is None:
                raise MalformedReplyError("a gemini reply needs 'candidates' (or 'promptFeedback')", body=data)
        if candidates is not None and not isinstance(candidates, list):
            raise MalformedReplyError("'candidates' of a gemini reply must be a list", body=data)

        choices = [self._choice(c, i) for i, c in enumerate(candidates or []) if isinstance(c, dict)]
        block = _get(feedback, "blockReason") if isinstance(feedback, dict) else None
        if not choices and block:
            choices = [Choice(index=0, finish_reason="content_filter", native_finish_reason=block, native=[])]
        choices.sort(key=lambda c: c.index)
        return Reply(
            choices=choices,
            usage=_usage(usage_raw),
            protocol=self.name,
            model=_get(data, "modelVersion"),
            id=_get(data, "responseId"),
            raw=data,
        )

    @staticmethod
    def _choice(candidate: dict[str, Any], position: int) -> Choice:
        content = candidate.get("content") or {}
        parts = (content.get("parts") or []) if isinstance(content, dict) else []
        texts: list[str] = []
        thoughts: list[str] = []
        calls: list[ToolCall] = []
        for part in parts:
            if not isinstance(part, dict):
                continue
            fc = _get(part, "functionCall")
            if isinstance(fc, dict):
                calls.append(_tool_call(fc, len(calls)))
            elif isinstance(part.get("text"), str):
                (thoughts if part.get("thought") else texts).append(part["text"])
        native = _get(candidate, "finishReason")
        return Choice(
            index=candidate.get("index", position),
            text="".join(texts),
            reasoning="".join(thoughts),
            tool_calls=calls,
            finish_reason=_finish_reason(native, bool(calls)),
            native_finish_reason=native,
            logprobs=_logprobs(_get(candidate, "logprobsResult")),
            native=parts,
        )

    def stream_parser(self) -> GeminiStreamParser:
        return GeminiStreamParser()


# the stream parser lives in gemini_stream, which uses the helpers above: imported once they exist
from .gemini_stream import GeminiStreamParser  # noqa: E402
