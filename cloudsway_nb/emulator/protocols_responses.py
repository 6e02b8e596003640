"""OpenAI Responses API: create (sync, stream, background), retrieve, resume a stream, cancel, delete.

The request body is parsed by :mod:`.responses_request` (its :func:`parse` is re-exported here).

Streams are ``event: TYPE`` + ``data: {..., "sequence_number": N}`` in the documented order:
created, (queued,) in_progress, then per output item added / deltas / done, then completed.
Every response is stored (unless ``store: false``) with its full event list, so
``GET .../responses/{id}?stream=true&starting_after=N`` replays the events after ``N``.

A background response's stream (the create with ``stream: true`` or a streamed GET) follows the
response's own timeline: ``created`` and ``queued`` at once, ``in_progress`` once it has been
queued ``background_queued`` seconds, the output events spread over ``background_running``
seconds and ``completed`` when a plain GET says so too; events already due are sent at once,
the rest as they fall due (keep-alives in between). A cancel ends every open stream of the
response within a poll interval. The SDK's ``ResponseStreamEvent`` union has no
``response.cancelled`` event, so a cancelled response's stream ends with its last state event
(``response.queued`` or ``response.in_progress``) sent once more, now carrying the response
with ``status: "cancelled"``; the events due before the cancel come first.

Example:
    >>> from cloudsway_nb.emulator.store import ResponseStore
    >>> prompt, settings = parse({"input": "Hi", "reasoning": {"effort": "low"}}, "ep", ResponseStore())
    >>> prompt.reasoning, settings["stream"]
    (True, False)
"""

from __future__ import annotations

import asyncio
import base64
import copy
import hashlib
import time
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

from .conversation import Prompt, ToolCall, Turn, digest
from .errors import EmulatorError, bad_request, error_event_body
from .generate import Plan, plan_reply, text_logprobs
from .pacing import Pacing
from .replies import SSE_KEEPALIVE, Frame, JSONReply, StreamReply, sse_event
from .responses_request import parse
from .store import StoredResponse
from .tokenizer import pieces

if TYPE_CHECKING:
    from .app import EmulatorApp
    from .request import Request

__all__ = ["build", "cancel", "create", "delete", "parse", "retrieve"]

_TOKEN_EVENTS = (
    "response.output_text.delta",
    "response.reasoning_summary_text.delta",
    "response.function_call_arguments.delta",
)


def _item_id(prefix: str, response_id: str) -> str:
    return f"{prefix}_" + hashlib.sha256(f"{prefix}:{response_id}".encode()).hexdigest()[:48]


def _usage(prompt: Prompt, plan: Plan) -> dict[str, Any]:
    input_tokens = prompt.input_tokens()
    return {
        "input_tokens": input_tokens,
        "input_tokens_details": {"cached_tokens": prompt.cached_tokens()},
        "output_tokens": plan.output_tokens,
        "output_tokens_details": {"reasoning_tokens": plan.reasoning_tokens},
        "total_tokens": input_tokens + plan.output_tokens,
    }


def build(
    prompt: Prompt, settings: dict[str, Any], response_id: str, created_at: int
) -> tuple[dict[str, Any], list[tuple[dict[str, Any], bool]], Plan]:
    """(final response object, events as (event, is_token) without sequence numbers, plan).

    Example:
        >>> from cloudsway_nb.emulator.store import ResponseStore
        >>> prompt, settings = parse({"input": "Hi"}, "ep", ResponseStore())
        >>> final, events, plan = build(prompt, settings, "resp_1", 0)
        >>> final["output"][0]["content"][0]["text"], events[-1][0]["type"]
        ('You said: Hi.', 'response.completed')
    """
    plan = plan_reply(prompt)
    incomplete = plan.finish == "length"
    base: dict[str, Any] = {
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
        "parallel_tool_calls": True,
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
    first_status = "queued" if settings["background"] else "in_progress"
    opening = {
        **copy.deepcopy(base),
        "status": first_status,
        "output": [],
        "usage": None,
        "incomplete_details": None,
    }
    events: list[tuple[dict[str, Any], bool]] = [({"type": "response.created", "response": opening}, False)]
    if settings["background"]:
        events.append(({"type": "response.queued", "response": copy.deepcopy(opening)}, False))
    events.append(
        (
            {"type": "response.in_progress", "response": {**copy.deepcopy(opening), "status": "in_progress"}},
            False,
        )
    )
    output: list[dict[str, Any]] = []
    summary_wanted = bool(settings["reasoning"].get("summary"))
    if plan.reasoning is not None:
        _reasoning_events(plan, response_id, summary_wanted, settings["encrypted_reasoning"], output, events)
    if plan.tool_call is not None:
        _function_events(plan, response_id, output, events)
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
    events: list[tuple[dict[str, Any], bool]],
) -> None:
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
    plan: Plan, rid: str, output: list[dict[str, Any]], events: list[tuple[dict[str, Any], bool]]
) -> None:
    assert plan.tool_call is not None
    index = len(output)
    item_id = _item_id("fc", rid)
    arguments = plan.tool_call.arguments_json
    item = {
        "id": item_id,
        "type": "function_call",
        "status": "in_progress",
        "arguments": "",
        "call_id": "call_" + plan.tool_call.call_id,
        "name": plan.tool_call.name,
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
                "name": plan.tool_call.name,
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
    events: list[tuple[dict[str, Any], bool]],
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


def _numbered(events: list[tuple[dict[str, Any], bool]]) -> list[dict[str, Any]]:
    return [{**event, "sequence_number": n} for n, (event, _token) in enumerate(events)]


def _stream(events: list[dict[str, Any]], starting_after: int = -1) -> StreamReply:
    chosen = [e for e in events if e["sequence_number"] > starting_after]
    frames = [Frame(sse_event(e["type"], e), token=e["type"] in _TOKEN_EVENTS) for e in chosen]
    first = chosen[0]["sequence_number"] if chosen else starting_after + 1

    def error_frame(error: EmulatorError, position: int) -> bytes:
        return sse_event("error", error_event_body("responses", error, first + position))

    return StreamReply(frames, error_frame, SSE_KEEPALIVE)


_STATE_EVENTS = ("response.created", "response.queued", "response.in_progress")
_POLL = 0.02  # seconds between checks for a cancel while a stream waits


def _timeline(entry: StoredResponse, queued_for: float, running_for: float) -> list[float]:
    """When each stored event falls due, in seconds after the response was created.

    Example:
        >>> events = [{"type": t} for t in ("response.created", "response.queued", "response.in_progress",
        ...           "response.output_text.delta", "response.completed")]
        >>> _timeline(StoredResponse("r", {}, events, [], 0.0, background=True), 1.0, 2.0)
        [0.0, 0.0, 1.0, 2.0, 3.0]
    """
    events = entry.events
    if not entry.background:
        return [0.0] * len(events)
    types = [e["type"] for e in events]
    start = types.index("response.in_progress") if "response.in_progress" in types else len(events) - 1
    middle = max(0, len(events) - start - 2)
    due: list[float] = []
    for i in range(len(events)):
        if i < start:
            due.append(0.0)
        elif i == start:
            due.append(queued_for)
        elif i == len(events) - 1:
            due.append(queued_for + running_for)
        else:
            due.append(queued_for + running_for * (i - start) / (middle + 1))
    return due


def _cancelled_events(entry: StoredResponse, due: list[float]) -> list[dict[str, Any]]:
    """The events of a cancelled response: those due before the cancel, then the closing state event."""
    at = (entry.cancelled_at if entry.cancelled_at is not None else entry.started) - entry.started
    shown = [e for e, d in zip(entry.events, due, strict=True) if d <= at]
    states = [e for e in shown if e["type"] in _STATE_EVENTS]
    if not states:
        return shown
    last = copy.deepcopy(states[-1])
    last["response"]["status"] = "cancelled"
    last["sequence_number"] = shown[-1]["sequence_number"] + 1
    return [*shown, last]


def _follow(entry: StoredResponse, after: int, app: EmulatorApp, request: Request) -> StreamReply:
    """The stream of a stored response as its timeline stands now; the rest follows as it falls due."""
    options = app.options
    due = _timeline(entry, options.background_queued, options.background_running)
    if entry.cancelled:
        return _stream(_cancelled_events(entry, due), after)
    elapsed = time.monotonic() - entry.started
    ready = [e for e, d in zip(entry.events, due, strict=True) if d <= elapsed]
    pending = [(e, d) for e, d in zip(entry.events, due, strict=True) if d > elapsed]
    reply = _stream(ready, after)
    if pending:
        try:
            keepalive = Pacing.from_request(options, request.headers).keepalive_interval
        except ValueError:
            keepalive = options.keepalive_interval
        sent = max([after, *(e["sequence_number"] for e in ready)])

        def live(stopped: Callable[[], bool]) -> AsyncIterator[Frame]:
            return _live(entry, due, pending, sent, keepalive, stopped)

        reply.live = live
    return reply


async def _live(
    entry: StoredResponse,
    due: list[float],
    pending: list[tuple[dict[str, Any], float]],
    sent: int,
    keepalive: float,
    stopped: Callable[[], bool],
) -> AsyncIterator[Frame]:
    """Yield ``pending`` events as they fall due; on a cancel, the cancelled ending instead."""
    quiet_since = time.monotonic()
    for event, when in pending:
        while True:
            if stopped():
                return
            if entry.cancelled:
                for late in _cancelled_events(entry, due):
                    if late["sequence_number"] > sent:
                        yield Frame(sse_event(late["type"], late))
                return
            now = time.monotonic()
            wait = entry.started + when - now
            if wait <= 0:
                break
            if now - quiet_since >= keepalive:
                yield Frame(SSE_KEEPALIVE)
                quiet_since = now
            await asyncio.sleep(max(0.001, min(wait, _POLL, keepalive - (now - quiet_since))))
        if event["sequence_number"] > sent:
            yield Frame(sse_event(event["type"], event), token=event["type"] in _TOKEN_EVENTS)
            sent = event["sequence_number"]
            quiet_since = time.monotonic()


def _reply_turn(plan: Plan) -> Turn:
    calls = (
        [ToolCall(plan.tool_call.name, plan.tool_call.arguments, "call_" + plan.tool_call.call_id)]
        if plan.tool_call
        else []
    )
    return Turn("assistant", plan.text or "", tool_calls=calls)


def create(request: Request, app: EmulatorApp) -> JSONReply | StreamReply:
    """POST ``/v1/ai/{ep}/responses``.

    Example:
        >>> from cloudsway_nb.emulator.app import create_app
        >>> from cloudsway_nb.emulator.request import Request
        >>> app = create_app()
        >>> request = Request("POST", "/v1/ai/o/responses", {}, {}, b'{"input": "Hi"}', {"ep": "o"})
        >>> create(request, app).body["status"]
        'completed'
    """
    body = request.json_object()
    prompt, settings = parse(body, request.params.get("ep", ""), app.store)
    seed = digest("responses", body)
    if settings["background"]:  # identical background requests must not share progress state
        seed = digest(seed, time.monotonic_ns())
    response_id = "resp_" + seed[:48]
    final, raw_events, plan = build(prompt, settings, response_id, int(time.time()))
    events = _numbered(raw_events)
    entry = None
    if settings["store"]:
        turns = [t for t in prompt.turns if t.role not in ("system", "developer")] + [_reply_turn(plan)]
        entry = app.store.put(
            StoredResponse(response_id, final, events, turns, time.monotonic(), settings["background"])
        )
    if settings["stream"]:
        return _follow(entry, -1, app, request) if entry is not None and entry.background else _stream(events)
    if settings["background"]:
        return JSONReply(events[0]["response"])
    return JSONReply(final)


def _entry(request: Request, app: EmulatorApp) -> StoredResponse:
    rid = request.params["rid"]
    entry = app.store.get(rid)
    if entry is None:
        raise EmulatorError(404, f"No response found with id '{rid}'.", param="response_id", code="not_found")
    return entry


def retrieve(request: Request, app: EmulatorApp) -> JSONReply | StreamReply:
    """GET ``/v1/ai/{ep}/responses/{id}`` with optional ``stream=true&starting_after=N``.

    Example:
        >>> from cloudsway_nb.emulator.app import create_app
        >>> from cloudsway_nb.emulator.request import Request
        >>> app = create_app()
        >>> rid = create(Request("POST", "/", {}, {}, b'{"input": "Hi"}', {"ep": "o"}), app).body["id"]
        >>> retrieve(Request("GET", "/", {}, {}, b"", {"rid": rid}), app).body["id"] == rid
        True
    """
    entry = _entry(request, app)
    options = app.options
    if request.query.get("stream", "false").lower() == "true":
        raw = request.query.get("starting_after")
        try:
            after = int(raw) if raw not in (None, "") else -1
        except ValueError:
            raise bad_request("Invalid 'starting_after': expected an integer.", "starting_after") from None
        return _follow(entry, after, app, request)
    return JSONReply(entry.snapshot(options.background_queued, options.background_running))


def cancel(request: Request, app: EmulatorApp) -> JSONReply:
    """POST ``/v1/ai/{ep}/responses/{id}/cancel`` (background responses only).

    Example:
        >>> from cloudsway_nb.emulator.app import create_app
        >>> from cloudsway_nb.emulator.request import Request
        >>> app = create_app(background_queued=60)
        >>> body = b'{"input": "x", "background": true}'
        >>> rid = create(Request("POST", "/", {}, {}, body, {}), app).body["id"]
        >>> cancel(Request("POST", "/", {}, {}, b"", {"rid": rid}), app).body["status"]
        'cancelled'
    """
    entry = _entry(request, app)
    if not entry.background:
        raise bad_request("Only responses created with background=true can be cancelled.", "response_id")
    options = app.options
    if entry.status(options.background_queued, options.background_running) in ("queued", "in_progress"):
        entry.cancel()
    return JSONReply(entry.snapshot(options.background_queued, options.background_running))


def delete(request: Request, app: EmulatorApp) -> JSONReply:
    """DELETE ``/v1/ai/{ep}/responses/{id}``.

    Example:
        >>> from cloudsway_nb.emulator.app import create_app
        >>> from cloudsway_nb.emulator.request import Request
        >>> app = create_app()
        >>> rid = create(Request("POST", "/", {}, {}, b'{"input": "Hi"}', {}), app).body["id"]
        >>> delete(Request("DELETE", "/", {}, {}, b"", {"rid": rid}), app).body["deleted"]
        True
    """
    entry = _entry(request, app)
    app.store.delete(entry.id)
    return JSONReply({"id": entry.id, "object": "response.deleted", "deleted": True})
