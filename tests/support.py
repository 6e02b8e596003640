"""Values shared by the test files (the fixtures in conftest.py are built on them).

CANARY is an API key that must never appear in any output, error message, repr or log: tests send
it and then assert that it (or a long prefix of it) is nowhere to be seen. It is 32 characters: a
server's 22-character echo of it (test_transport.py) is longer than the two thirds of a key that
`errors.redact` hides as a prefix, so it must be hidden too.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from cloudsway_nb.config import Endpoint

__all__ = ["CANARY", "ENDPOINTS", "Displays", "FakeClock", "FakeTimers", "Wire", "endpoints"]

CANARY = "sk-canary-DO-NOT-LEAK-0123456789"


def endpoints() -> dict[str, Endpoint]:
    """Alias -> Endpoint for each protocol the emulator speaks (a fresh dict each call)."""
    return {
        "gpt": Endpoint("MaaS-gpt", "chat", model="gpt-4o"),
        "o3": Endpoint("MaaS-o3", "responses", model="o3"),
        "claude": Endpoint("MaaS-claude", "messages", model="claude-sonnet"),
        "gemini": Endpoint("MaaS-gemini", "gemini"),
        "e5": Endpoint("MaaS-e5", "embeddings", model="e5"),
    }


ENDPOINTS = endpoints()
"""The same registry as a constant, for module-level helpers (copy it before changing it)."""


class FakeClock:
    """Time that moves only when told (or by `step` per reading)."""

    def __init__(self, step: float = 0.0) -> None:
        self.now = 0.0
        self.step = step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


class FakeTimer:
    def __init__(self, due: float, fn: Callable[[], None]) -> None:
        self.due = due
        self.fn = fn
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class FakeTimers:
    """A timer factory for Coalescer: `run_due()` fires the timers whose time has come."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.timers: list[FakeTimer] = []

    def __call__(self, delay: float, fn: Callable[[], None]) -> FakeTimer:
        timer = FakeTimer(self.clock.now + delay, fn)
        self.timers.append(timer)
        return timer

    @property
    def live(self) -> list[FakeTimer]:
        return [t for t in self.timers if not t.cancelled]

    def run_due(self) -> int:
        fired = 0
        for timer in list(self.timers):
            if not timer.cancelled and timer.due <= self.clock.now + 1e-12:
                self.timers.remove(timer)
                timer.fn()
                fired += 1
        return fired


class Wire:
    """Records what a widget sends over its (dummy) comm, and plays the browser's side."""

    def __init__(self, widget: Any) -> None:
        self.widget = widget
        self.sent: list[tuple[dict[str, Any], list[Any]]] = []
        widget.comm.send = self._send

    def _send(self, data: Any = None, metadata: Any = None, buffers: Any = None) -> None:
        self.sent.append((data, list(buffers or [])))

    def clear(self) -> None:
        self.sent.clear()

    @property
    def updates(self) -> list[dict[str, Any]]:
        """The state updates sent, each a dict of trait name -> value."""
        return [data["state"] for data, _ in self.sent if data.get("method") == "update"]

    @property
    def custom(self) -> list[dict[str, Any]]:
        """The custom messages sent to the browser."""
        return [data["content"] for data, _ in self.sent if data.get("method") == "custom"]

    def from_browser(self, content: dict[str, Any], buffers: list[Any] | None = None) -> None:
        """A custom message from the front end (`model.send(content, callbacks, buffers)`)."""
        msg = {"content": {"data": {"method": "custom", "content": content}}, "buffers": buffers or []}
        self.widget._handle_msg(msg)

    def edit(self, **state: Any) -> None:
        """Trait edits from the front end (`model.set(...); model.save_changes()`)."""
        msg = {"content": {"data": {"method": "update", "state": state, "buffer_paths": []}}, "buffers": []}
        self.widget._handle_msg(msg)


class Displays:
    """Records what IPython's display publisher sends (display_data and update_display_data), as a
    kernel would put it on iopub: `with Displays(shell) as shown: ...`; `sent` since the last
    `clear()`; `current()` is what each display (by display_id, in creation order) shows now."""

    def __init__(self, shell: Any) -> None:
        self.shell = shell
        self.sent: list[dict[str, Any]] = []
        self._all: list[dict[str, Any]] = []

    def __enter__(self) -> Displays:
        self._original = self.shell.display_pub.publish
        self.shell.display_pub.publish = self._publish
        return self

    def __exit__(self, *exc: Any) -> None:
        self.shell.display_pub.publish = self._original

    def _publish(self, data: Any, metadata: Any = None, source: Any = None, *, transient: Any = None,
                 update: bool = False, **kwargs: Any) -> None:
        message = {"data": dict(data), "metadata": dict(metadata or {}), "transient": dict(transient or {}),
                   "update": update}
        self.sent.append(message)
        self._all.append(message)

    def clear(self) -> None:
        self.sent.clear()

    @property
    def updates(self) -> list[dict[str, Any]]:
        return [s for s in self.sent if s["update"]]

    @property
    def bytes(self) -> int:
        """The JSON bytes of every message's content (data, metadata, transient), UTF-8."""
        return sum(len(json.dumps({k: s[k] for k in ("data", "metadata", "transient")}, ensure_ascii=False)
                       .encode()) for s in self.sent)

    def current(self) -> list[dict[str, Any]]:
        shown: dict[str, dict[str, Any]] = {}
        anonymous = 0
        for s in self._all:
            key = s["transient"].get("display_id")
            if key is None:
                key, anonymous = f"anonymous-{anonymous}", anonymous + 1
            if s["update"] and key not in shown:
                continue  # an update of a display made before recording started
            shown[key] = s["data"]
        return list(shown.values())


def open_panel(session: Any, **kwargs: Any) -> tuple[Any, Wire]:
    """A ChatPanel over `session` (not autosaved unless asked) and the Wire that records its comm."""
    from cloudsway_nb.panel import ChatPanel

    kwargs.setdefault("save", False)
    panel = ChatPanel(session, **kwargs)
    return panel, Wire(panel.view)
