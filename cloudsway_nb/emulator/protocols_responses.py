"""OpenAI Responses API handlers: create (sync, stream, background), retrieve, resume a stream, cancel, delete.

The routes of :mod:`.app` call these; the work is split by job. :mod:`.responses_request`
parses a create body into a prompt and settings, :mod:`.responses_events` renders the response
object and its stream events, and :mod:`.responses_timeline` shows a stored response's stream as
its timeline stands (background progress, cancels). Every response is stored (unless
``store: false``) with its full event list, so
``GET .../responses/{id}?stream=true&starting_after=N`` replays the events after ``N``.
:func:`parse` and :func:`build` are re-exported here from the modules that define them.

Example:
    >>> from cloudsway_nb.emulator.app import create_app
    >>> from cloudsway_nb.emulator.request import Request
    >>> app = create_app()
    >>> rid = create(Request("POST", "/", {}, {}, b'{"input": "Hi"}', {"ep": "o"}), app).body["id"]
    >>> query = {"stream": "true", "starting_after": "10"}
    >>> resumed = retrieve(Request("GET", "/", query, {}, b"", {"rid": rid}), app)
    >>> [f.data.split(b"\\n")[0] for f in resumed.frames]
    [b'event: response.output_item.done', b'event: response.completed']
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from .conversation import ToolCall, Turn, digest
from .errors import EmulatorError, bad_request
from .generate import Plan
from .replies import JSONReply, StreamReply
from .responses_events import build, event_stream, number_events
from .responses_request import parse
from .responses_timeline import follow
from .store import StoredResponse

if TYPE_CHECKING:
    from .app import EmulatorApp
    from .request import Request

__all__ = ["build", "cancel", "create", "delete", "parse", "retrieve"]


def _reply_turn(plan: Plan) -> Turn:
    calls = [ToolCall(c.name, c.arguments, "call_" + c.call_id) for c in plan.tool_calls]
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
        return (
            follow(entry, -1, app.options, request.headers)
            if entry is not None and entry.background
            else event_stream(events)
        )
    if settings["background"]:
        return JSONReply(events[0]["response"])
    return JSONReply(final, tokens=final["usage"]["output_tokens"])


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
        return follow(entry, after, options, request.headers)
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
