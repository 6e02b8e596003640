"""The emulator options the batch tests and benchmark use: latency, faults limited to some requests,
a 400 fault, and the request / connection counts."""

from __future__ import annotations

import asyncio

import httpx

from cloudsway_nb.emulator import create_app
from cloudsway_nb.emulator.cli import build_parser, options_from_args

AUTH = {"Authorization": "Bearer k"}
PATH = "/v1/ai/gpt/chat/completions"


def _posts(app, bodies: list[str]) -> list[httpx.Response]:
    async def run() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://emu") as client:
            return [await client.post(PATH, headers=AUTH, json={"messages": [{"role": "user", "content": b}]})
                    for b in bodies]

    return asyncio.run(run())


def test_latency_is_waited_before_every_reply_errors_included():
    app = create_app(latency=0.1, fault="429", fault_match="row 2")
    waited: list[float] = []

    async def record(seconds: float) -> None:
        waited.append(seconds)

    app.sleep = record
    replies = _posts(app, ["row 1", "row 2"])
    assert [r.status_code for r in replies] == [200, 429]
    assert waited == [0.1, 0.1]


def test_faults_hit_only_matching_requests_and_only_so_many_times():
    app = create_app(fault="400", fault_match="row 2", fault_times=2)
    replies = _posts(app, ["row 1", "row 2", "row 2", "row 2"])
    assert [r.status_code for r in replies] == [200, 400, 400, 200]
    assert "emulated fault" in replies[1].json()["error"]["message"]


def test_requests_and_connections_are_counted():
    app = create_app()
    _posts(app, ["a", "b", "c"])
    stats = app.stats()
    assert stats["requests"] == 3 and stats["paths"] == {PATH: 3} and stats["connections"] == 1

    async def stats_route() -> dict:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://emu") as client:
            return (await client.get("/emulator/stats")).json()

    assert asyncio.run(stats_route())["requests"] == 3  # the stats route itself is not counted
    app.reset_stats()
    assert app.stats()["requests"] == 0


def test_the_command_line_takes_them():
    args = build_parser().parse_args(["--latency", "0.1", "--fault", "429", "--fault-match", "x", "--fault-times", "1"])
    options = options_from_args(args)
    assert (options.latency, options.fault_match, options.fault_times) == (0.1, "x", 1)
