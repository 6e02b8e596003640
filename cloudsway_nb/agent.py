"""`Agent`: the tool loop over a Session. Call the model, run the tools it asks for, send the
results back, repeat until it answers.

    magic / panel  ->  Agent  ->  Session  ->  Client

Every model call goes through `Session.ask` (so it is in the ledger and its conversation, on
any protocol, streamed or not); every tool call is in the ledger too (`tool` column). The loop
ends with the model's answer, or stops with a clear `AgentRun.message` and everything so far:
`max_turns` model calls made, the token `budget` spent, `cancel` set (a Stop) or an interrupt.
`resume()` goes on from there: tool calls not yet run, results not yet sent, a cut answer.
`run` works inside a running event loop (a notebook cell): async tools run on a loop of their
own thread; `await agent.arun(...)` runs them on the caller's loop instead.

Example:
    >>> from cloudsway_nb.session import Session
    >>> def get_weather(city: str) -> str:
    ...     '''The weather in a city.
    ...
    ...     Args:
    ...         city: Its name.
    ...     '''
    ...     return f"sunny in {city}"
    >>> session = Session(); _ = session.use_emulator()
    >>> run = Agent(session, "gpt", [get_weather]).run("What is the weather in Oslo?")
    >>> [(t.name, t.arguments, t.output) for t in run.tool_runs]
    [('get_weather', {'city': 'Oslo'}, 'sunny in Oslo')]
    >>> run.text, run.stopped
    ('The tool get_weather returned: sunny in Oslo. You asked: What is the weather in Oslo?', None)
    >>> session.close()
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .approval import Approver, Decision, ToolRequest, approve_all, approved_for_session, decide
from .errors import UsageError, bad_argument
from .ledger import LedgerEntry
from .tool_runner import ToolRun, ToolRunner
from .tools import Tool, as_tools
from .types import Event, Message, Reply, ToolCall, Usage

if TYPE_CHECKING:
    from .session import Session

__all__ = ["Agent", "AgentRun"]


@dataclass(slots=True)
class AgentRun:
    """What a loop did: the final `reply`, every model `replies`, every `tool_runs`, the `messages`
    it added (prompt, answers, tool results), and why it `stopped` (None: it has its answer).

    `stopped` is "max_turns", "budget", "cancelled" or "interrupted"; `message` says so in one
    line with how to go on; `resume()` goes on.
    """

    agent: Agent = field(repr=False)
    replies: list[Reply] = field(default_factory=list)
    tool_runs: list[ToolRun] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)
    stopped: str | None = None
    message: str = ""

    @property
    def reply(self) -> Reply | None:
        return self.replies[-1] if self.replies else None

    @property
    def text(self) -> str:
        return self.reply.text if self.reply is not None and self.stopped is None else ""

    @property
    def usage(self) -> Usage:
        total = Usage()
        for r in self.replies:
            total = total + r.usage
        return total

    def resume(self, **limits: Any) -> AgentRun:
        """Go on from where the loop stopped (`max_turns=` / `budget=` may be raised)."""
        return self.agent.resume(**limits)

    def to_dict(self) -> dict[str, Any]:
        """The run as JSON-ready data: its messages (lossless), tool runs, and why it stopped."""
        from .panel.transcript import message_to_dict

        return {"messages": [message_to_dict(m) for m in self.messages],
                "tool_runs": [t.to_dict() for t in self.tool_runs], "stopped": self.stopped,
                "message": self.message, "text": self.text, "usage": self.usage.to_dict()}

    def __str__(self) -> str:
        return self.text or self.message


def _check_limits(max_turns: Any, budget: Any) -> None:
    if not isinstance(max_turns, int) or isinstance(max_turns, bool) or max_turns < 1:
        raise bad_argument("max_turns", max_turns, "a number of model calls, 1 or more", "max_turns=10")
    if budget is not None and (not isinstance(budget, int) or isinstance(budget, bool) or budget < 1):
        raise bad_argument("budget", budget, "a number of tokens, or None for no limit", "budget=20_000")


class Agent:
    """The tool loop on one endpoint of a Session (see the module docstring).

    Args:
        session: the Session every call goes through.
        endpoint: the alias (the session's default when None).
        tools: functions, Tools, Toolboxes; each call the model asks for runs here.
        max_turns: the most model calls in one run (or resume).
        budget: the most tokens (input + output, all model calls of one run); None for no limit.
        approve: decides calls that need approval (see `cloudsway_nb.approval`); True approves all.
        chat / continue_ / system / stream / on_event / cancel / params: as for `Session.ask`.
        on_tool: called with each ToolRun when it starts ("start") and ends ("end"), for a view.
        on_reply: called with each model call's Reply, for a view.
    """

    def __init__(
        self, session: Session, endpoint: str | None = None, tools: Any = (), *, max_turns: int = 10,
        budget: int | None = None, approve: Approver | bool | None = None, chat: str | None = None,
        continue_: bool = False, system: str | None = None, stream: bool = True,
        on_event: Callable[[Event], None] | None = None, on_tool: Callable[[ToolRun, str], None] | None = None,
        on_reply: Callable[[Reply], None] | None = None, cancel: threading.Event | None = None, **params: Any,
    ) -> None:
        _check_limits(max_turns, budget)
        if approve is not None and not isinstance(approve, bool) and not callable(approve):
            raise bad_argument("approve", approve, "a function deciding each call, or True to approve all",
                               "approve=lambda request: True")
        self.session, self.tools = session, as_tools(tools)
        self.alias, endpoint_ = session.resolve(endpoint)
        self.protocol = params.get("protocol") or endpoint_.protocol
        self.max_turns, self.budget, self.approve = max_turns, budget, approve
        self.chat, self.system, self.stream = chat, system, stream
        self.on_event, self.on_tool, self.on_reply, self.params = on_event, on_tool, on_reply, params
        self.cancel = cancel if cancel is not None else threading.Event()
        self._continue = continue_
        self._pending: list[Message] = []  # turns to send next (the prompt, then tool results)
        self._todo: list[ToolCall] = []  # tool calls asked for and not yet run
        self._attachments: Any = ()
        self._runs: list[AgentRun] = []

    # -- the public entry points -------------------------------------------------------------------

    def run(self, prompt: Any, *, attachments: Any = ()) -> AgentRun:
        """Run the loop from a new prompt until the model answers (or a limit stops it)."""
        if self._pending or self._todo:
            raise UsageError("this agent stopped before its answer: resume() it, or make a new Agent")
        from .prompts import prompt_messages

        self._pending, self._attachments = prompt_messages(prompt), attachments
        return self._loop(None)

    @property
    def stopped(self) -> bool:
        """Whether the last run stopped before its answer (there is something to `resume`)."""
        return bool(self._pending or self._todo)

    def abandon(self, reason: str = "the user stopped the loop") -> list[Message]:
        """Give up a stopped run: the turns it had still to send, with a result saying `reason` for each
        call not run (so that a conversation never holds a call without its result); nothing is left to
        resume. A view sends them before its next prompt.

        Example:
            >>> from cloudsway_nb.session import Session
            >>> session = Session(); _ = session.use_emulator()
            >>> agent = Agent(session, "gpt")
            >>> agent._todo = [ToolCall("c1", "f", {})]
            >>> [(m.role, m.content) for m in agent.abandon()], agent.stopped
            ([('tool', 'Not run: the user stopped the loop.')], False)
            >>> session.close()
        """
        left = [*self._pending, *(Message("tool", f"Not run: {reason}.", tool_call_id=c.id, name=c.name)
                                  for c in self._todo)]
        self._pending, self._todo = [], []
        return left

    def resume(self, *, max_turns: int | None = None, budget: int | None = None) -> AgentRun:
        """Go on from where the last run stopped; `cancel` is cleared first."""
        if not (self._pending or self._todo):
            raise UsageError("nothing to resume: the agent has its answer (run() a new prompt)")
        self.max_turns = self.max_turns if max_turns is None else max_turns
        self.budget = self.budget if budget is None else budget
        _check_limits(self.max_turns, self.budget)
        self.cancel.clear()
        return self._loop(None)

    async def arun(self, prompt: Any, *, attachments: Any = ()) -> AgentRun:
        """`run`, awaited: the loop works in a thread; async tools run on this event loop."""
        loop = asyncio.get_running_loop()
        from .prompts import prompt_messages

        if self._pending or self._todo:
            raise UsageError("this agent stopped before its answer: await aresume(), or make a new Agent")
        self._pending, self._attachments = prompt_messages(prompt), attachments
        return await self._in_thread(loop)

    async def aresume(self, *, max_turns: int | None = None, budget: int | None = None) -> AgentRun:
        """`resume`, awaited."""
        if not (self._pending or self._todo):
            raise UsageError("nothing to resume: the agent has its answer (arun() a new prompt)")
        self.max_turns = self.max_turns if max_turns is None else max_turns
        self.budget = self.budget if budget is None else budget
        _check_limits(self.max_turns, self.budget)
        self.cancel.clear()
        return await self._in_thread(asyncio.get_running_loop())

    async def _in_thread(self, loop: asyncio.AbstractEventLoop) -> AgentRun:
        try:
            return await asyncio.to_thread(self._loop, loop)
        except asyncio.CancelledError:  # the awaiting task was cancelled: the loop stops at its next step
            self.cancel.set()
            raise

    # -- the loop ----------------------------------------------------------------------------------

    def _loop(self, loop: asyncio.AbstractEventLoop | None) -> AgentRun:
        self._check_approvers()
        run = AgentRun(self)
        self._runs.append(run)
        turns = spent = 0
        with ToolRunner(loop, self.protocol) as runner:
            try:
                while True:
                    if turns >= self.max_turns and (self._todo or self._pending):
                        return self._stop(run, "max_turns", turns)
                    if self._todo:
                        self._run_tools(run, runner)
                    if self.cancel.is_set():
                        return self._stop(run, "cancelled", turns)
                    if self.budget is not None and spent >= self.budget:
                        return self._stop(run, "budget", turns, spent)
                    reply = self._ask(run)
                    turns += 1
                    spent += reply.usage.total or 0
                    if reply.incomplete:
                        return self._stop(run, "cancelled", turns)
                    if not reply.tool_calls:
                        return run
                    self._todo = list(reply.tool_calls)
            except KeyboardInterrupt:
                return self._stop(run, "interrupted", turns)

    def _ask(self, run: AgentRun) -> Reply:
        first = not self._continue
        reply = self.session.ask(
            self.alias, self._pending, tools=self.tools, chat=self.chat, continue_=self._continue,
            system=self.system if first else None, attachments=self._attachments if first else (),
            stream=self.stream, on_event=self.on_event, cancel=self.cancel, **self.params,
        )
        run.replies.append(reply)
        if self.on_reply is not None:
            self.on_reply(reply)
        if not reply.incomplete:  # the turns and the answer are in the conversation now
            run.messages += [*self._pending, reply.to_message()]
            self._pending, self._continue, self._attachments = [], True, ()
        return reply

    def _stop(self, run: AgentRun, why: str, turns: int, spent: int = 0) -> AgentRun:
        left = []
        if self._todo:
            left.append(f"{len(self._todo)} tool call(s) to run")
        if self._pending:
            left.append(f"{len(self._pending)} turn(s) to send")
        rest = f" ({', '.join(left)})" if left else ""
        reasons = {
            "max_turns": f"max_turns={self.max_turns} reached after {turns} model call(s)",
            "budget": f"the token budget ({self.budget}) is spent: {spent} tokens",
            "cancelled": "stopped",
            "interrupted": "interrupted",
        }
        raise_ = " (raise max_turns=)" if why == "max_turns" else " (raise budget=)" if why == "budget" else ""
        run.stopped = why
        run.message = f"{reasons[why]} before the model's answer{rest}; resume(){raise_} goes on from here"
        return run

    # -- tools -------------------------------------------------------------------------------------

    def _check_approvers(self) -> None:
        if self.approve is not None or approved_for_session(self.session):
            return
        gated = [t.name for t in self.tools if t.requires_approval is not False]
        if gated:
            raise UsageError(
                f"tool {gated[0]!r} requires approval: pass approve= (a function deciding each call, "
                "or True to approve every call)"
            )

    def _run_tools(self, run: AgentRun, runner: ToolRunner) -> None:
        """Approve, then run the calls still to do, group by group; a Stop leaves the rest to do."""
        by_name = {t.name: t for t in self.tools}
        while self._todo and not self.cancel.is_set():
            group = [self._prepare(call, by_name) for call in self._group(by_name)]
            if self.cancel.is_set():  # a Stop while approvals were asked: the group stays to do, asked again
                return
            ready = [r for r in group if r.status == "pending"]
            for r in ready:
                self._notify(r, "start")
            runner.run_group(ready)
            for r in group:
                self._record(r)
                self._notify(r, "end")
                run.tool_runs.append(r)
                self._pending.append(r.message())
            del self._todo[: len(group)]

    def _group(self, by_name: dict[str, Tool]) -> list[ToolCall]:
        """The next calls to run together: the calls up to the next sequential tool, or that tool alone."""
        def sequential(call: ToolCall) -> bool:
            tool = by_name.get(call.name)
            return tool is not None and tool.sequential

        if sequential(self._todo[0]):
            return self._todo[:1]
        group = []
        for call in self._todo:
            if sequential(call):
                break
            group.append(call)
        return group

    def _prepare(self, call: ToolCall, by_name: dict[str, Tool]) -> ToolRun:
        """A ToolRun ready to run ("pending"), or already settled: unknown tool, bad arguments, rejected."""
        tool = by_name.get(call.name)
        run = ToolRun(call, tool)
        if tool is None or tool.function is None:
            known = ", ".join(sorted(n for n, t in by_name.items() if t.function is not None)) or "none"
            run.fail("error", f"there is no tool named {call.name!r} to run (tools: {known})")
        elif not isinstance(call.arguments, dict):
            run.fail("error", f"the arguments of {call.name} are not a JSON object: {call.raw_arguments!r}")
        elif tool.needs_approval(call.arguments):
            self._approve(run, tool)
        return run

    def _approve(self, run: ToolRun, tool: Tool) -> None:
        if approved_for_session(self.session) or self.approve is True:
            run.approval = "session" if self.approve is not True else "approved"
            return
        if self.approve is None:  # "approve all" was revoked during the run
            decision = Decision.reject("no approver was given")
        elif self.approve is False:
            decision = Decision.reject("approve=False rejects every call that needs approval")
        else:
            decision = decide(self.approve, ToolRequest(tool.name, dict(run.arguments), run.call.id, tool.description))
        if decision.action == "approve_all":
            approve_all(self.session)
        if decision.action == "reject":
            run.approval, run.reason = "rejected", decision.reason
            why = f": {decision.reason}" if decision.reason else ""
            run.status, run.output = "rejected", f"The user rejected this call of {tool.name}{why}. Do not retry it."
            return
        if decision.arguments is not None and decision.arguments != run.arguments:
            run.arguments, run.approval = dict(decision.arguments), "edited"
        else:
            run.approval = "approved" if decision.action == "approve" else "session"

    def _notify(self, run: ToolRun, phase: str) -> None:
        if self.on_tool is not None:
            self.on_tool(run, phase)

    def _record(self, run: ToolRun) -> None:
        self.session.ledger.append(LedgerEntry(
            endpoint=self.alias, protocol=self.protocol, status=run.status, latency=run.duration,
            error=run.error, chat=self.chat, tool=run.name,
        ))


def run_agent(session: Session, endpoint: str | None, prompt: Any, tools: Any, *, attachments: Any = (),
              **options: Any) -> AgentRun:
    """`Session.ask(..., run_tools=True)`: one Agent, run once (kept on the run for `resume()`)."""
    return Agent(session, endpoint, tools, **options).run(prompt, attachments=attachments)

