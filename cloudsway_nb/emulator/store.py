"""A bounded in-memory store of Responses-API responses, with background progress by the clock.

A background response is ``queued`` for ``queued_for`` seconds, then ``in_progress`` for
``running_for`` seconds, then ``completed`` (or ``incomplete``); a cancel freezes it as
``cancelled`` (``cancelled_at`` records when, so a stream shows what was due before it). The
final object and its full event list are computed at creation, so a retrieve or a resumed
stream only chooses what to show.

Example:
    >>> store = ResponseStore(capacity=2)
    >>> entry = store.put(StoredResponse("resp_1", {"id": "resp_1", "status": "completed"}, [], [], 0.0))
    >>> store.get("resp_1") is entry
    True
"""

from __future__ import annotations

import copy
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from .conversation import Turn

__all__ = ["ResponseStore", "StoredResponse"]


@dataclass
class StoredResponse:
    """One stored response: its final object, its stream events and the conversation so far.

    Example:
        >>> s = StoredResponse("r", {"status": "completed"}, [], [], time.monotonic())
        >>> s.status(0.0, 0.0)
        'completed'
    """

    id: str
    final: dict[str, Any]
    events: list[dict[str, Any]]
    turns: list[Turn]
    started: float
    background: bool = False
    cancelled: bool = False
    extra: dict[str, Any] = field(default_factory=dict)
    cancelled_at: float | None = None

    def cancel(self, now: float | None = None) -> None:
        """Freeze the response as ``cancelled`` (``now``: monotonic seconds, for the stream timeline)."""
        if not self.cancelled:
            self.cancelled_at = time.monotonic() if now is None else now
            self.cancelled = True

    def status(self, queued_for: float, running_for: float, now: float | None = None) -> str:
        """The status at time ``now`` (monotonic seconds)."""
        if self.cancelled:
            return "cancelled"
        if not self.background:
            return str(self.final.get("status", "completed"))
        elapsed = (time.monotonic() if now is None else now) - self.started
        if elapsed < queued_for:
            return "queued"
        if elapsed < queued_for + running_for:
            return "in_progress"
        return str(self.final.get("status", "completed"))

    def snapshot(self, queued_for: float, running_for: float) -> dict[str, Any]:
        """The response object as a retrieve shows it now."""
        status = self.status(queued_for, running_for)
        if status in ("completed", "incomplete", "failed") and not self.cancelled:
            return copy.deepcopy(self.final)
        shown = copy.deepcopy(self.final)
        shown.update(status=status, output=[], usage=None, incomplete_details=None)
        return shown


class ResponseStore:
    """Thread-safe, bounded (oldest evicted first) map of response id to :class:`StoredResponse`.

    Example:
        >>> ResponseStore().get("missing") is None
        True
    """

    def __init__(self, capacity: int = 1000) -> None:
        self.capacity = max(1, capacity)
        self._items: OrderedDict[str, StoredResponse] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, entry: StoredResponse) -> StoredResponse:
        """Store (or replace) an entry and return it."""
        with self._lock:
            self._items.pop(entry.id, None)
            self._items[entry.id] = entry
            while len(self._items) > self.capacity:
                self._items.popitem(last=False)
        return entry

    def get(self, response_id: str) -> StoredResponse | None:
        """The entry, or None."""
        with self._lock:
            return self._items.get(response_id)

    def delete(self, response_id: str) -> bool:
        """Remove an entry; True if it was there."""
        with self._lock:
            return self._items.pop(response_id, None) is not None

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)
