"""Package hygiene: doctests pass, exports are complete, and nothing is shared with the client side."""

from __future__ import annotations

import ast
import doctest
import importlib
import pkgutil
from pathlib import Path

import pytest

from cloudsway_nb import emulator

PACKAGE_DIR = Path(emulator.__file__).parent
MODULES = sorted(
    f"cloudsway_nb.emulator.{info.name}"
    for info in pkgutil.iter_modules([str(PACKAGE_DIR)])
    if info.name != "__main__"
)
FORBIDDEN = ("cloudsway_nb.protocols", "cloudsway_nb.client", "cloudsway_nb.transport", "pandas")


@pytest.mark.parametrize("name", ["cloudsway_nb.emulator", *MODULES])
def test_doctests(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0


@pytest.mark.parametrize("name", ["cloudsway_nb.emulator", *MODULES])
def test_all_lists_existing_names(name: str) -> None:
    module = importlib.import_module(name)
    for attribute in module.__all__:  # ruff's RUF022 keeps the lists sorted
        assert getattr(module, attribute) is not None


def test_package_exports_the_public_api() -> None:
    for name in (
        "create_app",
        "main",
        "running_emulator",
        "EmulatorServer",
        "EmulatorOptions",
        "FAULT_KINDS",
    ):
        assert name in emulator.__all__


@pytest.mark.parametrize("path", sorted(PACKAGE_DIR.glob("*.py")), ids=lambda p: p.name)
def test_no_code_shared_with_the_client_side(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: must stay inside the emulator package
                assert node.level == 1, f"{path.name} reaches outside the emulator package"
                continue
            names = [node.module or ""]
        else:
            continue
        for name in names:
            assert not name.startswith(FORBIDDEN), f"{path.name} imports {name}"
