"""Values shared by the test files (the fixtures in conftest.py are built on them).

CANARY is an API key that must never appear in any output, error message, repr or log: tests send
it and then assert that it (or a long prefix of it) is nowhere to be seen. It is 32 characters: a
server's 22-character echo of it (test_transport.py) is longer than the two thirds of a key that
`errors.redact` hides as a prefix, so it must be hidden too.
"""

from __future__ import annotations

from cloudsway_nb.config import Endpoint

__all__ = ["CANARY", "ENDPOINTS", "endpoints"]

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
