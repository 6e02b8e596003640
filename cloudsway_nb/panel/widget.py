"""`ChatView`: the chat panel's view, an anywidget whose front end ships in `static/`
(`cloudsway_nb.panel.ChatPanel` is the panel itself: this view wired to a Session).

The widget holds state and reports what the user does; it never calls a model. State is synced
traitlets: `messages` (finished messages, see `state.MessageState`), `streaming` (only the
message(s) being streamed, keyed by id, so a streamed update never resends the transcript),
`busy`, `totals`, `pending` (attachment chips waiting for Send), the settings (`endpoints`,
`endpoint`, `system_prompt`, `effort`, `temperature`, `max_tokens`), a one-line `notice` and `retry`
(a Retry button next to the notice, for a turn that failed).

What the user does arrives as custom messages and goes to the hooks a controller registers:

| user action | hook called |
|---|---|
| Enter or Send | `on_send(text, uploads)` (the pending `Upload`s, then cleared) |
| Stop or Escape | `on_stop()` |
| edit a message, then save | `on_edit(id, text)` |
| regenerate | `on_regenerate(id, endpoint)` |
| compare with another endpoint | `on_compare(id, endpoint)` |
| delete | `on_delete(id)` |
| use this answer (of a comparison) | `on_pick(id)` |
| Retry (shown with the notice while `retry` is true) | `on_retry()` |

Hooks run in the kernel's comm handler: a hook that streams a reply should start a thread (or an
asyncio task), so that a Stop click is handled while the reply streams. A hook that raises puts
one line in `notice` and the traceback in the log.

Example (the shape of the controller that will wire it to a Session):
    panel = ChatView(endpoints=list(session.endpoints))
    stop = threading.Event()

    @panel.on_send
    def send(text, uploads):
        panel.add_message("user", text, attachments=[u.chip() for u in uploads])
        stream = panel.begin_stream(endpoint=panel.endpoint)
        files = [attach(u.data, mime_type=u.mime) for u in uploads]

        def run():
            stop.clear()
            try:
                reply = session.ask(panel.endpoint, text, attachments=files, chat="panel",
                                    on_event=stream.feed, cancel=stop, **panel.ask_options())
            except Exception as exc:
                stream.fail(exc)
            else:
                stream.finish(reply)  # "interrupted" when the reply is

        threading.Thread(target=run, daemon=True).start()

    panel.on_stop(stop.set)
    panel.show()
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import anywidget
import traitlets as t

from ..options import REASONING_EFFORTS
from .render import panel_css, render_transcript
from .state import NOTHING_TO_SEND, add_to_totals, empty_totals, message_state, new_id
from .stream import MessageStream
from .uploads import CHUNK, MAX_UPLOAD, Upload, UploadAssembler, UploadError

__all__ = ["EFFORTS", "HOOKS", "ChatView"]

log = logging.getLogger(__name__)

EFFORTS = ("", *REASONING_EFFORTS)
"""Reasoning efforts offered ("" = the endpoint's default), as `Session.ask(reasoning=...)` takes them."""

HOOKS = ("send", "stop", "edit", "regenerate", "compare", "delete", "pick", "retry")

_STATIC = Path(__file__).parent / "static"
# the fallback transcript (see `show`) is hidden wherever this stylesheet is live, i.e. wherever the
# widget itself renders; without a kernel (nbviewer, GitHub, a reopened notebook) it shows
_LIVE_ONLY_CSS = "\n.cw-fallback{display:none !important}\n"

_ARGS: dict[str, tuple[str, ...]] = {
    "edit": ("id", "text"),
    "regenerate": ("id", "endpoint"),
    "compare": ("id", "endpoint"),
    "delete": ("id",),
    "pick": ("id",),
    "stop": (),
    "retry": (),
}


def _stream_end_message(final: Mapping[str, Any], parts: Mapping[str, Any] | None) -> dict[str, Any]:
    """The `stream_end` custom message: the final message whole, or without its HTML (and reasoning
    source, which the browser does not use) when `parts` says how the browser makes it from its blocks.

    Example:
        >>> _stream_end_message({"id": "m", "html": "<p>x</p>", "reasoning": "", "reasoning_html": "",
        ...                      "footer": "f"}, {"body": {"from": 1}, "reasoning": {"from": 0}})
        ... # doctest: +NORMALIZE_WHITESPACE
        {'type': 'stream_end', 'message': {'id': 'm', 'footer': 'f'},
         'parts': {'body': {'from': 1}, 'reasoning': {'from': 0}}}
    """
    if parts is None:
        return {"type": "stream_end", "message": dict(final)}
    lean = {k: v for k, v in final.items() if k not in ("html", "reasoning_html", "reasoning")}
    return {"type": "stream_end", "message": lean, "parts": dict(parts)}


class ChatView(anywidget.AnyWidget):
    """A chat transcript with an input box, Send/Stop, per-message actions, attachments and settings.

    Example:
        >>> panel = ChatView(endpoints=["gpt"], endpoint="gpt")
        >>> mid = panel.add_message("user", "hi")
        >>> panel.messages[0]["html"], panel.ask_options()
        ('<p>hi</p>\\n', {})
    """

    _esm = _STATIC / "panel.js"
    _css = panel_css() + _LIVE_ONLY_CSS

    title = t.Unicode("Cloudsway chat").tag(sync=True)
    placeholder = t.Unicode("Message… (Enter sends, Shift+Enter for a new line)").tag(sync=True)
    messages = t.List(t.Dict()).tag(sync=True)
    streaming = t.Dict().tag(sync=True)
    busy = t.Bool(False).tag(sync=True)
    totals = t.Dict().tag(sync=True)
    notice = t.Unicode("").tag(sync=True)
    retry = t.Bool(False).tag(sync=True)
    resumable = t.Bool(False).tag(sync=True)  # a tool loop stopped before its answer: the Resume button
    pending = t.List(t.Dict()).tag(sync=True)
    endpoints = t.List(t.Unicode()).tag(sync=True)
    endpoint = t.Unicode("").tag(sync=True)
    system_prompt = t.Unicode("").tag(sync=True)
    effort = t.Unicode("").tag(sync=True)
    efforts = t.List(t.Unicode(), default_value=list(EFFORTS)).tag(sync=True)
    temperature = t.Float(None, allow_none=True).tag(sync=True)
    max_tokens = t.Int(None, allow_none=True).tag(sync=True)
    max_upload = t.Int(MAX_UPLOAD).tag(sync=True)
    upload_chunk = t.Int(CHUNK).tag(sync=True)

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("totals", empty_totals())
        super().__init__(**kwargs)
        if not self.endpoint and self.endpoints:
            self.endpoint = self.endpoints[0]
        self._hooks: dict[str, list[Callable[..., Any]]] = {name: [] for name in HOOKS}
        self._uploads: dict[str, Upload] = {}
        self._assembler = UploadAssembler(self.max_upload)
        self._lock = threading.RLock()
        self._fallback: Any = None
        self._unsent: set[str] = set()
        self._view_ready = False  # a view has said it listens (panel.js, on render)
        self.on_msg(self._on_custom)
        self.observe(self._refresh_fallback, names=["messages", "totals", "title"])

    # ----------------------------------------------------------------------------- hooks

    def _register(self, name: str, fn: Callable[..., Any], remove: bool) -> Callable[..., Any]:
        if remove:
            self._hooks[name].remove(fn)
        else:
            self._hooks[name].append(fn)
        return fn

    def on_send(self, fn: Callable[[str, list[Upload]], Any], remove: bool = False) -> Callable[..., Any]:
        """Register `fn(text, uploads)` for Enter / Send (usable as a decorator)."""
        return self._register("send", fn, remove)

    def on_stop(self, fn: Callable[[], Any], remove: bool = False) -> Callable[..., Any]:
        """Register `fn()` for Stop / Escape."""
        return self._register("stop", fn, remove)

    def on_edit(self, fn: Callable[[str, str], Any], remove: bool = False) -> Callable[..., Any]:
        """Register `fn(id, text)` for a saved edit of a message."""
        return self._register("edit", fn, remove)

    def on_regenerate(self, fn: Callable[[str, str], Any], remove: bool = False) -> Callable[..., Any]:
        """Register `fn(id, endpoint)` for regenerate."""
        return self._register("regenerate", fn, remove)

    def on_compare(self, fn: Callable[[str, str], Any], remove: bool = False) -> Callable[..., Any]:
        """Register `fn(id, endpoint)` for "compare with another endpoint"."""
        return self._register("compare", fn, remove)

    def on_delete(self, fn: Callable[[str], Any], remove: bool = False) -> Callable[..., Any]:
        """Register `fn(id)` for delete."""
        return self._register("delete", fn, remove)

    def on_pick(self, fn: Callable[[str], Any], remove: bool = False) -> Callable[..., Any]:
        """Register `fn(id)` for "use this answer" on one answer of a comparison."""
        return self._register("pick", fn, remove)

    def on_retry(self, fn: Callable[[], Any], remove: bool = False) -> Callable[..., Any]:
        """Register `fn()` for the Retry button of a failed turn (shown while `retry` is true)."""
        return self._register("retry", fn, remove)

    def _call(self, name: str, *args: Any) -> None:
        if not self._hooks[name]:
            self.notice = f"nothing handles {name}: register a function with panel.on_{name}(fn)"
            return
        for fn in list(self._hooks[name]):
            try:
                fn(*args)
            except Exception as exc:
                from ..errors import describe_error

                log.exception("chat panel: the %s hook failed", name)
                self.notice = f"{name} failed: {type(exc).__name__}: {describe_error(exc)}"

    # ----------------------------------------------------------------------------- messages from the browser

    def _on_custom(self, _widget: Any, content: Any, buffers: Sequence[Any]) -> None:
        if not isinstance(content, Mapping):
            return
        kind = content.get("type")
        if kind == "send":
            self._on_send(content)
        elif kind == "upload":
            self._on_upload(content, buffers)
        elif kind == "unattach":
            self.remove_pending(str(content.get("id") or ""))
        elif kind == "view_ready":
            self._view_ready = True
        elif kind == "stream_sync":  # a browser that missed blocks of a stream that has ended since
            self._resend_final(str(content.get("id") or ""))
        elif kind in ("cells_inserted", "cells_refused"):
            self.notice = str(content.get("message") or "")[:300]
        elif kind in _ARGS:
            args = [str(content.get(key) or "") for key in _ARGS[str(kind)]]
            if args and not args[0]:
                return
            self._call(str(kind), *args)
        else:
            log.debug("chat panel: unknown message %r", kind)

    def _on_send(self, content: Mapping[str, Any]) -> None:
        text = content.get("text")
        if not isinstance(text, str):
            return
        if not self._hooks["send"]:
            self._call("send")  # says that nothing handles it; the attachments stay pending
            return
        uploads = self.take_pending()
        if not text.strip() and not uploads:
            self.notice, self.retry = NOTHING_TO_SEND, False  # this line replaces a failed turn's (and its Retry)
            return
        self.notice, self.retry = "", False
        self._call("send", text, uploads)

    def _on_upload(self, content: Mapping[str, Any], buffers: Sequence[Any]) -> None:
        self._assembler.max_bytes = self.max_upload
        try:
            upload = self._assembler.feed(content, buffers)
        except UploadError as exc:
            self.notice = str(exc)
            self.send({"type": "upload_error", "id": content.get("id"), "message": str(exc)})
            return
        if upload is None:
            return
        with self._lock:
            self._uploads[upload.id] = upload
            self.pending = [*self.pending, upload.chip()]
        self.send({"type": "upload_done", "id": upload.id})

    # ----------------------------------------------------------------------------- attachments

    def add_upload(self, upload: Upload) -> None:
        """Put a file among the pending attachments, as a drop would (for tests and controllers)."""
        with self._lock:
            self._uploads[upload.id] = upload
            self.pending = [*self.pending, upload.chip()]

    def pending_upload(self, upload_id: str) -> Upload | None:
        """The pending attachment behind a chip (None once sent or removed)."""
        with self._lock:
            return self._uploads.get(upload_id)

    def remove_pending(self, upload_id: str) -> None:
        """Drop one pending attachment (its chip's × button)."""
        with self._lock:
            self._assembler.discard(upload_id)
            self._uploads.pop(upload_id, None)
            self.pending = [c for c in self.pending if c.get("id") != upload_id]

    def take_pending(self) -> list[Upload]:
        """The pending attachments, in order, now removed from the input."""
        with self._lock:
            uploads = [self._uploads.pop(str(c.get("id")), None) for c in self.pending]
            self.pending = []
        return [u for u in uploads if u is not None]

    # ----------------------------------------------------------------------------- transcript

    def add_message(self, role: str, text: str = "", *, id: str | None = None, after: str | None = None,
                    attachments: Iterable[Mapping[str, Any]] = (), **fields: Any) -> str:
        """Add a finished message (Markdown `text`, rendered safely) at the end, or right after message
        `after` (and after the comparison answers that follow it), and return its id."""
        state = dict(message_state(role, text, id=id, attachments=attachments, **fields))
        with self._lock:
            messages = list(self.messages)
            at = self._index_after(messages, after)
            messages.insert(at, state)
            if self._view_ready:  # the browser gets the new message alone (panel.js puts it at `at` in its copy)
                self.send({"type": "message", "message": state, "at": at})
                self._set_unsent_messages(messages)
            else:  # no view listens yet (a custom message would be lost): the list, as state
                self.messages = messages
        return str(state["id"])

    def _set_unsent_messages(self, messages: list[dict[str, Any]]) -> None:
        """Set `messages` without sending it (the browser was sent the change itself)."""
        self._unsent = {"messages"}
        try:
            self.messages = messages
        finally:
            self._unsent = set()

    @staticmethod
    def _index_after(messages: Sequence[Mapping[str, Any]], after: str | None) -> int:
        ids = [m.get("id") for m in messages]
        if after is None or after not in ids:
            return len(messages)
        index = ids.index(after)
        group = messages[index].get("group")
        index += 1
        while group and index < len(messages) and messages[index].get("group") == group:
            index += 1
        return index

    def get_message(self, id: str) -> dict[str, Any] | None:
        """The message with this id (finished or streaming), or None."""
        return next((dict(m) for m in self.messages if m.get("id") == id), None) or self.streaming.get(id)

    def update_message(self, id: str, **fields: Any) -> None:
        """Change a finished message; `text` and `reasoning` are rendered again."""
        with self._lock:
            old = next((m for m in self.messages if m.get("id") == id), None)
            if old is None:
                raise KeyError(f"no message {id!r}")
            keep = {k: old[k] for k in ("role", "text", "reasoning", "reasoning_tokens", "footer", "status",
                                        "error", "endpoint", "group", "attachments") if k in old}
            new = message_state(id=id, **{**keep, **fields})
            self.messages = [dict(new) if m.get("id") == id else m for m in self.messages]

    def remove_message(self, id: str) -> None:
        """Delete a message from the transcript (no error when it is not there)."""
        with self._lock:
            self.messages = [m for m in self.messages if m.get("id") != id]

    def truncate_after(self, id: str) -> None:
        """Delete every message after this one (what an edit or regenerate usually wants)."""
        with self._lock:
            ids = [m.get("id") for m in self.messages]
            if id in ids:
                self.messages = self.messages[: ids.index(id) + 1]

    def clear(self) -> None:
        """An empty transcript and zero totals."""
        with self._lock, self.hold_sync():
            self.messages = []
            self.streaming = {}
            self.totals = empty_totals()
            self.busy = False

    # ----------------------------------------------------------------------------- streaming

    def begin_stream(self, *, endpoint: str | None = None, id: str | None = None, after: str | None = None,
                     group: str = "", rate: float = 15.0, **options: Any) -> MessageStream:
        """Start streaming an assistant message and mark the panel busy: a new one at the end, or in
        place of message `id` (regenerate), or right after message `after` (a comparison answer,
        usually with the `group` of the answer it is compared with)."""
        stream = MessageStream(self, id or new_id(), endpoint=self.endpoint if endpoint is None else endpoint,
                               group=group, rate=rate, **options)
        if after is not None and id is None:
            self.add_message("assistant", "", id=stream.id, after=after, status="streaming",
                             endpoint=stream.endpoint, group=group)
        self._stream_update(stream.id, dict(message_state("assistant", "", id=stream.id, status="streaming",
                                                          endpoint=stream.endpoint, group=group, with_text=False)))
        return stream

    def _should_send_property(self, key: str, value: Any) -> bool:
        return key not in getattr(self, "_unsent", ()) and super()._should_send_property(key, value)

    def set_state(self, sync_data: Mapping[str, Any]) -> None:
        """State from the browser; `messages` and `streaming` are the kernel's (the browser's copy of
        `messages` gains a finished stream's message on its own, and may come back: it is ignored)."""
        super().set_state({k: v for k, v in sync_data.items() if k not in ("messages", "streaming")})

    def _stream_update(self, id: str, state: Mapping[str, Any]) -> None:
        with self._lock, self.hold_sync():  # one comm message: this message's state (and busy)
            self.streaming = {**self.streaming, id: dict(state)}
            self.busy = True

    def _stream_end(self, id: str, state: Mapping[str, Any], usage: Any, cost: float | None,
                    parts: Mapping[str, Any] | None = None) -> None:
        with self._lock, self.hold_sync():  # one comm message, so the browser never shows the message twice
            final = dict(state)
            ids = [m.get("id") for m in self.messages]
            # the browser gets the final message alone (it puts it in its copy of `messages`), never the
            # earlier messages again: the list is set here without being sent; and with `parts` (what it
            # lacks of the HTML, see MessageStream), not the HTML it holds already
            self.send(_stream_end_message(final, parts))
            if id in ids:
                self._set_unsent_messages([final if m.get("id") == id else m for m in self.messages])
            else:
                self._set_unsent_messages([*self.messages, final])
            if usage is not None or cost is not None:
                self.totals = add_to_totals(self.totals, usage, cost)
            self.streaming = {k: v for k, v in self.streaming.items() if k != id}
            self.busy = bool(self.streaming)

    def _resend_final(self, id: str) -> None:
        with self._lock:
            if id in self.streaming:
                return  # still streaming: its MessageStream answers
            final = next((dict(m) for m in self.messages if m.get("id") == id), None)
        if final is not None:
            self.send(_stream_end_message(final, None))

    # ----------------------------------------------------------------------------- input and settings

    def set_input(self, text: str, *, only_if: str | None = None) -> None:
        """Put text in the browser's input box (e.g. the prompt of a stopped turn, to edit and resend);
        with `only_if`, only where the box still holds exactly that text (the user may have typed since)."""
        message: dict[str, Any] = {"type": "set_input", "text": text}
        if only_if is not None:
            message["only_if"] = only_if
        self.send(message)

    def insert_cells(self, cells: Sequence[Mapping[str, Any]], *, after_cell: str | None = None) -> str:
        """Ask the front end to put notebook cells (nbformat dicts: markdown and code) into the notebook,
        after the cell whose id is `after_cell` (else after the panel's own cell), in JupyterLab and
        Notebook 7 (the kernel's set_next_input can insert one code cell only). One of the views
        showing the panel inserts them; it answers with a line in `notice`. Returns the request id."""
        request = new_id()
        plain = [{"cell_type": c["cell_type"], "source": c["source"]} for c in cells]
        self.send({"type": "insert_cells", "request": request, "cells": plain, "after_cell": after_cell or "",
                   "model_id": self.model_id})
        return request

    def focus(self) -> None:
        """Move the keyboard focus to the input box."""
        self.send({"type": "focus"})

    def ask_options(self) -> dict[str, Any]:
        """The settings as `Session.ask` keyword arguments (unset ones left out).

        Example:
            >>> ChatView(system_prompt="Be brief.", effort="low", max_tokens=64).ask_options()
            {'system': 'Be brief.', 'reasoning': 'low', 'max_tokens': 64}
        """
        options: dict[str, Any] = {}
        if self.system_prompt.strip():
            options["system"] = self.system_prompt
        if self.effort:
            options["reasoning"] = self.effort
        if self.temperature is not None:
            options["temperature"] = self.temperature
        if self.max_tokens is not None:
            options["max_tokens"] = self.max_tokens
        return options

    def __repr__(self) -> str:  # the text/plain of the widget's output (what a kernel-less viewer may show)
        return f"ChatView({self.title!r}, {len(self.messages)} messages)"

    # ----------------------------------------------------------------------------- display and the static fallback

    def fallback_html(self) -> str:
        """The transcript as static HTML (what a notebook shows without a kernel)."""
        body = render_transcript(self.messages, title=self.title, header=str(self.totals.get("text", "")))
        return f'<div class="cw-fallback mathjax_ignore">{body}</div>'

    def _widget_bundle(self) -> dict[str, Any]:
        data, _ = super()._repr_mimebundle_()
        return data

    def _repr_mimebundle_(self, **kwargs: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        data, metadata = super()._repr_mimebundle_(**kwargs)
        return {**data, "text/html": self.fallback_html()}, metadata

    def show(self) -> None:
        """Display the panel, and after it a static copy of the transcript kept up to date as messages
        finish, hidden wherever the widget is live: the notebook file then reads on nbviewer or GitHub.
        The copy is a few displays (`fallback.StaticCopy`): a finished message is sent to them once,
        earlier turns are never sent again."""
        from IPython.display import display

        from .fallback import StaticCopy

        display(self._widget_bundle(), raw=True)
        copy = StaticCopy()
        with self._lock:
            copy.show(self.messages, title=self.title, totals=str(self.totals.get("text", "")))
            self._fallback = copy

    def _refresh_fallback(self, _change: Any = None) -> None:
        if self._fallback is not None:
            with self._lock:
                self._fallback.refresh(self.messages, title=self.title, totals=str(self.totals.get("text", "")))
