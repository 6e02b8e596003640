"""Generate a JSON value that is valid against a JSON schema, taking hints from the prompt.

Used for tool-call arguments and for JSON-mode replies. Handles ``type`` (also a list, also
Gemini's upper-case names), ``properties``/``required``, ``enum``/``const``, ``items`` /
``prefixItems`` with ``minItems``/``maxItems``/``uniqueItems``, number ranges and
``multipleOf``, string lengths, common formats, ``default``, local ``$ref`` and
``anyOf``/``oneOf``/``allOf``. String values are taken from the prompt where plausible: a
``location`` gets a capitalised word from it, an enum the value the prompt mentions.

Example:
    >>> schema = {"type": "object", "properties": {
    ...     "location": {"type": "string"},
    ...     "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
    ...     "required": ["location", "unit"]}
    >>> value_for_schema(schema, Hints.from_text("Weather in Boston, in fahrenheit please"))
    {'location': 'Boston', 'unit': 'fahrenheit'}
"""

from __future__ import annotations

import hashlib
import math
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Hints", "value_for_schema"]

_STOPWORDS = {
    "i", "a", "an", "the", "what", "whats", "how", "is", "are", "please", "can", "could", "would", "tell",
    "give", "show", "hello", "hi", "hey", "you", "your", "my", "me", "it", "this", "that", "and", "or", "in",
    "on", "at", "to", "for", "of", "do", "does", "which", "who", "when", "where", "why", "json", "use",
}  # fmt: skip
_PLACE_WORDS = (
    "location",
    "city",
    "place",
    "country",
    "region",
    "town",
    "destination",
    "origin",
    "address",
    "state",
)
_NAME_WORDS = ("name", "title", "person", "user", "author", "company", "label", "brand")
_TEXT_WORDS = ("query", "q", "question", "prompt", "text", "input", "message", "content", "search", "topic",
               "description", "summary", "keywords", "reply", "answer")  # fmt: skip


@dataclass
class Hints:
    """Words and numbers lifted from the prompt to fill in values.

    Example:
        >>> Hints.from_text("Is it warm in Rome or Oslo? Give 3 options.").proper_nouns
        ['Rome', 'Oslo']
    """

    text: str = ""
    proper_nouns: list[str] = field(default_factory=list)
    numbers: list[float] = field(default_factory=list)
    seed: str = ""

    @classmethod
    def from_text(cls, text: str, seed: str = "") -> Hints:
        """Collect capitalised words (not sentence starts or stop words) and numbers."""
        nouns: list[str] = []
        for match in re.finditer(r"[A-Z][\w'-]*(?:\s+[A-Z][\w'-]*)*", text or ""):
            before = text[: match.start()].rstrip()
            words = match.group(0).split()
            if not before or before[-1] in ".!?:\n\"'":
                words = words[1:]  # the first word starts a sentence
            words = [w for w in words if w.lower() not in _STOPWORDS]
            if words:
                phrase = " ".join(words)
                if phrase not in nouns:
                    nouns.append(phrase)
        numbers = [float(n) for n in re.findall(r"(?<![\w.])-?\d+(?:\.\d+)?", text or "")]
        return cls(text=text or "", proper_nouns=nouns, numbers=numbers, seed=seed)

    def gist(self, limit: int = 80) -> str:
        """The prompt text, whitespace collapsed and cut to ``limit`` characters."""
        flat = " ".join(self.text.split())
        return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def value_for_schema(schema: Any, hints: Hints | None = None, name: str = "") -> Any:
    """A value valid against ``schema`` (a JSON-schema dict), filled from ``hints``.

    Example:
        >>> value_for_schema({"type": "array", "items": {"type": "integer", "minimum": 5}, "minItems": 2})
        [5, 5]
    """
    gen = _Generator(schema if isinstance(schema, dict) else {}, hints or Hints())
    return gen.value(schema, name, 0)


class _Generator:
    def __init__(self, root: dict[str, Any], hints: Hints) -> None:
        self.root = root
        self.hints = hints

    # -- schema plumbing

    def resolve(self, schema: Any) -> dict[str, Any]:
        seen = 0
        while isinstance(schema, dict) and "$ref" in schema and seen < 20:
            ref = schema["$ref"]
            target: Any = self.root
            if isinstance(ref, str) and ref.startswith("#"):
                for part in ref[1:].split("/"):
                    if part:
                        part = part.replace("~1", "/").replace("~0", "~")
                        target = target.get(part, {}) if isinstance(target, dict) else {}
            else:
                target = {}
            rest = {k: v for k, v in schema.items() if k != "$ref"}
            schema = {**target, **rest} if isinstance(target, dict) else rest
            seen += 1
        return schema if isinstance(schema, dict) else {}

    @staticmethod
    def type_of(schema: dict[str, Any]) -> str | None:
        kind = schema.get("type")
        if isinstance(kind, list):
            options = [str(k).lower() for k in kind if str(k).lower() != "null"]
            kind = options[0] if options else "null"
        if isinstance(kind, str):
            kind = kind.lower()
            return None if kind == "type_unspecified" else kind
        if "properties" in schema or "required" in schema:
            return "object"
        if "items" in schema or "prefixItems" in schema:
            return "array"
        return None

    # -- values

    def value(self, schema: Any, name: str, depth: int) -> Any:
        schema = self.resolve(schema)
        if "const" in schema:
            return schema["const"]
        if isinstance(schema.get("enum"), list) and schema["enum"]:
            return self.pick_enum(schema["enum"])
        if "default" in schema and depth > 0:
            return schema["default"]
        if isinstance(schema.get("allOf"), list):
            merged: dict[str, Any] = {}
            for part in schema["allOf"]:
                part = self.resolve(part)
                for key, val in part.items():
                    if key == "properties":
                        merged.setdefault("properties", {}).update(val)
                    elif key == "required":
                        merged.setdefault("required", []).extend(val)
                    else:
                        merged.setdefault(key, val)
            rest = {k: v for k, v in schema.items() if k != "allOf"}
            return self.value({**merged, **rest}, name, depth)
        for key in ("anyOf", "oneOf"):
            if isinstance(schema.get(key), list) and schema[key]:
                options = [self.resolve(o) for o in schema[key]]
                chosen = next((o for o in options if self.type_of(o) != "null"), options[0])
                rest = {k: v for k, v in schema.items() if k != key}
                return self.value({**rest, **chosen}, name, depth)
        kind = self.type_of(schema)
        if kind == "object":
            return self.object_value(schema, depth)
        if kind == "array":
            return self.array_value(schema, name, depth)
        if kind == "integer":
            return self.number_value(schema, name, integer=True)
        if kind == "number":
            return self.number_value(schema, name, integer=False)
        if kind == "boolean":
            return True
        if kind == "null":
            return None
        return self.string_value(schema, name)

    def pick_enum(self, options: list[Any]) -> Any:
        text = self.hints.text.lower()
        for option in options:
            if isinstance(option, str) and option and re.search(rf"\b{re.escape(option.lower())}\b", text):
                return option
        return options[0]

    def object_value(self, schema: dict[str, Any], depth: int) -> dict[str, Any]:
        props = schema.get("properties") or {}
        required = [r for r in schema.get("required") or [] if isinstance(r, str)]
        result: dict[str, Any] = {}
        ordering = schema.get("propertyOrdering") or list(props)
        for key in [*ordering, *[k for k in props if k not in ordering]]:
            if key not in props or key in result:
                continue
            if depth >= 6 and key not in required:
                continue
            result[key] = self.value(props[key], key, depth + 1)
        for key in required:
            if key not in result:
                result[key] = self.string_value({}, key)
        return result

    def array_value(self, schema: dict[str, Any], name: str, depth: int) -> list[Any]:
        low = int(schema.get("minItems", 1 if depth < 6 else 0) or 0)
        high = schema.get("maxItems")
        count = max(low, 1) if depth < 6 else low
        if isinstance(high, int):
            count = min(count, high)
        prefix = schema.get("prefixItems")
        items = schema.get("items")
        if isinstance(items, list):  # draft-4 tuple form
            prefix, items = items, schema.get("additionalItems", {})
        result: list[Any] = []
        singular = name.removesuffix("s")
        for index in range(count):
            if isinstance(prefix, list) and index < len(prefix):
                item = self.value(prefix[index], singular, depth + 1)
            else:
                item_schema = items if isinstance(items, dict) else {}
                item = self.value(item_schema, singular, depth + 1)
                if schema.get("uniqueItems") and item in result:
                    item = self.unique_variant(item_schema, item, result, index)
            result.append(item)
        if isinstance(prefix, list) and len(prefix) > count and not isinstance(high, int):
            result.extend(self.value(p, singular, depth + 1) for p in prefix[count:])
        return result

    def unique_variant(self, schema: dict[str, Any], item: Any, taken: list[Any], index: int) -> Any:
        schema = self.resolve(schema)
        for option in schema.get("enum") or []:
            if option not in taken:
                return option
        if isinstance(item, str):
            return f"{item} {index + 1}"
        if isinstance(item, bool):
            return not item
        if isinstance(item, int | float):
            return item + index
        return item

    def number_value(self, schema: dict[str, Any], name: str, integer: bool) -> int | float:
        low = schema.get("minimum")
        high = schema.get("maximum")
        xlow = schema.get("exclusiveMinimum")
        xhigh = schema.get("exclusiveMaximum")
        if isinstance(xlow, bool):  # draft-4 boolean form
            xlow, low = (low if xlow else None), (None if xlow else low)
        if isinstance(xhigh, bool):
            xhigh, high = (high if xhigh else None), (None if xhigh else high)
        step = schema.get("multipleOf")

        def fits(v: float) -> bool:
            if (low is not None and v < low) or (high is not None and v > high):
                return False
            if (xlow is not None and v <= xlow) or (xhigh is not None and v >= xhigh):
                return False
            if step:
                ratio = v / step
                return bool(abs(ratio - round(ratio)) < 1e-9)
            return True

        candidates: list[float] = [*self.hints.numbers, 1, 0]
        for v in candidates:
            if integer and v != int(v):
                continue
            if fits(v):
                return int(v) if integer else float(v)
        # derive from the bounds
        start = (
            low if low is not None else (xlow if xlow is not None else (high if high is not None else xhigh))
        )
        start = 0 if start is None else start
        if step:
            base = math.ceil(start / step) * step
            for k in range(4):
                v = base + k * step
                if fits(v):
                    return round(v) if integer else float(v)
        if integer:
            for v in (math.ceil(start), math.ceil(start) + 1, math.floor(start), math.floor(start) - 1):
                if fits(v):
                    return int(v)
        else:
            for v in (
                start,
                start + 0.5,
                start - 0.5,
                (start + (high if high is not None else start + 2)) / 2,
            ):
                if fits(v):
                    return v
        return int(start) if integer else float(start)

    def string_value(self, schema: dict[str, Any], name: str) -> str:
        fmt = schema.get("format")
        text = self.formatted(fmt) if isinstance(fmt, str) else None
        if text is None:
            text = self.named_string(name.lower())
        pattern = schema.get("pattern")
        if isinstance(pattern, str):
            text = self.matching(pattern, text)
        low = int(schema.get("minLength", 0) or 0)
        high = schema.get("maxLength")
        if len(text) < low:
            text = text + "x" * (low - len(text))
        if isinstance(high, int) and len(text) > high:
            text = text[:high]
        return text

    def formatted(self, fmt: str) -> str | None:
        seed = hashlib.sha256(self.hints.seed.encode()).hexdigest()
        return {
            "date": "2024-01-15",
            "date-time": "2024-01-15T12:00:00Z",
            "time": "12:00:00",
            "email": "user@example.com",
            "uri": "https://example.com/",
            "url": "https://example.com/",
            "hostname": "example.com",
            "ipv4": "192.0.2.1",
            "ipv6": "2001:db8::1",
            "uuid": str(uuid.UUID(seed[:32])),
            "duration": "PT1H",
        }.get(fmt.lower())

    def named_string(self, name: str) -> str:
        words = set(re.split(r"[_\W]+", name)) | {name}
        nouns = self.hints.proper_nouns
        if words & set(_PLACE_WORDS) or any(name.endswith(w) for w in _PLACE_WORDS):
            return nouns[0] if nouns else "Paris"
        if words & set(_NAME_WORDS):
            return nouns[0] if nouns else "Example"
        if words & set(_TEXT_WORDS):
            return self.hints.gist() or "example"
        if nouns:
            return nouns[0]
        return "example" if not name else name.replace("_", " ")

    @staticmethod
    def matching(pattern: str, text: str) -> str:
        try:
            compiled = re.compile(pattern)
        except re.error:
            return text
        for candidate in (text, "example", "abc", "ABC", "12345", "1", "a1", "A1", "x", "2024-01-15", "AB12"):
            if compiled.search(candidate):
                return candidate
        return text
