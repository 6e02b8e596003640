"""The tool side of `ChatPanel` (a mixin, so the panel's module keeps one job): `panel.tools`, a turn
through the Agent loop in the panel's worker thread, Resume, giving up a stopped loop's calls, and
matching the turns the loop adds to the conversation with what the panel shows (`tool_turns` draws).

Example:
    >>> tool_info({"tools": {"c1": {"call_id": "c1", "name": "f", "arguments": "{}", "status": "ok",
    ...                             "output": "42", "rich": "<script>"}, "c2": "not a block"}})["c1"]["rich"] is None
    True
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any

from ..errors import CloudswayError, UsageError, describe_error
from ..types import Message, Reply
from . import interrupts, tool_blocks
from .tool_turns import ToolTurn

__all__ = ["PanelTools", "tool_info"]


class PanelTools:
    """What `ChatPanel` does with tools (its attributes are set by `ChatPanel.__init__`)."""

    _tools: list[Any]
    _agent: Any
    _turn: Any
    _tool_ids: dict[str, str]
    _tool_info: dict[str, dict[str, Any]]
    _ids: list[str]
    _stop: threading.Event
    _worker: threading.Thread | None
    _retry: Any
    _outcome: Any
    last_error: BaseException | None
    last_run: Any
    max_turns: int
    session: Any
    view: Any
    name: str


    @property
    def tools(self) -> list[Any]:
        """The tools each turn may call (as Tools); set a list of functions / Tools / Toolboxes, or []."""
        return list(self._tools)

    @tools.setter
    def tools(self, value: Any) -> None:
        from ..tools import as_tools

        if self.busy:
            raise UsageError("a reply is still streaming: set panel.tools after it, or press Stop")
        self._tools = as_tools(list(value) if isinstance(value, list | tuple) else [value]) if value else []

    def resume(self, *, wait: bool = True) -> Reply | None:
        """Go on with the tool loop that a Stop (or max_turns) ended, as the Resume button does."""
        self._on_resume()
        return self._result() if wait else None

    def _on_resume(self) -> None:
        self._ready()
        agent = self._agent
        if agent is None or not agent.stopped:
            raise UsageError("nothing to resume: the last turn has its answer")
        self.view.notice = ""
        self._start_tools(agent.alias, None, [], None, None, None, agent=agent)

    def _abandon(self) -> list[Message]:
        """A new turn after a stopped loop: the results it still had to send, and for each call not
        run one saying so, go before the new message (a conversation never holds a call without its result)."""
        from .tool_turns import put_block

        agent, self._agent = self._agent, None
        self.view.resumable = False
        left = agent.abandon() if agent is not None and agent.stopped else []
        for message in left:  # the blocks say what the model is told
            block = self._tool_info.get(message.tool_call_id or "")
            if message.role == "tool" and block is not None:
                put_block(self, {**block, "output": message.text()}, live=False, endpoint=agent.alias)
        return left

    def _start_tools(self, endpoint: str, prompt: Message | None, new_ids: list[str], restore: Any, undo: Any,
                     retry: Any, agent: Any = None) -> None:
        """Run `prompt` through a new Agent (after what a stopped loop still had to send), or resume `agent`."""
        from ..agent import Agent

        self._stop.clear()
        self.view.resumable = False
        leftover = self._abandon() if agent is None else []
        if agent is None:
            options = {k: v for k, v in self.view.ask_options().items() if k != "system"}
            agent = Agent(self.session, endpoint, self._tools, chat=self.name, system=self.view.system_prompt,
                          cancel=self._stop, max_turns=self.max_turns, **options)
        self._agent = None
        turn = self._turn = ToolTurn(self, agent, endpoint, new_ids[0] if new_ids else None)
        sent = [*leftover, prompt] if leftover else prompt

        def call(a: Any) -> Any:
            return a.resume() if sent is None else a.run(sent)

        if new_ids:
            turn._begin()  # the first answer's bubble at once (its "thinking" cursor)
        self.view.busy = True
        self._worker = threading.Thread(target=self._loop_tools, args=(turn, call, new_ids, restore, undo, retry),
                                        daemon=True, name="cloudsway-panel-tools")
        self._worker.start()

    def _loop_tools(self, turn: ToolTurn, call: Callable[[Any], Any], new_ids: list[str], restore: Any, undo: Any,
                    retry: Any) -> None:
        before = len(self._ids)
        run = None
        try:
            with interrupts.watch(self._stop):
                run = self.last_run = call(turn.agent)
        except (CloudswayError, OSError) as exc:
            self.last_error = self._outcome = exc
            if turn.stream is not None:
                turn.stream.fail(exc)
                self.view.remove_message(turn.stream.id)
                turn.stream = None
            if turn.agent.stopped and len(self._ids) > before:
                self._agent, self.view.resumable = turn.agent, True  # what ran stays; Resume asks again
            elif len(self._ids) == before:
                turn.agent.abandon()
                self._take_back("", new_ids, restore, undo, describe_error(exc))
            self.view.notice = describe_error(exc)
            if not isinstance(exc, UsageError) and retry is not None and len(self._ids) == before:
                self._retry = retry
                self.view.retry = True
        else:
            self.last_error, self._outcome = None, run.reply
            if run.stopped and len(self._ids) == before:  # stopped before any answer: nothing was kept
                turn.agent.abandon()
                self._take_back("", new_ids, restore, undo, "stopped before the answer began: nothing was kept")
            elif run.stopped:
                self._agent, self.view.resumable = turn.agent, True
                self.view.notice = (f"{run.message.split(';')[0]}: Resume goes on; a new message gives up "
                                    "the calls not run (the model is told)")
        finally:
            turn.settle(run)
            self._turn = None
            self._save()

    def _sync_ids(self, turn: ToolTurn) -> None:
        """Turns the loop added to the conversation, matched with what the panel shows for them."""
        answers = [i for i in turn.stream_ids if i not in self._ids]
        for message in self.conversation.messages[len(self._ids):]:
            if message.role == "user" and turn.user_id is not None and turn.user_id not in self._ids:
                self._ids.append(turn.user_id)
            elif message.role == "tool" and (message.tool_call_id or "") in self._tool_ids:
                self._ids.append(self._tool_ids[message.tool_call_id or ""])
            elif message.role == "tool":
                block = tool_blocks.from_messages(None, message)
                self._tool_ids[block["call_id"]] = block_id = turn.put(block, live=False)
                self._ids.append(block_id)
            elif message.role == "assistant" and answers:
                self._ids.append(answers.pop(0))
            else:  # not expected: draw the conversation again rather than mismatch ids and turns
                self._show_conversation()
                return

    def _on_tool_msg(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if not isinstance(content, dict) or content.get("type") not in ("tool_decision", "resume"):
            return
        try:
            if content["type"] == "resume":
                self._on_resume()
            elif self._turn is None:
                raise UsageError("no tool call is waiting for approval")
            else:
                self._turn.decide(content)
        except CloudswayError as exc:
            self.view.notice = describe_error(exc)


def tool_info(document: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """A transcript's saved tool blocks (a hand-edited entry that is not a block is left out)."""
    saved = document.get("tools") if isinstance(document, Mapping) else None
    if not isinstance(saved, Mapping):
        return {}
    keys = ("call_id", "name", "arguments", "status", "output")
    return {str(k): {**dict(v), "rich": None} for k, v in saved.items()
            if isinstance(v, Mapping) and all(isinstance(v.get(key), str) for key in keys)}
