"""Load: at least 100 concurrent streaming requests on loopback complete, in bounded time."""

from __future__ import annotations

import asyncio
import json
import time

import httpx
from emulator_samples import KEY

from cloudsway_nb.emulator.testing import running_emulator

CONCURRENT = 120


async def _one(client: httpx.AsyncClient, index: int) -> str:
    body = {"messages": [{"role": "user", "content": f"Request number {index} streams"}], "stream": True}
    text = []
    async with client.stream("POST", "/v1/ai/load/chat/completions", json=body) as response:
        assert response.status_code == 200
        async for line in response.aiter_lines():
            if line.startswith("data: ") and line != "data: [DONE]":
                delta = json.loads(line[6:])["choices"][0]["delta"]
                text.append(delta.get("content") or "")
            elif line == "data: [DONE]":
                text.append("<done>")
    return "".join(text)


async def _run(base_url: str) -> list[str]:
    limits = httpx.Limits(max_connections=CONCURRENT, max_keepalive_connections=CONCURRENT)
    async with httpx.AsyncClient(
        base_url=base_url, headers={"Authorization": f"Bearer {KEY}"}, limits=limits, timeout=30
    ) as client:
        return await asyncio.gather(*(_one(client, i) for i in range(CONCURRENT)))


def test_many_concurrent_streams_complete() -> None:
    # a small chunk delay keeps every stream open at the same time
    with running_emulator(chunk_delay=0.01) as url:
        start = time.perf_counter()
        replies = asyncio.run(_run(url))
        elapsed = time.perf_counter() - start
    assert len(replies) == CONCURRENT
    for index, reply in enumerate(replies):
        assert reply == f"You said: Request number {index} streams.<done>"
    assert elapsed < 30
