"""Suite-wide setup: one gateway emulator for the example notebooks that nbval runs.

`pytest_configure` starts the emulator and puts `CLOUDSWAY_BASE_URL`, a dummy `CLOUDSWAY_API_KEY`
and a `CLOUDSWAY_CONFIG` registry of its aliases into `os.environ`, so the kernels nbval starts
inherit them and each notebook's `%cloudsway connect` takes the configured-gateway path, exactly
as it would with a real key (and, recognising the emulator by its /health reply, prints
`emulator at http://127.0.0.1:PORT: the bundled one`, as under `cloudsway-nb demo`, which refreshes
the stored outputs the same way). `pytest_unconfigure` stops it and restores the environment.

The bundled emulator is paced like a real model by default (0.3 s to the first token, then 40
tokens a second); `pytest_configure` sets `CLOUDSWAY_EMULATOR_PACING=none` for the whole run, so
that every emulator the suite starts (`%cloudsway emulator start` in a test's shell or kernel,
`Session.connect()`, the notebooks' one) answers at once unless a test asks for pacing.

The docstring examples of the package (`--doctest-modules`) must not see those variables: the
autouse `_newcomer_environment` fixture runs each of them with no `CLOUDSWAY_*` setting and a
registry path that does not exist, as on a machine where nothing is configured yet.

nbval (0.11) ignores `update_display_data` messages, so a cell that streams into one display
(`%%cloudsway`) would be compared by its first frame; `_fold_display_updates` applies each update
to the display it targets, as a notebook front end does, before outputs are compared; displays
left empty (a streamed answer's extra displays, emptied once the first holds the whole answer) are
not compared.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

import pytest

from cloudsway_nb.emulator.options import PACING_ENV

_ENV_NAMES = ("CLOUDSWAY_BASE_URL", "CLOUDSWAY_API_KEY", "CLOUDSWAY_CONFIG")
_state: dict[str, Any] = {}


def pytest_configure(config: pytest.Config) -> None:
    if "pacing" not in _state:  # every emulator the suite starts answers at once, unless a test asks
        _state["pacing"] = os.environ.get(PACING_ENV)
        os.environ[PACING_ENV] = "none"
    if not getattr(config.option, "nbval", False) or "emulator" in _state:
        return
    from cloudsway_nb.demo import emulator_environment

    stack = contextlib.ExitStack()
    env = stack.enter_context(emulator_environment(pacing="none"))
    _state.update(emulator=stack, saved={name: os.environ.get(name) for name in _ENV_NAMES})
    os.environ.update(env)
    _fold_display_updates()


def pytest_unconfigure(config: pytest.Config) -> None:
    if "pacing" in _state:
        saved = _state.pop("pacing")
        if saved is None:
            os.environ.pop(PACING_ENV, None)
        else:
            os.environ[PACING_ENV] = saved
    stack = _state.pop("emulator", None)
    if stack is None:
        return
    for name, value in _state.pop("saved").items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    stack.close()


@pytest.fixture(scope="session")
def _absent_registry(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(tmp_path_factory.mktemp("no-config") / "endpoints.toml")


@pytest.fixture(autouse=True)
def _newcomer_environment(request: pytest.FixtureRequest) -> None:
    """A doctest sees no CLOUDSWAY_* variable (not the notebooks' emulator, not the developer's own)."""
    if isinstance(request.node, pytest.Function):
        return  # a test of tests/ (a Function) sets what it needs; the other items taking fixtures are doctests
    monkeypatch: pytest.MonkeyPatch = request.getfixturevalue("monkeypatch")
    for name in _ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CLOUDSWAY_CONFIG", request.getfixturevalue("_absent_registry"))


def _fold_display_updates() -> None:
    """Make nbval apply `update_display_data` to the output it updates (as Jupyter does)."""
    try:
        from nbformat import from_dict
        from nbval.plugin import IPyNbFile
    except ImportError:  # pragma: no cover - nbval absent: nothing to patch
        return
    if getattr(IPyNbFile, "_cloudsway_folds_updates", False):
        return
    original = IPyNbFile.get_kernel_message

    def get_kernel_message(self: Any, timeout: float | None = None, stream: str = "iopub") -> dict[str, Any]:
        displays: dict[str, Any] = self.__dict__.setdefault("_cloudsway_displays", {})
        while True:
            msg = original(self, timeout=timeout, stream=stream)
            kind, content = msg["msg_type"], msg["content"]
            display_id = (content.get("transient") or {}).get("display_id")
            if kind == "display_data" and display_id:
                # NotebookNode values are stored by nbval as they are, so later updates reach them
                content["data"], content["metadata"] = from_dict(content["data"]), from_dict(content["metadata"])
                displays[display_id] = content
            elif kind == "update_display_data":
                target = displays.get(display_id)
                if target is not None:
                    for key in ("data", "metadata"):
                        target[key].clear()
                        target[key].update(from_dict(content[key]))
                continue  # consumed: nbval would only print "unhandled iopub msg"
            return msg

    IPyNbFile.get_kernel_message = get_kernel_message
    IPyNbFile._cloudsway_folds_updates = True

    from nbval.plugin import IPyNbCell

    compare = IPyNbCell.compare_outputs

    def compare_outputs(self: Any, test: list[Any], ref: list[Any], skip_compare: Any = None) -> bool:
        # a streamed answer may use several displays, all but the first emptied at the end (how many
        # depends on timing): compare what shows
        def shown(outputs: list[Any]) -> list[Any]:
            return [o for o in outputs if o.get("output_type") != "display_data"
                    or any("".join(v) if isinstance(v, list) else v for v in o.get("data", {}).values())]

        return compare(self, shown(test), shown(ref), skip_compare)

    IPyNbCell.compare_outputs = compare_outputs


_PACKAGE = Path(__file__).resolve().parent / "cloudsway_nb"


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    """The package's docstring examples are collected (the doctests of `--doctest-modules`, but only
    under cloudsway_nb/: the test folders' conftest.py files share one name and must not be imported
    as modules a second time)."""
    if file_path.suffix == ".py" and _PACKAGE in file_path.resolve().parents:
        from _pytest.doctest import DoctestModule

        return DoctestModule.from_parent(parent, path=file_path)
    return None
