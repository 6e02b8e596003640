"""The batch's adaptive limiter: 429s back the concurrency off, successes bring it back, headers set limits."""

from __future__ import annotations

import asyncio

import pytest

from cloudsway_nb.errors import UsageError
from cloudsway_nb.ratelimit import AdaptiveLimiter, check_limit


def test_429s_halve_the_concurrency_and_successes_recover_it():
    limiter = AdaptiveLimiter(concurrency=16)
    limiter.observe(429, {})
    limiter.observe(429, {})
    assert limiter.limit == 4 and limiter.throttled == 2
    for _ in range(200):
        limiter.observe(200, {})
    assert limiter.limit == 16  # back to the configured ceiling, never above


def test_a_429_pauses_new_requests_for_its_retry_after():
    limiter = AdaptiveLimiter(concurrency=4)
    limiter.observe(429, {"retry-after-ms": "30000"})
    assert limiter._resume_at > 0

    async def acquire() -> None:
        async with limiter.slot():
            pass

    async def main() -> bool:
        task = asyncio.ensure_future(acquire())
        done, _ = await asyncio.wait({task}, timeout=0.05)
        task.cancel()
        return bool(done)

    assert asyncio.run(main()) is False  # still paused


def test_rate_limit_headers_set_rpm_and_tpm_unless_configured():
    learnt = AdaptiveLimiter(concurrency=4)
    learnt.observe(200, {"x-ratelimit-limit-requests": "500", "x-ratelimit-limit-tokens": "30000"})
    assert (learnt.rpm, learnt.tpm) == (500, 30000)
    configured = AdaptiveLimiter(concurrency=4, rpm=60)
    configured.observe(200, {"x-ratelimit-limit-requests": "500"})
    assert configured.rpm == 60


def test_the_concurrency_limit_holds():
    limiter = AdaptiveLimiter(concurrency=3)
    peak = [0]

    async def one() -> None:
        async with limiter.slot():
            peak[0] = max(peak[0], limiter.in_flight)
            await asyncio.sleep(0)

    async def main() -> None:
        await asyncio.gather(*(one() for _ in range(20)))

    asyncio.run(main())
    assert peak[0] == 3 and limiter.in_flight == 0


def test_limits_are_checked_where_read():
    with pytest.raises(UsageError, match="rpm"):
        check_limit("rpm", 0, "rpm=600")
