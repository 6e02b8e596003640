"""The tool loop in a notebook cell: `%%cloudsway gpt -T get_weather -T df_tools`.

Each tool call is a collapsible block (name, arguments, result or error, duration, approval); a
result that is a DataFrame, figure or image is also displayed as itself (the model gets its
compact text form, see `tool_runner.model_output`); each model answer streams as in any cell.

A call that needs approval is asked with buttons (approve / edit the arguments / reject with a
reason / approve all for this session). A busy cell does not hear its widgets, so when a tool
may need approval the loop runs in a thread and the whole view is widgets (a `WidgetSurface`);
the cell returns at once and the view follows the loop. Otherwise the loop runs in the cell,
shown with plain displays (`DisplaySurface`), which a saved notebook keeps.

Example:
    >>> from cloudsway_nb.types import ToolCall
    >>> block_html(ToolRun(ToolCall("c1", "get_weather", {"city": "Oslo"}), None, status="ok", output="sunny",
    ...                    duration=0.012)).startswith('<details class="cloudsway-tool"')
    True
    >>> block_text(ToolRun(ToolCall("c1", "get_weather", {"city": "Oslo"}), None, status="ok", output="sunny",
    ...                    duration=0.012))
    'tool get_weather(city="Oslo") -> ok in 0.01 s: sunny'
"""

from __future__ import annotations

import html
import json
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .approval import Decision, ToolRequest
from .display import Throttle, render_answer, usage_line
from .errors import UsageError
from .tool_runner import ToolRun
from .tools import Tool, Toolbox, as_tools
from .types import Event, ReasoningDelta, Reply, TextDelta

if TYPE_CHECKING:
    from .agent import AgentRun
    from .session import Session

__all__ = ["ApprovalPrompt", "DisplaySurface", "ToolCellView", "WidgetSurface", "block_html", "block_text",
           "resolve_tools", "run_tools_cell"]

# the panel's plain symbols: an emoji shows as a box on a machine without an emoji font
_ICONS = {"pending": "…", "ok": "✓", "error": "✗", "timeout": "✗", "rejected": "⊘"}


def resolve_tools(names: Sequence[str], namespace: Mapping[str, Any]) -> list[Tool]:
    """`-T NAME` values as Tools: each name a function, Tool, Toolbox or list of them in `namespace`.

    Example:
        >>> def ping() -> str:
        ...     '''Ping.'''
        ...     return "pong"
        >>> [t.name for t in resolve_tools(["ping"], {"ping": ping})]
        ['ping']
        >>> resolve_tools(["pong"], {"ping": ping})
        Traceback (most recent call last):
        ...
        cloudsway_nb.errors.UsageError: -T pong: no such variable in the notebook (define the function first)
    """
    specs: list[Any] = []
    for name in names:
        if name not in namespace:
            raise UsageError(f"-T {name}: no such variable in the notebook (define the function first)")
        value = namespace[name]
        if isinstance(value, list | tuple):
            specs += list(value)
        elif isinstance(value, Tool | Toolbox | dict) or callable(value):
            specs.append(value)
        else:
            raise UsageError(f"-T {name}: a {type(value).__name__} is not a tool (give a function, a Tool, "
                             "a Toolbox or a list of them)")
    return as_tools(specs)


def _arguments_text(arguments: Any) -> str:
    if not isinstance(arguments, dict):
        return json.dumps(arguments, ensure_ascii=False, default=str)
    return ", ".join(f"{k}={json.dumps(v, ensure_ascii=False, default=str)}" for k, v in arguments.items())


def _output_text(run: ToolRun) -> str:
    if isinstance(run.output, str):
        return run.output
    return " ".join(p for p in run.output if isinstance(p, str))


def _summary(run: ToolRun) -> str:
    took = f" in {run.duration:.2f} s" if run.duration is not None else ""
    approval = f", {run.approval}" if run.approval else ""
    return f"{run.name}({_arguments_text(run.arguments)}) -> {run.status}{took}{approval}"


def block_text(run: ToolRun) -> str:
    """The plain-text form of a tool block (what a saved notebook's text shows)."""
    out = _output_text(run)
    return f"tool {_summary(run)}" + (f": {out[:200]}" if out and run.status != "pending" else "")


def block_html(run: ToolRun) -> str:
    """A tool call as a collapsible block: the summary line, then arguments, result and approval."""
    rows = [("arguments", json.dumps(run.arguments, ensure_ascii=False, indent=1, default=str))]
    if run.call.arguments != run.arguments:
        rows.append(("asked with", json.dumps(run.call.arguments, ensure_ascii=False, default=str)))
    if run.status != "pending":
        rows.append(("error" if run.error else "result", _output_text(run)))
    if run.approval:
        rows.append(("approval", run.approval + (f": {run.reason}" if run.reason else "")))
    body = "".join(
        f'<div style="opacity:.7;font-size:.85em">{html.escape(k)}</div>'
        f'<pre style="white-space:pre-wrap;margin:.1em 0 .4em">{html.escape(v)}</pre>' for k, v in rows
    )
    icon = _ICONS.get(run.status, "")
    return (f'<details class="cloudsway-tool" style="border-left:3px solid #9ab;padding-left:.6em;margin:.3em 0">'
            f'<summary style="cursor:pointer">{icon} <code>{html.escape(_summary(run))}</code></summary>'
            f"{body}</details>")


def _rich(value: Any) -> bool:
    """Whether a result is better shown as itself: a DataFrame, a figure, an image."""
    kind = type(value).__name__
    module = type(value).__module__ or ""
    return kind in ("DataFrame", "Series", "Figure") or module.startswith("PIL.")


# -- surfaces: where the view's blocks go ------------------------------------------------------------


class DisplaySurface:
    """Blocks as IPython displays in the running cell (updated through their display ids)."""

    def add(self, html_text: str, plain: str) -> Any:
        from IPython.display import display

        return display({"text/html": html_text, "text/plain": plain}, raw=True, display_id=True)

    def update(self, handle: Any, html_text: str, plain: str) -> None:
        handle.update({"text/html": html_text, "text/plain": plain}, raw=True)

    def show(self, value: Any) -> None:
        from IPython.display import display

        display(value)

    def widget(self, widget: Any) -> None:
        from IPython.display import display

        display(widget)


class WidgetSurface:
    """Blocks as widgets in one VBox, so that a loop running in a thread draws in its own cell."""

    def __init__(self) -> None:
        import ipywidgets as w

        self.box = w.VBox([])

    def _append(self, child: Any) -> None:
        self.box.children = (*self.box.children, child)

    def add(self, html_text: str, plain: str) -> Any:
        import ipywidgets as w

        block = w.HTML(html_text)
        self._append(block)
        return block

    def update(self, handle: Any, html_text: str, plain: str) -> None:
        handle.value = html_text

    def show(self, value: Any) -> None:
        import ipywidgets as w

        out = w.Output()
        out.append_display_data(value)
        self._append(out)

    def widget(self, widget: Any) -> None:
        self._append(widget)


# -- approval ----------------------------------------------------------------------------------------


class ApprovalPrompt:
    """Buttons for one call: Approve, Edit (the arguments as JSON), Reject (a reason), Approve all.

    `wait()` blocks the loop's thread until a button is clicked and returns the Decision.
    """

    def __init__(self, request: ToolRequest) -> None:
        import ipywidgets as w

        self.request = request
        self._decided = threading.Event()
        self.decision: Decision | None = None
        shown = html.escape(f"{request.name}({_arguments_text(request.arguments)})")
        self.title = w.HTML(f"<b>Run this tool?</b> <code>{shown}</code>")
        shown_args = json.dumps(request.arguments, ensure_ascii=False, indent=1)
        self.arguments = w.Textarea(shown_args, description="arguments", layout=w.Layout(width="95%"),
                                    rows=min(12, shown_args.count("\n") + 2))  # every line seen, no scrolling
        self.reason = w.Text(placeholder="why (the model is told)", description="reason")
        fit = {"layout": w.Layout(width="auto")}  # the default width cut the longer labels
        self.approve_button = w.Button(description="Approve", button_style="success", **fit)
        self.edit_button = w.Button(description="Run with these arguments", button_style="info", **fit)
        self.reject_button = w.Button(description="Reject", button_style="danger", **fit)
        self.approve_all_button = w.Button(description="Approve all (this session)", **fit)
        self.status = w.HTML("")
        self.approve_button.on_click(lambda _: self._decide(Decision.approve()))
        self.edit_button.on_click(lambda _: self._edit())
        self.reject_button.on_click(lambda _: self._decide(Decision.reject(self.reason.value.strip())))
        self.approve_all_button.on_click(lambda _: self._decide(Decision.approve_all()))
        buttons = w.HBox([self.approve_button, self.edit_button, self.reject_button, self.approve_all_button])
        self.box = w.VBox([self.title, self.arguments, self.reason, buttons, self.status])

    def _edit(self) -> None:
        try:
            arguments = json.loads(self.arguments.value)
        except ValueError as exc:
            self.status.value = f"<span style='color:#b00'>the arguments are not JSON: {html.escape(str(exc))}</span>"
            return
        if not isinstance(arguments, dict):
            self.status.value = "<span style='color:#b00'>the arguments must be a JSON object</span>"
            return
        self._decide(Decision.approve(arguments))

    def _decide(self, decision: Decision) -> None:
        if self._decided.is_set():
            return
        self.decision = decision
        for button in (self.approve_button, self.edit_button, self.reject_button, self.approve_all_button):
            button.disabled = True
        self.arguments.disabled = self.reason.disabled = True
        self.status.value = html.escape(_decision_line(decision))
        self._decided.set()

    def wait(self, cancel: threading.Event | None = None) -> Decision:
        while not self._decided.wait(0.1):
            if cancel is not None and cancel.is_set():
                self._decide(Decision.reject("the loop was stopped"))
        assert self.decision is not None
        return self.decision


def _decision_line(decision: Decision) -> str:
    """What the user chose, as the line left under the approval box.

    Example:
        >>> _decision_line(Decision.reject("too expensive"))
        'Rejected: too expensive (the model is told).'
        >>> _decision_line(Decision.approve({"city": "Oslo"}))
        'Approved with edited arguments.'
    """
    if decision.action == "reject":
        return f"Rejected: {decision.reason} (the model is told)." if decision.reason else "Rejected."
    if decision.action == "approve_all":
        return "Approved, and every later call in this session."
    return "Approved with edited arguments." if decision.arguments is not None else "Approved."


# -- the view ------------------------------------------------------------------------------------------


class ToolCellView:
    """Follows one loop in a cell: answers (streamed), tool blocks, rich results, approval prompts.

    Its `on_event`, `on_tool` and `approve` are the Agent's callbacks.
    """

    def __init__(self, surface: Any, label: str | None = None, *, fmt: str = "markdown", show_usage: bool = True,
                 rate: float = 12.0, cancel: threading.Event | None = None) -> None:
        self.surface, self.label, self.fmt, self.show_usage = surface, label, fmt, show_usage
        self.cancel = cancel
        self.throttle = Throttle(rate)
        self._answer: Any = None
        self._text: list[str] = []
        self._blocks: dict[int, Any] = {}
        self.prompts: list[ApprovalPrompt] = []
        self.asking = threading.Event()  # set while a prompt waits for a click (for a caller to follow)

    def on_event(self, event: Event) -> None:
        if isinstance(event, TextDelta):
            self._text.append(event.text)
            if self.throttle.ready():
                self._draw_answer()
        elif isinstance(event, ReasoningDelta) and self._answer is None:
            self._draw_answer("thinking…")

    def _draw_answer(self, status: str | None = None) -> None:
        text = "".join(self._text)
        body = render_answer(text, self.fmt) if text else f"<i style='opacity:.6'>{html.escape(status or '…')}</i>"
        if self._answer is None:
            self._answer = self.surface.add(body, text or status or "…")
        else:
            self.surface.update(self._answer, body, text)

    def model_reply(self, reply: Reply) -> None:
        """A model call is over: its answer is drawn whole (with its usage line), the next one starts afresh."""
        if reply.text:
            self._text = [reply.text]
            foot = usage_line(reply, self.label) if self.show_usage else ""
            footer = f'<div style="opacity:.6;font-size:.85em">{html.escape(foot)}</div>' if foot else ""
            plain = reply.text + (f"\n\n{foot}" if foot else "")
            if self._answer is None:
                self._answer = self.surface.add(render_answer(reply.text, self.fmt) + footer, plain)
            else:
                self.surface.update(self._answer, render_answer(reply.text, self.fmt) + footer, plain)
        self._answer, self._text = None, []

    def on_tool(self, run: ToolRun, phase: str) -> None:
        key = id(run)
        if key not in self._blocks:
            self._blocks[key] = self.surface.add(block_html(run), block_text(run))
        else:
            self.surface.update(self._blocks[key], block_html(run), block_text(run))
        if phase == "end" and run.status == "ok" and _rich(run.result):
            self.surface.show(run.result)

    def approve(self, request: ToolRequest) -> Decision:
        prompt = ApprovalPrompt(request)
        self.prompts.append(prompt)
        self.surface.widget(prompt.box)
        self.asking.set()
        try:
            return prompt.wait(self.cancel)
        finally:
            self.asking.clear()

    def finish(self, run: AgentRun) -> None:
        if run.stopped:
            self.surface.add(f'<div style="color:#a60">{html.escape(run.message)}</div>', run.message)


def _needs_approval(tools: list[Tool], session: Session) -> bool:
    from .approval import approved_for_session

    return not approved_for_session(session) and any(t.requires_approval is not False for t in tools)


def run_tools_cell(session: Session, alias: str | None, prompt: str, tools: list[Tool], *, kwargs: dict[str, Any],
                   fmt: str = "markdown", show_usage: bool = True, rate: float = 12.0,
                   on_done: Callable[[Any], None] | None = None) -> Any:
    """Run the loop for a cell and show it; returns the AgentRun (or, in a thread, the Agent's thread).

    `kwargs` are `Session.ask`'s (stream, chat, system, max_turns...). When a tool may need approval
    the loop runs in a thread (see the module docstring) and `on_done(run_or_error)` is called at its end.
    """
    from .agent import Agent

    background = _needs_approval(tools, session)
    cancel = threading.Event()
    view = ToolCellView(WidgetSurface() if background else DisplaySurface(), alias, fmt=fmt, show_usage=show_usage,
                        rate=rate, cancel=cancel)
    kwargs = {k: v for k, v in kwargs.items() if k not in ("run_tools", "tools")}
    stream = kwargs.pop("stream", True)
    attachments = kwargs.pop("attachments", ())
    approve = kwargs.pop("approve", None)
    agent = Agent(session, alias, tools, approve=view.approve if background else approve, stream=stream,
                  on_event=view.on_event if stream else None, on_tool=view.on_tool, on_reply=view.model_reply,
                  cancel=cancel, **kwargs)
    if not background:
        run = agent.run(prompt, attachments=attachments)
        view.finish(run)
        return run
    import ipywidgets as w
    from IPython.display import display

    stop = w.Button(description="Stop", tooltip="stop the loop at its next step (resume() goes on)")
    stop.on_click(lambda _: cancel.set())
    view.stop_button = stop  # type: ignore[attr-defined]
    display(w.VBox([stop, view.surface.box]))

    def work() -> None:
        try:
            result: Any = agent.run(prompt, attachments=attachments)
            view.finish(result)
        except Exception as exc:  # shown in the view, handed to on_done: never lost in a thread
            from .errors import describe_error

            view.surface.add(f"<div style='color:#b00'>{html.escape(describe_error(exc))}</div>", str(exc))
            result = exc
        stop.disabled = True
        if on_done is not None:
            on_done(result)

    thread = threading.Thread(target=work, name="cloudsway-agent", daemon=True)
    thread.view = view  # type: ignore[attr-defined]  # tests and callers reach the prompts through it
    thread.start()
    return thread
