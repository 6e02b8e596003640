"""Client-side speed of cloudsway_nb against hand-written raw httpx and the official openai SDK.

A local server (`_server.py`, started as a subprocess on 127.0.0.1) serves long SSE streams in
each of the four chat protocols (chat completions, Responses, Anthropic Messages, Gemini), at
several lengths, delivered in large reads or one event per network read, plus a tiny
non-streamed chat.completion. The benchmark

* consumes every stream with `cloudsway_nb.Client.stream()` and with raw httpx code that decodes
  the same SSE and assembles the same text (iter_lines + json.loads + a list of pieces), and for
  the chat protocol also with `chat(stream=True)` and the openai SDK; interleaved over rounds;
* times many small sequential requests with each client;
* runs 1,000 small requests at concurrency 32 with `AsyncClient`, `openai.AsyncOpenAI` and a bare
  `httpx.AsyncClient`, counting the TCP connections the server accepted for each;

and prints medians, the ratios the project aims for and PASS / MISS against their goals.

    python benchmarks/bench_client.py                          # everything (a few minutes)
    python benchmarks/bench_client.py --protocols gemini --sizes 100000 --skip-openai
    python benchmarks/bench_client.py --json > result.json
    python benchmarks/bench_client.py --profile messages       # cProfile of the cloudsway_nb side only

See benchmarks/README.md for what exactly is measured.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import http.client
import io
import json
import math
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
STREAM_GOAL = 1.2  # cloudsway_nb / raw httpx, every protocol, size and delivery

# (key, label, numerator, denominator, section, op, target): ratios of median times
GOALS = [
    ("openai_vs_cloudsway_stream", "openai / cloudsway_nb (chat)", "openai", "cloudsway_stream", "chat", ">=", 1.5),
    ("openai_vs_cloudsway_small", "openai / cloudsway_nb (small)", "openai", "cloudsway", "small", ">=", 1.5),
    ("cloudsway_vs_httpx_small", "cloudsway_nb / httpx (small)", "cloudsway", "httpx", "small", "<=", 1.2),
]
LABELS = {
    "cloudsway_stream": "cloudsway_nb  client.stream()",
    "cloudsway_chat": "cloudsway_nb  chat(stream=True)",
    "openai": "openai SDK  stream=True",
    "httpx": "raw httpx  iter_lines + json.loads",
    "floor": "httpx iter_bytes only (floor)",
}
INFO_RATIOS = [
    ("cloudsway_chat_vs_httpx_stream", "chat(stream=True) / raw httpx (chat)", "cloudsway_chat", "httpx", "chat"),
    ("httpx_vs_floor_stream", "raw httpx / httpx bytes floor (chat)", "httpx", "floor", "chat"),
]


# ---------------------------------------------------------------------------------------------
# the server
# ---------------------------------------------------------------------------------------------


class ServerProcess:
    """`_server.py` in a subprocess (its own interpreter, so it never competes for our GIL)."""

    def __init__(self) -> None:
        cmd = [sys.executable, str(HERE / "_server.py"), "--port", "0"]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line.startswith("PORT "):
            self.close()
            raise RuntimeError(f"the benchmark server did not start (it said {line!r})")
        self.port = int(line.split()[1])
        self.base_url = f"http://127.0.0.1:{self.port}"

    def connections(self) -> int:
        """TCP connections the server has accepted so far (asked on a connection it does not count)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request("GET", _server.STATS)
            return int(json.loads(conn.getresponse().read())["connections"])
        finally:
            conn.close()

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


# ---------------------------------------------------------------------------------------------
# the contenders: each is a zero-argument callable returning what it assembled
# ---------------------------------------------------------------------------------------------


@dataclass
class Contender:
    key: str
    label: str
    run: Callable[[], Any]
    wall: list[float] = field(default_factory=list)  # seconds of each run on the wall clock
    cpu: list[float] = field(default_factory=list)  # and in CPU time of this process


@dataclass
class Group:
    """One stream shape (protocol, delivery, events) and the contenders that consume it."""

    protocol: str
    delivery: str
    events: int
    repeat: int  # streams per timed run (short streams are repeated so that a run is long enough to time)
    body_bytes: int
    sse_events: int
    contenders: list[Contender] = field(default_factory=list)

    @property
    def key(self) -> str:
        return f"{self.protocol}/{self.delivery}/{self.events}"


def alias(protocol: str, delivery: str, events: int) -> str:
    return f"{protocol}:{delivery}:{events}"


def _raw_chat(lines: Any, append: Callable[[str], None]) -> None:
    loads = json.loads
    for line in lines:
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


def _raw_responses(lines: Any, append: Callable[[str], None]) -> None:
    loads = json.loads
    for line in lines:
        if line.startswith("data:"):
            event = loads(line[5:])
            if event["type"] == "response.output_text.delta":
                append(event["delta"])


def _raw_messages(lines: Any, append: Callable[[str], None]) -> None:
    loads = json.loads
    for line in lines:
        if line.startswith("data:"):
            event = loads(line[5:])
            if event["type"] == "content_block_delta":
                delta = event["delta"]
                if delta["type"] == "text_delta":
                    append(delta["text"])


def _raw_gemini(lines: Any, append: Callable[[str], None]) -> None:
    loads = json.loads
    for line in lines:
        if line.startswith("data:"):
            for candidate in loads(line[5:]).get("candidates") or ():
                for part in (candidate.get("content") or {}).get("parts") or ():
                    text = part.get("text")
                    if text and not part.get("thought"):
                        append(text)


RAW_DECODERS = {"chat": _raw_chat, "responses": _raw_responses, "messages": _raw_messages, "gemini": _raw_gemini}

# what raw httpx sends: the same request each protocol's client would
RAW_REQUESTS: dict[str, tuple[dict[str, Any], dict[str, str], dict[str, str]]] = {
    "chat": ({"model": "x", "messages": MESSAGES, "stream": True, "stream_options": {"include_usage": True}}, {}, {}),
    "responses": ({"model": "x", "input": PROMPT, "stream": True}, {}, {}),
    "messages": (
        {"model": "x", "max_tokens": 4096, "messages": MESSAGES, "stream": True},
        {"anthropic-version": "2023-06-01"},
        {},
    ),
    "gemini": ({"contents": [{"role": "user", "parts": [{"text": PROMPT}]}]}, {}, {"alt": "sse"}),
}


class Clients:
    """One long-lived client of each kind, so connections are reused across calls (keep-alive)."""

    def __init__(
        self, base_url: str, shapes: list[tuple[str, str, int]], openai: bool, openai_path: str | None
    ) -> None:
        from cloudsway_nb import Client
        from cloudsway_nb.config import Endpoint

        self.base_url = base_url
        self.url = f"{base_url}{_server.ROUTE}"
        endpoints = {"bench": Endpoint("bench", "chat")}
        for protocol, delivery, events in shapes:
            endpoints[alias(protocol, delivery, events)] = Endpoint(_server.endpoint_path(delivery, events), protocol)
        self.cloudsway = Client(base_url, api_key="bench", endpoints=endpoints)
        self.openai: Any = None
        self.openai_stream_client: Any = None
        if openai:
            from openai import OpenAI

            self.openai = OpenAI(base_url=f"{base_url}{_server.BASE_PATH}", api_key="bench", max_retries=0)
            stream_url = f"{base_url}{openai_path or _server.BASE_PATH}"
            self.openai_stream_client = OpenAI(base_url=stream_url, api_key="bench", max_retries=0)
        self.httpx = httpx.Client(timeout=600.0)
        self.headers = {"authorization": "Bearer bench"}

    def close(self) -> None:
        self.cloudsway.close()
        if self.openai is not None:
            self.openai.close()
            self.openai_stream_client.close()
        self.httpx.close()

    # -- streaming -----------------------------------------------------------------------------

    def cloudsway_stream(self, name: str, events: int, repeat: int) -> Callable[[], list[str]]:
        from cloudsway_nb.types import Done, TextDelta

        client = self.cloudsway

        def run() -> list[str]:
            texts = []
            for _ in range(repeat):
                parts: list[str] = []
                append = parts.append
                reply = None
                for event in client.stream(name, PROMPT):
                    if type(event) is TextDelta:
                        append(event.text)
                    elif type(event) is Done:
                        reply = event.reply
                text = "".join(parts)
                assert reply is not None and reply.text == text and not reply.incomplete, f"{name}: bad final reply"
                assert reply.usage.output == events, f"{name}: usage not parsed ({reply.usage})"
                texts.append(text)
            return texts

        return run

    def cloudsway_chat_stream(self, name: str, repeat: int) -> Callable[[], list[str]]:
        client = self.cloudsway

        def run() -> list[str]:
            texts = []
            for _ in range(repeat):
                reply = client.chat(name, PROMPT, stream=True)
                assert not reply.incomplete
                texts.append(reply.text)
            return texts

        return run

    def openai_stream(self, repeat: int) -> Callable[[], list[str]]:
        client = self.openai_stream_client

        def run() -> list[str]:
            texts = []
            for _ in range(repeat):
                parts: list[str] = []
                append = parts.append
                stream = client.chat.completions.create(model="x", messages=MESSAGES, stream=True)
                for chunk in stream:
                    if chunk.choices:
                        content = chunk.choices[0].delta.content
                        if content:
                            append(content)
                texts.append("".join(parts))
            return texts

        return run

    def httpx_stream(self, protocol: str, delivery: str, events: int, repeat: int) -> Callable[[], list[str]]:
        http, decode = self.httpx, RAW_DECODERS[protocol]
        url = f"{self.base_url}{_server.route(protocol, delivery, events)}"
        body, extra, params = RAW_REQUESTS[protocol]
        headers = {**self.headers, **extra}

        def run() -> list[str]:
            texts = []
            for _ in range(repeat):
                parts: list[str] = []
                with http.stream("POST", url, json=body, headers=headers, params=params) as response:
                    response.raise_for_status()
                    decode(response.iter_lines(), parts.append)
                texts.append("".join(parts))
            return texts

        return run

    def httpx_floor(
        self, protocol: str, delivery: str, events: int, repeat: int
    ) -> Callable[[], list[tuple[int, int]]]:
        """Only moving the bytes: no line splitting, no decoding. What any httpx-based client must pay."""
        http = self.httpx
        url = f"{self.base_url}{_server.route(protocol, delivery, events)}"
        body, extra, params = RAW_REQUESTS[protocol]
        headers = {**self.headers, **extra}

        def run() -> list[tuple[int, int]]:
            out = []
            for _ in range(repeat):
                size = reads = 0
                with http.stream("POST", url, json=body, headers=headers, params=params) as response:
                    for chunk in response.iter_bytes():
                        size += len(chunk)
                        reads += 1
                out.append((size, reads))
            return out

        return run

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
                completion = openai.chat.completions.create(model="x", messages=MESSAGES)
                text = completion.choices[0].message.content or ""
            return text

        return {"cloudsway": cloudsway, "httpx": raw, "openai": sdk}[key]


# ---------------------------------------------------------------------------------------------
# concurrency: connections opened for many small requests with a bounded number in flight
# ---------------------------------------------------------------------------------------------


async def _gather_bounded(call: Callable[[], Any], requests: int, concurrency: int) -> list[str]:
    semaphore = asyncio.Semaphore(concurrency)

    async def one() -> str:
        async with semaphore:
            return await call()

    return await asyncio.gather(*(one() for _ in range(requests)))


def concurrent_runner(key: str, base_url: str, requests: int, concurrency: int) -> Callable[[], list[str]]:
    """A fresh client per run (so the connections it opens are all counted), closed at the end."""

    async def cloudsway() -> list[str]:
        from cloudsway_nb import AsyncClient
        from cloudsway_nb.config import Endpoint

        async with AsyncClient(base_url, api_key="bench", endpoints={"bench": Endpoint("bench", "chat")}) as client:

            async def call() -> str:
                return (await client.chat("bench", PROMPT)).text

            return await _gather_bounded(call, requests, concurrency)

    async def sdk() -> list[str]:
        from openai import AsyncOpenAI

        client = AsyncOpenAI(base_url=f"{base_url}{_server.BASE_PATH}", api_key="bench", max_retries=0)
        try:

            async def call() -> str:
                completion = await client.chat.completions.create(model="x", messages=MESSAGES)
                return completion.choices[0].message.content or ""

            return await _gather_bounded(call, requests, concurrency)
        finally:
            await client.close()

    async def raw(limits: httpx.Limits | None = None) -> list[str]:
        url, body = f"{base_url}{_server.ROUTE}", {"model": "x", "messages": MESSAGES}
        headers = {"authorization": "Bearer bench"}
        # httpx's default pool limits, or cloudsway_nb's (to tell the pool's cost from the client's)
        async with httpx.AsyncClient(
            timeout=600.0, limits=limits or httpx.Limits(max_connections=100, max_keepalive_connections=20)
        ) as client:

            async def call() -> str:
                response = await client.post(url, json=body, headers=headers)
                response.raise_for_status()
                return response.json()["choices"][0]["message"]["content"]

            return await _gather_bounded(call, requests, concurrency)

    async def raw_pool() -> list[str]:
        from cloudsway_nb.transport import POOL_LIMITS

        return await raw(POOL_LIMITS)

    fn = {"cloudsway": cloudsway, "openai": sdk, "httpx": raw, "httpx_pool": raw_pool}[key]
    return lambda: asyncio.run(fn())


# ---------------------------------------------------------------------------------------------
# running and reporting
# ---------------------------------------------------------------------------------------------


def timed(fn: Callable[[], Any]) -> tuple[float, float, Any]:
    """(wall seconds, CPU seconds of this process, result) of one run."""
    gc.collect()  # every run starts from the same heap state; gc stays enabled during the run
    cpu, started = time.process_time(), time.perf_counter()
    result = fn()
    return time.perf_counter() - started, time.process_time() - cpu, result


def run_rounds(
    groups: list[tuple[str, list[Contender]]], rounds: int, check: Callable[[str, Contender, Any], None], log: Any
) -> None:
    """Every round runs every group's contenders once, in an order rotated every round."""
    for r in range(rounds):
        for name, contenders in groups:
            shift = r % len(contenders)
            for c in contenders[shift:] + contenders[:shift]:  # rotate, so no contender always goes first
                wall, cpu, result = timed(c.run)
                check(name, c, result)
                c.wall.append(wall)
                c.cpu.append(cpu)
                print(
                    f"  round {r + 1}/{rounds}  {name:<26} {c.label:<36} {wall:8.3f} s  (CPU {cpu:.3f} s)",
                    file=log,
                    flush=True,
                )


def summary(c: Contender, clock: str, per: int = 1) -> dict[str, Any]:
    """Median / min / max of the runs on `clock` ("cpu" or "wall"), per stream when a run made `per`."""
    times = [t / per for t in (c.cpu if clock == "cpu" else c.wall)]
    return {
        "label": c.label,
        "clock": clock,
        "median_s": statistics.median(times),
        "min_s": min(times),
        "max_s": max(times),
        "runs_s": times,
        "wall_runs_s": [t / per for t in c.wall],
        "cpu_runs_s": [t / per for t in c.cpu],
    }


def versions() -> dict[str, str]:
    import cloudsway_nb

    out = {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "machine": platform.machine(),
        "cloudsway_nb": f"{cloudsway_nb.__version__} ({Path(cloudsway_nb.__file__).parent})",
        "httpx": httpx.__version__,
        "openai": "-",
    }
    try:
        import openai

        out["openai"] = openai.__version__
    except ImportError:
        pass
    return out


def _ratio(section: dict[str, Any], num: str, den: str) -> float | None:
    if num not in section or den not in section:
        return None
    return section[num]["median_s"] / section[den]["median_s"]


def ratios(report: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for g in report["streams"]:
        value = _ratio(g["rows"], "cloudsway_stream", "httpx")
        if value is not None:
            out.append(
                {
                    "key": f"cloudsway_vs_httpx_stream:{g['key']}",
                    "label": f"cloudsway_nb / httpx ({g['protocol']}, {g['delivery']}, {g['events']:,})",
                    "value": value,
                    "goal": f"<= {STREAM_GOAL}",
                    "pass": value <= STREAM_GOAL,
                }
            )
    sections = {"small": report["small"]}
    if report.get("chat_extras") is not None:
        sections["chat"] = report["chat_extras"]["rows"]
    for key, label, num, den, section, op, target in GOALS:
        value = _ratio(sections.get(section, {}), num, den)
        if value is not None:
            ok = value >= target if op == ">=" else value <= target
            out.append({"key": key, "label": label, "value": value, "goal": f"{op} {target}", "pass": ok})
    conc = report.get("concurrency")
    if conc and "cloudsway" in conc["rows"]:
        opened = conc["rows"]["cloudsway"]["connections"]
        out.append(
            {
                "key": "cloudsway_connections_concurrent",
                "label": f"cloudsway_nb connections at concurrency {conc['concurrency']}",
                "value": opened,
                "goal": f"<= {conc['concurrency']}",
                "pass": opened <= conc["concurrency"],
            }
        )
    for key, label, num, den, section in INFO_RATIOS:
        value = _ratio(sections.get(section, {}), num, den)
        if value is not None:
            out.append({"key": key, "label": label, "value": value, "goal": None, "pass": None})
    return out


def print_table(report: dict[str, Any]) -> None:
    cfg = report["config"]
    print()
    clock = "CPU" if cfg["clock"] == "cpu" else "wall-clock"
    print(
        f"Streams: cloudsway_nb client.stream() against raw httpx (iter_lines + json.loads), {clock} milliseconds "
        f"per stream, median of {cfg['rounds']} interleaved rounds"
    )
    print("  (reads: the network reads of one stream; runs: streams per timed run)")
    print(
        f"  {'protocol':<10}{'delivery':<10}{'events':>8}{'MB':>7}{'reads':>8}{'runs':>5}"
        f"{'cloudsway':>11}{'httpx':>9}{'floor':>8}{'ratio':>8}   goal"
    )
    for g in report["streams"]:
        rows = g["rows"]

        def ms(key: str, rows: dict[str, Any] = rows) -> str:
            return f"{rows[key]['median_s'] * 1e3:.1f}" if key in rows else "-"

        value = _ratio(rows, "cloudsway_stream", "httpx")
        verdict = "" if value is None else ("PASS" if value <= STREAM_GOAL else "MISS")
        print(
            f"  {g['protocol']:<10}{g['delivery']:<10}{g['events']:>8,}{g['body_bytes'] / 1e6:>7.1f}{g['reads']:>8,}"
            f"{g['repeat']:>5}{ms('cloudsway_stream'):>11}{ms('httpx'):>9}{ms('floor'):>8}"
            f"{'-' if value is None else f'{value:.2f}':>8}   <= {STREAM_GOAL} {verdict}"
        )
    extras = report.get("chat_extras")
    if extras is not None:
        print()
        print(
            f"Chat stream, every client: {extras['events']:,} chunks, {extras['body_bytes'] / 1e6:.1f} MB, "
            f"{extras['delivery']} ({clock} seconds, median / min / max of {cfg['rounds']} rounds)"
        )
        print(f"  {'client':<38}{'median s':>10}{'min s':>9}{'max s':>9}{'chunks/s':>12}{'MB/s':>9}")
        for row in extras["rows"].values():
            med = row["median_s"]
            print(
                f"  {row['label']:<38}{med:>10.3f}{row['min_s']:>9.3f}{row['max_s']:>9.3f}"
                f"{extras['events'] / med:>12,.0f}{extras['body_bytes'] / 1e6 / med:>9.1f}"
            )
    if report["small"]:
        print()
        print(
            f"Small requests: {cfg['requests']:,} sequential non-streamed calls per run, {cfg['rounds']} rounds "
            f"({clock} seconds)"
        )
        print(f"  {'client':<38}{'median s':>10}{'min s':>9}{'max s':>9}{'us/call':>12}{'calls/s':>9}")
        for row in report["small"].values():
            med = row["median_s"]
            print(
                f"  {row['label']:<38}{med:>10.3f}{row['min_s']:>9.3f}{row['max_s']:>9.3f}"
                f"{med / cfg['requests'] * 1e6:>12.1f}{cfg['requests'] / med:>9,.0f}"
            )
    conc = report.get("concurrency")
    if conc:
        print()
        print(
            f"Concurrent: {conc['requests']:,} small calls, at most {conc['concurrency']} in flight, a fresh client "
            f"per run; TCP connections the server accepted (max over {cfg['rounds']} runs); wall-clock seconds"
        )
        print(f"  {'client':<38}{'connections':>12}{'median s':>10}{'calls/s':>9}")
        for row in conc["rows"].values():
            med = row["median_s"]
            print(f"  {row['label']:<38}{row['connections']:>12,}{med:>10.3f}{conc['requests'] / med:>9,.0f}")
    print()
    print("Ratios (of medians)")
    for r in report["ratios"]:
        verdict = "" if r["pass"] is None else ("PASS" if r["pass"] else "MISS")
        goal = f"goal {r['goal']}" if r["goal"] else "(info)"
        value = f"{r['value']:.2f}" if isinstance(r["value"], float) else f"{r['value']:,}"
        print(f"  {r['label']:<54}{value:>7}   {goal:<12} {verdict}")
    print()
    v = report["versions"]
    print(
        f"Python {v['python']} ({v['implementation']}, {v['machine']}); cloudsway_nb {v['cloudsway_nb']}; "
        f"openai {v['openai']}; httpx {v['httpx']}; total {report['wall_s']:.1f} s"
    )


def stream_groups(args: argparse.Namespace, clients: Clients) -> tuple[list[Group], Group | None]:
    """The stream shapes to measure, and the one (chat, largest, first delivery) that gets every client."""
    groups = []
    extras = None
    biggest = max(args.sizes)
    for protocol in args.protocols:
        for events in args.sizes:
            sse = _server.BUILDERS[protocol](events, 1234)
            body_bytes, sse_events = sum(map(len, sse)), len(sse)
            del sse
            repeat = max(1, math.ceil(args.batch_events / events))
            for delivery in args.deliveries:
                name = alias(protocol, delivery, events)
                g = Group(protocol, delivery, events, repeat, body_bytes, sse_events)
                g.contenders = [
                    Contender(
                        "cloudsway_stream", LABELS["cloudsway_stream"], clients.cloudsway_stream(name, events, repeat)
                    ),
                    Contender("httpx", LABELS["httpx"], clients.httpx_stream(protocol, delivery, events, repeat)),
                    Contender("floor", LABELS["floor"], clients.httpx_floor(protocol, delivery, events, repeat)),
                ]
                if protocol == "chat" and events == biggest and delivery == args.deliveries[0]:
                    extras = g
                    chat = Contender(
                        "cloudsway_chat", LABELS["cloudsway_chat"], clients.cloudsway_chat_stream(name, repeat)
                    )
                    g.contenders.insert(1, chat)
                    if not args.skip_openai:
                        g.contenders.insert(2, Contender("openai", LABELS["openai"], clients.openai_stream(repeat)))
                groups.append(g)
    return groups, extras


def measure_streams(args: argparse.Namespace, clients: Clients, report: dict[str, Any], log: Any) -> None:
    groups, extras = stream_groups(args, clients)
    by_name = {g.key: g for g in groups}
    expected = {n: _server.expected_text(n) for n in args.sizes}
    reads: dict[str, set[int]] = {}

    def check(name: str, c: Contender, result: Any) -> None:
        g = by_name[name]
        assert len(result) == g.repeat, f"{name} {c.label}: {len(result)} streams, expected {g.repeat}"
        if c.key == "floor":
            for size, count in result:
                assert size == g.body_bytes, f"{name} {c.label}: {size} bytes, expected {g.body_bytes}"
                reads.setdefault(name, set()).add(count)
                if g.delivery == "per-event":  # one read per event (two for one split by a 64 KiB read)
                    assert count >= g.sse_events, f"{name}: {count} reads for {g.sse_events} events"
        else:
            for text in result:
                assert text == expected[g.events], f"{name} {c.label}: the text differs from the server's"

    # the server builds each stream on first use: fetch each once before timing anything
    print(f"Building and checking {len(groups)} streams ...", file=log, flush=True)
    for g in groups:
        floor = next(c for c in g.contenders if c.key == "floor")
        check(g.key, floor, timed(floor.run)[2])
    run_rounds([(g.key, g.contenders) for g in groups], args.rounds, check, log)
    for g in groups:
        report["streams"].append(
            {
                "key": g.key,
                "protocol": g.protocol,
                "delivery": g.delivery,
                "events": g.events,
                "repeat": g.repeat,
                "body_bytes": g.body_bytes,
                "sse_events": g.sse_events,
                "reads": max(reads.get(g.key, {0})),
                "rows": {c.key: summary(c, args.clock, g.repeat) for c in g.contenders},
            }
        )
        if g is extras:
            report["chat_extras"] = report["streams"][-1]


def measure_small(args: argparse.Namespace, clients: Clients, report: dict[str, Any], log: Any) -> None:
    def check(name: str, c: Contender, result: Any) -> None:
        assert result == _server.SMALL_TEXT, f"{c.label}: got {result!r}"

    print(f"Small requests: {args.requests:,} sequential calls ...", file=log, flush=True)
    labels = {
        "cloudsway": "cloudsway_nb  client.chat()",
        "openai": "openai SDK  create()",
        "httpx": "raw httpx  post() + .json()",
    }
    small = [
        Contender(key, labels[key], clients.small_runner(key, args.requests))
        for key in (("cloudsway", "httpx") if args.skip_openai else ("cloudsway", "openai", "httpx"))
    ]
    run_rounds([("small", small)], args.rounds, check, log)
    report["small"] = {c.key: summary(c, args.clock) for c in small}


def measure_concurrency(args: argparse.Namespace, server: ServerProcess, report: dict[str, Any], log: Any) -> None:
    print(f"Concurrent: {args.concurrent_requests:,} calls at concurrency {args.concurrency} ...", file=log, flush=True)
    labels = {
        "cloudsway": "cloudsway_nb  AsyncClient",
        "openai": "openai SDK  AsyncOpenAI + semaphore",
        "httpx": "raw httpx.AsyncClient() + semaphore",
        "httpx_pool": "  the same, cloudsway_nb's POOL_LIMITS",
    }
    keys = ["cloudsway", *([] if args.skip_openai else ["openai"]), "httpx", "httpx_pool"]
    opened: dict[str, list[int]] = {k: [] for k in keys}
    contenders = []
    for key in keys:
        inner = concurrent_runner(key, server.base_url, args.concurrent_requests, args.concurrency)

        def run(inner: Callable[[], list[str]] = inner, key: str = key) -> list[str]:
            before = server.connections()
            texts = inner()
            opened[key].append(server.connections() - before)
            return texts

        contenders.append(Contender(key, labels[key], run))

    def check(name: str, c: Contender, result: Any) -> None:
        assert len(result) == args.concurrent_requests and set(result) == {_server.SMALL_TEXT}, c.label

    run_rounds([("concurrent", contenders)], args.rounds, check, log)
    report["concurrency"] = {
        "requests": args.concurrent_requests,
        "concurrency": args.concurrency,
        "rows": {
            # wall time: what matters here is how soon the calls are all answered
            c.key: {**summary(c, "wall"), "connections": max(opened[c.key]), "connections_runs": opened[c.key]}
            for c in contenders
        },
    }


def benchmark(args: argparse.Namespace) -> dict[str, Any]:
    wall = time.perf_counter()
    log = sys.stderr if args.json else sys.stdout
    report: dict[str, Any] = {"streams": [], "chat_extras": None, "small": {}, "concurrency": None}
    server = ServerProcess()
    try:
        print(f"Server on {server.base_url}", file=log, flush=True)
        shapes = [(p, d, n) for p in args.protocols for d in args.deliveries for n in args.sizes]
        openai_path = f"/v1/ai/{_server.endpoint_path(args.deliveries[0], max(args.sizes))}"  # the chat extras'
        clients = Clients(server.base_url, shapes, not args.skip_openai, openai_path)
        try:
            # warm up: open every connection and import what each client loads lazily
            for key in ("cloudsway", "httpx") if args.skip_openai else ("cloudsway", "httpx", "openai"):
                clients.small_runner(key, 3)()
            measure_streams(args, clients, report, log)
            if args.requests:
                measure_small(args, clients, report, log)
        finally:
            clients.close()
        if args.concurrent_requests:
            measure_concurrency(args, server, report, log)
    finally:
        server.close()

    report["config"] = {
        "protocols": args.protocols,
        "sizes": args.sizes,
        "deliveries": args.deliveries,
        "batch_events": args.batch_events,
        "rounds": args.rounds,
        "requests": args.requests,
        "concurrent_requests": args.concurrent_requests,
        "concurrency": args.concurrency,
        "skip_openai": args.skip_openai,
        "clock": args.clock,
    }
    report["ratios"] = ratios(report)
    report["versions"] = versions()
    report["wall_s"] = time.perf_counter() - wall
    return report


def profile(args: argparse.Namespace) -> None:
    """cProfile the cloudsway_nb side of one stream (or `--requests` small calls); print the top functions."""
    events, delivery = max(args.sizes), args.deliveries[0]
    protocol = args.profile
    shapes = [] if protocol == "small" else [(protocol, delivery, events)]
    server = ServerProcess()
    try:
        clients = Clients(server.base_url, shapes, False, None)
        try:
            clients.small_runner("cloudsway", 3)()
            if protocol == "small":
                fn: Callable[[], Any] = clients.small_runner("cloudsway", args.requests)
            else:
                clients.httpx_floor(protocol, delivery, events, 1)()  # the server builds the stream
                fn = clients.cloudsway_stream(alias(protocol, delivery, events), events, 1)
            profiler = cProfile.Profile()
            gc.collect()
            started = time.perf_counter()
            profiler.runcall(fn)
            elapsed = time.perf_counter() - started
        finally:
            clients.close()
    finally:
        server.close()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).strip_dirs()
    stats.sort_stats("tottime").print_stats(args.top)
    stats.sort_stats("cumulative").print_stats(args.top)
    what = "small" if protocol == "small" else f"{protocol} stream ({delivery}, {events:,} events)"
    print(f"cloudsway_nb {what}: {elapsed:.3f} s under cProfile (inflated by the profiler)")
    print(out.getvalue())


def _choices(allowed: tuple[str, ...]) -> Callable[[str], list[str]]:
    def parse(text: str) -> list[str]:
        items = [t.strip() for t in text.split(",") if t.strip()]
        bad = [t for t in items if t not in allowed]
        if bad or not items:
            raise argparse.ArgumentTypeError(f"choose from {', '.join(allowed)} (comma-separated), not {text!r}")
        return items

    return parse


def _sizes(text: str) -> list[int]:
    try:
        sizes = [int(t.replace("_", "")) for t in text.split(",") if t.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"sizes are comma-separated integers, not {text!r}") from None
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError("sizes must be at least 1")
    return sizes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--protocols",
        type=_choices(_server.PROTOCOLS),
        default=list(_server.PROTOCOLS),
        help="comma-separated protocols to stream (all four)",
    )
    parser.add_argument("--sizes", type=_sizes, default=[2_000, 100_000], help="text events per stream (2000,100000)")
    parser.add_argument(
        "--deliveries",
        type=_choices(_server.DELIVERIES),
        default=list(_server.DELIVERIES),
        help="large (content-length, large reads) and/or per-event (one chunk, so one read, per event)",
    )
    parser.add_argument(
        "--batch-events",
        type=int,
        default=50_000,
        help="short streams are repeated within a timed run up to this many events (50,000)",
    )
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds; medians are reported (5)")
    parser.add_argument("--requests", type=int, default=2_000, help="small sequential calls per run (2,000; 0: skip)")
    parser.add_argument(
        "--concurrent-requests", type=int, default=1_000, help="small calls of the concurrent run (1,000; 0: skip)"
    )
    parser.add_argument("--concurrency", type=int, default=32, help="calls in flight in the concurrent run (32)")
    parser.add_argument(
        "--clock",
        choices=("cpu", "wall"),
        default="cpu",
        help="time the streams and small calls by this process's CPU time (immune to other processes "
        "taking turns on the CPU) or by the wall clock (cpu)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON document (progress goes to stderr)")
    parser.add_argument(
        "--skip-openai", action="store_true", help="leave the (slow) openai SDK out, e.g. while optimizing"
    )
    parser.add_argument(
        "--profile",
        choices=(*_server.PROTOCOLS, "small"),
        help="instead of benchmarking, cProfile the cloudsway_nb side of one stream of the largest size",
    )
    parser.add_argument("--top", type=int, default=25, help="rows of profile output (25)")
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.requests < 0 or args.concurrent_requests < 0 or args.concurrency < 1:
        parser.error("--rounds and --concurrency must be at least 1, --requests and --concurrent-requests at least 0")
    if args.profile:
        if args.profile == "small" and args.requests < 1:
            parser.error("--profile small needs --requests >= 1")
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
