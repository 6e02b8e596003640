"""cloudsway_nb: the Cloudsway LLM gateway as a first-class citizen of Jupyter notebooks.

Importing the package is cheap: the client (httpx), IPython, pandas and PIL load when first used.

Example:
    >>> import cloudsway_nb
    >>> client = cloudsway_nb.Client(base_url="http://127.0.0.1:8000", api_key="sk-test")
    >>> client.add_endpoint("gpt", path="MaaS-gpt4o", protocol="chat")
    Endpoint('MaaS-gpt4o', 'chat')
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

# public name -> module that defines it (imported on first use, so `import cloudsway_nb` stays fast)
_EXPORTS: dict[str, str] = {
    "APIConnectionError": "errors",
    "APIError": "errors",
    "APIStatusError": "errors",
    "APITimeoutError": "errors",
    "Agent": "agent",
    "AsyncClient": "client",
    "AsyncReplyStream": "client",
    "Attachment": "types",
    "AuthenticationError": "errors",
    "BadRequestError": "errors",
    "ChatPanel": "panel.controller",
    "Choice": "types",
    "Client": "client",
    "CloudswayError": "errors",
    "ConfigError": "errors",
    "ConflictError": "errors",
    "Done": "types",
    "Embeddings": "protocols.embeddings",
    "Endpoint": "config",
    "MalformedReplyError": "errors",
    "Media": "media",
    "Message": "types",
    "NotFoundError": "errors",
    "OverloadedError": "errors",
    "PermissionDeniedError": "errors",
    "RateLimitError": "errors",
    "ReasoningDelta": "types",
    "Reply": "types",
    "ReplyStream": "client",
    "RetryPolicy": "retry",
    "ServerError": "errors",
    "Session": "session",
    "StreamError": "errors",
    "TextDelta": "types",
    "TokenLogprob": "types",
    "Tool": "types",
    "ToolCall": "types",
    "ToolCallDelta": "types",
    "Toolbox": "tools",
    "UnsupportedError": "errors",
    "Usage": "types",
    "UsageError": "errors",
    "UsageEvent": "types",
    "attach": "media",
    "audio": "media",
    "document": "media",
    "image": "media",
    "python_tools": "kernel_tools",
    "tool": "tools",
    "video": "media",
}

__all__ = sorted([*_EXPORTS, "__version__"])


def load_ipython_extension(ip: Any) -> None:
    """`%load_ext cloudsway_nb`: register `%%cloudsway` and `%cloudsway` (IPython is imported only now)."""
    from .magics import load_ipython_extension as load

    load(ip)


def unload_ipython_extension(ip: Any) -> None:
    """`%unload_ext cloudsway_nb`: remove the magics and stop the session's emulator, if any."""
    from .magics import unload_ipython_extension as unload

    unload(ip)


def __getattr__(name: str) -> Any:
    if name == "cache":  # `cloudsway_nb.cache.list(...)` without importing the submodule first
        return import_module(".cache", __name__)
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'cloudsway_nb' has no attribute {name!r}")
    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
