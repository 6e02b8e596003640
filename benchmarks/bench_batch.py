"""`session.map` against the emulator, side by side with `openai.AsyncOpenAI` + a semaphore.

Two measurements, each against the bundled emulator run as a subprocess (so that server and
client do not share one interpreter lock):

* 1,000 rows (distinct prompts) at concurrency 32 against an emulator that waits 100 ms before
  every reply (`--latency 0.1`): the ideal is rows / concurrency x latency = 3.1 s. The same rows
  go through `openai.AsyncOpenAI` with an `asyncio.Semaphore(32)`. Both are timed by the wall
  clock from the call to the last answer, and the TCP connections the emulator saw are counted
  (`GET /emulator/stats`). Goal: map <= 1.15 x the ideal, connections <= the concurrency.
* 10,000 rows re-run from a warm cache (filled by a first run against an emulator without
  latency): rows a second of the second run. Goal: >= 5,000 rows/s.

    python benchmarks/bench_batch.py                 # about a minute and a half on a 2-core machine
    python benchmarks/bench_batch.py --rows 300 --cache-rows 2000 --skip-openai
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
_PYTHONPATH = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
sys.path.insert(len(_PYTHONPATH), str(HERE.parent))  # the checkout, after any PYTHONPATH entries

import pandas as pd  # noqa: E402

from cloudsway_nb import Client, Session  # noqa: E402
from cloudsway_nb.config import Endpoint  # noqa: E402

ENDPOINT = Endpoint("bench-gpt", "chat", model="gpt-4o")
KEY = "sk-bench-not-a-secret"


class Emulator:
    """`python -m cloudsway_nb.emulator` on a free port, in a subprocess."""

    def __init__(self, latency: float) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "cloudsway_nb.emulator", "--port", "0", "--pacing", "none",
             "--latency", str(latency), "--log-level", "warning"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
            env={**os.environ, "PYTHONPATH": os.pathsep.join([*_PYTHONPATH, str(HERE.parent)])},
        )
        assert self.proc.stdout is not None
        self.url = self.proc.stdout.readline().strip()

    def stats(self) -> dict[str, int]:
        with urllib.request.urlopen(f"{self.url}/emulator/stats", timeout=10) as r:
            return json.loads(r.read())

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)
        if self.proc.stdout is not None:
            self.proc.stdout.close()


def rows(n: int, prefix: str = "review") -> pd.DataFrame:
    return pd.DataFrame({"text": [f"{prefix} number {i}: the soup was fine" for i in range(n)]})


def run_map(url: str, df: pd.DataFrame, concurrency: int, cache: object) -> tuple[float, pd.DataFrame]:
    session = Session(Client(base_url=url, api_key=KEY, endpoints={"gpt": ENDPOINT}))
    try:
        started = time.perf_counter()
        out = session.map(df, "Label the sentiment of: {text}", endpoint="gpt", cache=cache, progress=False,
                          concurrency=concurrency)
        return time.perf_counter() - started, out
    finally:
        session.close()


def run_openai(url: str, df: pd.DataFrame, concurrency: int) -> float:
    import openai

    async def main() -> float:
        client = openai.AsyncOpenAI(base_url=f"{url}/v1/ai/{ENDPOINT.path}", api_key=KEY)
        semaphore = asyncio.Semaphore(concurrency)

        async def one(text: str) -> str:
            async with semaphore:
                reply = await client.chat.completions.create(
                    model="gpt-4o", messages=[{"role": "user", "content": f"Label the sentiment of: {text}"}])
                return reply.choices[0].message.content or ""

        started = time.perf_counter()
        answers = await asyncio.gather(*(one(t) for t in df["text"]))
        elapsed = time.perf_counter() - started
        assert len(answers) == len(df)
        await client.close()
        return elapsed

    return asyncio.run(main())


def concurrent(args: argparse.Namespace) -> dict[str, object]:
    """Interleaved rounds (map, then openai, fresh rows and a fresh client each time); medians."""
    emulator = Emulator(args.latency)
    ideal = args.rows / args.concurrency * args.latency
    runs: dict[str, list[tuple[float, int]]] = {"map": [], "openai": []}
    try:
        for round_ in range(args.rounds):
            before = emulator.stats()["connections"]
            elapsed, out = run_map(emulator.url, rows(args.rows, f"map {round_}"), args.concurrency, False)
            assert set(out["status"]) == {"ok"}, out["status"].value_counts()
            runs["map"].append((elapsed, emulator.stats()["connections"] - before))
            if not args.skip_openai:
                before = emulator.stats()["connections"]
                elapsed = run_openai(emulator.url, rows(args.rows, f"openai {round_}"), args.concurrency)
                runs["openai"].append((elapsed, emulator.stats()["connections"] - before))
    finally:
        emulator.stop()
    result: dict[str, object] = {"rows": args.rows, "concurrency": args.concurrency, "ideal_s": ideal}
    for key, times in runs.items():
        if times:
            median = statistics.median(t for t, _ in times)
            result[key] = {"seconds": median, "ratio": median / ideal, "connections": max(c for _, c in times),
                           "runs_s": [round(t, 3) for t, _ in times]}
    return result


def warm_cache(args: argparse.Namespace) -> dict[str, object]:
    emulator = Emulator(0.0)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            cache = Path(tmp) / "bench.sqlite"
            df = rows(args.cache_rows)
            fill, _ = run_map(emulator.url, df, args.concurrency, cache)
            sent_before = emulator.stats()["requests"]
            elapsed, out = run_map(emulator.url, df, args.concurrency, cache)
            assert set(out["status"]) == {"cached"} and emulator.stats()["requests"] == sent_before
            return {"rows": args.cache_rows, "fill_s": fill, "seconds": elapsed,
                    "rows_per_s": args.cache_rows / elapsed}
    finally:
        emulator.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--latency", type=float, default=0.1, help="seconds the emulator waits per reply")
    parser.add_argument("--cache-rows", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds of the concurrent run (medians)")
    parser.add_argument("--skip-openai", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    conc, warm = concurrent(args), warm_cache(args)
    if args.json:
        print(json.dumps({"concurrent": conc, "warm_cache": warm}, indent=2))
        return 0
    print(f"{conc['rows']} rows at concurrency {conc['concurrency']}, {args.latency * 1000:.0f} ms per reply "
          f"(ideal {conc['ideal_s']:.2f} s); median of {args.rounds} interleaved rounds, wall clock")
    print(f"  {'client':<34}{'seconds':>9}{'x ideal':>9}{'TCP connections':>17}")
    for key, label in (("map", "cloudsway_nb session.map"), ("openai", "openai.AsyncOpenAI + Semaphore")):
        if key in conc:
            r = conc[key]
            print(f"  {label:<34}{r['seconds']:>9.2f}{r['ratio']:>9.2f}{r['connections']:>17}")
    m = conc["map"]
    ok = m["ratio"] <= 1.15 and m["connections"] <= conc["concurrency"]
    print(f"  goal: map <= 1.15 x ideal and connections <= {conc['concurrency']}: {'PASS' if ok else 'MISS'}")
    verdict = "PASS" if warm["rows_per_s"] >= 5000 else "MISS"
    print(f"{warm['rows']:,} rows re-run from a warm cache: {warm['seconds']:.2f} s, {warm['rows_per_s']:,.0f} "
          f"rows/s (goal >= 5,000: {verdict}; the first run took {warm['fill_s']:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
