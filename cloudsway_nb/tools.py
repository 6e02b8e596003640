"""`Tool`: a function the model may call, as a name, a description and a JSON schema.

A Tool comes from a Python function (the schema from its signature and type hints, the
description from its docstring) or from a dict in any protocol's own shape; each protocol
adapter renders it in its wire form. `cloudsway_nb.types` re-exports it.

Example:
    >>> Tool.from_any({"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}).name
    'f'
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, get_type_hints

from .errors import UsageError, bad_argument

__all__ = ["JSONSchema", "Tool"]

JSONSchema = dict[str, Any]

_PY_TO_JSON_TYPE: dict[Any, str] = {
    str: "string",
    int: "integer",
    float: "number",
    bool: "boolean",
    list: "array",
    dict: "object",
}


@dataclass(frozen=True)
class Tool:
    """A function the model may call: a name, a description and a JSON schema for its arguments.

    `Tool.from_any` accepts a Tool, a Python function (schema from its signature and docstring),
    or a dict in any protocol's shape (OpenAI chat, Responses, Anthropic, Gemini).

    Example:
        >>> def get_weather(city: str, unit: str = "celsius") -> str:
        ...     '''Current weather in a city.'''
        ...     return "sunny"
        >>> t = Tool.from_any(get_weather)
        >>> (t.name, t.parameters["required"])
        ('get_weather', ['city'])
    """

    name: str
    description: str = ""
    parameters: JSONSchema = field(default_factory=lambda: {"type": "object", "properties": {}})
    strict: bool | None = None
    function: Callable[..., Any] | None = field(default=None, compare=False, repr=False)

    @classmethod
    def from_any(cls, spec: Tool | Callable[..., Any] | dict[str, Any]) -> Tool:
        if isinstance(spec, Tool):
            return spec
        if isinstance(spec, dict):
            return cls._from_dict(spec)
        if callable(spec):
            return cls._from_function(spec)
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
    def _from_function(cls, fn: Callable[..., Any]) -> Tool:
        try:
            hints = get_type_hints(fn)
        except Exception:
            hints = {}
        properties: dict[str, Any] = {}
        required: list[str] = []
        for name, param in inspect.signature(fn).parameters.items():
            if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
                continue
            hint = hints.get(name, param.annotation)
            origin = getattr(hint, "__origin__", hint)
            properties[name] = {"type": _PY_TO_JSON_TYPE.get(origin, "string")}
            if param.default is param.empty:
                required.append(name)
        doc = inspect.getdoc(fn) or ""
        return cls(
            name=fn.__name__,
            description=doc.strip().split("\n\n")[0],
            parameters={"type": "object", "properties": properties, "required": required},
            function=fn,
        )
