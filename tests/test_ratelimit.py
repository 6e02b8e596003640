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


def test_rpm_and_tpm_let_one_seconds_worth_through_at_once_not_a_minutes():
    limiter = AdaptiveLimiter(concurrency=100, rpm=600, tpm=60_000)

    async def main() -> tuple[bool, bool, float, float]:
        for _ in range(10):  # 600 a minute: 10 a second
            await limiter._rpm_bucket.acquire(1)
        await limiter._tpm_bucket.acquire(1000)
        return (limiter._rpm_bucket.has_capacity(1), limiter._tpm_bucket.has_capacity(1),
                limiter._rpm_bucket.max_rate / limiter._rpm_bucket.time_period * 60,
                limiter._tpm_bucket.max_rate / limiter._tpm_bucket.time_period * 60)

    rpm_left, tpm_left, rpm, tpm = asyncio.run(main())
    assert not rpm_left and not tpm_left  # the 11th request of the first second waits
    assert rpm == pytest.approx(600) and tpm == pytest.approx(60_000)  # the same rate over the minute
    slow = AdaptiveLimiter(rpm=3)._rpm_bucket
    assert (slow.max_rate, slow.time_period) == (1, 20.0)


def test_a_request_larger_than_the_token_bucket_takes_it_in_turns():
    limiter = AdaptiveLimiter(concurrency=4, tpm=600)  # 10 tokens a second

    async def main() -> None:
        async def no_wait(amount: float = 1) -> None:
            taken.append(amount)

        limiter._tpm_bucket.acquire = no_wait
        async with limiter.slot(tokens=25):
            pass

    taken: list[float] = []
    asyncio.run(main())
    assert taken == [10, 10, 5]
