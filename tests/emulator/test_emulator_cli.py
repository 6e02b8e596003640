"""The command line starts quickly, prints the base URL and serves; bad options fail clearly."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}


def test_module_starts_within_a_second_and_prints_the_base_url() -> None:
    start = time.perf_counter()
    with subprocess.Popen(
        [sys.executable, "-m", "cloudsway_nb.emulator", "--port", "0", "--chunk-delay", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
    ) as process:
        _check_serving(process, start)
        errors = process.stderr.read()
    assert process.returncode in (0, -15)  # uvicorn re-raises the SIGTERM it handled gracefully
    assert "Ctrl+C" in errors


def _check_serving(process: subprocess.Popen, start: float) -> None:
    try:
        line = process.stdout.readline().strip()
        elapsed = time.perf_counter() - start
        assert line.startswith("http://127.0.0.1:"), line
        assert elapsed < 1.0, f"start-up took {elapsed:.2f} s"
        assert httpx.get(f"{line}/health", timeout=5).json()["status"] == "ok"
        reply = httpx.post(
            f"{line}/v1/ai/x/chat/completions",
            headers={"Authorization": "Bearer k"},
            json={"messages": [{"role": "user", "content": "CLI"}]},
            timeout=5,
        )
        assert reply.json()["choices"][0]["message"]["content"] == "You said: CLI."
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_cli_options_reach_the_app() -> None:
    command = [
        sys.executable,
        "-m",
        "cloudsway_nb.emulator",
        "--port",
        "0",
        "--api-key",
        "s3cret",
        "--fault",
        "503",
    ]
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=_env()
    ) as process:
        try:
            url = process.stdout.readline().strip()
            body = {"messages": [{"role": "user", "content": "x"}]}
            wrong = httpx.post(
                f"{url}/v1/ai/x/chat/completions", headers={"Authorization": "Bearer no"}, json=body
            )
            assert wrong.status_code == 401
            headers = {"Authorization": "Bearer s3cret"}
            right = httpx.post(f"{url}/v1/ai/x/chat/completions", headers=headers, json=body)
            assert right.status_code == 503
        finally:
            process.terminate()
            process.wait(timeout=10)


def test_bad_fault_kind_exits_with_usage_error() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "cloudsway_nb.emulator", "--fault", "explode"],
        check=False,
        capture_output=True,
        text=True,
        env=_env(),
        timeout=30,
    )
    assert result.returncode == 2 and "unknown fault kind" in result.stderr


def test_main_is_importable_without_starting_anything() -> None:
    code = (
        "import sys, cloudsway_nb.emulator as e; "
        "heavy = [m for m in ('uvicorn', 'PIL', 'numpy', 'pandas', 'pytest') if m in sys.modules]; "
        "print(callable(e.main), callable(e.create_app), heavy)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], check=False, capture_output=True, text=True, env=_env(), timeout=30
    )
    assert out.stdout.strip() == "True True []", out.stderr


def test_port_in_use_is_reported() -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "cloudsway_nb.emulator", "--port", str(port)],
            check=False,
            capture_output=True,
            text=True,
            env=_env(),
            timeout=30,
        )
    assert result.returncode == 1 and "cannot start the emulator" in result.stderr
