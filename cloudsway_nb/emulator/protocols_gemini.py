"""Gemini ``generateContent`` / ``streamGenerateContent`` / ``countTokens`` (native).

Request (camelCase on the wire, snake_case accepted too): ``contents`` (parts ``text``,
``inlineData``, ``fileData``, ``functionCall``, ``functionResponse``), ``systemInstruction``,
``generationConfig`` (``maxOutputTokens``, ``candidateCount``, ``stopSequences``,
``responseMimeType``, ``responseSchema`` / ``responseJsonSchema``, ``thinkingConfig`` (a
``thinkingBudget`` of 0 means no thinking, ``includeThoughts`` notwithstanding),
``responseLogprobs`` + ``logprobs``), ``tools[].functionDeclarations``,
``toolConfig.functionCallingConfig``. With ``responseLogprobs`` each text candidate (each
streamed text chunk) has ``avgLogprobs`` and ``logprobsResult`` (``chosenCandidates``,
``topCandidates`` with ``logprobs`` alternatives each, ``logProbabilitySum``).

Streaming with ``?alt=sse`` sends ``data: {chunk}`` events framed with CRLF, no ``[DONE]``,
with cumulative ``usageMetadata``; without ``alt=sse`` the chunks come as one JSON array.

Example:
    >>> prompt, extra = parse({"contents": [{"role": "user", "parts": [{"text": "Hi"}]}]}, "ep")
    >>> prompt.last_user_text(), extra["include_thoughts"]
    ('Hi', False)
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

from .conversation import Prompt, Tool, ToolCall, ToolResult, Turn, digest
from .errors import EmulatorError, bad_request, error_body
from .generate import Plan, plan_replies, reasoning_signature, text_logprobs
from .media import MediaInfo, describe_base64, describe_url
from .replies import Frame, JSONReply, StreamReply, interleave, sse_data
from .tokenizer import count_tokens

if TYPE_CHECKING:
    from .app import EmulatorApp
    from .request import Request

__all__ = ["handle", "parse", "render", "render_chunks"]

_FINISH = {"stop": "STOP", "length": "MAX_TOKENS", "tool_calls": "STOP", "stop_sequence": "STOP"}
_MODALITY = {"image": "IMAGE", "audio": "AUDIO", "video": "VIDEO", "document": "DOCUMENT", "file": "DOCUMENT"}


def _get(obj: Any, camel: str, default: Any = None) -> Any:
    """``obj[camel]`` or its snake_case twin."""
    if not isinstance(obj, dict):
        return default
    if camel in obj:
        return obj[camel]
    snake = "".join("_" + c.lower() if c.isupper() else c for c in camel)
    return obj.get(snake, default)


def _result_text(response: Any) -> str:
    if isinstance(response, dict) and len(response) == 1:
        ((key, value),) = response.items()
        if key in ("result", "output", "content", "value"):
            response = value
    return response if isinstance(response, str) else json.dumps(response, ensure_ascii=False)


def _content(content: Any, where: str, call_names: dict[str, str]) -> list[Turn]:
    if not isinstance(content, dict):
        raise bad_request(f"Invalid value at '{where}': expected a Content object.")
    role = content.get("role") or "user"
    if role not in ("user", "model", "function", "tool", "system"):
        raise bad_request(f"Please use a valid role: user, model. (got '{role}' at '{where}.role')")
    parts = content.get("parts")
    if not isinstance(parts, list):
        raise bad_request(f"Invalid value at '{where}.parts': expected a list of parts.")
    texts: list[str] = []
    media: list[MediaInfo] = []
    calls: list[ToolCall] = []
    results: list[ToolResult] = []
    for j, part in enumerate(parts):
        here = f"{where}.parts[{j}]"
        if not isinstance(part, dict):
            raise bad_request(f"Invalid value at '{here}': expected a Part object.")
        inline = _get(part, "inlineData")
        file_data = _get(part, "fileData")
        call = _get(part, "functionCall")
        response = _get(part, "functionResponse")
        if _get(part, "thought") and "text" in part:
            continue  # earlier thoughts sent back do not shape the reply
        if "text" in part:
            texts.append(str(part["text"]))
        elif isinstance(inline, dict):
            data = inline.get("data")
            if not isinstance(data, str):
                raise bad_request(f"Invalid value at '{here}.inline_data.data': expected base64 bytes.")
            media.append(describe_base64(data, _get(inline, "mimeType"), None))
        elif isinstance(file_data, dict):
            mime = _get(file_data, "mimeType") or ""
            kind = mime.split("/")[0] if mime.split("/")[0] in ("image", "audio", "video") else "document"
            media.append(describe_url(str(_get(file_data, "fileUri", "")), kind))
        elif isinstance(call, dict):
            calls.append(ToolCall(str(call.get("name", "")), call.get("args") or {}, str(call.get("id", ""))))
            call_names[str(call.get("id", ""))] = str(call.get("name", ""))
        elif isinstance(response, dict):
            name = response.get("name") or call_names.get(str(response.get("id", "")))
            results.append(
                ToolResult(name, _result_text(response.get("response")), str(response.get("id", "")))
            )
    turns: list[Turn] = []
    if results:
        turns.append(Turn("tool", tool_results=results))
    text = "\n".join(t for t in texts if t)
    if text or media or calls or not results:
        turns.append(Turn("assistant" if role == "model" else "user", text, media, tool_calls=calls))
    return turns


def _normalise_schema(schema: Any) -> Any:
    """Gemini's OpenAPI-style Schema (upper-case types, ``nullable``) as plain JSON schema."""
    if isinstance(schema, list):
        return [_normalise_schema(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "type" and isinstance(value, str):
            out[key] = value.lower()
        elif key in ("properties", "$defs", "definitions") and isinstance(value, dict):
            out[key] = {k: _normalise_schema(v) for k, v in value.items()}
        elif key in ("items", "anyOf", "oneOf", "allOf", "prefixItems", "additionalProperties"):
            out[key] = _normalise_schema(value)
        elif (
            key in ("minItems", "maxItems", "minLength", "maxLength")
            and isinstance(value, str)
            and value.isdigit()
        ):
            out[key] = int(value)
        elif key == "nullable":
            continue
        else:
            out[key] = value
    if schema.get("nullable") and isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
    return out


DEFAULT_MODEL_VERSION = "gemini-2.5-flash"


def model_version(endpoint: str) -> str:
    """The `modelVersion` a reply names: a model, as the real service says, never the deployment path.

    The path's own `gemini-...` name when it has one (`MaaS-gemini-2.0-flash`), else
    DEFAULT_MODEL_VERSION (what the bundled preset's `emulator-gemini` serves).

    Example:
        >>> model_version("gemini-2.5-pro"), model_version("MaaS-gemini-2.0-flash"), model_version("emulator-gemini")
        ('gemini-2.5-pro', 'gemini-2.0-flash', 'gemini-2.5-flash')
    """
    lowered = endpoint.lower()
    if "gemini-" in lowered:
        return endpoint[lowered.index("gemini-"):]
    return DEFAULT_MODEL_VERSION


def parse(body: dict[str, Any], endpoint: str) -> tuple[Prompt, dict[str, Any]]:
    """The neutral prompt and rendering options (candidate count, include_thoughts, model).

    Example:
        >>> body = {"contents": [{"parts": [{"text": "x"}]}], "generation_config": {"candidate_count": 2}}
        >>> parse(body, "ep")[0].n
        2
    """
    contents = body.get("contents")
    if contents is None:
        raise bad_request("* GenerateContentRequest.contents: contents is not specified")
    if isinstance(contents, dict):
        contents = [contents]
    if not isinstance(contents, list) or not contents:
        raise bad_request("* GenerateContentRequest.contents: contents is not specified")
    turns: list[Turn] = []
    system = _get(body, "systemInstruction")
    if isinstance(system, str):
        turns.append(Turn("system", system))
    elif isinstance(system, dict):
        text = "\n".join(str(p.get("text", "")) for p in system.get("parts") or [] if isinstance(p, dict))
        turns.append(Turn("system", text))
    call_names: dict[str, str] = {}
    for i, content in enumerate(contents):
        turns.extend(_content(content, f"contents[{i}]", call_names))
    prompt = Prompt(turns=turns, model=str(body.get("_model") or model_version(endpoint)))
    config = _get(body, "generationConfig") or {}
    limit = _get(config, "maxOutputTokens")
    if limit is not None:
        if not isinstance(limit, int) or limit < 1:
            raise bad_request(
                "* GenerateContentRequest.generation_config.max_output_tokens: must be positive"
            )
        prompt.max_tokens = limit
    count = _get(config, "candidateCount") or 1
    if not isinstance(count, int) or not 1 <= count <= 8:
        raise bad_request(
            "* GenerateContentRequest.generation_config.candidate_count: must be between 1 and 8"
        )
    prompt.n = count
    prompt.stop = [s for s in _get(config, "stopSequences") or [] if isinstance(s, str)]
    schema = _get(config, "responseJsonSchema", _get(config, "_responseJsonSchema"))
    if schema is None and _get(config, "responseSchema") is not None:
        schema = _normalise_schema(_get(config, "responseSchema"))
    if schema is not None:
        prompt.json_mode, prompt.json_schema = "schema", schema
    elif _get(config, "responseMimeType") == "application/json":
        prompt.json_mode = "object"
    thinking = _get(config, "thinkingConfig")
    include_thoughts = False
    if isinstance(thinking, dict):
        budget = _get(thinking, "thinkingBudget")
        include_thoughts = bool(_get(thinking, "includeThoughts"))
        level = _get(thinking, "thinkingLevel")
        if budget != 0:  # a budget of 0 turns thinking off, even with includeThoughts (api-docs 000)
            prompt.reasoning = True
            prompt.effort = str(level).lower() if level else None
            if isinstance(budget, int) and budget > 0:
                prompt.reasoning_budget = budget
    top = _get(config, "logprobs")
    if top is not None and (not isinstance(top, int) or isinstance(top, bool) or not 0 <= top <= 20):
        raise bad_request(
            "* GenerateContentRequest.generation_config.logprobs: must be in the range of [0, 20]"
        )
    _tools(body, prompt)
    return prompt, {
        "include_thoughts": include_thoughts and prompt.reasoning,
        "model": prompt.model,
        "logprobs": bool(_get(config, "responseLogprobs")),
        "top_logprobs": top or 0,
    }


def _tools(body: dict[str, Any], prompt: Prompt) -> None:
    for entry in body.get("tools") or []:
        for decl in _get(entry, "functionDeclarations") or []:
            if not isinstance(decl, dict) or not decl.get("name"):
                raise bad_request(
                    "* GenerateContentRequest.tools[0].function_declarations[0].name: Name cannot be empty."
                )
            schema = _get(decl, "parametersJsonSchema")
            if schema is None:
                schema = _normalise_schema(decl.get("parameters") or {})
            prompt.tools.append(Tool(str(decl["name"]), str(decl.get("description") or ""), schema))
    calling = _get(_get(body, "toolConfig") or {}, "functionCallingConfig") or {}
    mode = str(calling.get("mode") or "AUTO").upper()
    allowed = _get(calling, "allowedFunctionNames") or []
    if allowed:
        prompt.tools = [t for t in prompt.tools if t.name in allowed] or prompt.tools
    prompt.tool_choice = {"ANY": "required", "NONE": "none"}.get(mode, "auto")


def _usage(prompt: Prompt, plans: list[Plan], done: list[int] | None = None) -> dict[str, Any]:
    """Usage metadata; ``done`` gives (per plan) how many output tokens were generated so far."""
    prompt_tokens = prompt.input_tokens()
    candidates = sum(p.text_tokens + p.tool_tokens for p in plans) if done is None else sum(done)
    thoughts = sum(p.reasoning_tokens for p in plans)
    usage: dict[str, Any] = {"promptTokenCount": prompt_tokens, "candidatesTokenCount": candidates}
    if thoughts:
        usage["thoughtsTokenCount"] = thoughts
    cached = prompt.cached_tokens()
    if cached:
        usage["cachedContentTokenCount"] = cached
    usage["totalTokenCount"] = prompt_tokens + candidates + thoughts
    media_tokens: dict[str, int] = {}
    for info in prompt.media():
        modality = _MODALITY.get(info.kind, "DOCUMENT")
        media_tokens[modality] = media_tokens.get(modality, 0) + info.tokens
    details = [{"modality": "TEXT", "tokenCount": prompt_tokens - sum(media_tokens.values())}]
    details += [{"modality": k, "tokenCount": v} for k, v in media_tokens.items()]
    usage["promptTokensDetails"] = details
    return usage


def _token_id(token: str) -> int:
    """A stable stand-in for the token's vocabulary id."""
    return int.from_bytes(hashlib.sha256(("token:" + token).encode()).digest()[:4], "big") % 256_000


def _logprob_fields(entries: list[dict[str, Any]], top: int) -> dict[str, Any]:
    """``avgLogprobs`` and ``logprobsResult`` of a candidate from OpenAI-style entries, one per token."""
    if not entries:
        return {}

    def candidate(token: str, logprob: float) -> dict[str, Any]:
        return {"token": token, "tokenId": _token_id(token), "logProbability": logprob}

    total = sum(e["logprob"] for e in entries)
    result: dict[str, Any] = {}
    if top:
        result["topCandidates"] = [
            {"candidates": [candidate(t["token"], t["logprob"]) for t in e["top_logprobs"]]} for e in entries
        ]
    result["chosenCandidates"] = [candidate(e["token"], e["logprob"]) for e in entries]
    result["logProbabilitySum"] = round(total, 6)
    return {"avgLogprobs": round(total / len(entries), 6), "logprobsResult": result}


def _parts(plan: Plan, include_thoughts: bool) -> list[dict[str, Any]]:
    parts: list[dict[str, Any]] = []
    if include_thoughts and plan.reasoning is not None:
        parts.append({"text": plan.reasoning, "thought": True})
    if plan.tool_calls:
        parts += [{"functionCall": {"name": c.name, "args": c.arguments}} for c in plan.tool_calls]
    elif plan.text is not None:
        parts.append({"text": plan.text})
    if plan.reasoning is not None and parts and not parts[-1].get("thought"):
        parts[-1]["thoughtSignature"] = reasoning_signature(plan.reasoning)
    return parts


def render(prompt: Prompt, extra: dict[str, Any], request_digest: str) -> dict[str, Any]:
    """The ``GenerateContentResponse`` object.

    Example:
        >>> prompt, extra = parse({"contents": [{"parts": [{"text": "Hi"}]}]}, "ep")
        >>> render(prompt, extra, "0" * 64)["candidates"][0]["content"]["parts"]
        [{'text': 'You said: Hi.'}]
    """
    plans = plan_replies(prompt)
    top = extra.get("top_logprobs", 0)
    return {
        "candidates": [
            {
                "content": {"role": "model", "parts": _parts(p, extra["include_thoughts"])},
                "finishReason": _FINISH[p.finish],
                **(_logprob_fields(text_logprobs(p, top), top) if extra.get("logprobs") else {}),
                "index": p.index,
            }
            for p in plans
        ],
        "usageMetadata": _usage(prompt, plans),
        "modelVersion": extra["model"],
        "responseId": request_digest[:22],
    }


def render_chunks(
    prompt: Prompt, extra: dict[str, Any], request_digest: str
) -> list[tuple[dict[str, Any], bool]]:
    """The stream's chunks as (chunk, is_token), with cumulative usage.

    Example:
        >>> prompt, extra = parse({"contents": [{"parts": [{"text": "Hi"}]}]}, "ep")
        >>> render_chunks(prompt, extra, "0" * 64)[-1][0]["candidates"][0]["finishReason"]
        'STOP'
    """
    plans = plan_replies(prompt)
    top = extra.get("top_logprobs", 0)
    lanes: list[list[tuple[dict[str, Any], int]]] = []  # per candidate: (candidate chunk, output tokens)
    for plan in plans:
        # (part, output tokens, the part's logprob fields)
        parts: list[tuple[dict[str, Any], int, dict[str, Any]]] = []
        if extra["include_thoughts"]:
            parts += [({"text": p, "thought": True}, 0, {}) for p in plan.reasoning_pieces]
        if plan.tool_calls:
            parts += [
                ({"functionCall": {"name": c.name, "args": c.arguments}}, c.tokens(), {}) for c in plan.tool_calls
            ]
        else:
            entries = text_logprobs(plan, top) if extra.get("logprobs") else []
            parts += [
                ({"text": p}, count_tokens(p), _logprob_fields(entries[i : i + 1], top))
                for i, p in enumerate(plan.text_pieces)
            ]
        if not parts:
            parts.append(({"text": ""}, 0, {}))
        if plan.reasoning is not None:
            last = next((part for part, _, _ in reversed(parts) if not part.get("thought")), None)
            if last is not None:
                last["thoughtSignature"] = reasoning_signature(plan.reasoning)
        lane = [
            ({"content": {"role": "model", "parts": [part]}, **fields, "index": plan.index}, n)
            for part, n, fields in parts
        ]
        lane[-1][0]["finishReason"] = _FINISH[plan.finish]
        lanes.append(lane)
    done = [0] * len(plans)
    chunks: list[tuple[dict[str, Any], bool]] = []
    for candidate, tokens in interleave(lanes):
        done[candidate["index"]] += tokens
        chunk = {
            "candidates": [candidate],
            "usageMetadata": _usage(prompt, plans, list(done)),
            "modelVersion": extra["model"],
            "responseId": request_digest[:22],
        }
        chunks.append((chunk, True))
    return chunks


def _error_frame(error: EmulatorError, _position: int) -> bytes:
    return sse_data(error_body("gemini", error), crlf=True)


def _output_tokens(usage: dict[str, Any]) -> int:
    """Generated tokens of a usage block: candidates and thoughts."""
    return int(usage.get("candidatesTokenCount", 0)) + int(usage.get("thoughtsTokenCount", 0))


def handle(request: Request, app: EmulatorApp) -> JSONReply | StreamReply:
    """POST ``.../generateContent``, ``.../streamGenerateContent`` (``?alt=sse``) and ``.../countTokens``.

    Example:
        >>> from cloudsway_nb.emulator.app import create_app
        >>> from cloudsway_nb.emulator.request import Request
        >>> body = b'{"contents": [{"parts": [{"text": "Hi"}]}]}'
        >>> request = Request("POST", "/v1beta/models/g:countTokens", {}, {}, body, {"verb": "countTokens"})
        >>> handle(request, create_app()).body
        {'totalTokens': 7}
    """
    body = request.json_object()
    verb = request.params.get("verb", "generateContent")
    endpoint = request.params.get("model") or request.params.get("ep", "")
    if verb == "countTokens":
        inner = body.get("generateContentRequest") or _get(body, "generateContentRequest") or body
        prompt, _ = parse(inner, endpoint)
        return JSONReply({"totalTokens": prompt.input_tokens()})
    prompt, extra = parse(body, endpoint)
    request_digest = digest("gemini", body)
    if verb == "generateContent":
        reply = render(prompt, extra, request_digest)
        return JSONReply(reply, tokens=_output_tokens(reply["usageMetadata"]))
    chunks = render_chunks(prompt, extra, request_digest)
    if request.query.get("alt", "").lower() != "sse":
        tokens = _output_tokens(chunks[-1][0]["usageMetadata"]) if chunks else 0
        return JSONReply([chunk for chunk, _ in chunks], tokens=tokens)
    frames = [Frame(sse_data(chunk, crlf=True), token=token) for chunk, token in chunks]
    return StreamReply(frames, _error_frame, None)
