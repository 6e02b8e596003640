"""The package's public surface and its import cost."""

from __future__ import annotations

import subprocess
import sys

import cloudsway_nb


def test_every_public_name_resolves_and_all_is_sorted() -> None:
    assert cloudsway_nb.__all__ == sorted(cloudsway_nb.__all__)
    for name in cloudsway_nb.__all__:
        assert getattr(cloudsway_nb, name) is not None, name


def test_public_exceptions_are_all_exported() -> None:
    from cloudsway_nb import errors

    exported = {n for n in cloudsway_nb.__all__}
    for name in errors.__all__:
        if name[0].isupper():
            assert name in exported, f"{name} is missing from cloudsway_nb.__all__"


def test_import_is_lazy() -> None:
    code = (
        "import sys, cloudsway_nb\n"
        "heavy = ['pandas', 'PIL', 'ipywidgets', 'IPython', 'numpy', 'httpx', 'uvicorn']\n"
        "print(','.join(m for m in heavy if m in sys.modules))\n"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == ""


def test_client_import_does_not_pull_notebook_or_data_libraries() -> None:
    code = (
        "import sys, cloudsway_nb\n"
        "cloudsway_nb.Client(base_url='http://127.0.0.1:1', api_key='k', endpoints={})\n"
        "heavy = ['pandas', 'PIL', 'ipywidgets', 'IPython', 'numpy', 'uvicorn']\n"
        "print(','.join(m for m in heavy if m in sys.modules))\n"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == ""
