"""The stream of a stored Responses-API response as its timeline stands: what is due, what follows.

A stored response keeps its full event list (see :mod:`.store`); a stream of it, the create
with ``stream: true`` of a background response or a ``GET .../responses/{id}?stream=true``
(``starting_after=N`` resumes after event ``N``), shows the events due so far. A foreground
response's events are all due at once. A background response's stream follows the response's
own timeline: ``created`` and ``queued`` at once, ``in_progress`` once it has been queued
``background_queued`` seconds, the output events spread over ``background_running`` seconds and
``completed`` when a plain GET says so too; events already due are sent at once, the rest as
they fall due (keep-alives in between).

A cancel ends every open stream of the response within a poll interval. The SDK's
``ResponseStreamEvent`` union has no ``response.cancelled`` event, so a cancelled response's
stream ends with its last state event (``response.queued`` or ``response.in_progress``) sent
once more, now carrying the response with ``status: "cancelled"``; the events due before the
cancel come first.

Example:
    >>> events = [{"type": "response.created", "sequence_number": 0}]
    >>> reply = follow(StoredResponse("r", {}, events, [], 0.0), -1, EmulatorOptions(), {})
    >>> len(reply.frames), reply.live is None
    (1, True)
"""

from __future__ import annotations

import asyncio
import copy
import time
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

from .options import EmulatorOptions
from .pacing import Pacing
from .replies import SSE_KEEPALIVE, Frame, StreamReply, sse_event
from .responses_events import event_frame, event_stream
from .store import StoredResponse

__all__ = ["follow"]

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


def follow(
    entry: StoredResponse, after: int, options: EmulatorOptions, headers: Mapping[str, str]
) -> StreamReply:
    """The stream of a stored response after event ``after`` as its timeline stands now.

    The events due now are the reply's frames; those still to come follow as they fall due
    (``live``), with keep-alives at the interval the request's ``headers`` ask for.
    """
    due = _timeline(entry, options.background_queued, options.background_running)
    if entry.cancelled:
        return event_stream(_cancelled_events(entry, due), after)
    elapsed = time.monotonic() - entry.started
    ready = [e for e, d in zip(entry.events, due, strict=True) if d <= elapsed]
    pending = [(e, d) for e, d in zip(entry.events, due, strict=True) if d > elapsed]
    reply = event_stream(ready, after)
    if pending:
        try:
            keepalive = Pacing.from_request(options, headers).keepalive_interval
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
