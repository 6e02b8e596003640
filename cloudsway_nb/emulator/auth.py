"""API-key checks in each protocol's style.

The gateway takes ``Authorization: Bearer KEY`` on every route; the native SDKs send their own
headers, which are accepted too: ``x-api-key`` (Anthropic), ``x-goog-api-key`` or ``?key=``
(Gemini), ``api-key`` (Azure-style OpenAI clients). Any non-empty key passes unless the
emulator was started with a fixed ``api_key``.

Example:
    >>> check_key("openai", {"authorization": "Bearer sk-1"}, {}, None)
    >>> try:
    ...     check_key("anthropic", {}, {}, None)
    ... except EmulatorError as e:
    ...     print(e.status, e.message)
    401 x-api-key header is required
"""

from __future__ import annotations

from collections.abc import Mapping

from .errors import EmulatorError

__all__ = ["check_key", "find_key"]

_MISSING = {
    "openai": "You didn't provide an API key. You need to provide your API key in an Authorization header "
    "using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
    "anthropic": "x-api-key header is required",
    "gemini": "Method doesn't allow unregistered callers (callers without established identity). "
    "Please use API Key or other form of API consumer identity to call this API.",
}


def find_key(protocol: str, headers: Mapping[str, str], query: Mapping[str, str]) -> str | None:
    """The key the request carries, or None (headers are lower-case).

    Example:
        >>> find_key("gemini", {}, {"key": "abc"})
        'abc'
    """
    auth = headers.get("authorization", "").strip()
    if auth.lower().startswith("bearer "):
        token = auth[7:].strip()
        if token:
            return token
    candidates = {
        "openai": ("api-key",),
        "anthropic": ("x-api-key",),
        "gemini": ("x-goog-api-key",),
    }.get(protocol, ())
    for name in candidates:
        value = headers.get(name, "").strip()
        if value:
            return value
    if protocol == "gemini" and query.get("key", "").strip():
        return query["key"].strip()
    return None


def _masked(key: str) -> str:
    return key[:3] + "*" * max(0, min(len(key) - 7, 20)) + key[-4:] if len(key) > 8 else "*" * len(key)


def check_key(
    protocol: str, headers: Mapping[str, str], query: Mapping[str, str], expected: str | None
) -> None:
    """Raise a 401 :class:`EmulatorError` unless the request carries an acceptable key.

    Example:
        >>> check_key("gemini", {"x-goog-api-key": "k"}, {}, "k")
    """
    key = find_key(protocol, headers, query)
    if key is None:
        raise EmulatorError(401, _MISSING.get(protocol, _MISSING["openai"]), code=None)
    if expected is not None and key != expected:
        if protocol == "anthropic":
            raise EmulatorError(401, "invalid x-api-key")
        if protocol == "gemini":
            raise EmulatorError(401, "API key not valid. Please pass a valid API key.")
        raise EmulatorError(
            401,
            f"Incorrect API key provided: {_masked(key)}. "
            "You can find your API key in your Cloudsway console.",
            code="invalid_api_key",
        )
