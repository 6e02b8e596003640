"""Retry decisions and delays, with a fake clock and fake randomness (no sleeping)."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime

import pytest

from cloudsway_nb.retry import RetryPolicy

POLICY = RetryPolicy()


@pytest.mark.parametrize("status", [408, 409, 429, 500, 502, 503, 504, 529])
def test_retryable_statuses(status: int) -> None:
    assert POLICY.should_retry(status, {})


@pytest.mark.parametrize("status", [400, 401, 403, 404, 413, 422])
def test_client_errors_are_not_retried(status: int) -> None:
    assert not POLICY.should_retry(status, {})


def test_connection_errors_are_retried() -> None:
    assert POLICY.should_retry(None, {})


def test_x_should_retry_header_wins_both_ways() -> None:
    assert POLICY.should_retry(400, {"x-should-retry": "true"})
    assert not POLICY.should_retry(503, {"x-should-retry": "false"})
    assert not POLICY.should_retry(None, {"x-should-retry": "false"})


def test_retry_after_ms_is_preferred() -> None:
    assert POLICY.delay(0, {"retry-after-ms": "250", "retry-after": "9"}) == 0.25


def test_retry_after_seconds_and_http_date() -> None:
    assert POLICY.delay(3, {"retry-after": "2.5"}) == 2.5
    now = 1_700_000_000.0
    date = format_datetime(datetime.fromtimestamp(now + 7, tz=UTC), usegmt=True)
    assert POLICY.delay(0, {"retry-after": date}, now=lambda: now) == pytest.approx(7.0)


@pytest.mark.parametrize("header", ["0", "-3", "61", "1000", "soon", ""])
def test_out_of_range_or_garbled_retry_after_falls_back_to_backoff(header: str) -> None:
    assert POLICY.delay(0, {"retry-after": header}, rand=lambda: 0.0) == 0.5


def test_exponential_backoff_is_capped_and_jittered() -> None:
    no_jitter = [POLICY.delay(k, {}, rand=lambda: 0.0) for k in range(6)]
    assert no_jitter == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0]
    full_jitter = [POLICY.delay(k, {}, rand=lambda: 1.0) for k in range(6)]
    assert full_jitter == [d * 0.75 for d in no_jitter]


def test_policy_is_configurable() -> None:
    policy = RetryPolicy(max_retries=5, initial_delay=0.1, max_delay=0.3, jitter=0.0)
    assert [policy.delay(k, {}) for k in range(4)] == [0.1, 0.2, 0.3, 0.3]
    assert policy.with_(max_retries=0).max_retries == 0
