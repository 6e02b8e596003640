"""When to retry a failed request, and how long to wait first. Pure: no clock, no sleeping.

The rules meet the official SDKs' (openai-python, anthropic-sdk-python): retry connection errors,
timeouts, 408, 409, 429 and >= 500, or whenever the server sends `x-should-retry: true`; never
when it sends `x-should-retry: false`. Wait what `retry-after-ms` or `retry-after` (seconds or an
HTTP date) asks when that is between 0 and `max_retry_after` seconds, else back off
exponentially with jitter: `min(initial * 2**attempt, max_delay) * (1 - jitter * random())`.

Example:
    >>> policy = RetryPolicy(max_retries=2)
    >>> policy.should_retry(429, {})
    True
    >>> policy.delay(0, {"retry-after": "3"})
    3.0
    >>> 0.375 <= policy.delay(0, {}, rand=lambda: 0.5) <= 0.5
    True
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from email.utils import parsedate_to_datetime

__all__ = ["RETRYABLE_STATUSES", "RetryPolicy"]

RETRYABLE_STATUSES = frozenset({408, 409, 429})


@dataclass(frozen=True)
class RetryPolicy:
    """How many times to retry and how to space the tries. Set per client, override per call.

    Example:
        >>> RetryPolicy().with_(max_retries=5).max_retries
        5
    """

    max_retries: int = 2
    initial_delay: float = 0.5
    max_delay: float = 8.0
    jitter: float = 0.25
    max_retry_after: float = 60.0

    def with_(self, **changes: float) -> RetryPolicy:
        """A copy with some fields changed."""
        return replace(self, **changes)

    def should_retry(self, status: int | None, headers: Mapping[str, str]) -> bool:
        """Whether a failure is worth another try. `status` None means a connection error or timeout."""
        hint = headers.get("x-should-retry")
        if hint == "true":
            return True
        if hint == "false":
            return False
        if status is None:
            return True
        return status in RETRYABLE_STATUSES or status >= 500

    def delay(
        self,
        attempt: int,
        headers: Mapping[str, str],
        *,
        rand: Callable[[], float] = random.random,
        now: Callable[[], float] = time.time,
    ) -> float:
        """Seconds to wait before retry number `attempt + 1` (attempt counts from 0)."""
        asked = self._retry_after(headers, now)
        if asked is not None and 0 < asked <= self.max_retry_after:
            return asked
        base = min(self.initial_delay * 2.0**attempt, self.max_delay)
        return base * (1 - self.jitter * rand())

    @staticmethod
    def _retry_after(headers: Mapping[str, str], now: Callable[[], float]) -> float | None:
        ms = headers.get("retry-after-ms")
        if ms:
            try:
                return float(ms) / 1000.0
            except ValueError:
                pass
        value = headers.get("retry-after")
        if not value:
            return None
        try:
            return float(value)
        except ValueError:
            pass
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        return when.timestamp() - now()
