"""One turn on its way: what the Session sends (`Call`), a stream that a Stop can cut, and the checks
of `Session.ask`'s own arguments. Kept apart from `session.py` so that the Session stays a table of
contents of the API, and this, the mechanics of sending, has one place.

Example:
    >>> endpoint_aliases("gpt, claude,gpt")
    ['gpt', 'claude']
    >>> check_ask(chat=None, on_event=print, cancel=None, history=[])
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .config import Endpoint
from .errors import APIError, bad_argument
from .types import Choice, Done, Event, Message, Reply

if TYPE_CHECKING:
    from .client import Client

__all__ = ["Call", "check_ask", "endpoint_aliases", "stream_turn"]


@dataclass(slots=True)
class Call:
    """One turn being sent: where to, in which chat, the whole history, and when it started."""

    alias: str
    endpoint: Endpoint
    chat: str | None
    messages: list[Message]
    system: str | None
    tools: Any
    params: dict[str, Any]
    started: float


def stream_turn(client: Client, call: Call, kwargs: dict[str, Any], on_event: Callable[[Event], None] | None,
                cancel: threading.Event | None) -> Reply:
    """Stream `call`, handing each event to `on_event`; a set `cancel` (or Ctrl-C) ends it at once
    with what had arrived, marked incomplete (an interrupted reply), never an error."""
    stream = client.stream(call.endpoint, call.messages, **kwargs)
    finished = threading.Event()
    if cancel is not None:  # a Stop from another thread cuts the connection even while no event comes
        threading.Thread(target=_abort_on, args=(cancel, finished, stream), daemon=True,
                         name="cloudsway-cancel").start()
    try:
        for event in stream:
            if cancel is not None and cancel.is_set():
                raise KeyboardInterrupt
            if on_event is not None and not isinstance(event, Done):
                on_event(event)
    except KeyboardInterrupt:
        return _stopped(stream, call)
    except APIError:
        if cancel is not None and cancel.is_set():  # the cut connection, not a failure
            return _stopped(stream, call)
        raise
    finally:
        finished.set()
    assert stream.reply is not None
    return stream.reply


def _abort_on(cancel: threading.Event, finished: threading.Event, stream: Any) -> None:
    """Cut `stream`'s connection as soon as `cancel` is set (checked every 50 ms), until it finishes."""
    while not finished.is_set():
        if cancel.wait(0.05):
            if not finished.is_set():
                stream.abort()
            return


def _stopped(stream: Any, call: Call) -> Reply:
    stream.close()  # the connection is closed at once; the reply holds what had arrived
    reply = stream.reply or Reply(choices=[Choice()], protocol=call.endpoint.protocol)
    reply.incomplete = True
    return reply


def check_ask(*, chat: Any, on_event: Any, cancel: Any, history: Any) -> None:
    """The Session's own keyword arguments of `ask`, checked where they are read."""
    if chat is not None and (not isinstance(chat, str) or not chat.strip()):
        raise bad_argument("chat", chat, "a conversation's name (a string)", "chat='notes'")
    if on_event is not None and not callable(on_event):
        raise bad_argument("on_event", on_event, "a function called with each stream event", "on_event=print")
    if cancel is not None and not all(callable(getattr(cancel, name, None)) for name in ("is_set", "wait")):
        raise bad_argument("cancel", cancel, "a threading.Event to set to stop", "cancel=threading.Event()")
    if history is not None and not isinstance(history, list | tuple):
        raise bad_argument("history", history, "a list of messages sent before the new turn", "history=[]")


def endpoint_aliases(endpoints: Any) -> list[str]:
    """`ask_many`'s endpoints: a list of aliases, or one string naming one or several (comma-separated)."""
    if isinstance(endpoints, str):
        items = [a.strip() for a in endpoints.split(",") if a.strip()]
    elif isinstance(endpoints, Iterable):
        items = list(endpoints)
    else:
        items = []
    if not items or not all(isinstance(a, str) for a in items):
        raise bad_argument("endpoints", endpoints, "a list of endpoint aliases (or 'gpt,claude')",
                           "ask_many(['gpt', 'claude'], 'Hi')")
    return list(dict.fromkeys(items))
