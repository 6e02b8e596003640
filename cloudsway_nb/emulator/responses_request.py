"""OpenAI Responses API requests: a create body parsed into a :class:`~.conversation.Prompt`.

Request: ``input`` (string or items: messages with ``input_text`` / ``input_image`` /
``input_file`` parts, ``function_call``, ``function_call_output``, ``reasoning``),
``instructions``, ``previous_response_id`` (the stored conversation continues), ``tools`` (flat
function tools), ``tool_choice`` (including ``allowed_tools``), ``text.format``,
``reasoning.{effort, summary}``, ``max_output_tokens``, ``background``, ``store``, ``stream``,
``include`` (``message.output_text.logprobs``, ``reasoning.encrypted_content``) and
``top_logprobs``. Besides the prompt, :func:`parse` returns the settings that the response
object echoes back and that :mod:`.responses_events` renders from.

Example:
    >>> from cloudsway_nb.emulator.store import ResponseStore
    >>> prompt, settings = parse({"input": "Hi", "reasoning": {"effort": "low"}}, "ep", ResponseStore())
    >>> prompt.reasoning, settings["stream"]
    (True, False)
"""

from __future__ import annotations

import copy
import json
from typing import Any

from .conversation import Prompt, Tool, ToolCall, ToolResult, Turn
from .errors import EmulatorError, bad_request
from .media import MediaInfo, describe_base64, describe_reference, describe_url
from .store import ResponseStore

__all__ = ["parse"]

_LOGPROBS_INCLUDE = "message.output_text.logprobs"
_TEXT_PARTS = ("input_text", "output_text", "text", "summary_text", "reasoning_text")
_SKIPPED_ITEMS = ("reasoning", "item_reference", "web_search_call", "file_search_call")


def _text_of(value: Any) -> str:
    """The text of ``instructions`` or a tool output: a string, a list of text parts, or JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "\n".join(_text_of(v.get("text", "") if isinstance(v, dict) else v) for v in value)
    return json.dumps(value, ensure_ascii=False) if value is not None else ""


def _image_part(part: dict[str, Any], here: str) -> MediaInfo:
    url = part.get("image_url")
    if isinstance(url, dict):
        url = url.get("url")
    if isinstance(url, str) and url:
        return describe_url(url, "image")
    if part.get("file_id"):
        return describe_reference(str(part["file_id"]), "image")
    raise bad_request(
        f"Missing required parameter: '{here}.image_url'.",
        f"{here}.image_url",
        "missing_required_parameter",
    )


def _file_part(part: dict[str, Any], here: str) -> MediaInfo:
    data, name = part.get("file_data"), part.get("filename")
    if isinstance(data, str) and data:
        if data.startswith("data:"):
            return describe_url(data, "document")
        return describe_base64(data, None, "document", name)
    if part.get("file_url"):
        return describe_url(str(part["file_url"]), "document")
    if part.get("file_id"):
        return describe_reference(str(part["file_id"]), "document")
    raise bad_request(
        f"Missing required parameter: '{here}.file_data'.",
        f"{here}.file_data",
        "missing_required_parameter",
    )


def _audio_part(part: dict[str, Any]) -> MediaInfo:
    audio = part.get("input_audio") or part
    fmt = str(audio.get("format") or "")
    return describe_base64(str(audio.get("data", "")), f"audio/{fmt}" if fmt else None, "audio")


def _parts(content: Any, where: str) -> tuple[str, list[MediaInfo]]:
    """Text and media of a message item's ``content`` (a string or a list of parts)."""
    if isinstance(content, str):
        return content, []
    if not isinstance(content, list):
        raise bad_request(
            f"Invalid type for '{where}': expected a string or an array.", where, "invalid_type"
        )
    texts: list[str] = []
    media: list[MediaInfo] = []
    for j, part in enumerate(content):
        here = f"{where}[{j}]"
        if not isinstance(part, dict):
            raise bad_request(f"Invalid type for '{here}': expected an object.", here, "invalid_type")
        kind = part.get("type")
        if kind in _TEXT_PARTS:
            texts.append(str(part.get("text", "")))
        elif kind == "refusal":
            texts.append(str(part.get("refusal", "")))
        elif kind == "input_image":
            media.append(_image_part(part, here))
        elif kind == "input_file":
            media.append(_file_part(part, here))
        elif kind == "input_audio":
            media.append(_audio_part(part))
        else:
            raise bad_request(
                f"Invalid value: '{kind}'. Supported values are: 'input_text', 'input_image', 'input_file', "
                "'output_text' and 'refusal'.",
                f"{here}.type",
            )
    return "\n".join(t for t in texts if t), media


def _function_call_turn(item: dict[str, Any], call_names: dict[str, str]) -> Turn:
    """A ``function_call`` item as an assistant turn; remembers the call's name by its id."""
    args = item.get("arguments")
    try:
        parsed = json.loads(args) if isinstance(args, str) else args
    except json.JSONDecodeError:
        parsed = args
    call_id = str(item.get("call_id", ""))
    call_names[call_id] = str(item.get("name", ""))
    return Turn("assistant", tool_calls=[ToolCall(str(item.get("name", "")), parsed, call_id)])


def _function_output_turn(item: dict[str, Any], where: str, call_names: dict[str, str]) -> Turn:
    """A ``function_call_output`` item as a tool turn, named after the call it answers."""
    call_id = str(item.get("call_id", ""))
    if not call_id:
        raise bad_request(
            f"Missing required parameter: '{where}.call_id'.",
            f"{where}.call_id",
            "missing_required_parameter",
        )
    result = ToolResult(call_names.get(call_id), _text_of(item.get("output", "")), call_id)
    return Turn("tool", tool_results=[result])


def _input_turns(value: Any, call_names: dict[str, str]) -> list[Turn]:
    """The turns of ``input``: a string, or a list of message / function-call / output items."""
    if isinstance(value, str):
        return [Turn("user", value)]
    if not isinstance(value, list):
        raise bad_request(
            "Invalid type for 'input': expected a string or an array of input items.", "input", "invalid_type"
        )
    turns: list[Turn] = []
    for i, item in enumerate(value):
        where = f"input[{i}]"
        if not isinstance(item, dict):
            raise bad_request(f"Invalid type for '{where}': expected an object.", where, "invalid_type")
        kind = item.get("type", "message" if "role" in item else None)
        if kind == "message":
            role = item.get("role")
            if role not in ("user", "assistant", "system", "developer"):
                raise bad_request(
                    f"Invalid value: '{role}'. Supported values are: 'assistant', 'system', 'developer', "
                    "and 'user'.",
                    f"{where}.role",
                )
            text, media = _parts(item.get("content", ""), f"{where}.content")
            turns.append(Turn(role, text, media))
        elif kind == "function_call":
            turns.append(_function_call_turn(item, call_names))
        elif kind == "function_call_output":
            turns.append(_function_output_turn(item, where, call_names))
        elif kind in _SKIPPED_ITEMS:
            continue
        else:
            raise bad_request(f"Invalid value: '{kind}' is not a supported input item type.", f"{where}.type")
    return turns


def _previous_turns(previous_id: Any, store: ResponseStore, call_names: dict[str, str]) -> list[Turn]:
    """A copy of the stored conversation ``previous_response_id`` names (a 404 when unknown)."""
    if previous_id is None:
        return []
    previous = store.get(str(previous_id))
    if previous is None:
        raise EmulatorError(
            404,
            f"Previous response with id '{previous_id}' not found.",
            param="previous_response_id",
            code="previous_response_not_found",
        )
    turns = copy.deepcopy(previous.turns)
    for turn in turns:
        for call in turn.tool_calls:
            call_names[call.call_id] = call.name
    return turns


def _tools(body: dict[str, Any], prompt: Prompt) -> None:
    """``tools`` (function tools only, flat or in the chat form) and ``tool_choice`` onto ``prompt``."""
    tools = body.get("tools") or []
    if not isinstance(tools, list):
        raise bad_request("Invalid type for 'tools': expected an array.", "tools", "invalid_type")
    for i, tool in enumerate(tools):
        if not isinstance(tool, dict) or tool.get("type") != "function":
            continue
        # tolerate the chat form {"type": "function", "function": {...}}
        fn: dict[str, Any] = tool["function"] if isinstance(tool.get("function"), dict) else tool
        if not fn.get("name"):
            raise bad_request(
                f"Missing required parameter: 'tools[{i}].name'.",
                f"tools[{i}].name",
                "missing_required_parameter",
            )
        prompt.tools.append(
            Tool(str(fn["name"]), str(fn.get("description") or ""), fn.get("parameters") or {})
        )
    if body.get("parallel_tool_calls") is False:
        prompt.parallel_tool_calls = False
    choice = body.get("tool_choice", "auto")
    names = [t.name for t in prompt.tools]
    if isinstance(choice, str):
        if choice not in ("auto", "none", "required"):
            raise bad_request(f"Invalid value for 'tool_choice': '{choice}'.", "tool_choice")
        prompt.tool_choice = choice
    elif isinstance(choice, dict):
        if choice.get("type") == "allowed_tools":
            allowed = [t.get("name") for t in choice.get("tools") or [] if isinstance(t, dict)]
            prompt.tools = [t for t in prompt.tools if t.name in allowed]
            prompt.tool_choice = "required" if choice.get("mode") == "required" else "auto"
        elif choice.get("type") == "function":
            if choice.get("name") not in names:
                raise bad_request(
                    f"Invalid value for 'tool_choice': no function named '{choice.get('name')}'.",
                    "tool_choice",
                )
            prompt.tool_choice = str(choice["name"])


def _text_format(body: dict[str, Any], prompt: Prompt) -> None:
    """``text.format`` (``json_object`` or ``json_schema``) as the prompt's JSON mode."""
    fmt = (body.get("text") or {}).get("format") if isinstance(body.get("text"), dict) else None
    if not isinstance(fmt, dict):
        return
    if fmt.get("type") == "json_object":
        prompt.json_mode = "object"
    elif fmt.get("type") == "json_schema":
        if not isinstance(fmt.get("schema"), dict):
            raise bad_request(
                "Missing required parameter: 'text.format.schema'.",
                "text.format.schema",
                "missing_required_parameter",
            )
        prompt.json_mode, prompt.json_schema = "schema", fmt["schema"]


def _max_output_tokens(body: dict[str, Any]) -> int | None:
    limit = body.get("max_output_tokens")
    if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 16):
        raise bad_request(
            "Invalid 'max_output_tokens': integer below minimum value 16.",
            "max_output_tokens",
            "integer_below_min_value",
        )
    return limit


def _include_and_top_logprobs(body: dict[str, Any]) -> tuple[list[Any], int | None]:
    """``include`` (a list) and ``top_logprobs`` (0 to 20, or absent), checked in that order."""
    include = body.get("include") or []
    if not isinstance(include, list):
        raise bad_request("Invalid type for 'include': expected an array of strings.", "include", "invalid_type")
    top = body.get("top_logprobs")
    if top is not None and (not isinstance(top, int) or isinstance(top, bool) or not 0 <= top <= 20):
        raise bad_request(
            "Invalid 'top_logprobs': must be an integer between 0 and 20.", "top_logprobs", "invalid_value"
        )
    return include, top


def _settings(
    body: dict[str, Any],
    prompt: Prompt,
    *,
    background: bool,
    store: bool,
    limit: int | None,
    include: list[Any],
    top: int | None,
) -> dict[str, Any]:
    """What the response object echoes back, and how to render it (stream, logprobs, ...)."""
    reasoning = body.get("reasoning")
    return {
        "stream": bool(body.get("stream")),
        "background": background,
        "store": store,
        "model": prompt.model,
        "instructions": body.get("instructions"),
        "previous_response_id": body.get("previous_response_id"),
        "reasoning": {"effort": prompt.effort, "summary": (reasoning or {}).get("summary")}
        if isinstance(reasoning, dict)
        else {"effort": None, "summary": None},
        "text": body.get("text") if isinstance(body.get("text"), dict) else {"format": {"type": "text"}},
        "tools": body.get("tools") or [],
        "tool_choice": body.get("tool_choice", "auto"),
        "parallel_tool_calls": prompt.parallel_tool_calls,
        "max_output_tokens": limit,
        "metadata": body.get("metadata") or {},
        "temperature": body.get("temperature", 1.0),
        "top_p": body.get("top_p", 1.0),
        "user": body.get("user"),
        "encrypted_reasoning": "reasoning.encrypted_content" in include,
        "logprobs": _LOGPROBS_INCLUDE in include or top is not None,
        "top_logprobs": top or 0,
    }


def parse(body: dict[str, Any], endpoint: str, store: ResponseStore) -> tuple[Prompt, dict[str, Any]]:
    """The neutral prompt and the settings echoed into the response object.

    ``store`` holds the responses ``previous_response_id`` may name.

    Example:
        >>> parse({"input": "x", "instructions": "Be brief"}, "ep", ResponseStore())[0].system_text()
        'Be brief'
    """
    if body.get("input") is None:
        raise bad_request("Missing required parameter: 'input'.", "input", "missing_required_parameter")
    call_names: dict[str, str] = {}
    previous_id = body.get("previous_response_id")
    earlier = _previous_turns(previous_id, store, call_names)
    instructions = body.get("instructions")
    system = [Turn("system", _text_of(instructions))] if instructions else []
    turns = system + earlier + _input_turns(body["input"], call_names)
    prompt = Prompt(turns=turns, model=str(body.get("model") or endpoint))
    prompt.continuing_from = str(previous_id) if previous_id else None
    _tools(body, prompt)
    _text_format(body, prompt)
    reasoning = body.get("reasoning")
    if isinstance(reasoning, dict) and reasoning.get("effort", "medium") != "none":
        prompt.reasoning = True
        prompt.effort = reasoning.get("effort") or "medium"
    limit = _max_output_tokens(body)
    if limit is not None:
        prompt.max_tokens = limit
    include, top = _include_and_top_logprobs(body)
    background = bool(body.get("background"))
    store_it = body.get("store", True) is not False
    if background and not store_it:
        raise bad_request("Background mode requires 'store' to be true.", "store")
    settings = _settings(body, prompt, background=background, store=store_it, limit=limit, include=include, top=top)
    return prompt, settings
