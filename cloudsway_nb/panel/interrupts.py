"""A kernel interrupt (the ■ button, Ctrl-C) stops the chat panels' streams too.

A panel's reply streams in a worker thread, so the kernel's KeyboardInterrupt, which lands in the
main thread, would not reach it. `install()` (from the main thread, when a panel is made) chains a
SIGINT handler; `watch(stop)` registers a panel's stop event while its reply
streams; the handler sets every registered event, then hands the
signal on to the handler that was there before (so a running cell is interrupted as usual).

Example:
    >>> import threading
    >>> stop = threading.Event()
    >>> with watch(stop):
    ...     interrupt_streams()
    >>> stop.is_set()
    True
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["install", "interrupt_streams", "watch"]

_streams: set[threading.Event] = set()  # the process has one SIGINT: the events it must reach live here
_lock = threading.Lock()
_installed: list[Any] = []  # the handler that was there before ours, once ours is installed


def interrupt_streams() -> None:
    """Set the stop event of every panel reply streaming now."""
    with _lock:
        events = list(_streams)
    for event in events:
        event.set()


def _on_sigint(signum: int, frame: Any) -> None:
    interrupt_streams()
    previous = _installed[-1] if _installed else signal.default_int_handler
    if callable(previous):
        previous(signum, frame)  # a running cell is interrupted as usual; an idle kernel ignores it (SIG_IGN)


def _install_now() -> None:
    """Put our handler in front of the current one, unless it is ours already."""
    try:
        current = signal.getsignal(signal.SIGINT)
        if current is _on_sigint:
            return
        signal.signal(signal.SIGINT, _on_sigint)
    except (ValueError, OSError):  # not the main thread of the main interpreter
        return
    _installed.append(current)


def install() -> None:
    """Chain our SIGINT handler in front of the current one (from the main thread).

    In a Jupyter kernel the handler of a running cell is swapped back when the cell ends (an idle
    ipykernel ignores SIGINT), and the panel streams while the kernel is idle: so the handler is also
    put in place again just after the cell, from the kernel's event loop.
    """
    if threading.current_thread() is not threading.main_thread():
        return
    _install_now()
    try:
        import asyncio

        asyncio.get_running_loop().call_soon(_install_now)
    except RuntimeError:  # no loop running: plain Python, the handler above stays
        pass


@contextmanager
def watch(stop: threading.Event) -> Iterator[threading.Event]:
    """While inside, a kernel interrupt sets `stop` (once `install()` ran in the main thread)."""
    with _lock:
        _streams.add(stop)
    try:
        yield stop
    finally:
        with _lock:
            _streams.discard(stop)
