"""`ChatPanel`: the chat panel, a `ChatView` wired to a Session's conversation.

The panel talks to the Session only (never the client): each turn is `session.ask(..., chat=NAME,
keep_partial=True)`, so the panel's transcript *is* the named conversation: what it shows,
stopped answers included, is exactly what the model gets next, and `%%cloudsway --chat NAME`
cells, the ledger and `%cloudsway history NAME` see the same turns. Replies stream in a worker
thread (the kernel stays free; Stop, Escape or a kernel interrupt cut the connection at once).
With `tools=[...]` each turn runs the tool loop (`cloudsway_nb.agent.Agent`, still over the Session):
see `tool_turns` for the tool blocks, approval in the panel, Stop and Resume.

Example:
    >>> from cloudsway_nb import Session
    >>> session = Session(); _ = session.use_emulator()
    >>> panel = ChatPanel(session, "claude", "Be brief.", save=False)
    >>> panel.ask("Hello").text                      # what the Send button does, waited for
    'You said: Hello. Instructions noted: Be brief.'
    >>> [m["role"] for m in panel.view.messages], len(session.history(panel.name))
    (['user', 'assistant'], 3)
    >>> ChatPanel(session, save=False) is panel      # the same conversation: the same panel
    True
    >>> session.close()
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import CloudswayError, UsageError, bad_argument, describe_error
from ..types import Attachment, Message, Reply
from . import interrupts, tool_blocks
from .keeping import SETTINGS, current_cell_id, free_name, saved_settings
from .state import NOTHING_TO_SEND, new_id
from .tool_panel import PanelTools, tool_info
from .tool_turns import calls_markdown
from .transcript import read_transcript, to_cells, to_markdown, write_transcript
from .uploads import Upload

if TYPE_CHECKING:
    from ..session import Conversation, Session
    from .widget import ChatView

__all__ = ["ChatPanel"]

_FOLDER = ".cloudsway"


def _notebook_session() -> Session:
    """The notebook's Session (the magic's), else a Session of its own outside IPython."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython is a dependency
        get_ipython = None  # type: ignore[assignment]
    if get_ipython is not None and get_ipython() is not None:
        from ..magics import get_session

        return get_session()
    from ..session import Session

    return Session()


class ChatPanel(PanelTools):
    """A chat panel over one named conversation of a Session (see the module docstring).

    Args:
        session: the Session (default: the notebook's, shared with `%%cloudsway`).
        endpoint: the endpoint to start with (default: the session's default); switchable any time.
        system: the system prompt (changeable in the panel's settings).
        name: the conversation's name in the session (`session.chats[name]`); one panel per name.
        save: keep the transcript in `.cloudsway/NAME.json` next to the notebook (restored after a
            kernel restart); False keeps it in memory only.
        tools: functions, Tools or Toolboxes: each turn then runs the tool loop (`cloudsway_nb.agent.Agent`),
            each call a block in the panel, approval asked there (see `tool_turns`); `panel.tools = [...]`
            changes them, `[]` turns the loop off.
        max_turns: with tools, the most model calls of one turn.
    """

    def __new__(cls, session: Session | None = None, endpoint: str | None = None, system: str | None = None,
                **kwargs: Any) -> ChatPanel:
        session = session if session is not None else _notebook_session()
        existing = session.views.get(f"panel:{kwargs.get('name', 'panel')}")
        if isinstance(existing, cls):
            existing._reattach(endpoint, system)
            if kwargs.get("tools") is not None:
                existing.tools = kwargs["tools"]
            return existing
        panel = super().__new__(cls)
        panel.session = session
        return panel

    def __init__(self, session: Session | None = None, endpoint: str | None = None, system: str | None = None,
                 *, name: str = "panel", save: bool = True, folder: str | Path | None = None,
                 tools: Any = None, max_turns: int = 10, _settings: Mapping[str, Any] | None = None) -> None:
        if getattr(self, "view", None) is not None:
            return  # reattached in __new__
        from .widget import ChatView

        self.name = name
        self.path = (Path(folder) if folder is not None else Path.cwd() / _FOLDER) / f"{name}.json" if save else None
        self._stop = threading.Event()
        self._worker: threading.Thread | None = None
        self._ids: list[str] = []  # the view's id of each message of the conversation, in order
        self._alternatives: dict[str, Reply] = {}  # comparison answers not (yet) in the conversation
        self._attachments: dict[str, Attachment] = {}  # pending upload id -> its checked Attachment
        self._retry: Callable[[], None] | None = None  # re-sends the turn that failed last (the Retry button)
        self._given_back: tuple[str, list[str]] = ("", [])  # the failed turn's text and chips put back
        self.last_error: BaseException | None = None
        """The error of the last turn that failed (None once a turn succeeds)."""
        self._outcome: Reply | BaseException | None = None
        self._tools: list[Any] = []
        self.tools = tools or []
        self.max_turns = max_turns
        self._agent: Any = None  # a tool loop that was stopped before its answer (Resume goes on)
        self._turn: Any = None  # the ToolTurn running now
        self._tool_ids: dict[str, str] = {}  # tool call id -> the view id of its block
        self._tool_info: dict[str, dict[str, Any]] = {}  # tool call id -> its block as the panel saw it (saved)
        self.last_run: Any = None
        """The AgentRun of the last turn with tools."""
        conv, saved = self._restore(endpoint, system)
        endpoints = self._chat_endpoints()
        settings = saved_settings(_settings if _settings is not None else saved, endpoints)
        start = (endpoint or settings.pop("endpoint", None) or (conv.endpoint if conv.endpoint in endpoints else None)
                 or self.session.default_endpoint)
        self.view: ChatView = ChatView(endpoints=endpoints, endpoint=start or (endpoints[0] if endpoints else ""),
                                       system_prompt=conv.system or "", title=f"Cloudsway chat · {name}",
                                       **settings)
        for hook in ("send", "stop", "edit", "regenerate", "compare", "delete", "pick", "retry"):
            getattr(self.view, f"on_{hook}")(getattr(self, f"_on_{hook}"))
        self.view.observe(self._check_pending, names=["pending"])
        self.view.on_msg(self._on_tool_msg)
        self.view.observe(self._setting_changed, names=[*SETTINGS, "system_prompt"])
        self._show_conversation()
        self.session.views[f"panel:{name}"] = self
        interrupts.install()

    # -- the conversation ---------------------------------------------------------------------

    @property
    def conversation(self) -> Conversation:
        """The session's conversation this panel shows (made on first use)."""
        from ..session import Conversation

        conv = self.session.chats.get(self.name)
        if conv is None:
            conv = self.session.chats[self.name] = Conversation(self.view.endpoint if hasattr(self, "view") else "")
        return conv

    def _restore(self, endpoint: str | None, system: str | None) -> tuple[Conversation, Any]:
        """The conversation (the session's, else the autosaved one), and the settings saved with it."""
        if endpoint:
            self.session.resolve(endpoint)  # an unknown alias is one clear error, here, before anything changes
        document: dict[str, Any] = {}
        if self.name not in self.session.chats and self.path is not None and self.path.exists():
            self.session.chats[self.name], document = read_transcript(self.path)
            self._tool_info = tool_info(document)
        conv = self.conversation
        if system is not None:
            conv.system = system
        return conv, document.get("panel")

    def _setting_changed(self, change: Any) -> None:
        """A setting changed in the panel: kept with the transcript at once (a restart restores it); the
        system prompt is the conversation's, so the next turn and `%%cloudsway --chat` both get it."""
        if change["name"] == "system_prompt":
            self.conversation.system = change["new"] or None
        self._save()

    def _reattach(self, endpoint: str | None, system: str | None) -> None:
        if endpoint:
            self.session.resolve(endpoint)
            self.view.endpoint = endpoint
        if system is not None:
            self.view.system_prompt = system
        self.view.endpoints = self._chat_endpoints()
        self._show_conversation()

    def _chat_endpoints(self) -> list[str]:
        """The aliases the switcher offers: every endpoint that chats (not the embeddings ones)."""
        return [alias for alias, ep in self.session.endpoints.items() if ep.protocol != "embeddings"]

    def _show_conversation(self) -> None:
        """Draw the conversation as it is in the session (a reattach, a restore, another view's turns)."""
        from .state import add_to_totals, empty_totals, footer_line

        conv = self.conversation
        self.view.clear()
        self._ids = []
        totals = empty_totals()
        for reply in conv.replies:
            if reply is not None:
                totals = add_to_totals(totals, reply.usage, reply.cost)
        self.view.totals = totals
        calls: dict[str, Any] = {}
        for message, reply in zip(conv.messages, conv.replies, strict=True):
            role = message.role if message.role in ("user", "assistant", "system", "tool") else "assistant"
            parts = [message.content] if isinstance(message.content, str) else message.content
            chips = [_chip(p) for p in parts if isinstance(p, Attachment)]
            text = "\n\n".join(p for p in parts if isinstance(p, str))
            fields: dict[str, Any] = {"attachments": chips}
            if message.role == "tool":  # its block: as the panel saw it run, else from the conversation
                block = self._tool_info.get(message.tool_call_id or "") or tool_blocks.from_messages(
                    calls.get(message.tool_call_id or ""), message)
                self._tool_ids[str(block["call_id"])] = message_id = self.view.add_message(
                    "tool", tool_blocks.block_markdown(block), tool=block, endpoint=conv.endpoint)
                self._ids.append(message_id)
                continue
            calls.update({c.id: c for c in message.tool_calls})
            text = calls_markdown(text, message.tool_calls)  # as the stream ends it: never an empty bubble
            if reply is not None:
                fields.update(reasoning=reply.reasoning, footer=footer_line(reply),
                              status="interrupted" if reply.incomplete else "done", endpoint=reply.endpoint or "")
            self._ids.append(self.view.add_message(role, text, **fields))

    def _ready(self) -> None:
        """Before an action: refuse it while a reply streams (nothing changed yet), and show turns another
        view added to the conversation (`%%cloudsway --chat NAME`), so ids and turns line up again."""
        if self.busy:
            raise UsageError("a reply is still streaming: wait for it, or press Stop")
        if len(self._ids) != len(self.conversation.messages):
            self._show_conversation()

    def _snapshot(self) -> tuple[list[Message], list[Reply | None]]:
        conv = self.conversation
        return list(conv.messages), list(conv.replies)

    def _undo(self, snapshot: tuple[list[Message], list[Reply | None]]) -> None:
        conv = self.conversation
        conv.messages[:], conv.replies[:] = snapshot
        self._show_conversation()

    def _index(self, message_id: str) -> int:
        if message_id not in self._ids:
            raise UsageError("that message is not in the conversation any more")
        return self._ids.index(message_id)

    # -- asking ---------------------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        return self._worker is not None and self._worker.is_alive()

    def ask(self, text: str, attachments: Any = (), *, wait: bool = True) -> Reply | None:
        """Send a message as the Send button does (attachments: paths, images, figures...); with `wait`,
        return the Reply once it has streamed in, or None when the turn failed (the panel then shows
        the error in one line with a Retry button; `last_error` holds it).

        Bad input (an empty message, a missing file, a kind this endpoint cannot carry) is a UsageError,
        shown in a notebook as one line."""
        parts = [self.session.check_attachment(self.view.endpoint, a) for a in _as_list(attachments)]
        if not isinstance(text, str):
            raise bad_argument("text", text, "the message, a str", 'panel.ask("Hello")')
        self._send_turn(text, parts)
        return self._result() if wait else None

    def retry(self, *, wait: bool = True) -> Reply | None:
        """Send the turn that failed last again, as the Retry button does (None again if it fails again)."""
        self._on_retry()
        return self._result() if wait else None

    def _result(self) -> Reply | None:
        self.wait()
        return self._outcome if isinstance(self._outcome, Reply) else None

    def wait(self, timeout: float | None = None) -> Reply | None:
        """Wait for the reply streaming now; returns the last reply in the conversation."""
        if self._worker is not None:
            self._worker.join(timeout)
        replies = [r for r in self.conversation.replies if r is not None]
        return replies[-1] if replies else None

    def stop(self) -> None:
        """Stop the reply streaming now (the partial answer stays, marked interrupted)."""
        self._stop.set()

    def _submit(self, text: str, parts: list[Attachment], undo: Any = None, retry: Any = None) -> None:
        self._ready()
        if not text.strip() and not parts:
            raise UsageError(NOTHING_TO_SEND)
        prompt = Message.user([text, *parts] if parts else text)
        user_id = self.view.add_message("user", text, attachments=[_chip(p) for p in parts])
        self._start(prompt, new_ids=[user_id], restore=(text, parts), undo=undo, retry=retry)

    def _start(self, prompt: Message, *, new_ids: list[str], restore: tuple[str, list[Attachment]] | None = None,
               compare: tuple[str, str] | None = None, history: list[Message] | None = None,
               endpoint: str | None = None, undo: Any = None, retry: Any = None) -> None:
        if self.busy:
            raise UsageError("a reply is still streaming: wait for it, or press Stop")
        self._retry, self._given_back, self._outcome = None, ("", []), None  # a new turn: the old failure is moot
        self.view.retry = False
        endpoint = endpoint or self.view.endpoint
        if self._tools and compare is None:  # the tool loop (a comparison answer is a plain call)
            self._start_tools(endpoint, prompt, new_ids, restore, undo, retry)
            return
        if self._agent is not None:  # a plain turn after a stopped loop: its calls' results go first
            prompt = [*self._abandon(), prompt] if compare is None else prompt
        after, group = compare if compare is not None else (None, "")
        stream = self.view.begin_stream(endpoint=endpoint, after=after, group=group)
        self._stop.clear()
        options = {**self.view.ask_options(), "keep_partial": True, "chat": self.name}
        options["system"] = self.view.system_prompt  # as the settings show it: cleared means none
        if compare is not None:
            options.update(history=history, commit=False)
        self._worker = threading.Thread(
            target=self._stream, args=(endpoint, prompt, stream, options, new_ids, restore, compare is not None, undo,
                                       retry), daemon=True, name="cloudsway-panel")
        self._worker.start()

    def _stream(self, endpoint: str, prompt: Message, stream: Any, options: dict[str, Any], new_ids: list[str],
                restore: tuple[str, list[Attachment]] | None, comparing: bool, undo: Any, retry: Any) -> None:
        try:
            with interrupts.watch(self._stop):
                reply = self.session.ask(endpoint, prompt, on_event=stream.feed, cancel=self._stop, **options)
        except (CloudswayError, OSError) as exc:  # the turn is not in the conversation: neither is it here
            stream.fail(exc)
            self.last_error = self._outcome = exc
            self._take_back(stream.id, new_ids, restore, undo, describe_error(exc))
            if not isinstance(exc, UsageError):  # bad input would fail the same way again: no Retry for it
                self._retry = retry
                self.view.retry = retry is not None
            return
        self.last_error, self._outcome = None, reply
        if reply.incomplete and not reply.text and not reply.tool_calls:  # stopped before any answer
            stream.finish(reply)
            self._take_back(stream.id, new_ids, restore, undo, "stopped before the answer began: nothing was kept")
            return
        stream.finish(reply, cost=reply.cost)
        if comparing:
            self._alternatives[stream.id] = reply
        else:
            self._ids += [*new_ids, stream.id]
            if len(self._ids) != len(self.conversation.messages):  # a stopped loop's results went first
                self._show_conversation()
            self._save()

    def _take_back(self, stream_id: str, new_ids: list[str], restore: Any, undo: Any, notice: str) -> None:
        """A turn that did not join the conversation leaves the screen too: its text goes back to the input
        (its attachments back to the chips), an edit or regenerate is undone, and one line says why."""
        if stream_id:
            self.view.remove_message(stream_id)
        for message_id in new_ids:
            self.view.remove_message(message_id)
        if undo is not None:
            self._undo(undo)
        if restore is not None:
            self.view.set_input(restore[0])
            self._given_back = (restore[0], [self._put_pending(part) for part in restore[1]])
        self.view.notice = notice

    # -- what the user does in the panel ------------------------------------------------------

    def _on_send(self, text: str, uploads: list[Upload]) -> None:
        self._ready()
        parts = [self._attachments.pop(u.id, None) or self._checked_upload(u) for u in uploads]
        self._send_turn(text, parts)

    def _send_turn(self, text: str, parts: list[Attachment]) -> None:
        self._submit(text, parts, retry=lambda: self._send_turn(text, parts))

    def _on_stop(self) -> None:
        self.stop()

    def _on_retry(self) -> None:
        """Send the failed turn again: what was put back in the input (if still there) and the chips go,
        so the turn is neither lost nor sent twice."""
        self._ready()
        retry = self._retry
        if retry is None:
            raise UsageError("nothing to retry: the last turn did not fail")
        text, chips = self._given_back
        for upload_id in chips:
            self._attachments.pop(upload_id, None)
            self.view.remove_pending(upload_id)
        if text:
            self.view.set_input("", only_if=text)  # the user may have typed something else since
        self.view.notice = ""
        retry()

    def _on_edit(self, message_id: str, text: str) -> None:
        self._ready()
        index = self._index(message_id)
        conv = self.conversation
        message = conv.messages[index]
        if message.role != "user":  # an answer corrected by hand: the model gets the correction
            conv.messages[index] = Message("assistant", text, message.tool_calls, reasoning=message.reasoning)
            self.view.update_message(message_id, text=text)
            self._save()
            return
        parts = [p for p in message.content if isinstance(p, Attachment)] if isinstance(message.content, list) else []
        snapshot = self._snapshot()
        self._cut(index)
        self._submit(text, parts, undo=snapshot, retry=lambda: self._on_edit(self._ids[index], text))

    def _on_regenerate(self, message_id: str, endpoint: str) -> None:
        self._ready()
        index = self._index(message_id)
        conv = self.conversation
        if index == 0 or conv.messages[index - 1].role != "user":
            raise UsageError("only an answer to a message can be regenerated")
        user_id, prompt = self._ids[index - 1], conv.messages[index - 1]
        snapshot = self._snapshot()
        self._cut(index)  # the answer and what followed it
        conv.truncate(index - 1)  # the turn is asked again, and joins the conversation again with its answer
        self._ids = self._ids[: index - 1]
        self._start(prompt, new_ids=[user_id], endpoint=endpoint or None, undo=snapshot,
                    retry=lambda: self._on_regenerate(self._ids[index], endpoint))

    def _on_compare(self, message_id: str, endpoint: str) -> None:
        self._ready()
        index = self._index(message_id)
        conv = self.conversation
        if index == 0 or conv.messages[index - 1].role != "user":
            raise UsageError("only an answer to a message can be compared")
        current = self.view.get_message(message_id) or {}
        group = current.get("group") or new_id()
        self.view.update_message(message_id, group=group)
        self._start(conv.messages[index - 1], new_ids=[], compare=(message_id, group),
                    history=conv.messages[: index - 1], endpoint=endpoint,
                    retry=lambda: self._on_compare(self._ids[index], endpoint))

    def _on_pick(self, message_id: str) -> None:
        self._ready()
        picked = self.view.get_message(message_id) or {}
        group = picked.get("group")
        members = [m["id"] for m in self.view.messages if group and m.get("group") == group]
        current = next((m for m in members if m in self._ids), None)
        if current is None:
            raise UsageError("that comparison is no longer in the conversation")
        if message_id != current:
            reply = self._alternatives.pop(message_id)
            index = self._ids.index(current)
            self.conversation.replace(index, reply)
            self._ids[index] = message_id
        for other in members:
            if other != message_id:
                self._alternatives.pop(other, None)
                self.view.remove_message(other)
        self.view.update_message(message_id, group="")
        self._save()

    def _on_delete(self, message_id: str) -> None:
        self._ready()
        if message_id in self._alternatives:  # a comparison answer the conversation never had
            self._alternatives.pop(message_id)
        else:
            index = self._index(message_id)
            self.conversation.remove(index)
            self._ids.pop(index)
            self._save()
        self.view.remove_message(message_id)

    def _cut(self, index: int) -> None:
        """Forget message `index` and everything after it, in the conversation and on screen."""
        for message_id in self._ids[index:]:
            self.view.remove_message(message_id)
        for message_id in list(self._alternatives):
            self.view.remove_message(message_id)
        self._alternatives.clear()
        self.conversation.truncate(index)
        self._ids = self._ids[:index]

    # -- attachments ----------------------------------------------------------------------------

    def attach(self, item: Any) -> None:
        """Add a notebook object (a PIL image, a figure, a path, bytes...) to the next message, as a drop
        would; refused at once, naming the protocols that can, when this endpoint's protocol cannot carry it."""
        self._put_pending(self.session.check_attachment(self.view.endpoint, item))

    def _put_pending(self, part: Attachment) -> str:
        name = part.filename or getattr(part, "display_name", None) or part.kind
        upload = Upload(new_id(), str(name), part.mime_type, part.data or b"")
        self._attachments[upload.id] = part
        self.view.add_upload(upload)
        return upload.id

    def _check_pending(self, change: Any) -> None:
        """A file dropped, pasted or picked is checked now, not at Send: a kind this protocol cannot carry
        is refused in one line naming the protocols that can."""
        for chip in change["new"]:
            upload_id = str(chip.get("id"))
            if upload_id in self._attachments:
                continue
            upload = self.view.pending_upload(upload_id)
            if upload is None:
                continue
            try:
                part = self._checked_upload(upload)
            except CloudswayError as exc:
                self.view.remove_pending(upload_id)
                self.view.notice = f"{upload.name}: {describe_error(exc)}"
            else:
                self._attachments[upload_id] = part

    def _checked_upload(self, upload: Upload) -> Attachment:
        from ..media import attach

        named = attach(upload.data, filename=upload.name)  # the file's name stays with it (chips, transcript)
        return self.session.check_attachment(self.view.endpoint, named)

    # -- keeping the transcript -------------------------------------------------------------------

    def _settings(self) -> dict[str, Any]:
        return {"name": self.name, **{key: getattr(self.view, key) for key in SETTINGS}}

    def _save(self) -> None:
        if self.path is not None and hasattr(self, "view"):
            write_transcript(self.path, self.conversation, panel=self._settings(), tools=self._saved_tools())

    def _saved_tools(self) -> dict[str, Any]:
        """The tool blocks of this conversation as the panel saw them run (durations, approvals, edits)."""
        ids = {m.tool_call_id for m in self.conversation.messages if m.role == "tool"}
        return {k: v for k, v in self._tool_info.items() if k in ids}

    def export_json(self, path: str | Path) -> Path:
        """The whole conversation, losslessly (attachments, usage and cost included), with the panel's
        settings, for `ChatPanel.load(path)`."""
        return write_transcript(path, self.conversation, panel=self._settings(), tools=self._saved_tools())

    def export_markdown(self, path: str | Path | None = None) -> str:
        """The conversation as Markdown (written to `path` when given)."""
        text = to_markdown(self.conversation, self.view.title)
        if path is not None:
            Path(path).expanduser().write_text(text, encoding="utf-8")
        return text

    def to_cells(self, *, insert: bool = True) -> list[dict[str, Any]]:
        """The conversation as notebook cells (nbformat dicts: a markdown cell per turn, its Python code
        blocks as code cells); with `insert`, in a notebook, the panel's front end puts them all in the
        notebook after the cell that called this (JupyterLab and Notebook 7; the panel must be shown)."""
        cells = to_cells(self.conversation)
        if insert and cells and current_cell_id() is not None:
            self.view.insert_cells(cells, after_cell=current_cell_id())
        return cells

    @classmethod
    def load(cls, path: str | Path, session: Session | None = None, *, name: str | None = None,
             save: bool = True, folder: str | Path | None = None) -> ChatPanel:
        """A new panel showing a transcript exported with `export_json`, with its settings.

        It never replaces a conversation: without `name` it is named as when it was exported (else
        after the file), or, when that name is taken (a conversation in the session, or an autosaved
        transcript in `.cloudsway/`), the first free one of NAME-2, NAME-3...; the panel's notice says
        so. An explicit `name` that is taken is refused in one line."""
        conv, document = read_transcript(path)
        session = session if session is not None else _notebook_session()
        panel = document.get("panel") if isinstance(document.get("panel"), Mapping) else {}
        base = Path(folder) if folder is not None else Path.cwd() / _FOLDER
        wanted = name if name is not None else str(panel.get("name") or Path(path).stem)
        name = free_name(session, wanted, base if save else None, source=path, fresh=name is None)
        session.chats[name] = conv
        loaded = cls(session, name=name, save=save, folder=folder, _settings=panel)
        loaded._tool_info = tool_info(document)
        loaded._show_conversation()
        if name != wanted:
            loaded.view.notice = f"loaded as {name!r}: a conversation named {wanted!r} exists already"
        loaded._save()
        return loaded

    def _ipython_display_(self) -> None:
        self.view.show()

    def __repr__(self) -> str:
        return f"ChatPanel({self.name!r}, {len(self.conversation)} messages, endpoint={self.view.endpoint!r})"


def _as_list(items: Any) -> list[Any]:
    if items is None:
        return []
    return list(items) if isinstance(items, list | tuple) else [items]


def _chip(part: Attachment) -> dict[str, Any]:
    from .state import format_size
    from .uploads import thumbnail

    name = part.filename or part.url or getattr(part, "display_name", None) or part.kind
    size = part.size if part.size is not None else 0
    data = part.data if part.url is None else None
    return {"id": new_id(), "name": str(name), "size": size, "mime": part.mime_type,
            "thumb": thumbnail(data, part.mime_type) if data else None, "label": format_size(size) if size else ""}
