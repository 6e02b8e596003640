"""Deterministic unit-norm embeddings in which similar texts lie close together.

A text is hashed into a vector (feature hashing with random signs): each lower-cased word adds
its stem (``dogs`` -> ``dog``, ``running`` -> ``run``), its character 3- and 4-grams (so word
forms and pieces overlap) and, for words in a small built-in table of related words, a shared
concept (``dog``/``puppy``, ``stock``/``shares``, ``car``/``vehicle``, ...). Very common words
weigh little. The vector is normalised to length 1. Unrelated texts share no features, so
their cosine is about 0 on average (random signs make collisions cancel out). No numpy needed.

Example:
    >>> a, b, c = (embed(t, 64) for t in ("a cat on a mat", "the cat sat on the mat", "quarterly revenue"))
    >>> round(sum(x * x for x in a), 6)
    1.0
    >>> cosine(a, b) > cosine(a, c)
    True
    >>> cosine(embed("dog"), embed("puppy")) > 0.3 > abs(cosine(embed("dog"), embed("stock market")))
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
_STOP_TEXT = (
    "a an the and or but of to in on at by for with from as is are was were be been being it its this "
    "that these those i you he she we they me my your our their his her do does did not no so than "
    "then there here what which who how why when where can could would should will shall may might"
)
_STOPWORDS = frozenset(_STOP_TEXT.split())
_STOP_WEIGHT = 0.15
_NGRAM_WEIGHT = 0.6  # all of a word's n-grams together, relative to its stem
_CONCEPT_WEIGHT = 0.9
_FORM_WEIGHT = 0.4

# groups of related words (stems): each group is one shared feature
_RELATED = (
    "dog puppy pup hound canine doggy pooch",
    "cat kitten kitty feline",
    "pet animal",
    "bird parrot sparrow",
    "car vehicle automobile auto truck van",
    "bike bicycle cycle",
    "house home apartment flat residence dwelling",
    "stock share equity market investor trade trading nasdaq portfolio",
    "revenue profit earning income sale turnover",
    "interest rate bond yield loan credit mortgage",
    "money cash dollar euro currency fund",
    "bank banking finance financial",
    "weather rain snow sunny forecast temperature storm",
    "happy glad joy joyful cheerful delighted",
    "sad unhappy sorrow gloomy depressed",
    "big large huge enormous giant",
    "small little tiny mini",
    "fast quick rapid swift speedy",
    "slow sluggish",
    "buy purchase acquire order",
    "sell vend",
    "doctor physician medic nurse clinician",
    "hospital clinic",
    "ill sick disease illness",
    "child kid boy girl toddler",
    "film movie cinema",
    "music song melody tune",
    "book novel story",
    "computer laptop pc desktop notebook",
    "phone smartphone mobile cellphone",
    "code program software programming developer",
    "error bug failure fault crash exception",
    "food meal dish eat dinner lunch breakfast",
    "drink beverage",
    "run jog sprint",
    "walk stroll hike",
    "begin start commence launch",
    "end finish stop complete",
    "city town village",
    "country nation state",
    "sea ocean",
    "mat rug carpet",
    "sofa couch settee",
    "sleep nap doze slumber",
    "sit seat",
    "jump leap hop",
    "love adore like",
    "hate dislike",
    "smart clever intelligent bright",
    "teacher professor tutor",
    "school university college",
)
_CONCEPTS: dict[str, int] = {}


def _stem(word: str) -> str:
    """A light suffix stripper: ``dogs`` -> ``dog``, ``running`` -> ``run``, ``jumped`` -> ``jump``.

    Example:
        >>> [_stem(w) for w in ("dogs", "running", "jumped", "cities", "quickly", "cat")]
        ['dog', 'run', 'jump', 'city', 'quick', 'cat']
    """
    if len(word) <= 3 or not word.isalpha() or word.endswith(("ss", "us", "is")):
        return word
    for suffix in ("ies", "ing", "ed", "ly", "es", "s"):
        if not word.endswith(suffix) or len(word) - len(suffix) < 3:
            continue
        stem = word[: -len(suffix)]
        if suffix == "ies":
            return stem + "y"
        if suffix == "es" and not stem.endswith(("ss", "x", "z", "ch", "sh")):
            return word[:-1]  # "cases" -> "case"
        if suffix in ("ing", "ed") and stem[-1] == stem[-2] and stem[-1] not in "lsz":
            return stem[:-1]  # "running" -> "run"
        return stem
    return word


for _number, _group in enumerate(_RELATED):
    for _member in _group.split():
        _CONCEPTS.setdefault(_stem(_member), _number)


def _slot(feature: str, dimensions: int) -> tuple[int, float]:
    h = hashlib.blake2b(feature.encode("utf-8"), digest_size=8).digest()
    value = int.from_bytes(h, "little")
    return value % dimensions, (1.0 if value >> 63 else -1.0)


def _features(word: str) -> list[tuple[str, float]]:
    """The weighted features of one lower-cased word."""
    stem = _stem(word)
    weight = _STOP_WEIGHT if word in _STOPWORDS else 1.0
    found = [("w:" + stem, weight)]
    if word in _STOPWORDS:
        return found
    concept = _CONCEPTS.get(stem, _CONCEPTS.get(word))
    if concept is not None:
        found.append((f"c:{concept}", _CONCEPT_WEIGHT))
    if word != stem:  # the exact form, so "dogs" is not quite "dog"
        found.append(("f:" + word, _FORM_WEIGHT))
    padded = f"<{stem}>"
    grams = [padded[i : i + n] for n in (3, 4) for i in range(len(padded) - n + 1)]
    if grams:
        each = _NGRAM_WEIGHT / math.sqrt(len(grams))
        found.extend(("g:" + gram, each) for gram in grams)
    return found


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
        for feature, weight in _features(word):
            index, sign = _slot(feature, dimensions)
            vector[index] += sign * weight
    if not any(vector):  # no words: a fixed direction derived from the raw text
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
