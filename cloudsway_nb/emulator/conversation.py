"""The emulator's own, protocol-neutral view of a request.

Each ``protocols_*`` module parses its wire format into a :class:`Prompt` (the Responses API
through :mod:`.responses_request`); :mod:`generate` plans the reply from it. Counting prompt
tokens here, once, is what makes usage agree across protocols: the same conversation gives the
same ``input`` count whichever wire it came by.

Example:
    >>> p = Prompt(turns=[Turn("system", "Be brief."), Turn("user", "Hello there")])
    >>> p.last_user_text()
    'Hello there'
    >>> p.input_tokens()
    14
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from .media import MediaInfo
from .tokenizer import MESSAGE_OVERHEAD, REPLY_OVERHEAD, count_tokens

__all__ = ["Prompt", "Tool", "ToolCall", "ToolResult", "Turn", "canonical_json", "digest"]


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no spaces, for hashing and for counting schema tokens.

    Example:
        >>> canonical_json({"b": 1, "a": [True, None]})
        '{"a":[true,null],"b":1}'
    """
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def digest(*values: Any) -> str:
    """A hex SHA-256 of the canonical JSON of ``values``.

    Example:
        >>> digest("a") == digest("a") != digest("b")
        True
    """
    return hashlib.sha256(canonical_json(list(values)).encode("utf-8")).hexdigest()


@dataclass
class Tool:
    """A function the model may call, with its JSON schema.

    Example:
        >>> Tool("get_weather", "Weather now", {"type": "object"}).tokens() > 0
        True
    """

    name: str
    description: str = ""
    schema: dict[str, Any] = field(default_factory=dict)

    def tokens(self) -> int:
        """Prompt tokens the tool definition costs."""
        return (
            count_tokens(self.name)
            + count_tokens(self.description)
            + count_tokens(canonical_json(self.schema))
        )


@dataclass
class ToolCall:
    """A call the model made (earlier in the conversation, or now).

    Example:
        >>> ToolCall("f", {"x": 1}, "call_1").arguments_json
        '{"x": 1}'
    """

    name: str
    arguments: Any
    call_id: str = ""

    @property
    def arguments_json(self) -> str:
        """The arguments as the JSON text sent on the wire."""
        return json.dumps(self.arguments, ensure_ascii=False)

    def tokens(self) -> int:
        """Tokens of the name and the arguments."""
        return count_tokens(self.name) + count_tokens(self.arguments_json)


@dataclass
class ToolResult:
    """The output of a tool call, sent back by the user.

    Example:
        >>> ToolResult("get_weather", "68", "call_1").content
        '68'
    """

    name: str | None
    content: str
    call_id: str = ""


@dataclass
class Turn:
    """One message: a role, its text, media, tool calls and tool results.

    Example:
        >>> Turn("user", "hi").tokens()
        4
    """

    role: str
    text: str = ""
    media: list[MediaInfo] = field(default_factory=list)
    tool_calls: list[ToolCall] = field(default_factory=list)
    tool_results: list[ToolResult] = field(default_factory=list)

    def tokens(self) -> int:
        """Prompt tokens of this turn, message overhead included."""
        total = MESSAGE_OVERHEAD + count_tokens(self.text)
        total += sum(m.tokens for m in self.media)
        total += sum(c.tokens() for c in self.tool_calls)
        total += sum(count_tokens(r.content) + count_tokens(r.name or "") for r in self.tool_results)
        return total


@dataclass
class Prompt:
    """Everything about a request that shapes the reply.

    Attributes:
        turns: the conversation, system instructions first.
        tools: functions offered; ``tool_choice`` is ``"auto"``, ``"none"``, ``"required"`` or a
            tool name that must be called.
        json_mode: ``None``, ``"object"`` (any JSON object) or ``"schema"`` (``json_schema`` given).
        reasoning: whether reasoning was asked for; ``effort`` and ``reasoning_budget`` refine it.
        max_tokens: cap on output tokens (reasoning included); ``stop``: stop sequences.
        n: number of alternative replies; ``continuing_from``: a previous response id.
        parallel_tool_calls: whether several tools may be called in one turn (it decides how
            many calls are made, not what any of them holds, so it is not part of the fingerprint).

    Example:
        >>> Prompt(turns=[Turn("user", "x")], n=2).n
        2
    """

    turns: list[Turn] = field(default_factory=list)
    tools: list[Tool] = field(default_factory=list)
    tool_choice: str = "auto"
    json_mode: str | None = None
    json_schema: dict[str, Any] | None = None
    reasoning: bool = False
    effort: str | None = None
    reasoning_budget: int | None = None
    max_tokens: int | None = None
    stop: list[str] = field(default_factory=list)
    n: int = 1
    model: str = ""
    continuing_from: str | None = None
    parallel_tool_calls: bool = True

    def media(self) -> list[MediaInfo]:
        """All media parts in order of arrival."""
        return [m for t in self.turns for m in t.media]

    def system_text(self) -> str:
        """The system / developer instructions joined."""
        return "\n".join(t.text for t in self.turns if t.role in ("system", "developer") and t.text)

    def last_user_text(self) -> str:
        """The text of the last user turn that has text."""
        for turn in reversed(self.turns):
            if turn.role == "user" and turn.text.strip():
                return turn.text
        return ""

    def trailing_tool_results(self) -> list[ToolResult]:
        """Tool results that came after the last user text (the ones to answer with)."""
        found: list[ToolResult] = []
        for turn in reversed(self.turns):
            if turn.tool_results:
                found[:0] = turn.tool_results
                if turn.text.strip() and turn.role == "user":
                    break
                continue
            if turn.role == "user" and (turn.text.strip() or turn.media):
                break
        return found

    def tools_tokens(self) -> int:
        """Prompt tokens spent on tool definitions."""
        return sum(t.tokens() for t in self.tools)

    def input_tokens(self) -> int:
        """All prompt tokens: turns, tools, schema and reply priming.

        Example:
            >>> Prompt(turns=[Turn("user", "")]).input_tokens()
            6
        """
        total = sum(t.tokens() for t in self.turns) + self.tools_tokens() + REPLY_OVERHEAD
        if self.json_schema is not None:
            total += count_tokens(canonical_json(self.json_schema))
        return total

    def cached_tokens(self) -> int:
        """The deterministic cached part of the prompt: for prompts of 1024 tokens or more, half
        of it rounded down to a multiple of 128 (as prompt caches work in 128-token blocks).

        Example:
            >>> Prompt(turns=[Turn("user", "word " * 2000)]).cached_tokens()
            896
        """
        total = self.input_tokens()
        if total < 1024:
            return 0
        return (total // 2) // 128 * 128

    def _turns_key(self) -> list[Any]:
        return [
            (
                t.role,
                t.text,
                [m.summary for m in t.media],
                [(c.name, c.arguments) for c in t.tool_calls],
                [(r.name, r.content) for r in t.tool_results],
            )
            for t in self.turns
        ]

    def conversation_digest(self) -> str:
        """A digest of the turns alone: the seed of a long answer's content, so the same
        conversation gets the same answer on every protocol, whatever its settings (effort,
        ``max_tokens``, ...) are.

        Example:
            >>> a = Prompt(turns=[Turn("user", "x")], max_tokens=5, effort="high")
            >>> a.conversation_digest() == Prompt(turns=[Turn("user", "x")]).conversation_digest()
            True
        """
        return digest(self._turns_key())

    def fingerprint(self) -> str:
        """A digest of everything that shapes the reply (seed of all generated content)."""
        return digest(
            self._turns_key(),
            [(t.name, t.schema) for t in self.tools],
            self.tool_choice,
            self.json_mode,
            self.json_schema,
            self.reasoning,
            self.effort,
            self.reasoning_budget,
            self.max_tokens,
            self.stop,
            self.continuing_from,
        )
