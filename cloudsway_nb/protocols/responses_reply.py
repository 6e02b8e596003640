"""Parsing a Responses API `response` object into a Reply (for parse_reply and the stream parser).

The reply's text is every message item's output_text and refusal parts, its reasoning the
reasoning items' summaries (else their reasoning_text content), its tool calls the function_call
items; the whole `output` list is kept as `Choice.native`.

Example:
    >>> reply = parse_response({"id": "resp_1", "status": "incomplete",
    ...     "incomplete_details": {"reason": "max_output_tokens"}, "usage": {"input_tokens": 5},
    ...     "output": [{"type": "reasoning", "summary": [{"type": "summary_text", "text": "Sum."}]},
    ...                {"type": "function_call", "call_id": "c1", "name": "add", "arguments": '{"a": 1}'}]})
    >>> reply.reasoning, reply.tool_calls[0].arguments, reply.finish_reason, reply.usage.input
    ('Sum.', {'a': 1}, 'length', 5)
"""

from __future__ import annotations

import json
from typing import Any

from ..errors import MalformedReplyError
from ..types import Choice, Reply, TokenLogprob, ToolCall, TopLogprob, Usage, parse_tool_arguments

__all__ = ["parse_response", "parse_usage"]

_INCOMPLETE_REASONS = {"max_output_tokens": "length", "content_filter": "content_filter"}


def parse_usage(raw: Any) -> Usage:
    """A Responses (or chat-style) usage dict as a Usage; an empty Usage for anything else."""
    if not isinstance(raw, dict):
        return Usage()
    in_details = raw.get("input_tokens_details") or raw.get("prompt_tokens_details") or {}
    out_details = raw.get("output_tokens_details") or raw.get("completion_tokens_details") or {}
    inp = raw.get("input_tokens", raw.get("prompt_tokens"))
    out = raw.get("output_tokens", raw.get("completion_tokens"))
    return Usage(
        input=inp,
        output=out,
        reasoning=out_details.get("reasoning_tokens") if isinstance(out_details, dict) else None,
        cached=in_details.get("cached_tokens") if isinstance(in_details, dict) else None,
        total=raw.get("total_tokens"),
        raw=raw,
    )


def _logprobs(raw: Any) -> list[TokenLogprob]:
    out: list[TokenLogprob] = []
    for lp in raw or ():
        if not isinstance(lp, dict):
            continue
        top = tuple(
            TopLogprob(t.get("token", ""), t.get("logprob", 0.0))
            for t in lp.get("top_logprobs") or ()
            if isinstance(t, dict)
        )
        out.append(TokenLogprob(lp.get("token", ""), lp.get("logprob", 0.0), top))
    return out


def _finish_reason(data: dict[str, Any], has_calls: bool, has_output: bool) -> tuple[str | None, str | None]:
    status = data.get("status")
    if status is None:  # some gateways leave it out of a finished body
        status = "completed" if has_output else None
    if status == "completed":
        return ("tool_calls" if has_calls else "stop"), "completed"
    if status == "incomplete":
        details = data.get("incomplete_details")
        reason = details.get("reason") if isinstance(details, dict) else None
        return _INCOMPLETE_REASONS.get(reason or "", "other"), reason or "incomplete"
    if status == "failed":
        return "error", "failed"
    if status == "cancelled":
        return "cancelled", "cancelled"
    return None, None  # queued, in_progress


def _output_items(data: Any) -> list[Any]:
    """The response's `output` list; MalformedReplyError for an error body or anything else."""
    if not isinstance(data, dict):
        raise MalformedReplyError(f"a responses reply must be a JSON object, not {type(data).__name__}")
    output = data.get("output")
    if "output" not in data and "status" not in data:
        err = data.get("error")
        if isinstance(err, dict):
            raise MalformedReplyError(
                f"error body instead of a response: {err.get('message') or err}",
                code=err.get("code") if isinstance(err.get("code"), str) else None,
                body=data,
            )
        raise MalformedReplyError("not a response object (no 'output' or 'status')", body=data)
    if output is None:
        return []
    if not isinstance(output, list):
        raise MalformedReplyError(f"'output' must be a list, not {type(output).__name__}", body=data)
    return output


class _Collected:
    """What the output items hold, gathered in order."""

    __slots__ = ("calls", "logprobs", "reasoning_texts", "summaries", "texts")

    def __init__(self) -> None:
        self.texts: list[str] = []
        self.summaries: list[str] = []
        self.reasoning_texts: list[str] = []
        self.calls: list[ToolCall] = []
        self.logprobs: list[TokenLogprob] | None = None  # None unless a part carried logprobs


def _collect(output: list[Any]) -> _Collected:
    found = _Collected()
    for item in output:
        if not isinstance(item, dict):
            continue
        kind = item.get("type")
        if kind == "message" or (kind is None and item.get("role") == "assistant"):
            _add_message(found, item.get("content"))
        elif kind == "reasoning":
            _add_reasoning(found, item)
        elif kind == "function_call":
            found.calls.append(_tool_call(item))
    return found


def _add_message(found: _Collected, content: Any) -> None:
    if isinstance(content, str):
        found.texts.append(content)
        return
    for part in content or ():
        if not isinstance(part, dict):
            continue
        ptype = part.get("type")
        if ptype == "output_text":
            found.texts.append(part.get("text") or "")
            if part.get("logprobs"):
                found.logprobs = (found.logprobs or []) + _logprobs(part["logprobs"])
        elif ptype == "refusal":
            found.texts.append(part.get("refusal") or "")


def _add_reasoning(found: _Collected, item: dict[str, Any]) -> None:
    for s in item.get("summary") or ():
        if isinstance(s, dict) and s.get("text"):
            found.summaries.append(s["text"])
    for c in item.get("content") or ():
        if isinstance(c, dict) and c.get("text"):
            found.reasoning_texts.append(c["text"])


def _tool_call(item: dict[str, Any]) -> ToolCall:
    raw_args = item.get("arguments")
    if raw_args is not None and not isinstance(raw_args, str):
        raw_args = json.dumps(raw_args, ensure_ascii=False)
    return ToolCall(
        id=item.get("call_id") or item.get("id") or "",
        name=item.get("name") or "",
        arguments=parse_tool_arguments(raw_args),
        raw_arguments=raw_args,
    )


def parse_response(data: Any) -> Reply:
    """A `response` object (a reply body, or one the stream parser assembled) as a Reply."""
    output = _output_items(data)
    found = _collect(output)
    text = "".join(found.texts)
    if not text and isinstance(data.get("output_text"), str):
        text = data["output_text"]
    finish, native_finish = _finish_reason(data, bool(found.calls), bool(output))
    choice = Choice(
        index=0,
        text=text,
        reasoning="\n\n".join(found.summaries or found.reasoning_texts),
        tool_calls=found.calls,
        finish_reason=finish,
        native_finish_reason=native_finish,
        logprobs=found.logprobs,
        native=output,
    )
    return Reply(
        choices=[choice],
        usage=parse_usage(data.get("usage")),
        protocol="responses",
        model=data.get("model"),
        id=data.get("id"),
        status=data.get("status"),
        raw=data,
    )
