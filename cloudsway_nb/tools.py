"""`Tool`: a function the model may call, as a name, a description and a JSON schema.

A Tool comes from a Python function (the schema from its signature and type hints, each
parameter's description from its docstring: see `cloudsway_nb.tool_schema`), from a `Toolbox`
(its public methods), or from a dict in any protocol's own shape; each protocol adapter renders
it in its wire form (`Tool.schema_for(protocol)` shows it). `@tool(...)` adds how the agent loop
(`cloudsway_nb.agent`) runs it: `requires_approval=`, `sequential=`, `timeout=`.
`cloudsway_nb.types` re-exports Tool.

Example:
    >>> Tool.from_any({"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}).name
    'f'
"""

from __future__ import annotations

import inspect
import json
import logging
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from .errors import UsageError, bad_argument

__all__ = ["JSONSchema", "Tool", "Toolbox", "as_tools", "tool"]

JSONSchema = dict[str, Any]

logger = logging.getLogger("cloudsway_nb.tools")
_warned: set[str] = set()  # each schema warning is logged once per process
# a function's Tool, made once: the adapters call Tool.from_any(fn) for every request that offers it
_made: weakref.WeakKeyDictionary[Any, Tool] = weakref.WeakKeyDictionary()


Approval = bool | Callable[[dict[str, Any]], bool]
"""`requires_approval=`: always (True), never (False), or a predicate on the call's arguments."""


@dataclass(frozen=True)
class Tool:
    """A function the model may call: a name, a description and a JSON schema for its arguments.

    `Tool.from_any` accepts a Tool, a Python function (schema from its signature and docstring),
    or a dict in any protocol's shape (OpenAI chat, Responses, Anthropic, Gemini). The agent loop
    reads `requires_approval` (bool, or a predicate on the arguments), `sequential` (never run
    alongside other calls) and `timeout` (seconds); `warnings` are the schema's one-line problems.
    A Tool made from a function calls it: `tool(**arguments)`.

    Example:
        >>> def get_weather(city: str, unit: str = "celsius") -> str:
        ...     '''Current weather in a city.'''
        ...     return "sunny"
        >>> t = Tool.from_any(get_weather)
        >>> (t.name, t.parameters["required"], t(city="Oslo"))
        ('get_weather', ['city'], 'sunny')
    """

    name: str
    description: str = ""
    parameters: JSONSchema = field(default_factory=lambda: {"type": "object", "properties": {}})
    strict: bool | None = None
    function: Callable[..., Any] | None = field(default=None, compare=False, repr=False)
    requires_approval: Approval = field(default=False, compare=False, repr=False)
    sequential: bool = field(default=False, compare=False, repr=False)
    timeout: float | None = field(default=None, compare=False, repr=False)
    warnings: tuple[str, ...] = field(default=(), compare=False, repr=False)

    @classmethod
    def from_any(cls, spec: Tool | Callable[..., Any] | dict[str, Any]) -> Tool:
        if isinstance(spec, Tool):
            return spec
        if isinstance(spec, dict):
            return cls._from_dict(spec)
        if callable(spec) and not isinstance(spec, type):
            try:
                made = _made.get(spec)
            except TypeError:  # not weakly referable (a bound method is, but dies at once): no cache
                return cls._from_function(spec)
            if made is None:
                made = _made[spec] = cls._from_function(spec)
            return made
        raise bad_argument("tools", spec, "a list of Tools, functions or tool dicts", "tools=[get_weather]")

    @classmethod
    def _from_dict(cls, spec: dict[str, Any]) -> Tool:
        body = spec.get("function") if isinstance(spec.get("function"), dict) else spec
        if not isinstance(body.get("name"), str) or not body["name"]:
            shown = json.dumps(spec, default=str)[:200]
            example = "{'name': 'f', 'parameters': {}}"
            raise UsageError(f"a tool dict needs a 'name' (a string): {shown}; e.g. {example}")
        params = body.get("parameters") or body.get("input_schema") or body.get("parametersJsonSchema")
        return cls(
            name=body["name"],
            description=body.get("description", ""),
            parameters=params or {"type": "object", "properties": {}},
            strict=body.get("strict"),
        )

    @classmethod
    def _from_function(cls, fn: Callable[..., Any], name: str | None = None, description: str | None = None,
                       **options: Any) -> Tool:
        from .tool_schema import function_schema

        name = name or getattr(fn, "__name__", None) or type(fn).__name__
        schema = function_schema(fn, name)
        for line in schema.warnings:
            if line not in _warned:
                _warned.add(line)
                logger.warning(line)
        return cls(name=name, description=schema.description if description is None else description,
                   parameters=schema.parameters, function=fn, warnings=tuple(schema.warnings), **options)

    def __get__(self, obj: Any, owner: Any = None) -> Tool:
        """A Tool on a class (a `Toolbox` method under `@tool`) binds like the method it wraps."""
        if obj is None or self.function is None or not inspect.isfunction(self.function):
            return self
        return replace(self, function=self.function.__get__(obj, owner))

    def __call__(self, *args: Any, **arguments: Any) -> Any:
        if self.function is None:
            raise UsageError(f"tool {self.name!r} has no Python function to run (it came from a dict)")
        return self.function(*args, **arguments)

    @property
    def is_async(self) -> bool:
        """Whether calling it gives a coroutine (the agent runs it as a task, not in a thread)."""
        return inspect.iscoroutinefunction(self.function)

    def needs_approval(self, arguments: Any) -> bool:
        """Whether this call (with these arguments) must be approved before it runs; a predicate that
        raises on the model's arguments (a key left out) means yes: ask rather than run unchecked.

        Example:
            >>> Tool("pay", requires_approval=lambda a: a["amount"] > 100).needs_approval({})
            True
        """
        rule = self.requires_approval
        if not callable(rule):
            return bool(rule)
        try:
            return bool(rule(arguments))
        except Exception:
            return True

    def schema_for(self, protocol: str) -> dict[str, Any]:
        """Exactly what `protocol` receives for this tool: the adapter's own rendering of it.

        Example:
            >>> Tool("ping", "Check.").schema_for("messages")
            {'name': 'ping', 'description': 'Check.', 'input_schema': {'type': 'object', 'properties': {}}}
        """
        from .protocols import get_adapter
        from .protocols.base import CallSpec
        from .types import Message

        adapter = get_adapter(protocol)
        if not adapter.can("chat"):
            raise bad_argument("protocol", protocol, "a chat protocol: chat, responses, messages or gemini",
                               "schema_for('chat')")
        body = adapter.build_request(CallSpec([Message.user("")], "x", tools=[self])).json  # type: ignore[attr-defined]
        rendered = body["tools"][0]
        return rendered["functionDeclarations"][0] if protocol == "gemini" else rendered


def tool(fn: Callable[..., Any] | None = None, *, name: str | None = None, description: str | None = None,
         requires_approval: Approval = False, sequential: bool = False, timeout: float | None = None) -> Any:
    """A function as a Tool (`@tool` or `@tool(requires_approval=True, timeout=5)`); the Tool still
    calls the function. On a `Toolbox` method it sets that method's options.

    Example:
        >>> @tool(timeout=5)
        ... def add(a: int, b: int) -> int:
        ...     '''Add two numbers.
        ...
        ...     Args:
        ...         a: The first.
        ...         b: The second.
        ...     '''
        ...     return a + b
        >>> add(a=1, b=2), add.timeout, add.schema_for("chat")["function"]["parameters"]["required"]
        (3, 5.0, ['a', 'b'])
    """
    if timeout is not None:
        from .options import check_timeout

        timeout = check_timeout(timeout)
    if not isinstance(requires_approval, bool) and not callable(requires_approval):
        raise bad_argument("requires_approval", requires_approval, "True, False or a function of the arguments",
                           "requires_approval=lambda args: args['amount'] > 100")

    def make(f: Callable[..., Any]) -> Tool:
        if isinstance(f, Tool):
            return replace(f, requires_approval=requires_approval, sequential=sequential, timeout=timeout)
        return Tool._from_function(f, name, description, requires_approval=requires_approval,
                                   sequential=sequential, timeout=timeout)

    return make(fn) if fn is not None else make


class Toolbox:
    """A class whose public methods are tools: pass an instance in `tools=[...]`.

    A method decorated with `@tool(...)` keeps its options; names starting with `_` are private.

    Example:
        >>> class Maths(Toolbox):
        ...     def double(self, x: int) -> int:
        ...         '''Twice x.
        ...
        ...         Args:
        ...             x: A number.
        ...         '''
        ...         return 2 * x
        >>> [(t.name, t(x=4)) for t in Maths().tools()]
        [('double', 8)]
    """

    def tools(self) -> list[Tool]:
        """The public methods, each as a Tool bound to this instance."""
        out = []
        for attr in dir(type(self)):
            if attr.startswith("_") or attr == "tools":
                continue
            member = inspect.getattr_static(type(self), attr)
            if isinstance(member, Tool):
                out.append(getattr(self, attr))  # bound by Tool.__get__
            elif inspect.isfunction(member):
                out.append(Tool._from_function(getattr(self, attr)))
        return out


def as_tools(specs: Any) -> list[Tool]:
    """`tools=` as a flat list of Tools: Tools, functions, tool dicts, Toolbox instances (expanded).

    Example:
        >>> [t.name for t in as_tools([{"name": "a"}, Tool("b")])]
        ['a', 'b']
    """
    if specs is None:
        return []
    if isinstance(specs, Tool | dict | Toolbox) or (callable(specs) and not isinstance(specs, Iterable)):
        specs = [specs]
    if not isinstance(specs, Iterable) or isinstance(specs, str):
        raise bad_argument("tools", specs, "a list of functions, Tools or Toolboxes", "tools=[get_weather]")
    out: list[Tool] = []
    for spec in specs:
        out += spec.tools() if isinstance(spec, Toolbox) else [Tool.from_any(spec)]
    names = [t.name for t in out]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise UsageError(f"tools: two tools are named {dupes[0]!r}; give one another name with @tool(name=...)")
    return out
