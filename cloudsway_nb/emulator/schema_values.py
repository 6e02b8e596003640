"""Generate a JSON value that is valid against a JSON schema, taking hints from the prompt.

Used for tool-call arguments and for JSON-mode replies. Handles ``type`` (also a list, also
Gemini's upper-case names), ``properties``/``required``, ``additionalProperties`` (``false`` is
respected, a schema fills extra keys), ``patternProperties``, ``minProperties``/``maxProperties``,
``enum``/``const``, ``items``/``prefixItems`` with ``minItems``/``maxItems``/``uniqueItems``,
number ranges and ``multipleOf``, ``minLength``/``maxLength``, ``pattern`` (a matching string
is generated, see :mod:`.regex_sample`), formats (date, date-time, email, uri, uuid, ...),
``default``, local ``$ref`` (``$defs``/``definitions``), ``anyOf``/``oneOf``/``allOf``/``not``.
Each value is checked against its schema by a small built-in validator, and a few other
candidates are tried when it does not fit (e.g. a ``oneOf`` option that matches twice).

String values are plausible for the property's name: a ``location``/``city`` gets a capitalised
word from the prompt, a ``query``/``text`` the prompt's gist, an enum the value the prompt
mentions, a ``unit`` ``celsius``, a ``date`` a fixed date, an ``email`` ``user@example.com``, an
``*_id`` a deterministic id; numbers come from the prompt when plausible for the name
(``year``, ``count``, ``latitude``, ...).

Example:
    >>> schema = {"type": "object", "properties": {
    ...     "location": {"type": "string"},
    ...     "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
    ...     "required": ["location", "unit"]}
    >>> value_for_schema(schema, Hints.from_text("Weather in Boston, in fahrenheit please"))
    {'location': 'Boston', 'unit': 'fahrenheit'}
"""

from __future__ import annotations

import copy
import hashlib
import math
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from .regex_sample import sample

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
        """A value for ``schema``; checked against it, with a few fallbacks when it does not fit."""
        resolved = self.resolve(schema)
        value = self.raw_value(resolved, name, depth)
        if depth > 12 or self.conforms(value, resolved):
            return value
        for candidate in self.fallbacks(resolved, value):
            if self.conforms(candidate, resolved):
                return candidate
        return value

    def raw_value(self, schema: dict[str, Any], name: str, depth: int) -> Any:
        if "const" in schema:
            return schema["const"]
        if isinstance(schema.get("enum"), list) and schema["enum"]:
            options = [o for o in schema["enum"] if self.conforms(o, {k: v for k, v in schema.items() if k != "enum"})]
            return self.pick_enum(options or schema["enum"])
        if "default" in schema and depth > 0:
            return schema["default"]
        if isinstance(schema.get("allOf"), list):
            rest = {k: v for k, v in schema.items() if k != "allOf"}
            merged = self.merge([rest, *(self.resolve(part) for part in schema["allOf"])])
            return self.raw_value(self.resolve(merged), name, depth)
        for key in ("oneOf", "anyOf"):
            if isinstance(schema.get(key), list) and schema[key]:
                rest = {k: v for k, v in schema.items() if k != key}
                options = [self.resolve(o) for o in schema[key]]
                ordered = [o for o in options if self.type_of(o) != "null"] + [
                    o for o in options if self.type_of(o) == "null"
                ]
                first: Any = None
                for index, option in enumerate(ordered):
                    candidate = self.value(self.merge([rest, option]), name, depth)
                    if index == 0:
                        first = candidate
                    if self.conforms(candidate, schema):
                        return candidate
                return first
        kind = self.type_of(schema)
        if kind is None and isinstance(schema.get("not"), dict):
            banned = self.type_of(self.resolve(schema["not"]))
            kind = "integer" if banned == "string" else None
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

    def merge(self, parts: list[dict[str, Any]]) -> dict[str, Any]:
        """One schema that asks for everything ``parts`` ask for (the usual ``allOf`` uses)."""
        merged: dict[str, Any] = {}
        for part in parts:
            for key, val in part.items():
                if key not in merged:
                    merged[key] = copy.deepcopy(val)
                elif key == "properties" and isinstance(val, dict):
                    for prop, sub in val.items():
                        old = merged["properties"].get(prop)
                        merged["properties"][prop] = sub if old is None else {"allOf": [old, sub]}
                elif key == "required" and isinstance(val, list):
                    merged["required"] = [*merged["required"], *[r for r in val if r not in merged["required"]]]
                elif key in ("minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties"):
                    if isinstance(val, int | float) and not isinstance(val, bool):
                        merged[key] = max(merged[key], val)
                elif key in ("maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties"):
                    if isinstance(val, int | float) and not isinstance(val, bool):
                        merged[key] = min(merged[key], val)
                elif key == "enum" and isinstance(val, list):
                    kept = [v for v in merged["enum"] if v in val]
                    merged["enum"] = kept or merged["enum"]
        return merged

    def fallbacks(self, schema: dict[str, Any], value: Any) -> list[Any]:
        """Other values to try when the generated one does not fit (mostly ``not`` and odd mixes)."""
        found: list[Any] = []
        if isinstance(value, str):
            for size in (1, 3, 8):
                found.append(value[:size])
        return [*found, 1, 0, "example", True, None, {}, [], 0.5, -1, "x"]

    def pick_enum(self, options: list[Any]) -> Any:
        text = self.hints.text.lower()
        for option in options:
            if isinstance(option, str) and option and re.search(rf"\b{re.escape(option.lower())}\b", text):
                return option
        return options[0]

    def object_value(self, schema: dict[str, Any], depth: int) -> dict[str, Any]:
        props = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
        required = [r for r in schema.get("required") or [] if isinstance(r, str)]
        low = schema.get("minProperties") if isinstance(schema.get("minProperties"), int) else 0
        high = schema.get("maxProperties") if isinstance(schema.get("maxProperties"), int) else None
        result: dict[str, Any] = {}
        ordering = [k for k in schema.get("propertyOrdering") or [] if k in props]
        keys = [*ordering, *[k for k in props if k not in ordering]]
        if high is not None:  # required first, then the others while there is room
            optional = [k for k in keys if k not in required]
            keys = [k for k in keys if k in required] + optional[: max(0, high - len(required))]
        for key in keys:
            if key in result or (depth >= 6 and key not in required and len(result) >= low):
                continue
            result[key] = self.value(props[key], key, depth + 1)
        for key in required:
            if key not in result:
                result[key] = self.value(self.schema_for_key(schema, key), key, depth + 1)
        extra = 0
        while len(result) < low and extra < low + 10:
            extra += 1
            key = self.extra_key(schema, result, extra)
            if key is None:
                break
            result[key] = self.value(self.schema_for_key(schema, key), key, depth + 1)
        return result

    def schema_for_key(self, schema: dict[str, Any], key: str) -> Any:
        props = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
        if key in props:
            return props[key]
        for pattern, sub in (schema.get("patternProperties") or {}).items():
            try:
                if re.search(pattern, key):
                    return sub
            except re.error:
                continue
        extra = schema.get("additionalProperties")
        return extra if isinstance(extra, dict) else {}

    def extra_key(self, schema: dict[str, Any], taken: dict[str, Any], n: int) -> str | None:
        """A new key allowed by ``patternProperties`` / ``additionalProperties`` (None: no room)."""
        props = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
        for key in props:
            if key not in taken:
                return key
        for pattern in schema.get("patternProperties") or {}:
            for variant in range(n, n + 12):
                key = sample(pattern, prefer=f"{sample(pattern) or ''}{variant}")
                if key is not None and key not in taken:
                    return key
                key = sample(pattern, min_length=variant)
                if key is not None and key not in taken:
                    return key
        if schema.get("additionalProperties") is False:
            return None
        for variant in range(n, n + 50):
            key = f"extra_{variant}"
            if key not in taken:
                return key
        return None

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
        candidates: list[Any] = list(schema.get("enum") or [])
        if isinstance(item, str):
            pattern = schema.get("pattern")
            if isinstance(pattern, str):
                low = int(schema.get("minLength", 0) or 0)
                high = schema.get("maxLength") if isinstance(schema.get("maxLength"), int) else None
                candidates += [sample(pattern, low, high, prefer=f"{item}{k}") for k in range(1, 4)]
                candidates += [sample(pattern, max(low, k), high) for k in range(1, 12)]
            candidates += [f"{item} {index + 1}", f"{item}{index + 1}", f"{item[:-1]}{index + 1}"]
        elif isinstance(item, bool):
            candidates.append(not item)
        elif isinstance(item, int | float):
            step = schema.get("multipleOf") or 1
            for k in range(1, 12):
                candidates += [item + k * step, item - k * step]
        for candidate in candidates:
            if candidate is not None and candidate not in taken and self.conforms(candidate, schema):
                return candidate
        return candidates[-1] if candidates else item

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

        candidates: list[float] = [*self.named_numbers(name.lower()), 1, 0]
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

    def named_numbers(self, name: str) -> list[float]:
        """Numbers to try for a property, in order: the prompt's where plausible, then a default."""
        words = set(re.split(r"[_\W]+", name)) | {name}
        numbers = self.hints.numbers
        for keys, (lo, hi, default) in _NUMBER_NAMES:
            if words & keys:
                return [n for n in numbers if lo <= n <= hi] + [default]
        return list(numbers)

    def string_value(self, schema: dict[str, Any], name: str) -> str:
        fmt = schema.get("format")
        text = self.formatted(fmt) if isinstance(fmt, str) else None
        if text is None:
            text = self.named_string(name.lower())
        low = int(schema.get("minLength", 0) or 0)
        high = schema.get("maxLength") if isinstance(schema.get("maxLength"), int) else None
        pattern = schema.get("pattern")
        if isinstance(pattern, str):
            found = sample(pattern, low, high, prefer=text)
            if found is not None:
                return found
        if len(text) < low:
            text = text + "x" * (low - len(text))
        if high is not None and len(text) > high:
            text = text[:high]
        return text

    def formatted(self, fmt: str) -> str | None:
        seed = hashlib.sha256(self.hints.seed.encode()).hexdigest()
        return {
            "date": _DATE,
            "date-time": _DATE_TIME,
            "time": "12:00:00",
            "email": "user@example.com",
            "idn-email": "user@example.com",
            "uri": "https://example.com/",
            "url": "https://example.com/",
            "iri": "https://example.com/",
            "uri-reference": "https://example.com/",
            "hostname": "example.com",
            "ipv4": "192.0.2.1",
            "ipv6": "2001:db8::1",
            "uuid": str(uuid.UUID(seed[:32])),
            "duration": "PT1H",
        }.get(fmt.lower())

    def named_string(self, name: str) -> str:
        """A plausible string for a property called ``name`` (lower case).

        Places and free-text names take words from the prompt; other well-known names (unit, date,
        email, url, id, ...) get a fixed plausible value; the last word of the name decides first.
        """
        parts = [w for w in re.split(r"[_\W]+", name) if w]
        words = set(parts) | {name}
        nouns = self.hints.proper_nouns
        last = parts[-1] if parts else name
        known = self.known_string(name, {last}) if last not in _PLACE_WORDS + _TEXT_WORDS else None
        if known is not None:
            return known
        if words & set(_PLACE_WORDS) or any(name.endswith(w) for w in _PLACE_WORDS):
            return nouns[0] if nouns else "Paris"
        if words & set(_TEXT_WORDS):
            return self.hints.gist() or "example"
        known = self.known_string(name, words)
        if known is not None:
            return known
        if words & set(_NAME_WORDS):
            return nouns[0] if nouns else "Example"
        if nouns:
            return nouns[0]
        return "example" if not name else name.replace("_", " ")

    def known_string(self, name: str, words: set[str]) -> str | None:
        for keys, value in _STRING_NAMES:
            if words & keys or any(name.endswith(k) for k in keys if len(k) > 3):
                if value == "<id>":
                    return "id_" + hashlib.sha256(f"{self.hints.seed}:{name}".encode()).hexdigest()[:8]
                if value == "<number>":
                    counts = [n for n in self.hints.numbers if n >= 0]
                    return _number_text(counts[0]) if counts else "1"
                return value
        return None

    # -- checking

    def conforms(self, value: Any, schema: Any, depth: int = 0) -> bool:
        """Whether ``value`` is valid against ``schema`` (the keywords this module generates for)."""
        if schema is True or schema is None:
            return True
        if schema is False:
            return False
        if depth > 30:
            return True
        schema = self.resolve(schema)
        if not _type_ok(value, schema.get("type")):
            return False
        if "const" in schema and not _same(value, schema["const"]):
            return False
        if isinstance(schema.get("enum"), list) and not any(_same(value, e) for e in schema["enum"]):
            return False
        if _is_number(value) and not _number_ok(value, schema):
            return False
        if isinstance(value, str) and not _string_ok(value, schema):
            return False
        if isinstance(value, list) and not self.array_ok(value, schema, depth):
            return False
        if isinstance(value, dict) and not self.object_ok(value, schema, depth):
            return False
        for part in schema.get("allOf") or []:
            if not self.conforms(value, part, depth + 1):
                return False
        any_of = schema.get("anyOf") if isinstance(schema.get("anyOf"), list) else []
        if any_of and not any(self.conforms(value, part, depth + 1) for part in any_of):
            return False
        one_of = schema.get("oneOf") if isinstance(schema.get("oneOf"), list) else []
        if one_of and sum(1 for part in one_of if self.conforms(value, part, depth + 1)) != 1:
            return False
        return not ("not" in schema and self.conforms(value, schema["not"], depth + 1))

    def array_ok(self, value: list[Any], schema: dict[str, Any], depth: int) -> bool:
        if isinstance(schema.get("minItems"), int) and len(value) < schema["minItems"]:
            return False
        if isinstance(schema.get("maxItems"), int) and len(value) > schema["maxItems"]:
            return False
        if schema.get("uniqueItems"):
            seen: list[Any] = []
            for item in value:
                if any(_same(item, other) for other in seen):
                    return False
                seen.append(item)
        prefix = schema.get("prefixItems")
        items = schema.get("items")
        if isinstance(items, list):
            prefix, items = items, schema.get("additionalItems")
        prefix = prefix if isinstance(prefix, list) else []
        for index, item in enumerate(value):
            sub = prefix[index] if index < len(prefix) else items
            if sub is not None and not self.conforms(item, sub, depth + 1):
                return False
        return True

    def object_ok(self, value: dict[str, Any], schema: dict[str, Any], depth: int) -> bool:
        if any(key not in value for key in schema.get("required") or []):
            return False
        if isinstance(schema.get("minProperties"), int) and len(value) < schema["minProperties"]:
            return False
        if isinstance(schema.get("maxProperties"), int) and len(value) > schema["maxProperties"]:
            return False
        props = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
        patterns = schema.get("patternProperties") if isinstance(schema.get("patternProperties"), dict) else {}
        extra = schema.get("additionalProperties", True)
        for key, item in value.items():
            matched = False
            if key in props:
                matched = True
                if not self.conforms(item, props[key], depth + 1):
                    return False
            for pattern, sub in patterns.items():
                try:
                    hit = re.search(pattern, key) is not None
                except re.error:
                    hit = False
                if hit:
                    matched = True
                    if not self.conforms(item, sub, depth + 1):
                        return False
            if not matched and not self.conforms(item, extra, depth + 1):
                return False
        return True


_DATE = "2024-01-15"
_DATE_TIME = "2024-01-15T12:00:00Z"

# (name words, value): plausible strings by property name; checked after place and text names
_STRING_NAMES: list[tuple[set[str], str]] = [
    ({"unit", "units", "scale"}, "celsius"),
    ({"email", "mail", "e-mail"}, "user@example.com"),
    ({"url", "uri", "link", "website", "homepage", "href", "endpoint"}, "https://example.com/"),
    ({"datetime", "timestamp", "time", "at"}, _DATE_TIME),
    ({"date", "day", "deadline", "birthday", "dob", "since", "until"}, _DATE),
    ({"phone", "telephone", "mobile", "tel"}, "+1-555-0100"),
    ({"currency"}, "USD"),
    ({"language", "lang", "locale"}, "en"),
    ({"timezone", "tz"}, "UTC"),
    ({"zip", "zipcode", "postcode", "postal"}, "10001"),
    ({"color", "colour"}, "blue"),
    ({"status", "state_name"}, "active"),
    ({"type", "kind", "category"}, "general"),
    ({"format"}, "json"),
    ({"order", "sort", "direction"}, "asc"),
    ({"mode"}, "default"),
    ({"version"}, "1.0"),
    ({"path", "file", "filename"}, "example.txt"),
    ({"password", "secret", "token"}, "example-secret"),
    ({"id", "identifier", "uuid", "key"}, "<id>"),
    ({"count", "number", "num", "quantity", "amount", "age", "size", "limit", "total"}, "<number>"),
]

# (name words, (lowest, highest, default)): numbers by property name
_NUMBER_NAMES: list[tuple[set[str], tuple[float, float, float]]] = [
    ({"year"}, (1900, 2100, 2024)),
    ({"month"}, (1, 12, 1)),
    ({"day"}, (1, 31, 15)),
    ({"hour"}, (0, 23, 12)),
    ({"minute", "minutes", "second", "seconds"}, (0, 59, 30)),
    ({"latitude", "lat"}, (-90, 90, 48.8566)),
    ({"longitude", "lon", "lng"}, (-180, 180, 2.3522)),
    ({"age"}, (0, 130, 30)),
    ({"percent", "percentage"}, (0, 100, 50)),
    ({"probability", "confidence", "score", "ratio"}, (0, 1, 0.5)),
    ({"page"}, (1, 10_000, 1)),
    ({"count", "limit", "quantity", "n", "num", "number", "top", "k", "max", "results", "people", "guests"},
     (1, 10_000, 5)),
    ({"price", "amount", "cost", "total"}, (0, 1e9, 10)),
    ({"temperature", "temp"}, (-90, 60, 20)),
]  # fmt: skip


def _number_text(value: float) -> str:
    return str(int(value)) if value == int(value) else str(value)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _same(a: Any, b: Any) -> bool:
    """JSON equality: ``1 == 1.0`` but ``True != 1``."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b if not (_is_number(a) and _is_number(b)) else a == b


def _type_ok(value: Any, kind: Any) -> bool:
    if kind is None:
        return True
    if isinstance(kind, list):
        return any(_type_ok(value, k) for k in kind)
    kind = str(kind).lower()
    return {
        "string": isinstance(value, str),
        "integer": _is_number(value) and float(value).is_integer(),
        "number": _is_number(value),
        "boolean": isinstance(value, bool),
        "null": value is None,
        "object": isinstance(value, dict),
        "array": isinstance(value, list),
    }.get(kind, True)


def _number_ok(value: float, schema: dict[str, Any]) -> bool:
    low, high = schema.get("minimum"), schema.get("maximum")
    xlow, xhigh = schema.get("exclusiveMinimum"), schema.get("exclusiveMaximum")
    if xlow is True:
        xlow, low = low, None
    if xhigh is True:
        xhigh, high = high, None
    if (_is_number(low) and value < low) or (_is_number(high) and value > high):
        return False
    if (_is_number(xlow) and value <= xlow) or (_is_number(xhigh) and value >= xhigh):
        return False
    step = schema.get("multipleOf")
    if _is_number(step) and step > 0:
        ratio = value / step
        return abs(ratio - round(ratio)) < 1e-9
    return True


def _string_ok(value: str, schema: dict[str, Any]) -> bool:
    if isinstance(schema.get("minLength"), int) and len(value) < schema["minLength"]:
        return False
    if isinstance(schema.get("maxLength"), int) and len(value) > schema["maxLength"]:
        return False
    pattern = schema.get("pattern")
    if isinstance(pattern, str):
        try:
            return re.search(pattern, value) is not None
        except re.error:
            return True
    return True
