"""Coalescing updates: push at most `rate` times a second, never lose the last one.

Every assignment to a synced trait is one comm message with the whole value, and Jupyter drops
iopub messages above about 1,000 a second; a stream pokes once per token. `Coalescer` runs its
`push` at once when the interval has passed, otherwise schedules one trailing push for the end of
the interval (so the screen catches up when tokens pause), and `flush()` pushes whatever is
pending immediately (the final state is always sent). It is thread-safe: a stream may poke from a
worker thread while the kernel's thread handles a Stop click.

Example:
    >>> pushed = []
    >>> timers = []
    >>> c = Coalescer(lambda: pushed.append(len(pushed)), rate=10, clock=iter([0.0, 0.01, 0.02, 0.1]).__next__,
    ...               timer=lambda delay, fn: timers.append((round(delay, 2), fn)) or _NoTimer())
    >>> c.poke(); c.poke(); c.poke()
    >>> pushed, [d for d, _ in timers]
    ([0], [0.09])
    >>> timers[0][1](); pushed
    [0, 1]
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

__all__ = ["Coalescer", "TimerHandle"]


class TimerHandle(Protocol):
    def cancel(self) -> None: ...


class _NoTimer:
    def cancel(self) -> None:
        pass


def _thread_timer(delay: float, fn: Callable[[], None]) -> TimerHandle:
    timer = threading.Timer(delay, fn)
    timer.daemon = True
    timer.start()
    return timer


class Coalescer:
    """Calls `push()` at most `rate` times a second however often `poke()` is called.

    `timer(delay, fn)` schedules the trailing push (a daemon `threading.Timer` by default; tests
    pass a fake, with a fake `clock`). `pushes` counts the pushes made.

    Example:
        >>> out = []
        >>> c = Coalescer(lambda: out.append("push"), rate=0)   # rate 0: no limit
        >>> c.poke(); c.poke(); c.flush(); out
        ['push', 'push']
    """

    def __init__(
        self,
        push: Callable[[], None],
        rate: float = 15.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        timer: Callable[[float, Callable[[], None]], TimerHandle] = _thread_timer,
    ) -> None:
        self.push = push
        self.interval = 1.0 / rate if rate and rate > 0 else 0.0
        self.clock = clock
        self.timer = timer
        self.pushes = 0
        self._last: float | None = None
        self._dirty = False
        self._pending: TimerHandle | None = None
        self._closed = False
        self._lock = threading.RLock()

    def poke(self) -> None:
        """Something changed: push now if the interval has passed, else make sure a push follows."""
        with self._lock:
            if self._closed:
                return
            self._dirty = True
            now = self.clock()
            if self._last is None or now - self._last >= self.interval:
                self._push(now)
            elif self._pending is None:
                self._pending = self.timer(self.interval - (now - self._last), self._trailing)

    def flush(self) -> None:
        """Push now if anything is pending (whatever the rate says) and cancel the trailing push."""
        with self._lock:
            self._cancel()
            if self._dirty:
                self._push(self.clock())

    def close(self, *, flush: bool = True) -> None:
        """Ignore later pokes (the stream has finished), after a last flush unless `flush=False`
        (the caller is about to send a final state of its own)."""
        with self._lock:
            if flush:
                self.flush()
            self._cancel()
            self._closed = True

    def _trailing(self) -> None:
        with self._lock:
            self._pending = None
            if self._dirty and not self._closed:
                self._push(self.clock())

    def _push(self, now: float) -> None:
        self._dirty = False
        self._last = now
        self.pushes += 1
        self.push()

    def _cancel(self) -> None:
        if self._pending is not None:
            self._pending.cancel()
            self._pending = None

    def __repr__(self) -> str:
        state: dict[str, Any] = {"interval": self.interval, "pushes": self.pushes, "dirty": self._dirty}
        return f"Coalescer({', '.join(f'{k}={v!r}' for k, v in state.items())})"
