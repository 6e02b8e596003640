"""A local emulator of the Cloudsway gateway: what moto is to AWS.

It speaks every protocol the gateway does (OpenAI chat completions, responses and embeddings,
Anthropic messages, Gemini generateContent) faithfully enough for the official SDKs, with
deterministic, informative replies (the prompt's gist, a description of each media part),
reasoning, tool calls (every offered tool that fits the prompt, in parallel), JSON mode,
logprobs (chat, responses and Gemini, from one deterministic generator), realistic streaming,
auth, errors and fault injection.
It shares no code with the client's protocol adapters.

Run it: ``cloudsway-nb emulator`` or ``python -m cloudsway_nb.emulator`` (prints the base URL);
in-process: ``create_app()`` is an ASGI app; in tests: ``running_emulator()`` or the
``cloudsway_emulator`` pytest fixture.

Options (keyword arguments of ``create_app`` / ``running_emulator`` / ``EmulatorServer``, and CLI
flags): ``host``, ``port`` (0 = free), ``api_key``, ``fault``, ``fault_rate``, ``seed``,
``chunk_delay``, ``first_token_delay``, ``keepalive_interval``, ``max_body``,
``background_queued``, ``background_running``, ``store_size``; see :class:`EmulatorOptions`.

Per-request headers: ``x-emulator-fault: KIND[:ARG]`` (kinds in :data:`FAULT_KINDS`: 429, 500,
503, 529, drop, error-event, slow-first-byte; ``none`` turns start-up faults off),
``x-emulator-fault-after: N``, ``x-emulator-chunk-delay-ms``, ``x-emulator-first-token-ms``,
``x-emulator-keepalive-ms``. Every reply carries ``x-request-id`` and ``request-id``.

Asked for more (an essay, a story, code, a table, a list, a proof, a long or detailed answer, a
length in words), it answers with long, well-formed Markdown of that kind instead, opening with
``You asked for <what> on <topic>.`` (see :mod:`.longform`).

Reading a reply: ``You said: <gist>.``, then ``From earlier in this conversation: your name is
Ada.`` when the message asks about earlier turns (names, numbers, quoted text, tool results;
``You have not told me your X.`` when they do not say), then one sentence per media part
(``Image 1: PNG, 64x48 pixels.``); ``The tool NAME returned: ...`` after a tool result,
``Continuing from resp_...`` after ``previous_response_id``, ``Alternative N:`` for the n-th
choice, ``Instructions noted:`` for a system prompt.

Example:
    >>> from cloudsway_nb.emulator import create_app, running_emulator
    >>> import httpx
    >>> with running_emulator() as base_url:
    ...     r = httpx.post(f"{base_url}/v1/ai/gpt4o/chat/completions", headers={"Authorization": "Bearer k"},
    ...                    json={"messages": [{"role": "user", "content": "Hello"}]})
    >>> r.json()["choices"][0]["message"]["content"]
    'You said: Hello.'
"""

from __future__ import annotations

from typing import Any

from .app import DroppedConnection, EmulatorApp, create_app
from .cli import main
from .errors import EmulatorError
from .faults import FAULT_AFTER_HEADER, FAULT_HEADER, FAULT_KINDS
from .options import EmulatorOptions
from .pacing import CHUNK_DELAY_HEADER, FIRST_TOKEN_HEADER, KEEPALIVE_HEADER
from .server import EmulatorServer, serve

__all__ = [
    "CHUNK_DELAY_HEADER",
    "FAULT_AFTER_HEADER",
    "FAULT_HEADER",
    "FAULT_KINDS",
    "FIRST_TOKEN_HEADER",
    "KEEPALIVE_HEADER",
    "DroppedConnection",
    "EmulatorApp",
    "EmulatorError",
    "EmulatorOptions",
    "EmulatorServer",
    "create_app",
    "main",
    "running_emulator",
    "sdk_base_urls",
    "serve",
]


def __getattr__(name: str) -> Any:
    # the testing helpers import pytest when available: load them only on demand
    if name in ("running_emulator", "sdk_base_urls"):
        from . import testing

        return getattr(testing, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
