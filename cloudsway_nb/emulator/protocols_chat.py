"""OpenAI chat completions: parse the request, render the reply and its SSE stream.

Wire facts followed: ``messages`` (also as a JSON-encoded string, as one gateway sample sends
it), content parts ``text`` / ``image_url`` (data URLs decoded, ``data:video/...`` included) /
``input_audio`` / ``file``; ``tools`` + ``tool_choice`` + ``parallel_tool_calls`` (several
``tool_calls`` in one message when several tools fit); ``response_format``; ``n``; ``stop``;
``logprobs`` + ``top_logprobs``; reasoning via ``reasoning_effort`` or ``thinking`` (returned as
DeepSeek-style ``reasoning_content``; a DeepSeek model's choices also carry
``native_finish_reason`` and its usage ``prompt_cache_hit_tokens`` / ``prompt_cache_miss_tokens``).
Streams are ``data: {chunk}`` events ending with ``data: [DONE]``;
``stream_options.include_usage`` adds a last chunk with ``choices: []`` (``stream_options``
without ``stream`` is ignored, as the gateway's own image example sends it).

Example:
    >>> prompt, extra = parse({"messages": [{"role": "user", "content": "Hi"}]}, "ep")
    >>> prompt.last_user_text(), extra["stream"]
    ('Hi', False)
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

from .conversation import Prompt, Tool, ToolCall, ToolResult, Turn, digest
from .errors import EmulatorError, bad_request, error_body
from .generate import Plan, plan_replies, token_logprobs
from .media import MediaInfo, describe_base64, describe_reference, describe_url
from .replies import SSE_KEEPALIVE, Frame, JSONReply, StreamReply, interleave, sse_data
from .tokenizer import pieces

if TYPE_CHECKING:
    from .app import EmulatorApp
    from .request import Request

__all__ = ["handle", "parse", "render", "render_stream"]

_ROLES = ("system", "developer", "user", "assistant", "tool", "function")
_PART_TYPES = ("text", "image_url", "input_audio", "file", "refusal", "audio", "input_text", "video_url")
_FINISH = {"stop": "stop", "length": "length", "tool_calls": "tool_calls", "stop_sequence": "stop"}


def _content(content: Any, where: str) -> tuple[str, list[MediaInfo]]:
    """Text and media of a message's ``content`` (string, list of parts, or null)."""
    if content is None:
        return "", []
    if isinstance(content, str):
        return content, []
    if not isinstance(content, list):
        raise bad_request(
            f"Invalid type for '{where}': expected a string or an array of content parts.",
            where,
            "invalid_type",
        )
    texts: list[str] = []
    media: list[MediaInfo] = []
    for j, part in enumerate(content):
        here = f"{where}[{j}]"
        if isinstance(part, str):
            texts.append(part)
            continue
        if not isinstance(part, dict):
            raise bad_request(f"Invalid type for '{here}': expected an object.", here, "invalid_type")
        kind = part.get("type")
        if kind not in _PART_TYPES:
            raise bad_request(
                f"Invalid value: '{kind}'. Supported values are: 'text', 'image_url', 'input_audio', "
                "'refusal', "
                "'audio', and 'file'.",
                f"{here}.type",
            )
        if kind in ("text", "input_text"):
            texts.append(str(part.get("text", "")))
        elif kind == "refusal":
            texts.append(str(part.get("refusal", "")))
        elif kind in ("image_url", "video_url"):
            holder = part.get(kind)
            url = holder.get("url") if isinstance(holder, dict) else holder
            if not isinstance(url, str) or not url:
                raise bad_request(
                    f"Missing required parameter: '{here}.{kind}.url'.",
                    f"{here}.{kind}.url",
                    "missing_required_parameter",
                )
            media.append(describe_url(url, "image" if kind == "image_url" else "video"))
        elif kind == "input_audio":
            audio = part.get("input_audio") or {}
            data = audio.get("data") if isinstance(audio, dict) else None
            if not isinstance(data, str):
                raise bad_request(
                    f"Missing required parameter: '{here}.input_audio.data'.",
                    f"{here}.input_audio.data",
                    "missing_required_parameter",
                )
            fmt = str(audio.get("format") or "")
            mime = {"mp3": "audio/mpeg", "wav": "audio/wav"}.get(fmt, f"audio/{fmt}" if fmt else None)
            media.append(describe_base64(data, mime, "audio"))
        elif kind == "file":
            media.append(_file_part(part.get("file") or {}))
        # "audio" parts (earlier assistant audio) carry only an id: nothing to describe
    return "\n".join(t for t in texts if t), media


def _file_part(file: Any) -> MediaInfo:
    if not isinstance(file, dict):
        return describe_reference(str(file), "document")
    data = file.get("file_data")
    name = file.get("filename")
    if isinstance(data, str) and data:
        if data.startswith("data:"):
            return describe_url(data, "document")
        return describe_base64(data, None, "document", name)
    if file.get("file_id"):
        return describe_reference(str(file["file_id"]), "document")
    return describe_reference(str(name or "unnamed"), "document", "file")


def _arguments(raw: Any) -> Any:
    if isinstance(raw, str):
        try:
            return json.loads(raw)
        except json.JSONDecodeError:
            return raw
    return raw


def parse(body: dict[str, Any], endpoint: str) -> tuple[Prompt, dict[str, Any]]:
    """The neutral prompt and the rendering options (stream, include_usage, n, logprobs, model).

    Example:
        >>> parse({"messages": [{"role": "user", "content": "Hi"}], "n": 2}, "ep")[0].n
        2
    """
    if "messages" not in body or body["messages"] is None:
        raise bad_request("Missing required parameter: 'messages'.", "messages", "missing_required_parameter")
    messages = body["messages"]
    if isinstance(messages, str):  # one gateway sample sends the list JSON-encoded
        try:
            messages = json.loads(messages)
        except json.JSONDecodeError:
            raise bad_request(
                "Invalid value for 'messages': a string must hold a JSON array of messages.", "messages"
            ) from None
    if not isinstance(messages, list) or not messages:
        raise bad_request("Invalid value for 'messages': expected a non-empty array of messages.", "messages")
    turns: list[Turn] = []
    call_names: dict[str, str] = {}
    for i, message in enumerate(messages):
        where = f"messages[{i}]"
        if not isinstance(message, dict):
            raise bad_request(f"Invalid type for '{where}': expected an object.", where, "invalid_type")
        role = message.get("role")
        if role not in _ROLES:
            raise bad_request(
                f"Invalid value: '{role}'. Supported values are: 'system', 'assistant', 'user', "
                "'function', 'tool', "
                "and 'developer'.",
                f"{where}.role",
            )
        text, media = _content(message.get("content"), f"{where}.content")
        if role == "assistant":
            calls = []
            for call in message.get("tool_calls") or []:
                fn = call.get("function") or {}
                calls.append(
                    ToolCall(
                        str(fn.get("name", "")), _arguments(fn.get("arguments")), str(call.get("id", ""))
                    )
                )
                call_names[str(call.get("id", ""))] = str(fn.get("name", ""))
            if isinstance(message.get("function_call"), dict):
                fn = message["function_call"]
                calls.append(ToolCall(str(fn.get("name", "")), _arguments(fn.get("arguments"))))
            turns.append(Turn("assistant", text, media, tool_calls=calls))
        elif role in ("tool", "function"):
            call_id = str(message.get("tool_call_id", ""))
            name = message.get("name") or call_names.get(call_id)
            turns.append(Turn("tool", tool_results=[ToolResult(name, text, call_id)], media=media))
        else:
            turns.append(Turn(role, text, media))
    prompt = Prompt(turns=turns, model=str(body.get("model") or endpoint))
    _tools(body, prompt)
    _format(body, prompt)
    effort = body.get("reasoning_effort")
    thinking = body.get("thinking")
    if (isinstance(effort, str) and effort != "none") or (
        isinstance(thinking, dict) and thinking.get("type") in ("enabled", "adaptive")
    ):
        prompt.reasoning = True
        prompt.effort = effort if isinstance(effort, str) else None
        if isinstance(thinking, dict) and isinstance(thinking.get("budget_tokens"), int):
            prompt.reasoning_budget = thinking["budget_tokens"]
    limit = body.get("max_completion_tokens", body.get("max_tokens"))
    if limit is not None:
        if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
            raise bad_request(
                "Invalid 'max_tokens': integer below minimum value 1.",
                "max_tokens",
                "integer_below_min_value",
            )
        prompt.max_tokens = limit
    stop = body.get("stop")
    prompt.stop = [stop] if isinstance(stop, str) else [s for s in (stop or []) if isinstance(s, str)]
    n = body.get("n", 1) if body.get("n") is not None else 1
    if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= 128:
        raise bad_request("Invalid 'n': must be an integer between 1 and 128.", "n")
    prompt.n = n
    stream = bool(body.get("stream"))
    stream_options = body.get("stream_options")  # ignored without stream, as the gateway does (its image example)
    top = body.get("top_logprobs")
    if top is not None and (not isinstance(top, int) or not 0 <= top <= 20):
        raise bad_request("Invalid 'top_logprobs': must be an integer between 0 and 20.", "top_logprobs")
    extra = {
        "stream": stream,
        "include_usage": bool(isinstance(stream_options, dict) and stream_options.get("include_usage")),
        "logprobs": bool(body.get("logprobs")),
        "top_logprobs": top or 0,
        "model": prompt.model,
    }
    return prompt, extra


def _tools(body: dict[str, Any], prompt: Prompt) -> None:
    tools = body.get("tools") or []
    if not isinstance(tools, list):
        raise bad_request("Invalid type for 'tools': expected an array.", "tools", "invalid_type")
    for i, tool in enumerate(tools):
        if not isinstance(tool, dict):
            raise bad_request(
                f"Invalid type for 'tools[{i}]': expected an object.", f"tools[{i}]", "invalid_type"
            )
        if tool.get("type", "function") != "function":
            continue
        fn = tool.get("function")
        if not isinstance(fn, dict) or not fn.get("name"):
            raise bad_request(
                f"Missing required parameter: 'tools[{i}].function.name'.",
                f"tools[{i}].function.name",
                "missing_required_parameter",
            )
        prompt.tools.append(
            Tool(str(fn["name"]), str(fn.get("description") or ""), fn.get("parameters") or {})
        )
    for fn in body.get("functions") or []:  # the legacy form
        if isinstance(fn, dict) and fn.get("name"):
            prompt.tools.append(
                Tool(str(fn["name"]), str(fn.get("description") or ""), fn.get("parameters") or {})
            )
    if body.get("parallel_tool_calls") is False:
        prompt.parallel_tool_calls = False
    choice = body.get("tool_choice", body.get("function_call"))
    if isinstance(choice, str):
        if choice not in ("none", "auto", "required"):
            raise bad_request(f"Invalid value for 'tool_choice': '{choice}'.", "tool_choice")
        prompt.tool_choice = choice
    elif isinstance(choice, dict):
        name = (choice.get("function") or {}).get("name") or choice.get("name")
        if not name or name not in [t.name for t in prompt.tools]:
            raise bad_request(
                f"Invalid value for 'tool_choice': no function named '{name}' in 'tools'.", "tool_choice"
            )
        prompt.tool_choice = str(name)


def _format(body: dict[str, Any], prompt: Prompt) -> None:
    fmt = body.get("response_format")
    if not isinstance(fmt, dict):
        return
    kind = fmt.get("type")
    if kind == "json_object":
        prompt.json_mode = "object"
    elif kind == "json_schema":
        spec = fmt.get("json_schema")
        if not isinstance(spec, dict) or not spec.get("name"):
            raise bad_request(
                "Missing required parameter: 'response_format.json_schema.name'.",
                "response_format.json_schema.name",
                "missing_required_parameter",
            )
        prompt.json_mode = "schema"
        prompt.json_schema = spec.get("schema") or {"type": "object"}
    elif kind not in ("text", None):
        raise bad_request(
            f"Invalid value: '{kind}'. Supported values are: 'json_object', 'json_schema', and 'text'.",
            "response_format.type",
        )


def _is_deepseek(prompt: Prompt) -> bool:
    """DeepSeek models (by name) add ``native_finish_reason`` and the prompt-cache counts (api-docs 003)."""
    return "deepseek" in prompt.model.lower()


def _usage(prompt: Prompt, plans: list[Plan]) -> dict[str, Any]:
    prompt_tokens = prompt.input_tokens()
    cached = prompt.cached_tokens()
    completion = sum(p.output_tokens for p in plans)
    usage: dict[str, Any] = {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion,
        "total_tokens": prompt_tokens + completion,
        "prompt_tokens_details": {"cached_tokens": cached, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": sum(p.reasoning_tokens for p in plans),
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }
    if _is_deepseek(prompt):
        usage["prompt_cache_hit_tokens"] = cached
        usage["prompt_cache_miss_tokens"] = prompt_tokens - cached
    return usage


def _call_id(call: ToolCall) -> str:
    return "call_" + call.call_id


def render(prompt: Prompt, extra: dict[str, Any], request_digest: str) -> dict[str, Any]:
    """The ``chat.completion`` object.

    Example:
        >>> prompt, extra = parse({"messages": [{"role": "user", "content": "Hi"}]}, "ep")
        >>> render(prompt, extra, "0" * 64)["choices"][0]["message"]["content"]
        'You said: Hi.'
    """
    plans = plan_replies(prompt)
    choices = []
    for plan in plans:
        message: dict[str, Any] = {
            "role": "assistant",
            "content": plan.text,
            "refusal": None,
            "annotations": [],
        }
        if plan.reasoning is not None:
            message["reasoning_content"] = plan.reasoning
        if plan.tool_calls:
            message["tool_calls"] = [
                {
                    "id": _call_id(call),
                    "type": "function",
                    "function": {"name": call.name, "arguments": call.arguments_json},
                }
                for call in plan.tool_calls
            ]
        logprobs = None
        if extra["logprobs"]:
            logprobs = {
                "content": [
                    token_logprobs(p, plan.seed, i, extra["top_logprobs"])
                    for i, p in enumerate(plan.text_pieces)
                ],
                "refusal": None,
            }
        choice = {"index": plan.index, "message": message, "logprobs": logprobs, "finish_reason": _FINISH[plan.finish]}
        if _is_deepseek(prompt):
            choice["native_finish_reason"] = _FINISH[plan.finish]
        choices.append(choice)
    return {
        "id": "chatcmpl-" + request_digest[:29],
        "object": "chat.completion",
        "created": int(time.time()),
        "model": extra["model"],
        "system_fingerprint": "fp_emulator",
        "service_tier": "default",
        "choices": choices,
        "usage": _usage(prompt, plans),
    }


def render_stream(prompt: Prompt, extra: dict[str, Any], request_digest: str) -> list[Frame]:
    """The ``chat.completion.chunk`` events, choices interleaved by index, ``[DONE]`` last.

    Example:
        >>> prompt, extra = parse({"messages": [{"role": "user", "content": "Hi"}], "stream": True}, "ep")
        >>> render_stream(prompt, extra, "0" * 64)[-1].data
        b'data: [DONE]\\n\\n'
    """
    plans = plan_replies(prompt)
    created = int(time.time())
    include_usage = extra["include_usage"]

    def chunk(choices: list[dict[str, Any]], usage: Any = None) -> bytes:
        body: dict[str, Any] = {
            "id": "chatcmpl-" + request_digest[:29],
            "object": "chat.completion.chunk",
            "created": created,
            "model": extra["model"],
            "system_fingerprint": "fp_emulator",
            "service_tier": "default",
            "choices": choices,
        }
        if include_usage:
            body["usage"] = usage
        return sse_data(body)

    def choice(
        plan: Plan, delta: dict[str, Any], finish: str | None = None, logprobs: Any = None
    ) -> dict[str, Any]:
        body = {"index": plan.index, "delta": delta, "logprobs": logprobs, "finish_reason": finish}
        if finish is not None and _is_deepseek(prompt):
            body["native_finish_reason"] = finish
        return body

    lanes: list[list[Frame]] = []
    for plan in plans:
        lane = [Frame(chunk([choice(plan, {"role": "assistant", "content": "", "refusal": None})]))]
        for piece in plan.reasoning_pieces:
            lane.append(Frame(chunk([choice(plan, {"reasoning_content": piece})]), token=True))
        for i, piece in enumerate(plan.text_pieces):
            logprobs = None
            if extra["logprobs"]:
                logprobs = {
                    "content": [token_logprobs(piece, plan.seed, i, extra["top_logprobs"])],
                    "refusal": None,
                }
            lane.append(Frame(chunk([choice(plan, {"content": piece}, logprobs=logprobs)]), token=True))
        for number, call in enumerate(plan.tool_calls):
            head = {
                "index": number,
                "id": _call_id(call),
                "type": "function",
                "function": {"name": call.name, "arguments": ""},
            }
            lane.append(Frame(chunk([choice(plan, {"tool_calls": [head]})]), token=True))
            for piece in pieces(call.arguments_json):
                fragment = {"index": number, "function": {"arguments": piece}}
                lane.append(Frame(chunk([choice(plan, {"tool_calls": [fragment]})]), token=True))
        lane.append(Frame(chunk([choice(plan, {}, _FINISH[plan.finish])])))
        lanes.append(lane)
    frames = interleave(lanes)
    if include_usage:
        frames.append(Frame(chunk([], _usage(prompt, plans))))
    frames.append(Frame(sse_data("[DONE]")))
    return frames


def _error_frame(error: EmulatorError, _position: int) -> bytes:
    return sse_data(error_body("openai", error))


def handle(request: Request, app: EmulatorApp) -> JSONReply | StreamReply:
    """POST ``/v1/ai/{ep}/chat/completions``.

    Example:
        >>> from cloudsway_nb.emulator.app import create_app
        >>> from cloudsway_nb.emulator.request import Request
        >>> body = b'{"messages": [{"role": "user", "content": "Hi"}]}'
        >>> request = Request("POST", "/v1/ai/ep/chat/completions", {}, {}, body, {"ep": "ep"})
        >>> reply = handle(request, create_app())
        >>> reply.body["object"]
        'chat.completion'
    """
    body = request.json_object()
    prompt, extra = parse(body, request.params.get("ep", ""))
    request_digest = digest("chat", body)
    if extra["stream"]:
        return StreamReply(render_stream(prompt, extra, request_digest), _error_frame, SSE_KEEPALIVE)
    reply = render(prompt, extra, request_digest)
    return JSONReply(reply, tokens=reply["usage"]["completion_tokens"])
