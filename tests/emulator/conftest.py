"""Shared fixtures of the emulator tests: one emulator per session on a free loopback port.

The fixtures come from :mod:`cloudsway_nb.emulator.testing` (imported here, so they are
registered for this directory), which is the same plugin notebooks' tests can load.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from emulator_samples import KEY

from cloudsway_nb.emulator.testing import cloudsway_emulator, cloudsway_emulator_session

__all__ = ["KEY", "auth", "closer", "cloudsway_emulator", "cloudsway_emulator_session", "emulator_url"]


@pytest.fixture(scope="session")
def emulator_url(cloudsway_emulator_session: str) -> str:
    """Base URL of an emulator with default options, shared by the session."""
    return cloudsway_emulator_session


@pytest.fixture
def auth() -> dict[str, str]:
    """The gateway's bearer header."""
    return {"Authorization": f"Bearer {KEY}"}


@pytest.fixture
def closer() -> Iterator[Callable[[Any], Any]]:
    """Register SDK clients to close when the test ends: ``client = closer(openai.OpenAI(...))``."""
    clients: list[Any] = []

    def track(client: Any) -> Any:
        clients.append(client)
        return client

    yield track
    for client in clients:
        client.close()
