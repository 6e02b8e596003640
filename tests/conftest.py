"""Fixtures shared by the whole suite.

``canary``
    An API key that must never appear in any output, error message, repr or log: tests send it and
    then assert that it (or a long prefix of it) is nowhere to be seen.
``emulator_endpoints``
    The aliases the tests give the emulator's deployments, one per protocol (a fresh dict each test).
``canary_emulator_url``
    An emulator that accepts only the canary key, shared by the session.
``emulator_url``
    The base URL of one emulator with default options on a free loopback port, shared by the session.

``fake_clock``, ``fake_timers``, ``panel``, ``wire``
    For the chat panel: time that moves only when told, a timer queue run by hand, a ChatView, and a
    `Wire` that records the widget's comm traffic and plays the browser's side.

``cloudsway_emulator`` (a fresh emulator for one test) and ``cloudsway_emulator_session`` come from
:mod:`cloudsway_nb.emulator.testing`, imported here so every test directory has them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from support import CANARY, endpoints

from cloudsway_nb.config import Endpoint
from cloudsway_nb.emulator.testing import cloudsway_emulator, cloudsway_emulator_session, running_emulator

__all__ = [
    "canary",
    "canary_emulator_url",
    "cloudsway_emulator",
    "cloudsway_emulator_session",
    "emulator_endpoints",
    "emulator_url",
]

@pytest.fixture
def canary() -> str:
    """The API key that must never leak (see support.CANARY)."""
    return CANARY


@pytest.fixture
def emulator_endpoints() -> dict[str, Endpoint]:
    """Alias -> Endpoint for each protocol the emulator speaks (a fresh dict each test)."""
    return endpoints()


@pytest.fixture(scope="session")
def canary_emulator_url() -> Iterator[str]:
    """Base URL of an emulator that accepts only the canary key, shared by the session: a call that
    succeeds through it proves the canary key was sent."""
    with running_emulator(api_key=CANARY) as url:
        yield url


@pytest.fixture(scope="session")
def emulator_url(cloudsway_emulator_session: str) -> str:
    """Base URL of an emulator with default options, shared by the session."""
    return cloudsway_emulator_session


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


@pytest.fixture
def fake_clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def fake_timers(fake_clock: FakeClock) -> FakeTimers:
    return FakeTimers(fake_clock)


@pytest.fixture
def panel() -> Iterator[Any]:
    from cloudsway_nb.panel.widget import ChatView

    widget = ChatView(endpoints=["gpt", "claude", "gemini"])
    yield widget
    widget.close()


@pytest.fixture
def wire(panel: Any) -> Wire:
    return Wire(panel)
