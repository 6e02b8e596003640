"""Options that steer a call rather than go on the wire, and reasoning efforts: checked where read.

`Client(...)` takes client-wide `timeout`, `connect_timeout`, `max_retries` and `retry`; each call
may override them and add the background-polling options. `split_call_options` takes them out
of a call's keyword arguments and checks each one, so a bad value is one clear `UsageError`
before anything is sent, the same for `Client` and `AsyncClient`.

Example:
    >>> options, params = split_call_options({"timeout": 30, "temperature": 0.2})
    >>> options, params
    ({'timeout': 30.0}, {'temperature': 0.2})
    >>> check_timeout("30")
    Traceback (most recent call last):
    ...
    cloudsway_nb.errors.UsageError: timeout='30' (str) is not valid: it takes a positive number of seconds, \
or None for no limit; e.g. timeout=30
"""

from __future__ import annotations

import math
from typing import Any

from .errors import bad_argument
from .retry import RetryPolicy

__all__ = [
    "CALL_OPTIONS",
    "REASONING_EFFORTS",
    "check_reasoning",
    "check_retries",
    "check_seconds",
    "check_timeout",
    "split_call_options",
]

CALL_OPTIONS = (
    "timeout",
    "connect_timeout",
    "max_retries",
    "retry",
    "poll_interval",
    "poll_timeout",
    "on_progress",
    "wait",
)
"""Keyword arguments of chat()/stream()/embed() that steer the client rather than go on the wire."""

REASONING_EFFORTS = ("minimal", "low", "medium", "high", "max")
"""The reasoning efforts every layer takes (`reasoning=` in Python, `-r` in the magic, the panel's
setting); each protocol adapter maps them to its own field. A token budget (an int) works too."""


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def check_timeout(value: Any, name: str = "timeout") -> Any:
    """A timeout in seconds as a float, None (no limit), or an httpx.Timeout as given.

    Zero is refused too: it would fail every request at once.

    Example:
        >>> check_timeout(5), check_timeout(None)
        (5.0, None)
    """
    if value is None or hasattr(value, "as_dict"):  # hasattr: an httpx.Timeout, taken as it is
        return value
    if not _is_number(value) or value <= 0:
        raise bad_argument(name, value, "a positive number of seconds, or None for no limit", f"{name}=30")
    return float(value)


def check_seconds(value: Any, name: str) -> float:
    """A positive number of seconds (poll_interval, poll_timeout).

    Example:
        >>> check_seconds(2, "poll_interval")
        2.0
    """
    if not _is_number(value) or value <= 0:
        raise bad_argument(name, value, "a positive number of seconds", f"{name}=2")
    return float(value)


def check_retries(value: Any, name: str = "max_retries") -> int:
    """A retry count: an int from 0 up.

    Example:
        >>> check_retries(0)
        0
    """
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise bad_argument(name, value, "a whole number of retries, 0 or more", f"{name}=2")
    return value


def _check_option(name: str, value: Any) -> Any:
    if name in ("timeout", "connect_timeout"):
        return check_timeout(value, name)
    if name == "max_retries":
        return check_retries(value)
    if name in ("poll_interval", "poll_timeout"):
        return check_seconds(value, name)
    if name == "retry":
        if not isinstance(value, RetryPolicy):
            raise bad_argument("retry", value, "a RetryPolicy", "retry=RetryPolicy(max_retries=5)")
        return value
    if name == "on_progress":
        if value is not None and not callable(value):
            raise bad_argument("on_progress", value, "a function called with each polled Reply", "on_progress=print")
        return value
    if not isinstance(value, bool):  # wait
        raise bad_argument("wait", value, "True or False", "wait=False")
    return value


def split_call_options(params: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(options, wire parameters): the CALL_OPTIONS taken out of `params` and checked, and the rest.

    Example:
        >>> split_call_options({"max_retries": "2"})
        Traceback (most recent call last):
        ...
        cloudsway_nb.errors.UsageError: max_retries='2' (str) is not valid: it takes a whole number of retries, \
0 or more; e.g. max_retries=2
    """
    options = {k: _check_option(k, params[k]) for k in CALL_OPTIONS if k in params}
    rest = {k: v for k, v in params.items() if k not in options}
    return options, rest


def check_reasoning(value: Any) -> Any:
    """`reasoning=` as the adapters take it: an effort name (lower case), a token budget (int),
    a protocol's own dict, True, or None/False/0 for off.

    Example:
        >>> check_reasoning("Minimal"), check_reasoning("2048"), check_reasoning(None)
        ('minimal', 2048, None)
        >>> check_reasoning("extreme")
        Traceback (most recent call last):
        ...
        cloudsway_nb.errors.UsageError: reasoning='extreme' (str) is not valid: it takes minimal, low, medium, \
high, max, or a token budget; e.g. reasoning='low' or reasoning=2048
    """
    if value is None or isinstance(value, bool | dict):
        return value
    if isinstance(value, str):
        effort = value.strip().lower()
        if effort in REASONING_EFFORTS:
            return effort
        if effort.isdigit():
            return int(effort)
    elif isinstance(value, int) and value >= 0:
        return value
    raise bad_argument(
        "reasoning", value, f"{', '.join(REASONING_EFFORTS)}, or a token budget", "reasoning='low' or reasoning=2048"
    )
