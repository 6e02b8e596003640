"""The session ledger: one entry per call, successful, failed or interrupted, and its totals.

A `Ledger` is a thread-safe list of `LedgerEntry` (calls of `ask_many` run in threads). Entries
hold token counts, timings, the one-line error of a failed call (never the key) and which
conversation the call belonged to. `frames.ledger_frame` shows it as a DataFrame.

Example:
    >>> ledger = Ledger()
    >>> ledger.append(LedgerEntry(endpoint="gpt", protocol="chat", input=3, output=4))
    >>> ledger.append(LedgerEntry(endpoint="gpt", protocol="chat", status="error", error="ServerError: 500 boom"))
    >>> len(ledger), [e.status for e in ledger], ledger.totals()["gpt"].total
    (2, ['ok', 'error'], 7)
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, overload

from .types import Usage

__all__ = ["LEDGER_COLUMNS", "Ledger", "LedgerEntry"]

LEDGER_COLUMNS = (
    "time", "endpoint", "protocol", "model", "status", "input", "output", "reasoning", "cached", "total",
    "estimated", "latency", "ttft", "finish_reason", "error", "request_id", "chat", "response_id", "cost", "polls",
    "tool",
)
"""The ledger's columns, in the order its DataFrame shows them."""


@dataclass(slots=True)
class LedgerEntry:
    """One call in the session ledger (successful, failed or interrupted).

    `status` is "ok", "interrupted" (stopped by the user: the counts are what the server sent, else
    estimated) or "error" (`error` is then one key-free line). Token counts are the normalized
    Usage; `estimated` is true when some were estimated because the server sent none
    (`cloudsway_nb.estimate`). A tool call of the agent loop has `tool` set, no tokens, and
    "timeout" or "rejected" as statuses too.

    Example:
        >>> LedgerEntry(endpoint="gpt", protocol="chat", status="ok", input=3, output=4).total
        7
    """

    endpoint: str
    protocol: str | None = None
    model: str | None = None
    status: str = "ok"
    input: int | None = None
    output: int | None = None
    reasoning: int | None = None
    cached: int | None = None
    total: int | None = None
    estimated: bool = False
    latency: float | None = None
    ttft: float | None = None
    finish_reason: str | None = None
    error: str | None = None
    request_id: str | None = None
    chat: str | None = None
    response_id: str | None = None
    cost: float | None = None
    polls: int | None = None
    tool: str | None = None  # a tool call of the agent loop (`cloudsway_nb.agent`): the tool's name
    time: datetime = field(default_factory=lambda: datetime.now(UTC))

    def __post_init__(self) -> None:
        if self.total is None and self.input is not None and self.output is not None:
            self.total = self.input + self.output

    @property
    def usage(self) -> Usage:
        """The entry's token counts as a Usage."""
        return Usage(input=self.input, output=self.output, reasoning=self.reasoning, cached=self.cached,
                     total=self.total, estimated=self.estimated)

    def to_dict(self) -> dict[str, Any]:
        """The entry as a flat dict (one ledger row)."""
        return {name: getattr(self, name) for name in LEDGER_COLUMNS}


def usage_counts(usage: Usage) -> dict[str, int | None]:
    """A Usage as LedgerEntry keyword arguments."""
    return {"input": usage.input, "output": usage.output, "reasoning": usage.reasoning, "cached": usage.cached,
            "total": usage.total}


class Ledger:
    """Every call of a session, in order; safe to append to from several threads."""

    def __init__(self) -> None:
        self._entries: list[LedgerEntry] = []
        self._lock = threading.Lock()

    def append(self, entry: LedgerEntry) -> None:
        with self._lock:
            self._entries.append(entry)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def totals(self) -> dict[str, Usage]:
        """Summed usage per endpoint, failed and interrupted calls included (they cost tokens too)."""
        totals: dict[str, Usage] = {}
        for e in list(self._entries):
            totals[e.endpoint] = totals[e.endpoint] + e.usage if e.endpoint in totals else e.usage
        return totals

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[LedgerEntry]:
        return iter(list(self._entries))

    @overload
    def __getitem__(self, i: int) -> LedgerEntry: ...
    @overload
    def __getitem__(self, i: slice) -> list[LedgerEntry]: ...
    def __getitem__(self, i: int | slice) -> LedgerEntry | list[LedgerEntry]:
        return self._entries[i]

    def __repr__(self) -> str:
        return f"Ledger({len(self)} calls)"
