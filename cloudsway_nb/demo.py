"""`cloudsway-nb demo`: the whole thing working in one command, on a fresh machine, with no key.

    cloudsway-nb demo [--out DIR]      run notebooks/quickstart.ipynb headless against the bundled
                                       emulator; write DIR/quickstart.ipynb and DIR/quickstart.html
    cloudsway-nb demo --lab [--out DIR]
                                       copy the example notebooks into DIR/notebooks (keeping copies
                                       already there) and open JupyterLab on them, emulator running
    cloudsway-nb demo --gateway        the same against the configured gateway (CLOUDSWAY_API_KEY,
                                       CLOUDSWAY_BASE_URL, CLOUDSWAY_CONFIG) instead of the emulator

The emulator answers at a model's pace (a first token after 0.3 s, then 40 tokens a second), so
the streaming shows; `--refresh` runs it with no delay (`CLOUDSWAY_EMULATOR_PACING=none` does
so for every run).

The emulator runs in this process; the kernel (or JupyterLab) gets `CLOUDSWAY_BASE_URL`, a dummy
`CLOUDSWAY_API_KEY` and a `CLOUDSWAY_CONFIG` registry of the emulator's aliases in its environment,
so the notebooks' `%cloudsway connect` finds a configured gateway, exactly as under a real key
(it recognises the emulator by its /health reply and says so). The test suite's conftest uses the
same `emulator_environment()`. The kernel's own log is kept to errors (`KERNEL_ARGUMENTS`).

The example notebooks are found in `$CLOUDSWAY_NB_NOTEBOOKS`, else in the checkout this package
is installed from (`pip install -e .`: `<repo>/notebooks`), else in `<prefix>/share/cloudsway-nb/notebooks`.

Needs the `demo` extra (`pip install -e ".[demo]"`): nbclient, nbformat, nbconvert, ipykernel, jupyterlab.

Example:
    $ cloudsway-nb demo --out /tmp/demo
    emulator: http://127.0.0.1:40123
    ran quickstart.ipynb in 4.1 s
    wrote /tmp/demo/quickstart.ipynb and /tmp/demo/quickstart.html
    folder: /tmp/demo
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .config import emulator_endpoints, save_endpoints

__all__ = [
    "DEMO_KEY",
    "KERNEL_ARGUMENTS",
    "NOTEBOOKS_ENV",
    "copy_notebooks",
    "emulator_environment",
    "lab_command",
    "main",
    "notebooks_dir",
    "run_notebook",
    "write_registry",
]

NOTEBOOKS_ENV = "CLOUDSWAY_NB_NOTEBOOKS"
DEMO_KEY = "sk-emulator-demo-key"
"""The dummy key handed to kernels that talk to the emulator (it accepts any non-empty key)."""
KERNEL_ARGUMENTS = ("--IPKernelApp.log_level=ERROR",)
"""Extra kernel arguments: keep the kernel's own warnings (e.g. "running over TCP without
encryption") out of the demo's output; errors still show."""


def notebooks_dir() -> Path:
    """The folder of example notebooks (see the module docstring for where it is looked for)."""
    candidates = []
    if os.environ.get(NOTEBOOKS_ENV):
        candidates.append(Path(os.environ[NOTEBOOKS_ENV]).expanduser())
    candidates.append(Path(__file__).resolve().parents[1] / "notebooks")
    candidates.append(Path(sys.prefix) / "share" / "cloudsway-nb" / "notebooks")
    for folder in candidates:
        if (folder / "quickstart.ipynb").is_file():
            return folder
    looked = ", ".join(str(c) for c in candidates)
    raise FileNotFoundError(
        f"the example notebooks were not found (looked in {looked}); install from a checkout "
        f"(pip install -e '.[demo]') or set {NOTEBOOKS_ENV}"
    )


def write_registry(path: str | Path) -> Path:
    """Write the emulator's aliases (gpt, o3, claude, gemini, e5, deepseek) as a TOML registry."""
    return save_endpoints(emulator_endpoints(), path)


@contextmanager
def emulator_environment(folder: str | Path | None = None, **options: Any) -> Iterator[dict[str, str]]:
    """Run the emulator on a free loopback port; yield the variables that point a kernel at it.

    Yields `{"CLOUDSWAY_BASE_URL", "CLOUDSWAY_API_KEY", "CLOUDSWAY_CONFIG"}` (a dummy key and a
    registry written in `folder`, a temporary one by default); the emulator stops on exit.
    `options` are the `EmulatorServer`'s: paced like a real model unless `pacing="none"` (what
    the test suite and `demo --refresh` pass) or `$CLOUDSWAY_EMULATOR_PACING` says otherwise.

    Example:
        >>> with emulator_environment() as env:
        ...     sorted(env)
        ['CLOUDSWAY_API_KEY', 'CLOUDSWAY_BASE_URL', 'CLOUDSWAY_CONFIG']
    """
    from .emulator import EmulatorServer

    with tempfile.TemporaryDirectory(prefix="cloudsway-") as tmp:
        registry = write_registry(Path(folder or tmp) / "endpoints.toml")
        options.setdefault("port", 0)
        server = EmulatorServer(**options)
        url = server.start()
        try:
            yield {"CLOUDSWAY_BASE_URL": url, "CLOUDSWAY_API_KEY": DEMO_KEY, "CLOUDSWAY_CONFIG": str(registry)}
        finally:
            server.stop()


def _kernel_manager() -> Any:
    """A KernelManager for this interpreter's own ipykernel (whatever kernelspecs are installed)."""
    import ipykernel.kernelspec
    from jupyter_client import KernelManager
    from jupyter_client.kernelspec import KernelSpecManager

    class _HereSpecs(KernelSpecManager):
        def get_kernel_spec(self, kernel_name: str) -> Any:
            return self.kernel_spec_class(
                resource_dir=ipykernel.kernelspec.RESOURCES, **ipykernel.kernelspec.get_kernel_dict()
            )

    return KernelManager(kernel_name="python3", kernel_spec_manager=_HereSpecs())


def run_notebook(
    source: str | Path,
    out_dir: str | Path,
    env: Mapping[str, str] | None = None,
    *,
    timeout: float = 120,
    html: bool = True,
) -> tuple[Path, Path | None]:
    """Execute a notebook in a fresh kernel (with `env` added to its environment) and write the
    executed copy and an HTML rendering into `out_dir`; returns both paths.

    Cells run in `out_dir` (files a notebook makes land there). A failing cell stops the run with
    nbclient's `CellExecutionError`, which names the cell.
    """
    import nbformat
    from nbclient import NotebookClient
    from nbconvert import HTMLExporter

    source, out = Path(source), Path(out_dir).expanduser().resolve()
    out.mkdir(parents=True, exist_ok=True)
    nb = nbformat.read(source, as_version=4)
    client = NotebookClient(
        nb, km=_kernel_manager(), timeout=timeout, startup_timeout=60,
        resources={"metadata": {"path": str(out)}}, extra_arguments=list(KERNEL_ARGUMENTS),
    )
    # nbclient leaves a kernel it did not create running (and its zmq channels open): we made it, so
    # cleanup_kc=True shuts it down and closes the channels when the run ends, even on failure
    client.execute(cleanup_kc=True, env={**os.environ, **(env or {})})
    executed = out / source.name
    nbformat.write(nb, executed)
    if not html:
        return executed, None
    body, _ = HTMLExporter().from_notebook_node(nb)
    page = executed.with_suffix(".html")
    page.write_text(body, encoding="utf-8")
    return executed, page


def lab_command(notebooks: str | Path, extra: Sequence[str] = ()) -> list[str]:
    """The command line `demo --lab` runs: JupyterLab on the notebooks folder, this interpreter;
    with `--allow-root` when run as root (JupyterLab refuses to start as root otherwise).

    Example:
        >>> lab_command("/nb")[1:5]
        ['-m', 'jupyterlab', '--ServerApp.root_dir=/nb', '--LabApp.default_url=/lab/tree/quickstart.ipynb']
    """
    as_root = ["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []
    return [
        sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={notebooks}",
        "--LabApp.default_url=/lab/tree/quickstart.ipynb", *as_root, *extra,
    ]


def copy_notebooks(source: str | Path, target: str | Path) -> tuple[Path, list[str]]:
    """Copy the example notebooks from `source` into `target` for `demo --lab`, so that saving in
    JupyterLab never touches the originals (their stored outputs are what nbval compares).
    A notebook already in `target` is kept as it is (it may hold your edits); returns the folder
    and the names copied.

    Example:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     "quickstart.ipynb" in copy_notebooks(notebooks_dir(), tmp)[1]
        True
    """
    folder = Path(target).expanduser().resolve()
    folder.mkdir(parents=True, exist_ok=True)
    copied = []
    for notebook in sorted(Path(source).glob("*.ipynb")):
        if not (folder / notebook.name).exists():
            shutil.copy2(notebook, folder / notebook.name)
            copied.append(notebook.name)
    return folder, copied


def _parser(prog: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description="Run the quickstart notebook against the emulator.")
    parser.add_argument("--out", default="cloudsway-demo", metavar="DIR",
                        help="where to write quickstart.ipynb and quickstart.html, and where --lab copies "
                        "the notebooks (DIR/notebooks) (default ./cloudsway-demo)")
    parser.add_argument("--lab", action="store_true",
                        help="open JupyterLab on copies of the example notebooks (in DIR/notebooks) instead")
    parser.add_argument("--gateway", action="store_true",
                        help="use the configured gateway (CLOUDSWAY_API_KEY, ...) instead of the emulator")
    parser.add_argument("--notebook", default="quickstart.ipynb", help="which example notebook to run")
    parser.add_argument("--timeout", type=float, default=120, help="seconds a cell may take (default 120)")
    parser.add_argument("--refresh", action="store_true",
                        help="for maintainers: re-run every example notebook in place against the emulator, "
                        "storing the outputs that nbval compares")
    return parser


def _missing(lab: bool) -> str | None:
    needed = ["nbclient", "nbformat", "nbconvert", "ipykernel"] + (["jupyterlab"] if lab else [])
    return ", ".join(name for name in needed if _absent(name)) or None


def _absent(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is None


def main(argv: Sequence[str] | None = None, prog: str = "cloudsway-nb demo") -> int:
    """Run the demo; returns the exit status."""
    args = _parser(prog).parse_args(argv)
    missing = _missing(args.lab)
    if missing:
        print(f"{prog}: missing {missing}; install the demo extra: pip install -e '.[demo]'", file=sys.stderr)
        return 2
    if args.gateway and not (os.environ.get("CLOUDSWAY_API_KEY") or "").strip():
        print(f"{prog} --gateway: set CLOUDSWAY_API_KEY (and CLOUDSWAY_CONFIG) first", file=sys.stderr)
        return 2
    try:
        notebooks = notebooks_dir()
    except FileNotFoundError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return 2
    with _environment(args.gateway, pacing="none" if args.refresh else None) as env:
        where = env.get("CLOUDSWAY_BASE_URL") or os.environ.get("CLOUDSWAY_BASE_URL") or "the configured gateway"
        print(f"{'gateway' if args.gateway else 'emulator'}: {where}", flush=True)
        if args.refresh:
            for source in sorted(notebooks.glob("*.ipynb")):
                run_notebook(source, notebooks, env, timeout=args.timeout, html=False)
                print(f"refreshed {source}")
            return 0
        if args.lab:
            folder, copied = copy_notebooks(notebooks, Path(args.out) / "notebooks")
            kept = sorted(p.name for p in folder.glob("*.ipynb") if p.name not in copied)
            print(f"notebooks: {folder}" + (f" (kept your copies of {', '.join(kept)})" if kept else ""), flush=True)
            command = lab_command(folder)
            print("starting JupyterLab (Ctrl-C stops it and the emulator): " + " ".join(command), flush=True)
            try:
                return subprocess.call(command, env={**os.environ, **env})
            except KeyboardInterrupt:
                return 0
        source = notebooks / args.notebook
        if not source.is_file():
            print(f"{prog}: no notebook {args.notebook!r} in {notebooks}", file=sys.stderr)
            return 2
        started = time.perf_counter()
        try:
            executed, page = run_notebook(source, args.out, env, timeout=args.timeout)
        except Exception as exc:  # a failing cell: nbclient names it; show one clear line and the cell's error
            print(f"{prog}: {source.name} failed: {exc}", file=sys.stderr)
            return 1
        print(f"ran {source.name} in {time.perf_counter() - started:.1f} s")
        print(f"wrote {executed} and {page}")
        print(f"folder: {executed.parent}")
    return 0


@contextmanager
def _environment(gateway: bool, pacing: str | None = None) -> Iterator[dict[str, str]]:
    """The kernel's variables: none for the gateway, else an emulator's (paced as `pacing` says,
    the bundled default when None; `--refresh` stores outputs, which pacing never changes, at once)."""
    if gateway:
        yield {}
        return
    with emulator_environment(**({"pacing": pacing} if pacing else {})) as env:
        yield env


if __name__ == "__main__":
    raise SystemExit(main())
