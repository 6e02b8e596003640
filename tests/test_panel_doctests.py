"""The docstring examples of the panel's modules are run, so they stay true."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["__init__", "render", "texmath", "state", "throttle", "uploads", "stream", "widget"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module("cloudsway_nb.panel" + ("" if name == "__init__" else f".{name}"))
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
    assert result.attempted > 0 or name == "widget"
