"""OpenAI Responses API: create (sync, stream, background), retrieve, resume a stream, cancel, delete.

The request body is parsed by :mod:`.responses_request` (its :func:`parse` is re-exported here).

The response object and its stream events are rendered by :mod:`.responses_events` (its
:func:`build` is re-exported here). Every response is stored (unless ``store: false``) with its
full event list, so ``GET .../responses/{id}?stream=true&starting_after=N`` replays the events after ``N``.

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
import copy
import time
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

from .conversation import ToolCall, Turn, digest
from .errors import EmulatorError, bad_request
from .generate import Plan
from .pacing import Pacing
from .replies import SSE_KEEPALIVE, Frame, JSONReply, StreamReply, sse_event
from .responses_events import build, event_frame, event_stream, number_events
from .responses_request import parse
from .store import StoredResponse

if TYPE_CHECKING:
    from .app import EmulatorApp
    from .request import Request

__all__ = ["build", "cancel", "create", "delete", "parse", "retrieve"]

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
        return event_stream(_cancelled_events(entry, due), after)
    elapsed = time.monotonic() - entry.started
    ready = [e for e, d in zip(entry.events, due, strict=True) if d <= elapsed]
    pending = [(e, d) for e, d in zip(entry.events, due, strict=True) if d > elapsed]
    reply = event_stream(ready, after)
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
            yield event_frame(event)
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
    events = number_events(raw_events)
    entry = None
    if settings["store"]:
        turns = [t for t in prompt.turns if t.role not in ("system", "developer")] + [_reply_turn(plan)]
        entry = app.store.put(
            StoredResponse(response_id, final, events, turns, time.monotonic(), settings["background"])
        )
    if settings["stream"]:
        return _follow(entry, -1, app, request) if entry is not None and entry.background else event_stream(events)
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
