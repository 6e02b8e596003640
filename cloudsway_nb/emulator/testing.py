"""Helpers for tests and notebooks: run the emulator on a free loopback port.

``running_emulator(**options)`` is a context manager yielding the base URL; the pytest fixtures
``cloudsway_emulator`` (per test) and ``cloudsway_emulator_session`` (per session) do the same.
All of them answer at once (``pacing="none"``) unless a test asks for pacing.
Load the fixtures with ``pytest_plugins = ["cloudsway_nb.emulator.testing"]`` in a conftest.

Example:
    >>> import httpx
    >>> with running_emulator() as base_url:
    ...     httpx.get(f"{base_url}/health").status_code
    200
    >>> sdk_base_urls("http://127.0.0.1:8765", "gpt4o")["anthropic"]
    'http://127.0.0.1:8765/gpt4o'
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from .server import EmulatorServer

__all__ = ["cloudsway_emulator", "cloudsway_emulator_session", "running_emulator", "sdk_base_urls"]


@contextmanager
def running_emulator(**options: Any) -> Iterator[str]:
    """Run the emulator on a background thread (``host`` 127.0.0.1, a free port) and yield its base URL.

    Keyword arguments are :class:`~.options.EmulatorOptions` fields and ``pacing``. Unlike the
    bundled emulator (:class:`~.server.EmulatorServer`, paced like a real model by default), it
    answers with no delay unless asked: ``pacing="realistic"`` or ``chunk_delay=...``.

    Example:
        >>> with running_emulator(api_key="k") as url:
        ...     url.startswith("http://127.0.0.1:")
        True
    """
    options.setdefault("port", 0)
    options.setdefault("pacing", "none")
    server = EmulatorServer(**options)
    url = server.start()
    try:
        yield url
    finally:
        server.stop()


def sdk_base_urls(base_url: str, endpoint: str) -> dict[str, str]:
    """The ``base_url`` each official SDK takes for an endpoint path.

    ``openai``: ``OpenAI(base_url=...)``; ``anthropic``: ``Anthropic(base_url=...)``;
    ``gemini``: ``genai.Client(http_options=HttpOptions(base_url=...))`` (the SDK appends
    ``/{api_version}/models/{model}:generateContent``, which the emulator accepts).

    Example:
        >>> sdk_base_urls("http://h:1", "ep")["openai"]
        'http://h:1/v1/ai/ep'
    """
    base = base_url.rstrip("/")
    return {
        "openai": f"{base}/v1/ai/{endpoint}",
        "anthropic": f"{base}/{endpoint}",
        "gemini": f"{base}/v1/ai/{endpoint}",
    }


try:
    import pytest
except ImportError:  # pragma: no cover - the fixtures need pytest, the context manager does not
    pytest = None  # type: ignore[assignment]

if pytest is not None:

    @pytest.fixture
    def cloudsway_emulator() -> Iterator[str]:
        """A fresh emulator for one test; yields its base URL."""
        with running_emulator() as url:
            yield url

    @pytest.fixture(scope="session")
    def cloudsway_emulator_session() -> Iterator[str]:
        """One emulator shared by the whole test session; yields its base URL."""
        with running_emulator() as url:
            yield url
