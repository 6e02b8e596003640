"""One simple tokenizer for every protocol, so usage numbers agree across them.

A token is a run of at most 8 word characters or a single punctuation character; whitespace
belongs to the token after it. Streaming uses :func:`pieces`, whose pieces concatenate back to
the text exactly and number exactly :func:`count_tokens` (plus one for trailing whitespace).

Example:
    >>> count_tokens("Hello, world!")
    4
    >>> pieces("Hello, world!")
    ['Hello', ',', ' world', '!']
    >>> "".join(pieces("  two  words ")) == "  two  words "
    True
"""

from __future__ import annotations

import re

__all__ = ["MESSAGE_OVERHEAD", "REPLY_OVERHEAD", "count_tokens", "pieces", "tokens"]

_TOKEN = re.compile(r"\w{1,8}|[^\w\s]", re.UNICODE)
_PIECE = re.compile(r"\s*(?:\w{1,8}|[^\w\s])|\s+$", re.UNICODE)

#: Tokens added per message (role and separators), as chat models do.
MESSAGE_OVERHEAD = 3
#: Tokens added once per request (the reply's priming).
REPLY_OVERHEAD = 3


def tokens(text: str) -> list[str]:
    """The tokens of ``text`` without whitespace.

    Example:
        >>> tokens("it's 3.5")
        ['it', "'", 's', '3', '.', '5']
    """
    return _TOKEN.findall(text or "")


def count_tokens(text: str) -> int:
    """How many tokens ``text`` holds.

    Example:
        >>> count_tokens("")
        0
    """
    return len(_TOKEN.findall(text or ""))


def pieces(text: str) -> list[str]:
    """Token-sized pieces of ``text``, leading whitespace attached, that concatenate to ``text``.

    Example:
        >>> pieces("a b")
        ['a', ' b']
    """
    if not text:
        return []
    found = _PIECE.findall(text)
    if "".join(found) != text:  # pragma: no cover - defensive, the pattern covers all input
        return [text]
    return found
