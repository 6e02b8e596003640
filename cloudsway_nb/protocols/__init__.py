"""Protocol adapters: pure translation between neutral values and each wire protocol.

One module per protocol (chat, responses, messages, gemini, embeddings); each defines an
`Adapter` subclass. `get_adapter(name)` returns the shared instance.

Example:
    >>> get_adapter("messages").name
    'messages'
"""

from __future__ import annotations

from importlib import import_module

from ..errors import ConfigError
from ..types import PROTOCOLS
from .base import Adapter

__all__ = ["get_adapter", "protocols_carrying"]

_ADAPTER_CLASSES = {
    "chat": ("chat", "ChatAdapter"),
    "responses": ("responses", "ResponsesAdapter"),
    "messages": ("messages", "MessagesAdapter"),
    "gemini": ("gemini", "GeminiAdapter"),
    "embeddings": ("embeddings", "EmbeddingsAdapter"),
}
_instances: dict[str, Adapter] = {}


def get_adapter(protocol: str) -> Adapter:
    """The adapter for a protocol name (one of PROTOCOLS)."""
    adapter = _instances.get(protocol)
    if adapter is None:
        if protocol not in _ADAPTER_CLASSES:
            raise ConfigError(f"unknown protocol {protocol!r}; use one of {', '.join(PROTOCOLS)}")
        module, cls = _ADAPTER_CLASSES[protocol]
        adapter = getattr(import_module(f".{module}", __name__), cls)()
        _instances[protocol] = adapter
    return adapter


def protocols_carrying(kind: str) -> list[str]:
    """The protocols that can carry an attachment of this kind inline."""
    return [p for p in PROTOCOLS if kind in get_adapter(p).media_kinds]
