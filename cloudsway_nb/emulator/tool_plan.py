"""Which offered tools to call, and with what arguments: several at once when several fit.

A tool *fits* the prompt when a word of its name (split at ``_``, ``-``, ``.`` and camelCase,
generic verbs such as *get* or *fetch* left out) appears in the last user text; when no name
fits, a word of its description may; when nothing fits at all the first tool is called (so an
offered tool is always used, as before). Every fitting tool is called, in the order offered, in
one turn (parallel tool calls), unless the request turned parallel calls off (``parallel_tool_calls:
false``, Anthropic's ``disable_parallel_tool_use``): then only the first. A ``tool_choice`` that
names a tool calls that one alone. One fitting tool that takes a place or a name, asked about a
list of them (*"Oslo, Paris and Rome"*, *"Oslo or Rome"*), is called once per item.

Arguments are valid for each tool's schema (:func:`~.schema_values.value_for_schema`, filled
from the prompt); the first call's id is the reply's seed, later ones are digests of it.

Example:
    >>> from cloudsway_nb.emulator.conversation import Prompt, Tool, Turn
    >>> city = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
    >>> tools = [Tool("get_weather", "", city), Tool("get_time", "", city), Tool("get_stock", "", {})]
    >>> calls = plan_tool_calls(Prompt(turns=[Turn("user", "Weather and time in Oslo?")], tools=tools), "s" * 64)
    >>> [(c.name, c.arguments) for c in calls]
    [('get_weather', {'city': 'Oslo'}), ('get_time', {'city': 'Oslo'})]
"""

from __future__ import annotations

import re
from dataclasses import replace

from .conversation import Prompt, Tool, ToolCall, digest
from .schema_values import Hints, value_for_schema

__all__ = ["fitting_tools", "listed_names", "plan_tool_calls", "tool_words"]

_GENERIC = {
    "get", "set", "fetch", "find", "lookup", "look", "up", "retrieve", "read", "query", "current", "tool",
    "api", "info", "information", "data", "by", "for", "of", "to", "with", "from", "and", "or", "the", "a",
    "an", "my", "new", "do", "run", "call", "use", "make", "given", "returns", "return", "in", "on", "at",
    "is", "are", "it", "this", "that", "be", "as", "function", "value", "values",
}  # fmt: skip
_ENTITY_PROPERTIES = ("location", "city", "place", "country", "region", "town", "destination", "name", "person")
_NOUN = r"[A-Z][\w'-]*(?:\s+[A-Z][\w'-]*)*"
_JOIN = r"\s*,?\s+(?:and|or|&)\s+"
_LISTED = re.compile(rf"{_NOUN}(?:(?:\s*,\s*|{_JOIN}){_NOUN})*{_JOIN}{_NOUN}")


def _stem(word: str) -> str:
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def tool_words(text: str) -> set[str]:
    """Lower-case, singular words of a name or text, generic words left out.

    Example:
        >>> sorted(tool_words("getCurrentWeather_forecasts"))
        ['forecast', 'weather']
    """
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", text or "")
    words = re.findall(r"[a-z0-9]+", spaced.lower())
    return {_stem(w) for w in words if len(w) >= 3 and w not in _GENERIC}


def fitting_tools(prompt: Prompt) -> list[Tool]:
    """The offered tools the last user text asks for (see the module docstring), in offered order.

    Example:
        >>> from cloudsway_nb.emulator.conversation import Prompt, Tool, Turn
        >>> tools = [Tool("get_weather"), Tool("get_time", "The time in a city")]
        >>> [t.name for t in fitting_tools(Prompt(turns=[Turn("user", "Hello")], tools=tools))]
        ['get_weather']
    """
    tools = prompt.tools
    if not tools:
        return []
    names = [t.name for t in tools]
    if prompt.tool_choice not in ("auto", "none", "required") and prompt.tool_choice in names:
        return [tools[names.index(prompt.tool_choice)]]
    said = tool_words(prompt.last_user_text())
    fit = [t for t in tools if tool_words(t.name) & said]
    if not fit:
        fit = [t for t in tools if tool_words(t.description) & said]
    if not fit:
        fit = [tools[0]]
    return fit if prompt.parallel_tool_calls else fit[:1]


def listed_names(text: str) -> list[str]:
    """Capitalised names the text lists with *and* / *or* (``"Oslo, Paris and Rome"``), in order.

    Example:
        >>> listed_names("What is the weather in Oslo, Paris and New York?")
        ['Oslo', 'Paris', 'New York']
        >>> listed_names("What is the weather like in Boston, MA today?")
        []
        >>> listed_names("Compare Oslo and Rome.")
        ['Oslo', 'Rome']
    """
    text = text or ""
    for match in _LISTED.finditer(text):
        names = [n.strip() for n in re.split(rf"{_JOIN}|\s*,\s*", match.group(0)) if n.strip()]
        before = text[: match.start()].rstrip()
        if not before or before[-1] in ".!?:\n\"'":  # the first word starts a sentence ("Compare Oslo")
            names[0] = " ".join(names[0].split()[1:])
        names = [" ".join(w for w in n.split() if w.lower() != "the") for n in names]
        names = [n for n in names if n]
        if len(names) >= 2 and len(set(names)) == len(names):
            return names
    return []


def _takes_an_entity(tool: Tool) -> bool:
    properties = tool.schema.get("properties") if isinstance(tool.schema, dict) else None
    if not isinstance(properties, dict):
        return False
    return any(any(word in str(key).lower() for word in _ENTITY_PROPERTIES) for key in properties)


def plan_tool_calls(prompt: Prompt, seed: str) -> list[ToolCall]:
    """The calls to make now: none when no tool is offered, ``tool_choice`` is ``none`` or the
    conversation already holds the results to answer with.

    Example:
        >>> from cloudsway_nb.emulator.conversation import Prompt, Tool, Turn
        >>> city = {"type": "object", "properties": {"city": {"type": "string"}}}
        >>> prompt = Prompt(turns=[Turn("user", "Weather in Oslo and Rome")], tools=[Tool("weather", "", city)])
        >>> [c.arguments["city"] for c in plan_tool_calls(prompt, "s" * 64)]
        ['Oslo', 'Rome']
    """
    if not prompt.tools or prompt.tool_choice == "none" or prompt.trailing_tool_results():
        return []
    text = prompt.last_user_text()
    hints = Hints.from_text(text, seed)
    chosen = fitting_tools(prompt)
    jobs: list[tuple[Tool, Hints]] = [(tool, hints) for tool in chosen]
    if len(chosen) == 1 and prompt.parallel_tool_calls and _takes_an_entity(chosen[0]):
        names = listed_names(text)
        if len(names) >= 2:
            others = [n for n in hints.proper_nouns if n not in names]
            jobs = [(chosen[0], replace(hints, proper_nouns=[name, *others])) for name in names]
    calls = []
    for number, (tool, tool_hints) in enumerate(jobs):
        schema = tool.schema or {"type": "object", "properties": {}}
        arguments = value_for_schema(schema, tool_hints)
        if not isinstance(arguments, dict):
            arguments = {"value": arguments} if not schema.get("type") else arguments
        call_id = seed[:24] if number == 0 else digest(seed, "call", number)[:24]
        calls.append(ToolCall(name=tool.name, arguments=arguments, call_id=call_id))
    return calls
