"""Fixtures shared by the whole suite.

``canary``
    An API key that must never appear in any output, error message, repr or log: tests send it and
    then assert that it (or a long prefix of it) is nowhere to be seen.
``emulator_endpoints``
    The aliases the tests give the emulator's deployments, one per protocol (a fresh dict each test).
``emulator_url``
    The base URL of one emulator with default options on a free loopback port, shared by the session.

``cloudsway_emulator`` (a fresh emulator for one test) and ``cloudsway_emulator_session`` come from
:mod:`cloudsway_nb.emulator.testing`, imported here so every test directory has them.
"""

from __future__ import annotations

import pytest

from cloudsway_nb.config import Endpoint
from cloudsway_nb.emulator.testing import cloudsway_emulator, cloudsway_emulator_session

__all__ = ["CANARY", "canary", "cloudsway_emulator", "cloudsway_emulator_session", "emulator_endpoints", "emulator_url"]

CANARY = "sk-canary-DO-NOT-LEAK-0123456789"


@pytest.fixture
def canary() -> str:
    """The API key that must never leak (see the module docstring).

    32 characters: a server's 22-character echo of it (tests/test_transport.py) is longer than the
    two thirds of a key that `errors.redact` hides as a prefix, so it must be hidden too.
    """
    return CANARY


@pytest.fixture
def emulator_endpoints() -> dict[str, Endpoint]:
    """Alias -> Endpoint for each protocol the emulator speaks."""
    return {
        "gpt": Endpoint("MaaS-gpt", "chat", model="gpt-4o"),
        "o3": Endpoint("MaaS-o3", "responses", model="o3"),
        "claude": Endpoint("MaaS-claude", "messages", model="claude-sonnet"),
        "gemini": Endpoint("MaaS-gemini", "gemini"),
        "e5": Endpoint("MaaS-e5", "embeddings", model="e5"),
    }


@pytest.fixture(scope="session")
def emulator_url(cloudsway_emulator_session: str) -> str:
    """Base URL of an emulator with default options, shared by the session."""
    return cloudsway_emulator_session
