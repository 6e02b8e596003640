"""A reply's JSON as the server would have sent it whole, also for a streamed reply: what `--show raw` shows.

A streamed reply's `raw` is every decoded event (hundreds of chunks for a long answer), which is
what the wire carried but not something to read, nor to save into a notebook. `assembled_raw`
gives one JSON object in the protocol's own non-streamed shape instead: a `chat.completion`, the
Responses `response` of the final event, an Anthropic `message` with its content blocks, a Gemini
`GenerateContentResponse`, built from the parsed reply (its text, reasoning, tool calls, the
protocol's native content parts, finish reason and the server's usage) and the stream's first and
last events. A whole (non-streamed) reply's JSON is returned as it is.

Example:
    >>> from cloudsway_nb.types import Choice, Reply, Usage
    >>> events = [{"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o", "choices": []}]
    >>> reply = Reply(choices=[Choice(text="Hi", finish_reason="stop", native_finish_reason="stop")],
    ...               usage=Usage(input=1, output=1, raw={"prompt_tokens": 1}), protocol="chat", raw=events)
    >>> whole = assembled_raw(reply)
    >>> whole["object"], whole["choices"][0]["message"]["content"], whole["usage"]
    ('chat.completion', 'Hi', {'prompt_tokens': 1})
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .types import Choice, Reply

__all__ = ["assembled_raw", "is_stream_raw"]


def is_stream_raw(raw: Any) -> bool:
    """Whether `raw` is a stream's list of events (rather than a whole reply's JSON)."""
    return isinstance(raw, Sequence) and not isinstance(raw, str | bytes | bytearray)


def assembled_raw(reply: Reply) -> Any:
    """The reply as one JSON object in its protocol's non-streamed shape (see the module docstring)."""
    raw = reply.raw
    if not is_stream_raw(raw):
        return raw
    events = [e for e in raw if isinstance(e, Mapping)]
    build = _BUILDERS.get(reply.protocol, _summary)
    return build(reply, events)


def _chat(reply: Reply, events: list[Mapping[str, Any]]) -> dict[str, Any]:
    head = dict(events[0]) if events else {}
    head.pop("choices", None)
    head.pop("usage", None)
    head["object"] = "chat.completion"
    head.setdefault("id", reply.id)
    head.setdefault("model", reply.model)
    head["choices"] = [_chat_choice(c) for c in reply.choices]
    head["usage"] = reply.usage.raw
    return head


def _chat_choice(choice: Choice) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": choice.text or None}
    if choice.reasoning:
        message["reasoning_content"] = choice.reasoning
    if choice.tool_calls:
        message["tool_calls"] = [
            {"id": t.id, "type": "function", "function": {"name": t.name, "arguments": t.arguments_json}}
            for t in choice.tool_calls
        ]
    return {"index": choice.index, "message": message,
            "finish_reason": choice.native_finish_reason or choice.finish_reason}


def _responses(reply: Reply, events: list[Mapping[str, Any]]) -> Any:
    last = next((e["response"] for e in reversed(events) if isinstance(e.get("response"), Mapping)), None)
    if last is None:
        return _summary(reply, events)
    response = dict(last)
    if response.get("status") == "in_progress" or not response.get("output"):  # cut short: what had arrived
        response["output"] = list(reply.choices[0].native or []) if reply.choices else []
    return response


def _messages(reply: Reply, events: list[Mapping[str, Any]]) -> dict[str, Any]:
    start = next((e["message"] for e in events if e.get("type") == "message_start"
                  and isinstance(e.get("message"), Mapping)), {})
    message = dict(start)
    choice = reply.choices[0] if reply.choices else Choice()
    message["content"] = list(choice.native) if isinstance(choice.native, list) else [{"type": "text",
                                                                                      "text": choice.text}]
    message["stop_reason"] = choice.native_finish_reason
    message["usage"] = reply.usage.raw
    return message


def _gemini(reply: Reply, events: list[Mapping[str, Any]]) -> dict[str, Any]:
    candidates = []
    for c in reply.choices:
        parts = list(c.native) if isinstance(c.native, list) else [{"text": c.text}]
        candidate: dict[str, Any] = {"content": {"role": "model", "parts": parts}, "index": c.index}
        if c.native_finish_reason:
            candidate["finishReason"] = c.native_finish_reason
        candidates.append(candidate)
    return {"candidates": candidates, "usageMetadata": reply.usage.raw, "modelVersion": reply.model,
            "responseId": reply.id}


def _summary(reply: Reply, events: list[Mapping[str, Any]]) -> dict[str, Any]:
    """Any other protocol: the normalized reply, with the server's own usage."""
    out = reply.to_dict()
    out["usage_raw"] = reply.usage.raw
    return out


_BUILDERS = {"chat": _chat, "responses": _responses, "messages": _messages, "gemini": _gemini}
