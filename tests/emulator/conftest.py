"""Fixtures of the emulator tests: the gateway's bearer header and SDK clients closed at the end.

The emulator itself (``emulator_url``, one per session on a free loopback port; ``cloudsway_emulator``,
one per test) comes from ``tests/conftest.py``, built on :mod:`cloudsway_nb.emulator.testing`, the
same plugin notebooks' tests can load.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from emulator_samples import KEY

__all__ = ["KEY", "auth", "closer"]


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
