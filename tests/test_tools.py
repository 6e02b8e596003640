"""Python functions as tools: schema from signature and docstring, warnings, Toolbox, schema_for."""

from __future__ import annotations

import logging
from typing import Literal

import pandas as pd
import pytest
from pydantic import BaseModel

from cloudsway_nb import UsageError
from cloudsway_nb.protocols import get_adapter
from cloudsway_nb.tools import Tool, Toolbox, as_tools, tool


def google_style(city: str, days: int = 1) -> str:
    """Weather forecast.

    Args:
        city: The city's name.
        days: How many days
            ahead.
    """
    return city


def numpy_style(city: str, days: int = 1) -> str:
    """Weather forecast.

    Parameters
    ----------
    city : str
        The city's name.
    days : int
        How many days ahead.
    """
    return city


def sphinx_style(city: str, days: int = 1) -> str:
    """Weather forecast.

    :param city: The city's name.
    :param days: How many days ahead.
    """
    return city


@pytest.mark.parametrize("fn", [google_style, numpy_style, sphinx_style], ids=["google", "numpy", "sphinx"])
def test_parameter_descriptions_come_from_each_docstring_style(fn, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, "cloudsway_nb.tools"):
        t = Tool.from_any(fn)
    assert t.description == "Weather forecast."
    assert t.parameters == {
        "type": "object",
        "properties": {
            "city": {"type": "string", "description": "The city's name."},
            "days": {"type": "integer", "description": "How many days ahead."},
        },
        "required": ["city"],
    }
    assert t.warnings == () and not caplog.records


class Point(BaseModel):
    x: float
    y: float


def test_rich_types_become_json_schema_and_problems_are_one_line_warnings(caplog: pytest.LogCaptureFixture) -> None:
    def plot_points(points: list[Point], df: pd.DataFrame, colour: Literal["red", "blue"], note) -> None:  # type: ignore[no-untyped-def]
        """Plot points.

        Args:
            points: Where.
            df: A frame.
            colour: Which colour.
        """

    with caplog.at_level(logging.WARNING, "cloudsway_nb.tools"):
        t = Tool.from_any(plot_points)
    props = t.parameters["properties"]
    assert props["points"] == {"type": "array", "description": "Where.", "items": {
        "type": "object", "properties": {"x": {"type": "number"}, "y": {"type": "number"}}, "required": ["x", "y"]}}
    assert props["colour"] == {"enum": ["red", "blue"], "type": "string", "description": "Which colour."}
    assert props["df"] == {"type": "string", "description": "A frame."}
    lines = [r.getMessage() for r in caplog.records]
    assert lines == [
        "tool plot_points: parameter 'df' has type DataFrame, which has no JSON schema; "
        "the model is asked for a string",
        "tool plot_points: parameter 'note' has no type hint (the model may send any JSON value)",
        "tool plot_points: parameter 'note' has no description in the docstring",
    ]
    assert all("\n" not in line for line in lines) and list(t.warnings) == lines


def test_the_tool_decorator_keeps_the_function_callable_and_sets_the_loop_options() -> None:
    @tool(requires_approval=lambda args: args["amount"] > 100, sequential=True, timeout=2)
    def pay(amount: int) -> str:
        """Pay someone.

        Args:
            amount: In euros.
        """
        return f"paid {amount}"

    assert isinstance(pay, Tool) and pay(amount=5) == "paid 5"
    assert (pay.sequential, pay.timeout, pay.needs_approval({"amount": 5}), pay.needs_approval({"amount": 500})) == (
        True, 2.0, False, True)
    assert tool(google_style).name == "google_style" and tool(name="weather")(google_style).name == "weather"
    with pytest.raises(UsageError, match="requires_approval="):
        tool(google_style, requires_approval="yes")
    with pytest.raises(UsageError, match="timeout="):
        tool(google_style, timeout=-1)


class Frames(Toolbox):
    """Tools over frames."""

    def __init__(self, scale: int) -> None:
        self.scale = scale

    def scaled(self, x: int) -> int:
        """Scale x.

        Args:
            x: A number.
        """
        return x * self.scale

    @tool(requires_approval=True)
    def wipe(self, name: str) -> str:
        """Wipe a frame.

        Args:
            name: Its name.
        """
        return f"wiped {name} at scale {self.scale}"

    def _private(self) -> None:
        pass


def test_a_toolbox_exposes_its_public_methods_bound_to_the_instance() -> None:
    tools = as_tools([Frames(3), google_style])
    assert [t.name for t in tools] == ["scaled", "wipe", "google_style"]
    scaled, wipe, _ = tools
    assert scaled(x=2) == 6 and wipe(name="df") == "wiped df at scale 3"
    assert wipe.requires_approval is True and "self" not in wipe.parameters["properties"]
    assert wipe.parameters["required"] == ["name"]
    with pytest.raises(UsageError, match="two tools are named 'google_style'"):
        as_tools([google_style, google_style])
    with pytest.raises(UsageError, match="tools="):
        as_tools(42)


@pytest.mark.parametrize("protocol", ["chat", "responses", "messages", "gemini"])
def test_schema_for_is_what_the_protocol_adapter_sends(protocol: str) -> None:
    from cloudsway_nb.protocols.base import CallSpec
    from cloudsway_nb.types import Message

    t = Tool.from_any(google_style)
    body = get_adapter(protocol).build_request(CallSpec([Message.user("hi")], "p", tools=[t])).json  # type: ignore[attr-defined]
    sent = body["tools"][0]["functionDeclarations"][0] if protocol == "gemini" else body["tools"][0]
    shown = t.schema_for(protocol)
    assert shown == sent
    assert "The city's name." in str(shown)
    with pytest.raises(UsageError, match="protocol="):
        t.schema_for("embeddings")
