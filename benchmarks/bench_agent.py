"""The tool loop's cost: `Agent.run` against a hand-written loop over `Session.ask`, same calls.

Both sides ask the bundled emulator (in a subprocess, so it never competes with the client for
the interpreter lock; no pacing) the same two-tool question on each
protocol: one model call that asks for both tools, the two calls run, one model call that answers.
The naive loop runs the tools one after the other, as most hand-written loops do; with tools that
take `--tool-seconds` each, the Agent's parallel calls show. Times are wall-clock medians per run.

    python benchmarks/bench_agent.py [--runs 30] [--tool-seconds 0.05]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cloudsway_nb import Client, Message
from cloudsway_nb.agent import Agent
from cloudsway_nb.config import EMULATOR_ENDPOINTS, Endpoint
from cloudsway_nb.session import Session

QUESTION = "What is the weather and the time in Oslo?"


def make_tools(seconds: float) -> list:
    def get_weather(city: str) -> str:
        """The weather.

        Args:
            city: A city.
        """
        time.sleep(seconds)
        return f"sunny in {city}"

    def get_time(city: str) -> str:
        """The time.

        Args:
            city: A city.
        """
        time.sleep(seconds)
        return f"noon in {city}"

    return [get_weather, get_time]


def naive(session: Session, alias: str, tools: list) -> str:
    by_name = {t.__name__: t for t in tools}
    reply = session.ask(alias, QUESTION, tools=tools)  # a fresh conversation, as the Agent's
    while reply.tool_calls:
        results = [Message.tool_result(c, by_name[c.name](**c.arguments)) for c in reply.tool_calls]
        reply = session.ask(alias, results, tools=tools, continue_=True)
    return reply.text


def timed(fn, runs: int) -> float:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--tool-seconds", type=float, default=0.05)
    args = parser.parse_args()
    server = subprocess.Popen([sys.executable, "-m", "cloudsway_nb.emulator", "--port", "0", "--pacing", "none",
                               "--log-level", "error"], stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONUNBUFFERED": "1"})
    url = next(line for line in server.stdout if line.startswith("http://")).strip()  # type: ignore[union-attr]
    try:
        session = Session(Client(url, "bench", {a: Endpoint(*spec) for a, spec in EMULATOR_ENDPOINTS.items()}))
        report(session, args)
        session.close()
    finally:
        server.terminate()
        server.wait()


def report(session: Session, args: argparse.Namespace) -> None:
    print(f"{'protocol':<10} {'tools':>8} {'naive ms':>9} {'agent ms':>9} {'agent/naive':>11}")
    for seconds in (0.0, args.tool_seconds):
        tools = make_tools(seconds)
        for alias, protocol in (("gpt", "chat"), ("o3", "responses"), ("claude", "messages"), ("gemini", "gemini")):
            assert "sunny in Oslo" in naive(session, alias, tools)
            naive_s = timed(lambda a=alias, t=tools: naive(session, a, t), args.runs)
            agent_s = timed(lambda a=alias, t=tools: Agent(session, a, t).run(QUESTION), args.runs)
            print(f"{protocol:<10} {seconds * 1000:>6.0f}ms {naive_s * 1000:>9.1f} {agent_s * 1000:>9.1f} "
                  f"{agent_s / naive_s:>11.2f}")


if __name__ == "__main__":
    main()
