"""How fast a batch may go: a concurrency limit that backs off and recovers, and RPM / TPM limits.

`AdaptiveLimiter` gives each request a slot (`async with limiter.slot(tokens)`). The limits are
the configured ones (`concurrency`, `rpm`, `tpm`), lowered by what the gateway says: a 429
halves the concurrency and pauses every new request for its `retry-after`; `x-ratelimit-limit-*`
headers set RPM / TPM limits when none were configured, and `x-ratelimit-remaining-requests: 0`
pauses until `x-ratelimit-reset-requests`. Each run of successes as long as the current limit
raises it by one again, up to the configured concurrency (additive increase, multiplicative
decrease, as TCP does). RPM and TPM are leaky buckets (`aiolimiter`) that hold one second's worth,
so a run starts at the limit's pace rather than with a minute's requests at once.

Limits hold per process: Dask workers each have their own limiter (see the README).

Example:
    >>> import asyncio
    >>> limiter = AdaptiveLimiter(concurrency=8)
    >>> limiter.observe(429, {"retry-after": "0"})
    >>> limiter.limit, limiter.throttled
    (4, 1)
    >>> for _ in range(4):
    ...     limiter.observe(200, {})
    >>> limiter.limit
    5
"""

from __future__ import annotations

import asyncio
import math
import re
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from .errors import bad_argument

__all__ = ["AdaptiveLimiter", "check_limit"]


def check_limit(name: str, value: Any, example: str) -> int | None:
    """A positive whole number (or None: no limit) for concurrency, rpm, tpm.

    Example:
        >>> check_limit("rpm", 600, "rpm=600"), check_limit("rpm", None, "rpm=600")
        (600, None)
    """
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise bad_argument(name, value, "a whole number, 1 or more (or None for no limit)", example)
    return value


def _seconds(text: str | None) -> float | None:
    """`x-ratelimit-reset-*` values: "1s", "6m0s", "20ms", "0.5", or None."""
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        pass
    units = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
    parts = re.findall(r"([\d.]+)(ms|s|m|h)", text)
    return sum(float(n) * units[u] for n, u in parts) if parts else None


def _int(text: str | None) -> int | None:
    try:
        return int(float(text)) if text else None
    except ValueError:
        return None


class AdaptiveLimiter:
    """Slots for requests under a concurrency limit, RPM and TPM, adapted to the gateway's answers."""

    def __init__(self, concurrency: int = 32, rpm: int | None = None, tpm: int | None = None) -> None:
        self.max_concurrency = concurrency
        self.limit = concurrency
        self.rpm, self.tpm = rpm, tpm
        self._configured = (rpm is not None, tpm is not None)
        self._rpm_bucket = self._bucket(rpm)
        self._tpm_bucket = self._bucket(tpm)
        self.in_flight = 0
        self.throttled = 0  # 429s seen and pauses taken
        self._successes = 0
        self._resume_at = 0.0
        self._changed: asyncio.Condition | None = None  # made in the running loop

    @staticmethod
    def _bucket(rate: int | None) -> Any:
        """A leaky bucket for `rate` a minute holding one second's worth (at least one): gateways count
        per-minute limits over short windows, so a whole minute's requests sent at once would meet 429s."""
        if rate is None:
            return None
        from aiolimiter import AsyncLimiter

        burst = max(1, math.ceil(rate / 60))
        return AsyncLimiter(burst, 60.0 * burst / rate)

    @asynccontextmanager
    async def slot(self, tokens: int = 0) -> AsyncIterator[None]:
        """Wait for a slot (and the RPM / TPM budget of one request of `tokens`), hold it meanwhile."""
        changed = self._condition()
        async with changed:
            while self.in_flight >= self.limit:
                await changed.wait()
            self.in_flight += 1
        try:
            await self._pause()
            if self._rpm_bucket is not None:
                await self._rpm_bucket.acquire(1)
            bucket = self._tpm_bucket
            while bucket is not None and tokens > 0:  # a request larger than the bucket takes it in turns
                await bucket.acquire(min(tokens, bucket.max_rate))
                tokens -= bucket.max_rate
            yield
        finally:
            async with changed:
                self.in_flight -= 1
                changed.notify_all()

    def _condition(self) -> asyncio.Condition:
        if self._changed is None:
            self._changed = asyncio.Condition()
        return self._changed

    async def _pause(self) -> None:
        while (wait := self._resume_at - time.monotonic()) > 0:
            await asyncio.sleep(wait)

    def observe(self, status: int | None, headers: Mapping[str, str]) -> None:
        """Learn from one answer: a 429 backs off, successes recover, rate-limit headers set limits."""
        self._learn_limits(headers)
        if status == 429:
            self.throttled += 1
            self._successes = 0
            self.limit = max(1, self.limit // 2)
            ms = _seconds(headers.get("retry-after-ms"))
            wait = ms / 1000 if ms is not None else _seconds(headers.get("retry-after"))
            if wait:
                self._resume_at = max(self._resume_at, time.monotonic() + min(wait, 60.0))
            return
        if status is not None and status < 400:
            if headers.get("x-ratelimit-remaining-requests") == "0":
                reset = _seconds(headers.get("x-ratelimit-reset-requests"))
                if reset:
                    self.throttled += 1
                    self._resume_at = max(self._resume_at, time.monotonic() + min(reset, 60.0))
            self._successes += 1
            if self._successes >= self.limit and self.limit < self.max_concurrency:
                self.limit += 1
                self._successes = 0
                self._wake()

    def _wake(self) -> None:
        changed = self._changed
        if changed is None:
            return

        async def notify() -> None:
            async with changed:
                changed.notify_all()

        try:
            asyncio.get_running_loop().create_task(notify())
        except RuntimeError:  # no loop running (a doctest): nobody waits
            pass

    def _learn_limits(self, headers: Mapping[str, str]) -> None:
        rpm, tpm = _int(headers.get("x-ratelimit-limit-requests")), _int(headers.get("x-ratelimit-limit-tokens"))
        if rpm and not self._configured[0] and rpm != self.rpm:
            self.rpm, self._rpm_bucket = rpm, self._bucket(rpm)
        if tpm and not self._configured[1] and tpm != self.tpm:
            self.tpm, self._tpm_bucket = tpm, self._bucket(tpm)

    def __repr__(self) -> str:
        return f"AdaptiveLimiter(limit={self.limit}/{self.max_concurrency}, rpm={self.rpm}, tpm={self.tpm})"
