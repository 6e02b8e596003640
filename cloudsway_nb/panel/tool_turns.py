"""A panel turn through the tool loop: `ChatPanel(..., tools=[...])` sends each turn to an `Agent`
(which talks to the Session), and this follows it in the panel: each model call streams into an
assistant message of its own, each tool call is a block (`tool_blocks`) updated as it is asked
about, runs and ends, and a call that needs approval shows Approve / Edit arguments / Reject /
Approve all in its block. The loop runs in the panel's worker thread, so the clicks (custom
messages `{"type": "tool_decision", ...}`) arrive while it waits.

Example (what `ChatPanel.ask` does with tools; no browser needed):
    >>> from cloudsway_nb import Session
    >>> from cloudsway_nb.panel import ChatPanel
    >>> def get_weather(city: str) -> str:
    ...     '''The weather in a city.
    ...
    ...     Args:
    ...         city: Its name.
    ...     '''
    ...     return f"sunny in {city}"
    >>> session = Session(); _ = session.use_emulator()
    >>> panel = ChatPanel(session, "gpt", save=False, name="tools-doc", tools=[get_weather])
    >>> panel.ask("What is the weather in Oslo?").text
    'The tool get_weather returned: sunny in Oslo. You asked: What is the weather in Oslo?'
    >>> [m["role"] for m in panel.view.messages], panel.view.messages[2]["tool"]["status"]
    (['user', 'assistant', 'tool', 'assistant'], 'ok')
    >>> session.close()
"""

from __future__ import annotations

import json
import threading
from typing import TYPE_CHECKING, Any

from ..approval import Decision, ToolRequest
from ..tool_runner import ToolRun
from ..types import Event, Reply, ToolCall
from . import tool_blocks
from .state import message_state, new_id

if TYPE_CHECKING:
    from ..agent import Agent, AgentRun
    from .controller import ChatPanel

__all__ = ["ToolTurn", "calls_markdown", "put_block"]


def calls_markdown(text: str, calls: list[ToolCall]) -> str:
    """An assistant message's text with its tool calls, as the panel's stream shows them when it ends.

    Example:
        >>> print(calls_markdown("", [ToolCall("c1", "f", {"x": 1})]))
        <BLANKLINE>
        <BLANKLINE>
        ```text
        tool call f({"x": 1})
        ```
        <BLANKLINE>
    """
    if not calls:
        return text
    fence = "\n".join(f"tool call {c.name}({c.arguments_json})" for c in calls)
    return f"{text}\n\n```text\n{fence}\n```\n"


def put_block(panel: ChatPanel, block: dict[str, Any], *, live: bool, endpoint: str = "") -> str:
    """Show a block: live (in `streaming`, while it is asked about or runs) or finished (in `messages`);
    one view message per tool call (`panel._tool_ids`); returns its id."""
    view, call_id = panel.view, str(block["call_id"])
    message_id = panel._tool_ids.setdefault(call_id, new_id())
    state = dict(message_state("tool", tool_blocks.block_markdown(block), id=message_id, tool=block,
                               status="streaming" if live else "done", endpoint=endpoint))
    with view._lock, view.hold_sync():
        if live:
            view.messages = [m for m in view.messages if m.get("id") != message_id]
            view.streaming = {**view.streaming, message_id: state}
            view.busy = True
        else:
            view.streaming = {k: v for k, v in view.streaming.items() if k != message_id}
            ids = [m.get("id") for m in view.messages]
            view.messages = ([state if i == message_id else m for i, m in zip(ids, view.messages, strict=True)]
                             if message_id in ids else [*view.messages, state])
    if not live:
        panel._tool_info[call_id] = {k: v for k, v in block.items() if k != "rich"}
    return message_id


class ToolTurn:
    """One send (or resume) of a panel with tools: the Agent's callbacks, drawing into the panel."""

    def __init__(self, panel: ChatPanel, agent: Agent, endpoint: str, user_id: str | None) -> None:
        self.panel, self.view, self.agent, self.endpoint = panel, panel.view, agent, endpoint
        self.user_id = user_id
        self.stream: Any = None
        self.stream_ids: list[str] = []  # the assistant messages of this turn, in order
        self._waiting: dict[str, tuple[threading.Event, list[Decision]]] = {}  # view id -> (clicked, decision)
        agent.on_event, agent.on_reply, agent.on_tool, agent.approve = self.on_event, self.on_reply, self.on_tool, \
            self.approve

    # -- model calls ---------------------------------------------------------------------------

    def _begin(self) -> Any:
        if self.stream is None:
            self.stream = self.view.begin_stream(endpoint=self.endpoint)
        return self.stream

    def on_event(self, event: Event) -> None:
        self._begin().feed(event)

    def on_reply(self, reply: Reply) -> None:
        """A model call is over: its message ends (a cut one is dropped: the loop asks it again on resume)."""
        stream, self.stream = self._begin(), None
        if reply.incomplete:
            stream.finish(reply)
            self.view.remove_message(stream.id)
            return
        stream.finish(reply, cost=reply.cost)
        self.stream_ids.append(stream.id)
        self.view.busy = True  # the loop goes on: Send stays off until it ends
        self.panel._sync_ids(self)

    # -- tool calls ----------------------------------------------------------------------------

    def put(self, block: dict[str, Any], *, live: bool) -> str:
        return put_block(self.panel, block, live=live, endpoint=self.endpoint)

    def on_tool(self, run: ToolRun, phase: str) -> None:
        self.put(tool_blocks.from_run(run), live=phase == "start")

    def approve(self, request: ToolRequest) -> Decision:
        """Ask in the block and wait (in the worker thread) for a click; a Stop ends the wait."""
        run = ToolRun(ToolCall(request.call_id, request.name, request.arguments), None)
        message_id = self.put(tool_blocks.from_run(run, status="asking"), live=True)
        clicked: threading.Event = threading.Event()
        answer: list[Decision] = []
        self._waiting[message_id] = (clicked, answer)
        try:
            while not clicked.wait(0.05):
                if self.panel._stop.is_set():
                    return Decision.reject("the loop was stopped")  # the Agent asks again on resume
            return answer[0]
        finally:
            self._waiting.pop(message_id, None)

    def decide(self, content: dict[str, Any]) -> None:
        """A click in a block (`{"type": "tool_decision", "id", "action", "arguments", "reason"}`)."""
        from ..errors import UsageError

        waiting = self._waiting.get(str(content.get("id") or ""))
        if waiting is None:
            raise UsageError("that tool call is not waiting for approval any more")
        action = content.get("action")
        if action == "approve":
            decision = Decision.approve()
        elif action == "approve_all":
            decision = Decision.approve_all()
        elif action == "reject":
            decision = Decision.reject(str(content.get("reason") or "").strip()[:500])
        elif action == "edit":
            try:
                arguments = json.loads(str(content.get("arguments") or ""))
            except ValueError as exc:
                raise UsageError(f"the edited arguments are not JSON: {exc}") from None
            if not isinstance(arguments, dict):
                raise UsageError('the edited arguments must be a JSON object, e.g. {"city": "Oslo"}')
            decision = Decision.approve(arguments)
        else:
            raise UsageError(f"unknown approval action {action!r}")
        clicked, answer = waiting
        answer.append(decision)
        clicked.set()

    # -- the end -------------------------------------------------------------------------------

    def settle(self, run: AgentRun | None) -> None:
        """After the loop: blocks still live (asked about when a Stop came) are shown as not run."""
        if self.stream is not None:  # a call that failed mid-stream: the panel's error path ends it
            return
        for entry in list(self.view.streaming.values()):
            block = entry.get("tool")
            if entry.get("role") == "tool" and isinstance(block, dict):
                self.put({**block, "status": "not run"}, live=False)
        self.view.busy = bool(self.view.streaming)
