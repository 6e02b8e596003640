"""Per-protocol size limits for inline media, in one table, checked before anything is sent.

The numbers are the upstream vendors' documented limits as the gateway passes them on
(approximate: the gateway may differ, and vendors change them):

| protocol  | image          | audio    | video        | document        | measured on |
|-----------|----------------|----------|--------------|-----------------|-------------|
| chat      | 20 MB (OpenAI) | 25 MB    | not documented | 32 MB (PDF)   | file bytes  |
| responses | 20 MB (OpenAI) | -        | -            | 32 MB (PDF)     | file bytes  |
| messages  | 5 MB (Anthropic, each) | - | -           | 32 MB (request) | base64 text |
| gemini    | 20 MB (inline data, whole request) for every kind  || base64 text |

"-" means the protocol cannot carry the kind at all (the adapter says so, naming who can).
Limits are checked per attachment; where the upstream limit is per request (Gemini, Anthropic
documents) several parts that each fit may still add up to more, and the gateway will say so.

Example:
    >>> limit_for("messages", "image")
    Limit(bytes=5242880, measured='base64', note='Anthropic: 5 MB per image')
    >>> limit_for("chat", "video") is None
    True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import UsageError
from ..types import summarize_data_url

__all__ = ["SIZE_LIMITS", "Limit", "b64_length", "check_limits", "format_size", "limit_for"]

MB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Limit:
    """A size limit: `bytes`, what is `measured` (`file` bytes or `base64` text) and where it comes from.

    Example:
        >>> Limit(20 * MB, "file", "OpenAI").bytes
        20971520
    """

    bytes: int
    measured: str  # "file" | "base64"
    note: str


SIZE_LIMITS: dict[str, dict[str, Limit]] = {
    "chat": {
        "image": Limit(20 * MB, "file", "OpenAI: 20 MB per image"),
        "audio": Limit(25 * MB, "file", "OpenAI: 25 MB per audio input"),
        "document": Limit(32 * MB, "file", "OpenAI: 32 MB of file input per request"),
    },
    "responses": {
        "image": Limit(20 * MB, "file", "OpenAI: 20 MB per image"),
        "document": Limit(32 * MB, "file", "OpenAI: 32 MB of file input per request"),
    },
    "messages": {
        "image": Limit(5 * MB, "base64", "Anthropic: 5 MB per image"),
        "document": Limit(32 * MB, "base64", "Anthropic: 32 MB per request"),
    },
    "gemini": {
        kind: Limit(20 * MB, "base64", "Gemini: 20 MB of inline data per request")
        for kind in ("image", "audio", "video", "document")
    },
}
"""protocol -> kind -> Limit. A kind without an entry has no documented limit (nothing is checked)."""


def limit_for(protocol: str, kind: str) -> Limit | None:
    """The size limit for a kind of attachment on a protocol, or None."""
    return SIZE_LIMITS.get(protocol, {}).get(kind)


def b64_length(size: int) -> int:
    """The length of the base64 text of `size` bytes.

    Example:
        >>> b64_length(1), b64_length(3), b64_length(4)
        (4, 4, 8)
    """
    return 4 * ((size + 2) // 3)


def format_size(size: int) -> str:
    """A size as people read it: `512 B`, `12 KB`, `7.3 MB`.

    Example:
        >>> format_size(5 * MB), format_size(1536)
        ('5.0 MB', '1 KB')
    """
    return summarize_data_url("x", size).rsplit("(", 1)[1].rstrip(")")


def _others(kind: str, protocol: str, limit: Limit) -> str:
    better = [
        f"{p} ({format_size(lim.bytes)})"
        for p, table in SIZE_LIMITS.items()
        if p != protocol and (lim := table.get(kind)) is not None and lim.bytes > limit.bytes
    ]
    if kind == "video" and protocol != "chat":
        better.append("chat (no documented limit)")
    return ", ".join(better)


def check_limits(attachment: Any, protocol: str) -> None:
    """Raise UsageError when inline media is over the protocol's limit (URLs are not checked).

    Media made with `attach(..., ignore_limits=True)` are never refused here.
    """
    if getattr(attachment, "url", None) is not None or getattr(attachment, "ignore_limits", False):
        return
    limit = limit_for(protocol, attachment.kind)
    if limit is None:
        return
    size = attachment.size
    if size is None:
        return
    measured = b64_length(size) if limit.measured == "base64" else size
    if measured <= limit.bytes:
        return
    name = getattr(attachment, "display_name", None) or f"{attachment.kind} attachment"
    what = "base64 size" if limit.measured == "base64" else "size"
    fix = "attach(..., ignore_limits=True) if your gateway allows more"
    if attachment.kind == "image":
        fix = "downscale it, e.g. image(path, max_side=1568), or " + fix
    others = _others(attachment.kind, protocol, limit)
    if others:
        fix += f"; protocols with higher limits: {others}"
    raise UsageError(
        f"{name}: the {attachment.kind}'s {what} {format_size(measured)} is over the {protocol} protocol's "
        f"limit of {format_size(limit.bytes)} ({limit.note}; approximate upstream limit); {fix}"
    )
