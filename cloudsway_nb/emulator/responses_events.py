"""OpenAI Responses API output: the response object and its stream events, and their SSE framing.

:func:`build` renders a parsed request (see :mod:`.responses_request`) into the final response
object and its full event list, in the documented order: ``response.created``,
(``response.queued`` for a background response,) ``response.in_progress``, then per output item
(reasoning, function call or message) ``output_item.added`` / its parts and deltas /
``output_item.done``, then ``response.completed`` (``response.incomplete`` when cut by
``max_output_tokens``). With logprobs asked for, each ``output_text`` part has ``logprobs`` (with
``bytes`` and ``top_logprobs``) and each ``response.output_text.delta`` / ``.done`` event
per-token logprobs.

:func:`number_events` gives the events their ``sequence_number``; :func:`event_stream` frames
them as ``event: TYPE`` + ``data: {...}`` SSE (from any point, for a resumed stream).

Example:
    >>> from cloudsway_nb.emulator.responses_request import parse
    >>> from cloudsway_nb.emulator.store import ResponseStore
    >>> final, events, plan = build(*parse({"input": "Hi"}, "ep", ResponseStore()), "resp_1", 0)
    >>> [e["type"] for e in number_events(events)][:3]
    ['response.created', 'response.in_progress', 'response.output_item.added']
"""

from __future__ import annotations

import base64
import copy
import hashlib
from typing import Any

from .conversation import Prompt, ToolCall
from .errors import EmulatorError, error_event_body
from .generate import Plan, plan_reply, text_logprobs
from .replies import SSE_KEEPALIVE, Frame, StreamReply, sse_event
from .tokenizer import pieces

__all__ = ["build", "event_frame", "event_stream", "number_events"]

#: Events that carry a token: where the app paces a stream and where a fault may cut in.
_TOKEN_EVENTS = (
    "response.output_text.delta",
    "response.reasoning_summary_text.delta",
    "response.function_call_arguments.delta",
)

#: An event before its sequence number, and whether it carries a token.
UnnumberedEvent = tuple[dict[str, Any], bool]


def _item_id(prefix: str, response_id: str, number: int = 0) -> str:
    salt = f"{prefix}:{response_id}" + (f":{number}" if number else "")
    return f"{prefix}_" + hashlib.sha256(salt.encode()).hexdigest()[:48]


def _usage(prompt: Prompt, plan: Plan) -> dict[str, Any]:
    input_tokens = prompt.input_tokens()
    return {
        "input_tokens": input_tokens,
        "input_tokens_details": {"cached_tokens": prompt.cached_tokens()},
        "output_tokens": plan.output_tokens,
        "output_tokens_details": {"reasoning_tokens": plan.reasoning_tokens},
        "total_tokens": input_tokens + plan.output_tokens,
    }


def _response_object(
    prompt: Prompt, plan: Plan, settings: dict[str, Any], response_id: str, created_at: int
) -> dict[str, Any]:
    """The finished response object, its ``output`` still empty."""
    incomplete = plan.finish == "length"
    return {
        "id": response_id,
        "object": "response",
        "created_at": created_at,
        "status": "incomplete" if incomplete else "completed",
        "background": settings["background"],
        "error": None,
        "incomplete_details": {"reason": "max_output_tokens"} if incomplete else None,
        "instructions": settings["instructions"],
        "max_output_tokens": settings["max_output_tokens"],
        "max_tool_calls": None,
        "model": settings["model"],
        "output": [],
        "parallel_tool_calls": settings["parallel_tool_calls"],
        "previous_response_id": settings["previous_response_id"],
        "reasoning": settings["reasoning"],
        "service_tier": "default",
        "store": settings["store"],
        "temperature": settings["temperature"],
        "text": settings["text"],
        "tool_choice": settings["tool_choice"],
        "tools": settings["tools"],
        "top_logprobs": settings["top_logprobs"],
        "top_p": settings["top_p"],
        "truncation": "disabled",
        "usage": _usage(prompt, plan),
        "user": settings["user"],
        "metadata": settings["metadata"],
    }


def _state_events(base: dict[str, Any], background: bool) -> list[UnnumberedEvent]:
    """``response.created``, ``response.queued`` (background only) and ``response.in_progress``."""
    first_status = "queued" if background else "in_progress"
    opening = {
        **copy.deepcopy(base),
        "status": first_status,
        "output": [],
        "usage": None,
        "incomplete_details": None,
    }
    events: list[UnnumberedEvent] = [({"type": "response.created", "response": opening}, False)]
    if background:
        events.append(({"type": "response.queued", "response": copy.deepcopy(opening)}, False))
    events.append(
        (
            {"type": "response.in_progress", "response": {**copy.deepcopy(opening), "status": "in_progress"}},
            False,
        )
    )
    return events


def build(
    prompt: Prompt, settings: dict[str, Any], response_id: str, created_at: int
) -> tuple[dict[str, Any], list[UnnumberedEvent], Plan]:
    """(final response object, events as (event, is_token) without sequence numbers, plan).

    Example:
        >>> from cloudsway_nb.emulator.responses_request import parse
        >>> from cloudsway_nb.emulator.store import ResponseStore
        >>> prompt, settings = parse({"input": "Hi"}, "ep", ResponseStore())
        >>> final, events, plan = build(prompt, settings, "resp_1", 0)
        >>> final["output"][0]["content"][0]["text"], events[-1][0]["type"]
        ('You said: Hi.', 'response.completed')
    """
    plan = plan_reply(prompt)
    incomplete = plan.finish == "length"
    base = _response_object(prompt, plan, settings, response_id, created_at)
    events = _state_events(base, settings["background"])
    output: list[dict[str, Any]] = []
    summary_wanted = bool(settings["reasoning"].get("summary"))
    if plan.reasoning is not None:
        _reasoning_events(plan, response_id, summary_wanted, settings["encrypted_reasoning"], output, events)
    if plan.tool_calls:
        for number, call in enumerate(plan.tool_calls):
            _function_events(call, number, response_id, output, events)
    elif plan.text is not None:
        logprobs = text_logprobs(plan, settings["top_logprobs"]) if settings["logprobs"] else None
        status = "incomplete" if incomplete else "completed"
        _message_events(plan, response_id, status, logprobs, output, events)
    base["output"] = output
    closing = "response.incomplete" if incomplete else "response.completed"
    events.append(({"type": closing, "response": copy.deepcopy(base)}, False))
    return base, events, plan


def _reasoning_events(
    plan: Plan,
    rid: str,
    summary_wanted: bool,
    encrypted: bool,
    output: list[dict[str, Any]],
    events: list[UnnumberedEvent],
) -> None:
    """The reasoning item's events (its summary streamed when asked for); the item onto ``output``."""
    index = len(output)
    item_id = _item_id("rs", rid)
    item: dict[str, Any] = {"id": item_id, "type": "reasoning", "summary": []}
    if encrypted:
        item["encrypted_content"] = base64.b64encode(
            hashlib.sha256((plan.reasoning or "").encode()).digest() * 3
        ).decode()
    events.append(
        ({"type": "response.output_item.added", "output_index": index, "item": copy.deepcopy(item)}, False)
    )
    if summary_wanted:
        text = plan.reasoning or ""
        where = {"item_id": item_id, "output_index": index, "summary_index": 0}
        events.append(
            (
                {
                    "type": "response.reasoning_summary_part.added",
                    **where,
                    "part": {"type": "summary_text", "text": ""},
                },
                False,
            )
        )
        for piece in plan.reasoning_pieces:
            events.append(({"type": "response.reasoning_summary_text.delta", **where, "delta": piece}, True))
        events.append(({"type": "response.reasoning_summary_text.done", **where, "text": text}, False))
        events.append(
            (
                {
                    "type": "response.reasoning_summary_part.done",
                    **where,
                    "part": {"type": "summary_text", "text": text},
                },
                False,
            )
        )
        item["summary"] = [{"type": "summary_text", "text": text}]
    events.append(
        ({"type": "response.output_item.done", "output_index": index, "item": copy.deepcopy(item)}, False)
    )
    output.append(item)


def _function_events(
    call: ToolCall, number: int, rid: str, output: list[dict[str, Any]], events: list[UnnumberedEvent]
) -> None:
    """One function-call item's events (call ``number`` of the turn), arguments streamed piece by
    piece; the item onto ``output``."""
    index = len(output)
    item_id = _item_id("fc", rid, number)
    arguments = call.arguments_json
    item = {
        "id": item_id,
        "type": "function_call",
        "status": "in_progress",
        "arguments": "",
        "call_id": "call_" + call.call_id,
        "name": call.name,
    }
    events.append(
        ({"type": "response.output_item.added", "output_index": index, "item": copy.deepcopy(item)}, False)
    )
    for piece in pieces(arguments):
        events.append(
            (
                {
                    "type": "response.function_call_arguments.delta",
                    "item_id": item_id,
                    "output_index": index,
                    "delta": piece,
                },
                True,
            )
        )
    events.append(
        (
            {
                "type": "response.function_call_arguments.done",
                "item_id": item_id,
                "output_index": index,
                "name": call.name,
                "arguments": arguments,
            },
            False,
        )
    )
    item.update(status="completed", arguments=arguments)
    events.append(
        ({"type": "response.output_item.done", "output_index": index, "item": copy.deepcopy(item)}, False)
    )
    output.append(item)


def _event_logprobs(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Logprobs as text delta / done events carry them: no ``bytes`` (``ResponseTextDeltaEvent``)."""
    return [
        {
            "token": e["token"],
            "logprob": e["logprob"],
            "top_logprobs": [{"token": t["token"], "logprob": t["logprob"]} for t in e["top_logprobs"]],
        }
        for e in entries
    ]


def _message_events(
    plan: Plan,
    rid: str,
    status: str,
    logprobs: list[dict[str, Any]] | None,
    output: list[dict[str, Any]],
    events: list[UnnumberedEvent],
) -> None:
    """The message item's events; ``logprobs`` (one entry per text piece) when they were asked for."""
    entries = logprobs or []
    index = len(output)
    item_id = _item_id("msg", rid)
    text = plan.text or ""
    item: dict[str, Any] = {
        "id": item_id,
        "type": "message",
        "status": "in_progress",
        "role": "assistant",
        "content": [],
    }
    events.append(
        ({"type": "response.output_item.added", "output_index": index, "item": copy.deepcopy(item)}, False)
    )
    where = {"item_id": item_id, "output_index": index, "content_index": 0}
    events.append(
        (
            {
                "type": "response.content_part.added",
                **where,
                "part": {"type": "output_text", "text": "", "annotations": [], "logprobs": []},
            },
            False,
        )
    )
    for i, piece in enumerate(plan.text_pieces):
        delta_logprobs = _event_logprobs(entries[i : i + 1])
        events.append(
            ({"type": "response.output_text.delta", **where, "delta": piece, "logprobs": delta_logprobs}, True)
        )
    events.append(
        ({"type": "response.output_text.done", **where, "text": text, "logprobs": _event_logprobs(entries)}, False)
    )
    part = {"type": "output_text", "text": text, "annotations": [], "logprobs": copy.deepcopy(entries)}
    events.append(({"type": "response.content_part.done", **where, "part": copy.deepcopy(part)}, False))
    item.update(status=status, content=[part])
    events.append(
        ({"type": "response.output_item.done", "output_index": index, "item": copy.deepcopy(item)}, False)
    )
    output.append(item)


def number_events(events: list[UnnumberedEvent]) -> list[dict[str, Any]]:
    """The events of :func:`build` with their ``sequence_number`` (0, 1, ...), as stored and sent.

    Example:
        >>> number_events([({"type": "response.created"}, False)])
        [{'type': 'response.created', 'sequence_number': 0}]
    """
    return [{**event, "sequence_number": n} for n, (event, _token) in enumerate(events)]


def event_frame(event: dict[str, Any]) -> Frame:
    """One numbered event as an SSE frame, marked as a token when it carries one.

    Example:
        >>> event_frame({"type": "response.output_text.delta", "delta": "Hi", "sequence_number": 4}).token
        True
    """
    return Frame(sse_event(event["type"], event), token=event["type"] in _TOKEN_EVENTS)


def event_stream(events: list[dict[str, Any]], starting_after: int = -1) -> StreamReply:
    """The stream of numbered ``events`` after sequence number ``starting_after`` (all by default).

    An error injected into it is an ``error`` event numbered where it falls.

    Example:
        >>> events = number_events([({"type": "response.created"}, False), ({"type": "response.completed"}, False)])
        >>> [f.data.split(b"\\n")[0] for f in event_stream(events, 0).frames]
        [b'event: response.completed']
    """
    chosen = [e for e in events if e["sequence_number"] > starting_after]
    frames = [event_frame(e) for e in chosen]
    first = chosen[0]["sequence_number"] if chosen else starting_after + 1

    def error_frame(error: EmulatorError, position: int) -> bytes:
        return sse_event("error", error_event_body("responses", error, first + position))

    return StreamReply(frames, error_frame, SSE_KEEPALIVE)
