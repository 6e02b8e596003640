"""`python_tools(namespace)`: the notebook's live objects as tools, by name, never sent whole.

The model sees variable names and short descriptions (type, shape, columns, first rows) and
asks for a pandas query on a DataFrame by name; the objects stay in the kernel. Anything that
runs code (a query's expression is evaluated) requires approval unless `approve_code=False`.

Example:
    >>> import pandas as pd
    >>> tools = python_tools({"sales": pd.DataFrame({"city": ["Oslo", "Rome"], "units": [3, 5]}), "_hidden": 1})
    >>> [(t.name, t.requires_approval) for t in tools.tools()]
    [('describe_variable', False), ('list_variables', False), ('query_dataframe', True)]
    >>> print(tools.list_variables())
    sales: DataFrame, 2 rows x 2 columns (city, units)
    >>> tools.query_dataframe("sales", "units > 4")
       city  units
    1  Rome      5
"""

from __future__ import annotations

import types
from collections.abc import MutableMapping
from dataclasses import replace
from typing import Any

from .tools import Tool, Toolbox, tool

__all__ = ["PythonTools", "python_tools"]

_SKIP = {"In", "Out", "exit", "quit", "get_ipython"}


def _is_data(name: str, value: Any) -> bool:
    hidden = name.startswith("_") or name in _SKIP
    code = isinstance(value, types.ModuleType | types.FunctionType | types.BuiltinFunctionType | type)
    return not hidden and not code and not isinstance(value, Tool | Toolbox)


def _short(value: Any) -> str:
    """One line about a value: its type and size (a frame's shape and columns, a container's length)."""
    kind = type(value).__name__
    shape = getattr(value, "shape", None)
    if kind == "DataFrame" and shape is not None:
        columns = ", ".join(str(c) for c in list(value.columns)[:12]) + (", …" if len(value.columns) > 12 else "")
        return f"{kind}, {shape[0]} rows x {shape[1]} columns ({columns})"
    if isinstance(shape, tuple):
        return f"{kind}, shape {shape}"
    if isinstance(value, str | bytes):
        return f"{kind}, {len(value)} characters" if isinstance(value, str) else f"{kind}, {len(value)} bytes"
    if isinstance(value, list | tuple | dict | set):
        return f"{kind}, {len(value)} items"
    text = repr(value)
    return f"{kind}: {text[:80]}{'…' if len(text) > 80 else ''}"


class PythonTools(Toolbox):
    """Tools over a namespace (a notebook's `globals()`): list and describe variables, query a DataFrame.

    `approve_code=False` lets `query_dataframe` run without approval.
    """

    def __init__(self, namespace: MutableMapping[str, Any], *, approve_code: bool = True) -> None:
        self._namespace = namespace
        self._approve_code = approve_code

    def tools(self) -> list[Tool]:
        found = super().tools()
        return [replace(t, requires_approval=False) if t.name == "query_dataframe" and not self._approve_code else t
                for t in found]

    def _get(self, name: str) -> Any:
        if name not in self._namespace or not _is_data(name, self._namespace[name]):
            known = ", ".join(sorted(n for n, v in self._namespace.items() if _is_data(n, v))) or "none"
            raise KeyError(f"no variable named {name!r} (variables: {known})")
        return self._namespace[name]

    def list_variables(self) -> str:
        """The notebook's variables: each name with its type and size."""
        rows = [f"{n}: {_short(v)}" for n, v in self._namespace.items() if _is_data(n, v)]
        return "\n".join(rows) or "no variables"

    def describe_variable(self, name: str) -> str:
        """Describe one variable: type, size, and for a DataFrame its columns, types and first rows.

        Args:
            name: The variable's name.
        """
        value = self._get(name)
        lines = [f"{name}: {_short(value)}"]
        if type(value).__name__ == "DataFrame":
            lines.append("column types: " + ", ".join(f"{c} {t}" for c, t in value.dtypes.astype(str).items()))
            lines.append("first rows:\n" + value.head(5).to_string())
            numeric = value.select_dtypes("number")
            if len(numeric.columns):
                lines.append("summary:\n" + numeric.describe().round(3).to_string())
        elif type(value).__name__ == "Series":
            lines.append("first values:\n" + value.head(5).to_string())
        return "\n".join(lines)

    @tool(requires_approval=True)
    def query_dataframe(self, name: str, expression: str, save_as: str | None = None) -> Any:
        """Rows of a DataFrame matching a pandas query expression (`DataFrame.query`).

        Args:
            name: The DataFrame variable's name.
            expression: A pandas query, e.g. "units > 4 and city == 'Oslo'".
            save_as: A new variable name to keep the result in the notebook, or null.
        """
        frame = self._get(name)
        if type(frame).__name__ != "DataFrame":
            raise TypeError(f"{name} is a {type(frame).__name__}, not a DataFrame")
        result = frame.query(expression)
        if save_as:
            if not save_as.isidentifier() or (save_as in self._namespace and not _is_data(save_as,
                                                                                       self._namespace[save_as])):
                raise ValueError(f"save_as={save_as!r} is not a free variable name")
            self._namespace[save_as] = result
        return result


def python_tools(namespace: MutableMapping[str, Any] | None = None, *, approve_code: bool = True) -> PythonTools:
    """The small safe set of kernel tools over `namespace` (the notebook's user namespace by default)."""
    if namespace is None:
        from IPython import get_ipython

        shell = get_ipython()
        if shell is None:
            from .errors import UsageError

            raise UsageError("python_tools() outside IPython needs the namespace: python_tools(globals())")
        namespace = shell.user_ns
    return PythonTools(namespace, approve_code=approve_code)
