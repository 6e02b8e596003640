"""Generate a string that matches a regular expression (the common subset JSON schemas use).

Supported: literals and escapes, ``.``, character classes (``[A-Z]``, ``[^0-9]``, ``\\d``, ``\\w``,
``\\s`` and their negations), quantifiers (``{n}``, ``{n,}``, ``{n,m}``, ``*``, ``+``, ``?``, lazy or
possessive), anchors and word boundaries, groups (capturing, ``(?:...)``, named), alternation,
inline flags and lookarounds (skipped). Generation is deterministic: ``extra`` adds repetitions
to open quantifiers, ``variant`` shifts the characters and the alternatives chosen. Every
candidate is checked with :func:`re.search` (JSON-schema semantics); None when none fits.

Example:
    >>> sample(r"^[A-Z]{3}-\\d{4}$")
    'ABC-1234'
    >>> sample(r"^(foo|bar)+baz?$")
    'fooba'
    >>> sample(r"^[a-z]+$", min_length=5)
    'abcde'
"""

from __future__ import annotations

import re
import string
from typing import Any

__all__ = ["sample"]

# the order characters are tried in: letters first, digits from 1, then the rest of printable ASCII
_UNIVERSE = (
    string.ascii_lowercase
    + string.ascii_uppercase
    + "1234567890"
    + "_ -.@:/+#,;!?*&=%$~'\"()[]{}<>|\\^`"
)
_DIGITS = [("0", "9")]
_WORD = [("a", "z"), ("A", "Z"), ("0", "9"), ("_", "_")]
_SPACE = [(" ", " "), ("\t", "\t"), ("\n", "\n"), ("\r", "\r"), ("\f", "\f"), ("\v", "\v")]
_CLASS_ESCAPES = {"d": (_DIGITS, False), "D": (_DIGITS, True), "w": (_WORD, False), "W": (_WORD, True),
                  "s": (_SPACE, False), "S": (_SPACE, True)}  # fmt: skip
_CHAR_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "f": "\f", "v": "\v", "0": "\0"}
_EMPTY: tuple[Any, ...] = ("seq", [])

Node = tuple[Any, ...]


def _chars(ranges: list[tuple[str, str]], negated: bool) -> list[str]:
    """The characters of a class, in the preferred order."""

    def inside(c: str) -> bool:
        return any(lo <= c <= hi for lo, hi in ranges)

    chosen = [c for c in _UNIVERSE if inside(c) != negated]
    if not negated:  # members outside printable ASCII (e.g. [а-я])
        for lo, hi in ranges:
            if ord(lo) > 126:
                chosen.extend(chr(o) for o in range(ord(lo), min(ord(hi), ord(lo) + 25) + 1))
        if " " in chosen and len(chosen) > 1 and ranges == _SPACE:
            chosen = [" "]
    return chosen


class _Parser:
    def __init__(self, pattern: str) -> None:
        self.p = pattern
        self.i = 0

    def peek(self, k: int = 0) -> str:
        j = self.i + k
        return self.p[j] if j < len(self.p) else ""

    def parse(self) -> Node:
        node = self.alternation()
        if self.i < len(self.p):  # an unbalanced ")": give up
            raise ValueError("unbalanced parenthesis")
        return node

    def alternation(self) -> Node:
        branches = [self.sequence()]
        while self.peek() == "|":
            self.i += 1
            branches.append(self.sequence())
        return branches[0] if len(branches) == 1 else ("alt", branches)

    def sequence(self) -> Node:
        items: list[Node] = []
        while self.i < len(self.p) and self.peek() not in "|)":
            items.append(self.quantified(self.atom()))
        return ("seq", items)

    def atom(self) -> Node:
        c = self.peek()
        self.i += 1
        if c == "(":
            return self.group()
        if c == "[":
            return self.char_class()
        if c == ".":
            return ("set", [c for c in _UNIVERSE if c != "\n"])
        if c in "^$":
            return _EMPTY
        if c == "\\":
            return self.escape()
        return ("lit", c)

    def group(self) -> Node:
        skip = False
        if self.peek() == "?":
            nxt = self.peek(1)
            if nxt == ":":
                self.i += 2
            elif nxt in "=!":
                self.i += 2
                skip = True
            elif nxt == "<" and self.peek(2) in "=!":
                self.i += 3
                skip = True
            elif nxt == "P" and self.peek(2) == "=":  # (?P=name) back-reference: not supported
                raise ValueError("back-references are not supported")
            elif nxt in "P<'":
                end = self.p.find(">" if nxt != "'" else "'", self.i + 2)
                if end < 0:
                    raise ValueError("bad group name")
                self.i = end + 1
            else:  # inline flags: (?i) or (?i:...)
                j = self.i + 1
                while j < len(self.p) and (self.p[j].isalpha() or self.p[j] == "-"):
                    j += 1
                if j < len(self.p) and self.p[j] == ")":
                    self.i = j + 1
                    return _EMPTY
                self.i = j + 1
        inner = self.alternation()
        if self.peek() != ")":
            raise ValueError("missing )")
        self.i += 1
        return _EMPTY if skip else inner

    def escape(self) -> Node:
        c = self.peek()
        self.i += 1
        if c in _CLASS_ESCAPES:
            ranges, negated = _CLASS_ESCAPES[c]
            return ("set", _chars(ranges, negated))
        if c in "bBAZzG":
            return _EMPTY
        if c.isdigit() and c != "0":
            raise ValueError("back-references are not supported")
        return ("lit", self.escaped_char(c))

    def escaped_char(self, c: str) -> str:
        if c in _CHAR_ESCAPES:
            return _CHAR_ESCAPES[c]
        if c in "xu":
            width = 2 if c == "x" else 4
            digits = self.p[self.i : self.i + width]
            if len(digits) == width and all(d in string.hexdigits for d in digits):
                self.i += width
                return chr(int(digits, 16))
        return c

    def char_class(self) -> Node:
        negated = self.peek() == "^"
        if negated:
            self.i += 1
        ranges: list[tuple[str, str]] = []
        sets: list[tuple[list[tuple[str, str]], bool]] = []
        first = True
        while self.i < len(self.p) and (self.peek() != "]" or first):
            first = False
            c = self.peek()
            self.i += 1
            if c == "\\":
                e = self.peek()
                self.i += 1
                if e in _CLASS_ESCAPES:
                    sets.append(_CLASS_ESCAPES[e])
                    continue
                c = "\b" if e == "b" else self.escaped_char(e)
            if self.peek() == "-" and self.peek(1) not in ("]", ""):
                self.i += 1
                hi = self.peek()
                self.i += 1
                if hi == "\\":
                    hi = self.escaped_char(self.peek())
                    self.i += 1
                ranges.append((c, hi))
            else:
                ranges.append((c, c))
        if self.peek() != "]":
            raise ValueError("missing ]")
        self.i += 1
        members = set(_chars(ranges, False)) if ranges else set()
        for set_ranges, set_negated in sets:
            members |= set(_chars(set_ranges, set_negated))
        ordered = [c for c in _UNIVERSE if c in members] + sorted(members - set(_UNIVERSE))
        if negated:
            ordered = [c for c in _UNIVERSE if c not in members]
        return ("set", ordered)

    def quantified(self, node: Node) -> Node:
        c = self.peek()
        low: int
        high: int | None
        if c == "*":
            low, high = 0, None
        elif c == "+":
            low, high = 1, None
        elif c == "?":
            low, high = 0, 1
        elif c == "{":
            found = re.match(r"\{(\d*)(,?)(\d*)\}", self.p[self.i :])
            if not found or not (found.group(1) or found.group(3)):
                return node  # a literal "{"
            low = int(found.group(1) or 0)
            high = low if not found.group(2) else (int(found.group(3)) if found.group(3) else None)
            self.i += len(found.group(0)) - 1
        else:
            return node
        self.i += 1
        if self.peek() in ("?", "+"):
            self.i += 1
        return ("rep", node, low, high)


def sample(
    pattern: str, min_length: int = 0, max_length: int | None = None, prefer: str | None = None
) -> str | None:
    """A string of allowed length in which ``pattern`` matches (``re.search``), or None.

    ``prefer`` is returned as is when it already fits.

    Example:
        >>> sample(r"^#[0-9A-Fa-f]{6}$")
        '#abcdef'
        >>> sample(r"^[a-z]+$", prefer="oslo")
        'oslo'
    """
    try:
        compiled = re.compile(pattern)
    except re.error:
        return None

    def fits(text: str) -> bool:
        if len(text) < min_length or (max_length is not None and len(text) > max_length):
            return False
        return compiled.search(text) is not None

    if prefer is not None and fits(prefer):
        return prefer
    try:
        tree = _Parser(pattern).parse()
    except (ValueError, IndexError):
        tree = None
    if tree is not None:
        for extra in (*range(17), 24, 32, 48, 64, 128):
            for variant in (0, 1, 2, 3):
                out: list[str] = []
                try:
                    _render_cycled(tree, extra, variant, out)
                except ValueError:
                    break
                text = "".join(out)
                if fits(text):
                    return text
    for candidate in ("example", "abc", "ABC", "12345", "1", "a1", "A1", "x", "2024-01-15", "AB12", ""):
        if fits(candidate):
            return candidate
    return None


def _render_cycled(node: Node, extra: int, variant: int, out: list[str]) -> None:
    """Render with each class cycling through its own characters from its first use."""
    counters: dict[int, int] = {}

    def walk(n: Node) -> None:
        kind = n[0]
        if kind == "lit":
            out.append(n[1])
        elif kind == "set":
            chars = n[1]
            if not chars:
                raise ValueError("empty character class")
            k = counters.get(id(n), 0)
            counters[id(n)] = k + 1
            out.append(chars[(k + variant) % len(chars)])
        elif kind == "seq":
            for item in n[1]:
                walk(item)
        elif kind == "alt":
            walk(n[1][variant % len(n[1])])
        elif kind == "rep":
            _, inner, low, high = n
            count = low + (extra if high is None else min(extra, high - low))
            for _ in range(count):
                walk(inner)

    walk(node)
