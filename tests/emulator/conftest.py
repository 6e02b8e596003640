"""Shared fixtures of the emulator tests: one emulator per session on a free loopback port."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from cloudsway_nb.emulator.testing import running_emulator

KEY = "test-key"


@pytest.fixture(scope="session")
def emulator_url() -> Iterator[str]:
    """Base URL of an emulator with default options, shared by the session."""
    with running_emulator() as url:
        yield url


@pytest.fixture
def auth() -> dict[str, str]:
    """The gateway's bearer header."""
    return {"Authorization": f"Bearer {KEY}"}
