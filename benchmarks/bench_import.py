"""How long loading takes: `import cloudsway_nb`, `%load_ext cloudsway_nb`, `import openai`, and
jupyter-ai's magics when installed. Each is timed in a fresh interpreter, several runs, median.

Goal: `import cloudsway_nb` + `%load_ext cloudsway_nb` (beyond IPython itself) under half of
`import openai`.

    python3 benchmarks/bench_import.py [--runs 7] [--jupyter-ai-python PATH]

jupyter-ai pulls in langchain and friends, so it is best kept out of this environment: install it
in a venv of its own (`python3 -m venv /tmp/jai && /tmp/jai/bin/pip install jupyter-ai-magics`) and
pass that interpreter with `--jupyter-ai-python /tmp/jai/bin/python`.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# Each snippet prints the seconds its measured part took (the interpreter start-up is excluded).
SNIPPETS: dict[str, str] = {
    "import cloudsway_nb": (
        "import time; t = time.perf_counter(); import cloudsway_nb; print(time.perf_counter() - t)"
    ),
    "%load_ext cloudsway_nb (IPython already loaded)": (
        "from IPython.core.interactiveshell import InteractiveShell; ip = InteractiveShell.instance()\n"
        "import time; t = time.perf_counter(); ip.run_line_magic('load_ext', 'cloudsway_nb')\n"
        "print(time.perf_counter() - t)"
    ),
    "import openai": "import time; t = time.perf_counter(); import openai; print(time.perf_counter() - t)",
    "%load_ext jupyter_ai_magics (IPython already loaded)": (
        "from IPython.core.interactiveshell import InteractiveShell; ip = InteractiveShell.instance()\n"
        "import time; t = time.perf_counter(); ip.run_line_magic('load_ext', 'jupyter_ai_magics')\n"
        "print(time.perf_counter() - t)"
    ),
}
NEEDS = {"import openai": "openai", "%load_ext jupyter_ai_magics (IPython already loaded)": "jupyter_ai_magics"}


def measure(code: str, runs: int, python: str = sys.executable) -> float:
    """Median seconds over `runs` fresh interpreters."""
    times = []
    for _ in range(runs):
        out = subprocess.run(
            [python, "-c", code], capture_output=True, text=True, check=True, cwd=REPO,
            env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin", "HOME": str(Path.home())},
        ).stdout.strip().splitlines()
        times.append(float(out[-1]))
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--jupyter-ai-python", metavar="PATH", help="an interpreter that has jupyter-ai-magics")
    args = parser.parse_args(argv)
    results: dict[str, float] = {}
    for name, code in SNIPPETS.items():
        module = NEEDS.get(name)
        python = sys.executable
        if module == "jupyter_ai_magics" and args.jupyter_ai_python:
            python = args.jupyter_ai_python
        elif module and importlib.util.find_spec(module) is None:
            print(f"{name:<55} (not installed)")
            continue
        results[name] = measure(code, args.runs, python)
        print(f"{name:<55} {results[name] * 1000:8.1f} ms")
    ours = results["import cloudsway_nb"] + results["%load_ext cloudsway_nb (IPython already loaded)"]
    print(f"{'cloudsway_nb import + load_ext':<55} {ours * 1000:8.1f} ms")
    if "import openai" in results:
        ratio = ours / results["import openai"]
        verdict = "meets" if ratio < 0.5 else "misses"
        print(f"ratio to import openai: {ratio:.2f}x ({verdict} the goal of < 0.5x)")
        jai = results.get("%load_ext jupyter_ai_magics (IPython already loaded)")
        if jai:
            print(f"ratio to %load_ext jupyter_ai_magics: {ours / jai:.2f}x")
        return 0 if ratio < 0.5 else 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
