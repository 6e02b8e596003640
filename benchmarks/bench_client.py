"""Client-side speed of cloudsway_nb against the official openai SDK and raw httpx.

A local server (`_server.py`, started as a subprocess on 127.0.0.1) serves one long OpenAI
chat-completions SSE stream and a tiny non-streamed chat.completion. The benchmark consumes the
stream with each client, interleaved over several rounds, then times many small sequential
requests, and prints medians, throughput and the ratios the project aims for.

    python benchmarks/bench_client.py                      # defaults: 100,000 chunks, 5 rounds
    python benchmarks/bench_client.py --chunks 20000 --rounds 3 --requests 500
    python benchmarks/bench_client.py --json > result.json
    python benchmarks/bench_client.py --profile stream     # cProfile of the cloudsway_nb side only

See benchmarks/README.md for what exactly is measured.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import json
import os
import platform
import pstats
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
# Run from a checkout without installing: the repository root holds the package. It goes after
# the PYTHONPATH entries, so PYTHONPATH=/tmp/patched-copy benchmarks a modified copy instead.
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))
_PYTHONPATH = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
sys.path.insert(sys.path.index(str(HERE)) + 1 + len(_PYTHONPATH), str(HERE.parent))

import _server  # noqa: E402
import httpx  # noqa: E402

PROMPT = "hi"
MESSAGES = [{"role": "user", "content": PROMPT}]

# (key, label, numerator, denominator, section, op, target): ratios of median times
GOALS = [
    ("openai_vs_cloudsway_stream", "openai / cloudsway_nb (stream)", "openai", "cloudsway_stream", "stream", ">=", 1.5),
    ("cloudsway_vs_httpx_stream", "cloudsway_nb / httpx (stream)", "cloudsway_stream", "httpx", "stream", "<=", 1.3),
    ("openai_vs_cloudsway_small", "openai / cloudsway_nb (small)", "openai", "cloudsway", "small", ">=", 1.5),
    ("cloudsway_vs_httpx_small", "cloudsway_nb / httpx (small)", "cloudsway", "httpx", "small", "<=", 1.2),
]  # fmt: skip
INFO_RATIOS = [
    ("cloudsway_chat_vs_httpx_stream", "cloudsway_nb chat(stream) / raw httpx", "cloudsway_chat", "httpx", "stream"),
    ("httpx_vs_floor_stream", "raw httpx / httpx bytes floor", "httpx", "floor", "stream"),
]


# ---------------------------------------------------------------------------------------------
# the server
# ---------------------------------------------------------------------------------------------


class ServerProcess:
    """`_server.py` in a subprocess (its own interpreter, so it never competes for our GIL)."""

    def __init__(self, chunks: int, chunked: bool) -> None:
        cmd = [sys.executable, str(HERE / "_server.py"), "--chunks", str(chunks), "--port", "0"]
        if chunked:
            cmd.append("--chunked")
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line.startswith("PORT "):
            self.close()
            raise RuntimeError(f"the benchmark server did not start (it said {line!r})")
        self.base_url = f"http://127.0.0.1:{int(line.split()[1])}"

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


# ---------------------------------------------------------------------------------------------
# the contenders: each is a zero-argument callable returning the assembled text
# ---------------------------------------------------------------------------------------------


@dataclass
class Contender:
    key: str
    label: str
    run: Callable[[], str | int]
    times: list[float] = field(default_factory=list)


class Clients:
    """One long-lived client of each kind, so connections are reused across calls (keep-alive)."""

    def __init__(self, base_url: str) -> None:
        from openai import OpenAI

        from cloudsway_nb import Client
        from cloudsway_nb.config import Endpoint

        self.base_url = base_url
        self.url = f"{base_url}{_server.ROUTE}"
        self.cloudsway = Client(base_url, api_key="bench", endpoints={"bench": Endpoint("bench", "chat")})
        self.openai = OpenAI(base_url=f"{base_url}{_server.BASE_PATH}", api_key="bench", max_retries=0)
        self.httpx = httpx.Client(timeout=600.0)
        self.headers = {"authorization": "Bearer bench"}

    def close(self) -> None:
        self.cloudsway.close()
        self.openai.close()
        self.httpx.close()

    # -- streaming -----------------------------------------------------------------------------

    def cloudsway_stream(self) -> str:
        from cloudsway_nb.types import Done, TextDelta

        parts: list[str] = []
        append = parts.append
        reply = None
        for event in self.cloudsway.stream("bench", PROMPT):
            if type(event) is TextDelta:
                append(event.text)
            elif type(event) is Done:
                reply = event.reply
        text = "".join(parts)
        assert reply is not None and reply.text == text and not reply.incomplete, "cloudsway_nb: bad final reply"
        assert reply.usage.output == len(parts), "cloudsway_nb: usage not parsed"
        return text

    def cloudsway_chat_stream(self) -> str:
        reply = self.cloudsway.chat("bench", PROMPT, stream=True)
        assert not reply.incomplete
        return reply.text

    def openai_stream(self) -> str:
        parts: list[str] = []
        append = parts.append
        stream = self.openai.chat.completions.create(model="x", messages=MESSAGES, stream=True)  # type: ignore[arg-type]
        for chunk in stream:
            if chunk.choices:
                content = chunk.choices[0].delta.content
                if content:
                    append(content)
        return "".join(parts)

    def httpx_stream(self) -> str:
        parts: list[str] = []
        append = parts.append
        loads = json.loads
        body = {"model": "x", "messages": MESSAGES, "stream": True}
        with self.httpx.stream("POST", self.url, json=body, headers=self.headers) as response:
            response.raise_for_status()
            for line in response.iter_lines():
                if not line.startswith("data:"):
                    continue
                data = line[5:].strip()
                if data == "[DONE]":
                    break
                choices = loads(data)["choices"]
                if choices:
                    content = choices[0]["delta"].get("content")
                    if content:
                        append(content)
        return "".join(parts)

    def httpx_floor(self) -> int:
        """Only moving the bytes: no line splitting, no decoding. What any client must pay."""
        size = 0
        body = {"model": "x", "messages": MESSAGES, "stream": True}
        with self.httpx.stream("POST", self.url, json=body, headers=self.headers) as response:
            for chunk in response.iter_bytes():
                size += len(chunk)
        return size

    # -- small requests ------------------------------------------------------------------------

    def small_runner(self, key: str, count: int) -> Callable[[], str]:
        client, openai, http, url, headers = self.cloudsway, self.openai, self.httpx, self.url, self.headers
        body = {"model": "x", "messages": MESSAGES}

        def cloudsway() -> str:
            text = ""
            for _ in range(count):
                text = client.chat("bench", PROMPT).text
            return text

        def raw() -> str:
            text = ""
            for _ in range(count):
                response = http.post(url, json=body, headers=headers)
                response.raise_for_status()
                text = response.json()["choices"][0]["message"]["content"]
            return text

        def sdk() -> str:
            text = ""
            for _ in range(count):
                completion = openai.chat.completions.create(model="x", messages=MESSAGES)  # type: ignore[arg-type]
                text = completion.choices[0].message.content or ""
            return text

        return {"cloudsway": cloudsway, "httpx": raw, "openai": sdk}[key]


# ---------------------------------------------------------------------------------------------
# running and reporting
# ---------------------------------------------------------------------------------------------


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    gc.collect()  # every run starts from the same heap state; gc stays enabled during the run
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def run_rounds(contenders: list[Contender], rounds: int, check: Callable[[Contender, Any], None], log: Any) -> None:
    for r in range(rounds):
        shift = r % len(contenders)
        order = contenders[shift:] + contenders[:shift]  # rotate, so no contender always goes first
        for c in order:
            elapsed, result = timed(c.run)
            check(c, result)
            c.times.append(elapsed)
            print(f"  round {r + 1}/{rounds}  {c.label:<34} {elapsed:8.3f} s", file=log, flush=True)


def summary(c: Contender) -> dict[str, Any]:
    return {
        "label": c.label,
        "median_s": statistics.median(c.times),
        "min_s": min(c.times),
        "max_s": max(c.times),
        "runs_s": c.times,
    }


def ratios(results: dict[str, dict[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    out = []
    for key, label, num, den, section, op, target in GOALS:
        if num not in results[section] or den not in results[section]:
            continue  # e.g. --skip-openai
        value = results[section][num]["median_s"] / results[section][den]["median_s"]
        ok = value >= target if op == ">=" else value <= target
        out.append({"key": key, "label": label, "value": value, "goal": f"{op} {target}", "pass": ok})
    for key, label, num, den, section in INFO_RATIOS:
        if num in results[section] and den in results[section]:
            value = results[section][num]["median_s"] / results[section][den]["median_s"]
            out.append({"key": key, "label": label, "value": value, "goal": None, "pass": None})
    return out


def versions() -> dict[str, str]:
    import openai

    import cloudsway_nb

    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "machine": platform.machine(),
        "cloudsway_nb": f"{cloudsway_nb.__version__} ({Path(cloudsway_nb.__file__).parent})",
        "openai": openai.__version__,
        "httpx": httpx.__version__,
    }


def print_table(report: dict[str, Any]) -> None:
    cfg = report["config"]
    mb = cfg["stream_bytes"] / 1e6
    print()
    print(
        f"Streaming: {cfg['chunks']:,} chunks, {mb:.1f} MB, {cfg['transfer']}, "
        f"{cfg['rounds']} interleaved rounds (median / min / max)"
    )
    print(f"  {'client':<36}{'median s':>10}{'min s':>9}{'max s':>9}{'chunks/s':>12}{'MB/s':>9}")
    for row in report["stream"].values():
        med = row["median_s"]
        print(
            f"  {row['label']:<36}{med:>10.3f}{row['min_s']:>9.3f}{row['max_s']:>9.3f}"
            f"{cfg['chunks'] / med:>12,.0f}{mb / med:>9.1f}"
        )
    print()
    print(f"Small requests: {cfg['requests']:,} sequential non-streamed calls per run, {cfg['rounds']} rounds")
    print(f"  {'client':<36}{'median s':>10}{'min s':>9}{'max s':>9}{'us/call':>12}{'calls/s':>9}")
    for row in report["small"].values():
        med = row["median_s"]
        print(
            f"  {row['label']:<36}{med:>10.3f}{row['min_s']:>9.3f}{row['max_s']:>9.3f}"
            f"{med / cfg['requests'] * 1e6:>12.1f}{cfg['requests'] / med:>9,.0f}"
        )
    print()
    print("Ratios (of medians)")
    for r in report["ratios"]:
        verdict = "" if r["pass"] is None else ("PASS" if r["pass"] else "MISS")
        goal = f"goal {r['goal']}" if r["goal"] else "(info)"
        print(f"  {r['label']:<40}{r['value']:>7.2f}   {goal:<12} {verdict}")
    print()
    v = report["versions"]
    print(
        f"Python {v['python']} ({v['implementation']}, {v['machine']}); cloudsway_nb {v['cloudsway_nb']}; "
        f"openai {v['openai']}; httpx {v['httpx']}; total {report['wall_s']:.1f} s"
    )


def benchmark(args: argparse.Namespace) -> dict[str, Any]:
    wall = time.perf_counter()
    log = sys.stderr if args.json else sys.stdout
    expected = _server.expected_text(args.chunks)
    stream_bytes = len(_server.stream_body(args.chunks))
    server = ServerProcess(args.chunks, args.chunked)
    clients = Clients(server.base_url)
    try:
        # warm up: open every connection and import what each client loads lazily
        for key in ("cloudsway", "httpx", "openai"):
            clients.small_runner(key, 3)()

        def check_stream(c: Contender, result: Any) -> None:
            if c.key == "floor":
                assert result == stream_bytes, f"{c.label}: {result} bytes, expected {stream_bytes}"
            else:
                assert result == expected, f"{c.label}: the text differs from the server's ({len(result)} chars)"

        print(f"Streaming {args.chunks:,} chunks from {server.base_url} ...", file=log, flush=True)
        stream = [
            Contender("cloudsway_stream", "cloudsway_nb  client.stream()", clients.cloudsway_stream),
            Contender("cloudsway_chat", "cloudsway_nb  chat(stream=True)", clients.cloudsway_chat_stream),
            *([] if args.skip_openai else [Contender("openai", "openai SDK  stream=True", clients.openai_stream)]),
            Contender("httpx", "raw httpx  iter_lines + json.loads", clients.httpx_stream),
            Contender("floor", "httpx iter_bytes only (floor)", clients.httpx_floor),
        ]
        run_rounds(stream, args.rounds, check_stream, log)

        def check_small(c: Contender, result: Any) -> None:
            assert result == _server.SMALL_TEXT, f"{c.label}: got {result!r}"

        print(f"Small requests: {args.requests:,} sequential calls ...", file=log, flush=True)
        openai_small = clients.small_runner("openai", args.requests)
        small = [
            Contender("cloudsway", "cloudsway_nb  client.chat()", clients.small_runner("cloudsway", args.requests)),
            *([] if args.skip_openai else [Contender("openai", "openai SDK  create()", openai_small)]),
            Contender("httpx", "raw httpx  post() + .json()", clients.small_runner("httpx", args.requests)),
        ]
        run_rounds(small, args.rounds, check_small, log)
    finally:
        clients.close()
        server.close()

    results = {"stream": {c.key: summary(c) for c in stream}, "small": {c.key: summary(c) for c in small}}
    return {
        "config": {
            "chunks": args.chunks,
            "rounds": args.rounds,
            "requests": args.requests,
            "transfer": "chunked" if args.chunked else "content-length",
            "skip_openai": args.skip_openai,
            "stream_bytes": stream_bytes,
            "text_chars": len(expected),
        },
        **results,
        "ratios": ratios(results),
        "versions": versions(),
        "wall_s": time.perf_counter() - wall,
    }


def profile(args: argparse.Namespace) -> None:
    """cProfile one cloudsway_nb stream (or `--requests` small calls); print the top functions."""
    server = ServerProcess(args.chunks, args.chunked)
    clients = Clients(server.base_url)
    try:
        clients.small_runner("cloudsway", 3)()
        if args.profile == "stream":
            fn: Callable[[], Any] = clients.cloudsway_stream
        else:
            fn = clients.small_runner("cloudsway", args.requests)
        profiler = cProfile.Profile()
        gc.collect()
        started = time.perf_counter()
        profiler.runcall(fn)
        elapsed = time.perf_counter() - started
    finally:
        clients.close()
        server.close()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).strip_dirs()
    stats.sort_stats("tottime").print_stats(args.top)
    stats.sort_stats("cumulative").print_stats(args.top)
    print(f"cloudsway_nb {args.profile}: {elapsed:.3f} s under cProfile (inflated by the profiler)")
    print(out.getvalue())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chunks", type=int, default=100_000, help="content chunks in the stream (100,000)")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds; medians are reported (5)")
    parser.add_argument("--requests", type=int, default=2_000, help="small sequential calls per run (2,000)")
    parser.add_argument("--json", action="store_true", help="print one JSON document (progress goes to stderr)")
    parser.add_argument(
        "--skip-openai", action="store_true", help="leave the (slow) openai SDK out, e.g. while optimizing"
    )
    parser.add_argument("--chunked", action="store_true", help="serve the stream chunked, not with content-length")
    parser.add_argument(
        "--profile", choices=("stream", "small"), help="instead of benchmarking, cProfile the cloudsway_nb side"
    )
    parser.add_argument("--top", type=int, default=25, help="rows of profile output (25)")
    args = parser.parse_args(argv)
    if args.chunks < 1 or args.rounds < 1 or args.requests < 1:
        parser.error("--chunks, --rounds and --requests must be at least 1")
    if args.profile:
        profile(args)
        return 0
    report = benchmark(args)
    if args.json:
        json.dump(report, sys.stdout, indent=2)
        print()
    else:
        print_table(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
