"""Deterministic unit-norm embeddings in which similar texts lie close together.

A text is hashed into a vector (feature hashing): each lower-cased word adds a signed weight at
a hashed position and each of its character trigrams a smaller one, so texts sharing words
and word pieces point the same way. The vector is normalised to length 1. No numpy needed.

Example:
    >>> a, b, c = (embed(t, 64) for t in ("a cat on a mat", "the cat sat on the mat", "quarterly revenue"))
    >>> round(sum(x * x for x in a), 6)
    1.0
    >>> cosine(a, b) > cosine(a, c)
    True
"""

from __future__ import annotations

import base64
import hashlib
import math
import re
import struct
from collections.abc import Sequence

__all__ = ["DEFAULT_DIMENSIONS", "cosine", "embed", "to_base64"]

#: Dimensions when the request does not ask for a number (as multilingual-e5-large).
DEFAULT_DIMENSIONS = 1024
_WORD = re.compile(r"\w+", re.UNICODE)


def _slot(feature: str, dimensions: int) -> tuple[int, float]:
    h = hashlib.blake2b(feature.encode("utf-8"), digest_size=8).digest()
    value = int.from_bytes(h, "little")
    return value % dimensions, (1.0 if value >> 63 else -1.0)


def embed(text: str, dimensions: int = DEFAULT_DIMENSIONS) -> list[float]:
    """The embedding of ``text`` with ``dimensions`` components, unit norm.

    Example:
        >>> embed("hello", 8) == embed("hello", 8)
        True
    """
    dimensions = max(1, int(dimensions))
    vector = [0.0] * dimensions
    words = _WORD.findall((text or "").lower())
    for word in words:
        index, sign = _slot("w:" + word, dimensions)
        vector[index] += sign
        padded = f"#{word}#"
        for i in range(len(padded) - 2):
            index, sign = _slot("t:" + padded[i : i + 3], dimensions)
            vector[index] += 0.3 * sign
    if not words:  # no words: a fixed direction derived from the raw text
        for i in range(4):
            index, sign = _slot(f"raw:{i}:{text}", dimensions)
            vector[index] += sign
    norm = math.sqrt(sum(x * x for x in vector)) or 1.0
    return [x / norm for x in vector]


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    """Cosine similarity of two vectors.

    Example:
        >>> cosine([1.0, 0.0], [0.0, 1.0])
        0.0
    """
    dot = sum(x * y for x, y in zip(a, b, strict=False))
    na = math.sqrt(sum(x * x for x in a)) or 1.0
    nb = math.sqrt(sum(y * y for y in b)) or 1.0
    return dot / (na * nb)


def to_base64(vector: Sequence[float]) -> str:
    """Pack as little-endian float32 and base64-encode (the wire form of ``encoding_format=base64``).

    Example:
        >>> to_base64([1.0])
        'AACAPw=='
    """
    return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode("ascii")
