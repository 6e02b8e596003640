"""A Python function's tool schema: JSON schema from its signature and type hints (pydantic),
descriptions from its docstring (griffe: Google, NumPy and Sphinx styles).

pydantic and griffe are imported only when a function is first turned into a tool. Each problem
found (a parameter with no description, no type hint, or a type with no JSON schema) is one line
in `FunctionSchema.warnings`, naming the parameter; `cloudsway_nb.tools` logs them once.

Example:
    >>> def get_weather(city: str, days: int = 1) -> str:
    ...     '''Weather in a city.
    ...
    ...     Args:
    ...         city: The city's name.
    ...         days: How many days ahead.
    ...     '''
    >>> s = function_schema(get_weather)
    >>> s.description, s.parameters["properties"]["city"], s.parameters["required"], s.warnings
    ('Weather in a city.', {'type': 'string', 'description': "The city's name."}, ['city'], [])
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, get_type_hints

__all__ = ["FunctionSchema", "docstring_parts", "function_schema", "inline_refs"]


@dataclass(slots=True)
class FunctionSchema:
    """What a function offers as a tool: description, parameters' JSON schema, one-line warnings."""

    description: str
    parameters: dict[str, Any]
    warnings: list[str] = field(default_factory=list)


def docstring_parts(doc: str) -> tuple[str, dict[str, str]]:
    """(summary paragraph, parameter name -> description) of a Google, NumPy or Sphinx docstring.

    Example:
        >>> docstring_parts('''Add.
        ...
        ... :param a: first
        ... :param b: second
        ... ''')
        ('Add.', {'a': 'first', 'b': 'second'})
    """
    if not doc.strip():
        return "", {}
    import griffe  # lazy: only when a function becomes a tool

    quiet = {"warnings": False}
    sections = griffe.parse_auto(
        griffe.Docstring(inspect.cleandoc(doc)),
        per_style_options={"google": quiet, "numpy": quiet, "sphinx": quiet},  # type: ignore[typeddict-item]
    )
    summary, params = "", {}
    for section in sections:
        kind = section.kind.value
        if kind == "text" and not summary:
            summary = str(section.value).strip().split("\n\n")[0].strip()
        elif kind in ("parameters", "other parameters"):
            params.update({p.name.lstrip("*"): " ".join(str(p.description).split()) for p in section.value})
    return summary, params


def inline_refs(schema: dict[str, Any]) -> dict[str, Any]:
    """`schema` with its `$defs` references inlined and pydantic's `title`s dropped: some protocols
    (Gemini's `parameters`) take no `$ref`. A recursive model keeps its `$defs`.

    Example:
        >>> inline_refs({"$defs": {"P": {"title": "P", "type": "string"}}, "$ref": "#/$defs/P", "title": "x"})
        {'type': 'string'}
    """
    defs = schema.get("$defs", {})

    def walk(node: Any, seen: tuple[str, ...]) -> Any:
        if isinstance(node, list):
            return [walk(n, seen) for n in node]
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            name = ref.rsplit("/", 1)[-1]
            if name in seen or name not in defs:
                raise RecursionError(name)
            extra = {k: v for k, v in node.items() if k != "$ref"}
            return {**walk(defs[name], (*seen, name)), **walk(extra, seen)}
        return {k: walk(v, seen) for k, v in node.items() if k not in ("title", "$defs")}

    try:
        return walk(schema, ())
    except RecursionError:
        return schema


def _parameter_schema(name: str, hint: Any, owner: str, problems: list[str]) -> dict[str, Any]:
    if hint is inspect.Parameter.empty:
        problems.append(f"tool {owner}: parameter {name!r} has no type hint (the model may send any JSON value)")
        return {}
    from pydantic import TypeAdapter  # lazy: pydantic is heavy to import

    try:
        return inline_refs(TypeAdapter(hint).json_schema())
    except Exception:  # a type with no JSON schema (a DataFrame, a model object...)
        shown = hint if isinstance(hint, str) else getattr(hint, "__name__", str(hint))
        problems.append(f"tool {owner}: parameter {name!r} has type {shown}, which has no JSON schema; "
                        "the model is asked for a string")
        return {"type": "string"}


def _hints(fn: Callable[..., Any]) -> dict[str, Any]:
    """The type hints, each resolved on its own when some name does not resolve (that one stays a string)."""
    try:
        return get_type_hints(fn)
    except Exception:
        pass
    hints: dict[str, Any] = {}
    namespace = getattr(fn, "__globals__", {})
    for name, param in inspect.signature(fn).parameters.items():
        hint = param.annotation
        if isinstance(hint, str):
            try:
                hint = eval(hint, namespace)  # the annotation's own text, in the function's module
            except Exception:
                pass
        hints[name] = hint
    return hints


def function_schema(fn: Callable[..., Any], name: str | None = None) -> FunctionSchema:
    """The tool schema of `fn` (see the module docstring); `self` of a bound method is left out."""
    owner = name or getattr(fn, "__name__", "tool")
    hints = _hints(fn)
    summary, described = docstring_parts(inspect.getdoc(fn) or "")
    problems: list[str] = []
    properties: dict[str, Any] = {}
    required: list[str] = []
    for index, (pname, param) in enumerate(inspect.signature(fn).parameters.items()):
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD) or (index == 0 and pname == "self"):
            continue  # `self`: a Toolbox method decorated with @tool, bound later
        schema = _parameter_schema(pname, hints.get(pname, param.annotation), owner, problems)
        if described.get(pname):
            schema["description"] = described[pname]
        else:
            problems.append(f"tool {owner}: parameter {pname!r} has no description in the docstring")
        if param.default is param.empty:
            required.append(pname)
        properties[pname] = schema
    return FunctionSchema(summary, {"type": "object", "properties": properties, "required": required}, problems)
