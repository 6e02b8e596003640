"""Anthropic Messages (native): parse, render the message and its event stream.

Request: ``max_tokens`` (required), ``messages`` (blocks ``text``, ``image``, ``document``,
``tool_use``, ``tool_result``, ``thinking``), ``system``, ``thinking: {type: enabled,
budget_tokens}``, ``tools`` (``input_schema``), ``tool_choice`` (``disable_parallel_tool_use``:
one ``tool_use`` block at most, else one per fitting tool), ``stop_sequences``, ``stream``.

Stream: ``event: NAME`` + ``data: {json}``: message_start, ping, per block content_block_start /
content_block_delta (thinking_delta + signature_delta, text_delta, input_json_delta) /
content_block_stop, then message_delta (stop_reason, usage) and message_stop.

Example:
    >>> prompt, extra = parse({"max_tokens": 100, "messages": [{"role": "user", "content": "Hi"}]}, "ep")
    >>> prompt.last_user_text(), extra["stream"]
    ('Hi', False)
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from . import media
from .conversation import Prompt, Tool, ToolCall, ToolResult, Turn, digest
from .errors import EmulatorError, bad_request, error_body
from .generate import Plan, plan_reply, reasoning_signature
from .media import MediaInfo
from .replies import Frame, JSONReply, StreamReply, sse_event
from .tokenizer import pieces

if TYPE_CHECKING:
    from .app import EmulatorApp
    from .request import Request

__all__ = ["count_tokens", "handle", "parse", "render", "render_stream"]

_STOP = {
    "stop": "end_turn",
    "length": "max_tokens",
    "tool_calls": "tool_use",
    "stop_sequence": "stop_sequence",
}
KEEPALIVE = sse_event("ping", {"type": "ping"})


def _source(block: dict[str, Any], kind: str, where: str) -> MediaInfo:
    source = block.get("source")
    if not isinstance(source, dict):
        raise bad_request(f"{where}.source: Field required")
    stype = source.get("type")
    if stype == "base64":
        if not isinstance(source.get("data"), str):
            raise bad_request(f"{where}.source.data: Field required")
        return media.describe_base64(source["data"], source.get("media_type"), kind)
    if stype == "url":
        return media.describe_url(str(source.get("url", "")), kind)
    if stype == "file":
        return media.describe_reference(str(source.get("file_id", "")), kind)
    if stype == "text":
        return media.describe_bytes(
            str(source.get("data", "")).encode("utf-8"), source.get("media_type") or "text/plain", "document"
        )
    if stype == "content":
        inner = source.get("content")
        text = (
            inner
            if isinstance(inner, str)
            else " ".join(str(b.get("text", "")) for b in inner or [] if isinstance(b, dict))
        )
        return media.describe_bytes(text.encode("utf-8"), "text/plain", "document")
    raise bad_request(
        f"{where}.source: Input tag '{stype}' found using 'type' does not match any of the expected tags: "
        "'base64', 'url', 'file', 'text', 'content'"
    )


def _tool_result_text(content: Any) -> tuple[str, list[MediaInfo]]:
    if isinstance(content, str):
        return content, []
    texts, attached = [], []
    for i, block in enumerate(content or []):
        if not isinstance(block, dict):
            continue
        if block.get("type") == "text":
            texts.append(str(block.get("text", "")))
        elif block.get("type") in ("image", "document"):
            attached.append(
                _source(block, "image" if block["type"] == "image" else "document", f"content.{i}")
            )
    return "\n".join(texts), attached


def _message(message: Any, index: int, call_names: dict[str, str]) -> list[Turn]:
    where = f"messages.{index}"
    if not isinstance(message, dict):
        raise bad_request(f"{where}: Input should be a valid dictionary")
    role = message.get("role")
    if role not in ("user", "assistant"):
        raise bad_request(f"{where}.role: Input should be 'user' or 'assistant'")
    content = message.get("content")
    if content is None:
        raise bad_request(f"{where}.content: Field required")
    if isinstance(content, str):
        return [Turn(role, content)]
    if not isinstance(content, list):
        raise bad_request(f"{where}.content: Input should be a valid list")
    texts: list[str] = []
    attached: list[MediaInfo] = []
    calls: list[ToolCall] = []
    results: list[ToolResult] = []
    result_media: list[MediaInfo] = []
    for j, block in enumerate(content):
        here = f"{where}.content.{j}"
        if not isinstance(block, dict):
            raise bad_request(f"{here}: Input should be a valid dictionary")
        kind = block.get("type")
        if kind == "text":
            texts.append(str(block.get("text", "")))
        elif kind in ("image", "document"):
            attached.append(_source(block, "image" if kind == "image" else "document", here))
        elif kind == "tool_use":
            call = ToolCall(str(block.get("name", "")), block.get("input", {}), str(block.get("id", "")))
            call_names[call.call_id] = call.name
            calls.append(call)
        elif kind == "tool_result":
            text, found = _tool_result_text(block.get("content", ""))
            use_id = str(block.get("tool_use_id", ""))
            results.append(ToolResult(call_names.get(use_id), text, use_id))
            result_media.extend(found)
        elif kind in (
            "thinking",
            "redacted_thinking",
            "server_tool_use",
            "web_search_tool_result",
            "search_result",
        ):
            continue
        else:
            raise bad_request(
                f"{here}: Input tag '{kind}' found using 'type' does not match any of the expected tags: "
                "'text', 'image', 'document', 'tool_use', 'tool_result', 'thinking', 'redacted_thinking'"
            )
    turns: list[Turn] = []
    if results:
        turns.append(Turn("tool", tool_results=results, media=result_media))
    text = "\n".join(t for t in texts if t)
    if text or attached or calls or not results:
        turns.append(Turn(role, text, attached, tool_calls=calls))
    return turns


def _system(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "\n".join(str(b.get("text", "")) for b in value if isinstance(b, dict))
    return ""


def parse(
    body: dict[str, Any], endpoint: str, *, need_max_tokens: bool = True
) -> tuple[Prompt, dict[str, Any]]:
    """The neutral prompt and rendering options (stream, model).

    Example:
        >>> thinking = {"type": "enabled", "budget_tokens": 1024}
        >>> body = {"max_tokens": 2000, "thinking": thinking, "messages": []}
        >>> parse(body, "ep")[0].reasoning_budget
        1024
    """
    max_tokens = body.get("max_tokens")
    if need_max_tokens:
        if max_tokens is None:
            raise bad_request("max_tokens: Field required")
        if not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or max_tokens < 1:
            raise bad_request("max_tokens: Input should be a valid integer greater than or equal to 1")
    messages = body.get("messages")
    if messages is None:
        raise bad_request("messages: Field required")
    if not isinstance(messages, list):
        raise bad_request("messages: Input should be a valid list")
    turns: list[Turn] = []
    system = _system(body.get("system"))
    if system:
        turns.append(Turn("system", system))
    call_names: dict[str, str] = {}
    for i, message in enumerate(messages):
        turns.extend(_message(message, i, call_names))
    prompt = Prompt(turns=turns, model=str(body.get("model") or endpoint))
    prompt.max_tokens = max_tokens if isinstance(max_tokens, int) else None
    thinking = body.get("thinking")
    if isinstance(thinking, dict) and thinking.get("type") in ("enabled", "adaptive"):
        budget = thinking.get("budget_tokens")
        if thinking["type"] == "enabled":
            if not isinstance(budget, int) or budget < 1024:
                raise bad_request(
                    "thinking.enabled.budget_tokens: Input should be greater than or equal to 1024"
                )
            if prompt.max_tokens is not None and budget >= prompt.max_tokens:
                raise bad_request(
                    "`max_tokens` must be greater than `thinking.budget_tokens`. Please consult our "
                    "documentation at https://docs.claude.com/en/docs/build-with-claude/extended-thinking"
                    "#max-tokens-and-context-window-size"
                )
            prompt.reasoning_budget = budget
        prompt.reasoning = True
    for i, tool in enumerate(body.get("tools") or []):
        if not isinstance(tool, dict):
            raise bad_request(f"tools.{i}: Input should be a valid dictionary")
        if tool.get("type") not in (None, "custom"):
            continue  # server tools (web search, code execution...) are not emulated
        if not tool.get("name"):
            raise bad_request(f"tools.{i}.name: Field required")
        prompt.tools.append(
            Tool(str(tool["name"]), str(tool.get("description") or ""), tool.get("input_schema") or {})
        )
    choice = body.get("tool_choice")
    if isinstance(choice, dict):
        if choice.get("disable_parallel_tool_use"):
            prompt.parallel_tool_calls = False
        kind = choice.get("type")
        if kind == "tool":
            if choice.get("name") not in [t.name for t in prompt.tools]:
                raise bad_request(f"tool_choice.name: no tool named '{choice.get('name')}' in tools")
            prompt.tool_choice = str(choice["name"])
        else:
            prompt.tool_choice = {"any": "required", "none": "none"}.get(str(kind), "auto")
    stops = body.get("stop_sequences") or []
    prompt.stop = [s for s in stops if isinstance(s, str)]
    return prompt, {"stream": bool(body.get("stream")), "model": prompt.model}


def _usage(prompt: Prompt, plan: Plan) -> dict[str, Any]:
    cached = prompt.cached_tokens()
    return {
        "input_tokens": prompt.input_tokens() - cached,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": cached,
        "output_tokens": plan.output_tokens,
        "service_tier": "standard",
    }


def _blocks(plan: Plan) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    if plan.reasoning is not None:
        blocks.append(
            {"type": "thinking", "thinking": plan.reasoning, "signature": reasoning_signature(plan.reasoning)}
        )
    if plan.text is not None:
        blocks.append({"type": "text", "text": plan.text})
    for call in plan.tool_calls:
        blocks.append({"type": "tool_use", "id": "toolu_" + call.call_id, "name": call.name, "input": call.arguments})
    return blocks


def render(prompt: Prompt, extra: dict[str, Any], request_digest: str) -> dict[str, Any]:
    """The ``message`` object.

    Example:
        >>> prompt, extra = parse({"max_tokens": 50, "messages": [{"role": "user", "content": "Hi"}]}, "ep")
        >>> render(prompt, extra, "0" * 64)["content"]
        [{'type': 'text', 'text': 'You said: Hi.'}]
    """
    plan = plan_reply(prompt)
    return {
        "id": "msg_" + request_digest[:24],
        "type": "message",
        "role": "assistant",
        "model": extra["model"],
        "content": _blocks(plan),
        "stop_reason": _STOP[plan.finish],
        "stop_sequence": plan.stop_sequence,
        "usage": _usage(prompt, plan),
    }


def render_stream(prompt: Prompt, extra: dict[str, Any], request_digest: str) -> list[Frame]:
    """The event stream of a message.

    Example:
        >>> prompt, extra = parse({"max_tokens": 50, "messages": [{"role": "user", "content": "Hi"}]}, "ep")
        >>> render_stream(prompt, extra, "0" * 64)[-1].data
        b'event: message_stop\\ndata: {"type":"message_stop"}\\n\\n'
    """
    plan = plan_reply(prompt)
    usage = _usage(prompt, plan)
    start = {
        "id": "msg_" + request_digest[:24],
        "type": "message",
        "role": "assistant",
        "model": extra["model"],
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {**usage, "output_tokens": 1},
    }
    frames = [
        Frame(sse_event("message_start", {"type": "message_start", "message": start})),
        Frame(KEEPALIVE),
    ]
    for index, block in enumerate(_blocks(plan)):
        kind = block["type"]
        opening: dict[str, Any]
        deltas: list[dict[str, Any]]
        if kind == "thinking":
            opening = {"type": "thinking", "thinking": "", "signature": ""}
            deltas = [{"type": "thinking_delta", "thinking": p} for p in plan.reasoning_pieces]
            deltas.append({"type": "signature_delta", "signature": block["signature"]})
        elif kind == "text":
            opening = {"type": "text", "text": ""}
            deltas = [{"type": "text_delta", "text": p} for p in plan.text_pieces]
        else:
            opening = {"type": "tool_use", "id": block["id"], "name": block["name"], "input": {}}
            deltas = [
                {"type": "input_json_delta", "partial_json": p} for p in pieces(json.dumps(block["input"]))
            ]
        frames.append(
            Frame(
                sse_event(
                    "content_block_start",
                    {"type": "content_block_start", "index": index, "content_block": opening},
                )
            )
        )
        for delta in deltas:
            frames.append(
                Frame(
                    sse_event(
                        "content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta}
                    ),
                    token=delta["type"] != "signature_delta",
                )
            )
        frames.append(Frame(sse_event("content_block_stop", {"type": "content_block_stop", "index": index})))
    frames.append(
        Frame(
            sse_event(
                "message_delta",
                {
                    "type": "message_delta",
                    "delta": {"stop_reason": _STOP[plan.finish], "stop_sequence": plan.stop_sequence},
                    "usage": {
                        "input_tokens": usage["input_tokens"],
                        "cache_creation_input_tokens": 0,
                        "cache_read_input_tokens": usage["cache_read_input_tokens"],
                        "output_tokens": plan.output_tokens,
                    },
                },
            )
        )
    )
    frames.append(Frame(sse_event("message_stop", {"type": "message_stop"})))
    return frames


def _error_frame(error: EmulatorError, _position: int) -> bytes:
    return sse_event("error", error_body("anthropic", error))


def handle(request: Request, app: EmulatorApp) -> JSONReply | StreamReply:
    """POST ``/{ep}/v1/messages``.

    Example:
        >>> from cloudsway_nb.emulator.app import create_app
        >>> from cloudsway_nb.emulator.request import Request
        >>> body = b'{"max_tokens": 9, "messages": [{"role": "user", "content": "Hi"}]}'
        >>> request = Request("POST", "/c/v1/messages", {}, {}, body, {"ep": "c"})
        >>> handle(request, create_app()).body["stop_reason"]
        'end_turn'
    """
    body = request.json_object()
    prompt, extra = parse(body, request.params.get("ep", ""))
    request_digest = digest("messages", body)
    if extra["stream"]:
        return StreamReply(render_stream(prompt, extra, request_digest), _error_frame, KEEPALIVE)
    reply = render(prompt, extra, request_digest)
    return JSONReply(reply, tokens=reply["usage"]["output_tokens"])


def count_tokens(request: Request, app: EmulatorApp) -> JSONReply:
    """POST ``/{ep}/v1/messages/count_tokens``.

    Example:
        >>> from cloudsway_nb.emulator.app import create_app
        >>> from cloudsway_nb.emulator.request import Request
        >>> body = b'{"messages": [{"role": "user", "content": "Hi"}]}'
        >>> count_tokens(Request("POST", "/c/v1/messages/count_tokens", {}, {}, body, {}), create_app()).body
        {'input_tokens': 7}
    """
    prompt, _ = parse(request.json_object(), request.params.get("ep", ""), need_max_tokens=False)
    return JSONReply({"input_tokens": prompt.input_tokens()})
