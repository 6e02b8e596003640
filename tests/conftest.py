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

from collections.abc import Iterator
from typing import Any

import pytest
from support import CANARY, FakeClock, FakeTimers, Wire, endpoints

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
