"""Running the tool calls of one model turn: in parallel (threads for sync tools, tasks on an event
loop for async ones), a `sequential` tool alone, each within its `timeout`; an exception or a
timeout becomes error text for the model. Also the compact form of a result the model is sent.

The event loop for async tools is the caller's when the agent was started with `await` (the
loop is free while the agent works in a thread), else a private one in a thread of its own: no
`asyncio.run` on the caller's thread, so a notebook cell's running loop is never in the way.

Example:
    >>> from cloudsway_nb.tools import Tool
    >>> from cloudsway_nb.types import ToolCall
    >>> def add(a: int, b: int) -> int:
    ...     return a + b
    >>> with ToolRunner() as runner:
    ...     [run] = runner.run_group([ToolRun(ToolCall("c1", "add", {"a": 1, "b": 2}), Tool.from_any(add))])
    >>> run.status, run.result, run.output
    ('ok', 3, '3')
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from typing import Any

from .tools import Tool
from .types import Attachment, Message, ToolCall

__all__ = ["MAX_OUTPUT_CHARS", "ToolRun", "ToolRunner", "model_output"]

MAX_OUTPUT_CHARS = 20_000
"""The most characters of one tool result the model is sent (the rest is cut, and says so)."""

_IMAGE_RESULTS = ("responses", "messages")
"""Protocols whose tool results may hold an image part (the others get its description)."""


@dataclass(slots=True)
class ToolRun:
    """One tool call of the loop: what was asked, what ran, what came back, what the model got.

    `status` is "pending", "ok", "error", "timeout" or "rejected"; `approval` is None (not needed),
    "approved", "edited", "rejected" or "session" (approved for the session); `duration` is in
    seconds; `result` is the Python value, `output` the text (or parts) sent to the model.
    """

    call: ToolCall
    tool: Tool | None
    arguments: Any = None
    status: str = "pending"
    result: Any = None
    output: str | list[Any] = ""
    error: str | None = None
    duration: float | None = None
    approval: str | None = None
    reason: str = ""
    started: float = field(default=0.0, repr=False)

    def __post_init__(self) -> None:
        if self.arguments is None:
            self.arguments = self.call.arguments

    @property
    def name(self) -> str:
        return self.call.name

    def fail(self, status: str, error: str) -> None:
        self.status, self.error, self.output = status, error, f"Error: {error}"

    def message(self) -> Message:
        """The tool-result turn the model is sent."""
        return Message("tool", self.output, tool_call_id=self.call.id, name=self.call.name)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary (the result as its model text)."""
        output = self.output if isinstance(self.output, str) else [p for p in self.output if isinstance(p, str)]
        return {"id": self.call.id, "name": self.name, "arguments": self.arguments, "status": self.status,
                "output": output, "error": self.error, "duration": self.duration, "approval": self.approval,
                "reason": self.reason}


def _image_png(value: Any) -> bytes | None:
    """PNG bytes of a PIL image or a matplotlib figure; None for anything else."""
    import io

    buffer = io.BytesIO()
    if hasattr(value, "savefig") and hasattr(value, "axes"):  # a matplotlib Figure
        value.savefig(buffer, format="png")
        return buffer.getvalue()
    module = type(value).__module__ or ""
    if module.startswith("PIL.") and hasattr(value, "save"):
        value.save(buffer, format="PNG")
        return buffer.getvalue()
    return None


def _cut(text: str) -> str:
    if len(text) <= MAX_OUTPUT_CHARS:
        return text
    return text[:MAX_OUTPUT_CHARS] + f"\n… ({len(text) - MAX_OUTPUT_CHARS} more characters cut)"


def model_output(value: Any, protocol: str) -> str | list[Any]:
    """What the model is sent for a tool's return value: text, or text and an image part.

    A DataFrame is its shape and first rows, a Series likewise; an image or figure is an image part
    on protocols that take one in a tool result (responses, messages), else a line describing it;
    anything else is JSON (or its str), cut at MAX_OUTPUT_CHARS.

    Example:
        >>> import pandas as pd
        >>> print(model_output(pd.DataFrame({"a": range(100)}), "chat"))
        DataFrame with 100 rows x 1 columns; the first 5:
           a
        0  0
        1  1
        2  2
        3  3
        4  4
    """
    if isinstance(value, str):
        return _cut(value)
    kind = type(value).__name__
    if kind in ("DataFrame", "Series") and hasattr(value, "head") and hasattr(value, "shape"):
        shape = value.shape
        size = f"{shape[0]} rows x {shape[1]} columns" if len(shape) == 2 else f"{shape[0]} rows"
        return _cut(f"{kind} with {size}; the first 5:\n{value.head(5).to_string()}")
    png = _image_png(value)
    if png is not None:
        import io

        from PIL import Image  # lazy

        width, height = Image.open(io.BytesIO(png)).size
        note = f"an image, {width}x{height} pixels (shown to the user in the notebook)"
        if protocol in _IMAGE_RESULTS:
            return [note, Attachment("image", "image/png", data=png)]
        return note
    try:
        return _cut(json.dumps(value, ensure_ascii=False, default=str))
    except (TypeError, ValueError):
        return _cut(str(value))


def _error_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


async def _within(coro: Any, timeout: float | None) -> Any:
    return await asyncio.wait_for(coro, timeout) if timeout else await coro


class ToolRunner:
    """Runs groups of tool calls: every call of a group at once, each within its timeout.

    `loop`: the event loop async tools run on (the caller's); without one, a private loop is
    started in a thread when the first async tool runs. `protocol` shapes the model's outputs.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop | None = None, protocol: str = "chat") -> None:
        self._loop = loop
        self._own_loop: asyncio.AbstractEventLoop | None = None
        self.protocol = protocol

    def __enter__(self) -> ToolRunner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the private loop (if any); tool threads that overran their timeout are left to end."""
        if self._own_loop is not None:
            self._own_loop.call_soon_threadsafe(self._own_loop.stop)
            self._own_loop = None

    def _event_loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is not None and not self._loop.is_closed():
            return self._loop
        if self._own_loop is None:
            loop = asyncio.new_event_loop()
            threading.Thread(target=_serve, args=(loop,), name="cloudsway-tool-loop", daemon=True).start()
            self._own_loop = loop
        return self._own_loop

    def _start(self, run: ToolRun) -> Future[Any]:
        tool = run.tool
        assert tool is not None and tool.function is not None
        run.started = time.perf_counter()
        if tool.is_async:
            return asyncio.run_coroutine_threadsafe(_within(tool(**run.arguments), tool.timeout), self._event_loop())
        return _in_thread(tool, run.arguments)

    def run_group(self, runs: list[ToolRun]) -> list[ToolRun]:
        """Run these calls at once and wait for each (up to its timeout); returns them, finished."""
        started: list[tuple[ToolRun, Future[Any] | None]] = []
        for run in runs:
            try:
                started.append((run, self._start(run)))
            except Exception as exc:  # arguments that do not fit the function, raised when the coroutine is made
                run.fail("error", _error_line(exc))
                run.duration = 0.0
                started.append((run, None))
        for run, future in started:
            if future is not None:
                self._finish(run, future)
        return runs

    def _finish(self, run: ToolRun, future: Future[Any]) -> None:
        timeout = run.tool.timeout if run.tool is not None else None
        left = None if timeout is None else max(0.0, run.started + timeout - time.perf_counter())
        try:
            value = future.result(timeout=left)
        except (TimeoutError, FutureTimeout):
            future.cancel()
            run.fail("timeout", f"the tool {run.name} did not finish within {timeout:g} s")
        except Exception as exc:
            run.fail("error", _error_line(exc))
        else:
            run.status, run.result, run.output = "ok", value, model_output(value, self.protocol)
        run.duration = time.perf_counter() - run.started


def _in_thread(tool: Tool, arguments: dict[str, Any]) -> Future[Any]:
    """Run a sync tool in a daemon thread of its own: every call of a turn starts at once (no pool to
    queue in, so a timeout counts from the tool's start), and one that overran its timeout and never
    returns does not hold up the interpreter's exit (a pool's threads are joined at exit)."""
    future: Future[Any] = Future()

    def work() -> None:
        if not future.set_running_or_notify_cancel():
            return
        try:
            future.set_result(tool(**arguments))
        except BaseException as exc:  # SystemExit too: the waiting loop must always get an outcome
            future.set_exception(exc)

    threading.Thread(target=work, name=f"cloudsway-tool-{tool.name}", daemon=True).start()
    return future


def _serve(loop: asyncio.AbstractEventLoop) -> None:
    asyncio.set_event_loop(loop)
    try:
        loop.run_forever()
    finally:
        loop.close()
