"""The update coalescer: bounded rate, trailing push, final flush, threads."""

from __future__ import annotations

import threading
import time
from itertools import pairwise

from cloudsway_nb.panel.throttle import Coalescer


def test_rate_is_bounded_and_the_last_poke_is_pushed(fake_clock, fake_timers) -> None:
    pushes: list[float] = []
    c = Coalescer(lambda: pushes.append(fake_clock.now), rate=20, clock=fake_clock, timer=fake_timers)
    for _ in range(2000):  # a token a millisecond for two seconds
        fake_clock.now += 0.001
        fake_timers.run_due()
        c.poke()
    c.flush()
    assert 39 <= len(pushes) <= 42
    gaps = [b - a for a, b in pairwise(pushes)]
    assert min(gaps[:-1]) >= 0.05 - 1e-9  # never faster than 20 a second (the final flush excepted)
    assert pushes[-1] == fake_clock.now  # the final state went out
    assert not fake_timers.live


def test_trailing_push_when_pokes_pause(fake_clock, fake_timers) -> None:
    pushes: list[float] = []
    c = Coalescer(lambda: pushes.append(fake_clock.now), rate=10, clock=fake_clock, timer=fake_timers)
    c.poke()  # pushed at once
    fake_clock.now = 0.02
    c.poke()  # too soon: a trailing push is scheduled for t = 0.1
    c.poke()  # already scheduled: no second timer
    assert pushes == [0.0] and len(fake_timers.live) == 1
    assert abs(fake_timers.live[0].due - 0.1) < 1e-9
    fake_clock.now = 0.1
    assert fake_timers.run_due() == 1
    assert pushes == [0.0, 0.1]
    fake_clock.now = 5.0
    assert fake_timers.run_due() == 0 and pushes == [0.0, 0.1]  # nothing new: nothing pushed


def test_flush_without_changes_pushes_nothing(fake_clock, fake_timers) -> None:
    pushes: list[int] = []
    c = Coalescer(lambda: pushes.append(1), rate=10, clock=fake_clock, timer=fake_timers)
    c.flush()
    assert pushes == []
    c.poke()
    c.flush()
    assert pushes == [1]


def test_close_cancels_the_trailing_push_and_ignores_later_pokes(fake_clock, fake_timers) -> None:
    pushes: list[int] = []
    c = Coalescer(lambda: pushes.append(1), rate=10, clock=fake_clock, timer=fake_timers)
    c.poke()
    c.poke()
    c.close(flush=False)
    fake_clock.now = 1.0
    fake_timers.run_due()
    c.poke()
    assert pushes == [1] and c.pushes == 1


def test_close_flushes_by_default(fake_clock, fake_timers) -> None:
    pushes: list[int] = []
    c = Coalescer(lambda: pushes.append(1), rate=10, clock=fake_clock, timer=fake_timers)
    c.poke()
    c.poke()
    c.close()
    assert pushes == [1, 1]


def test_real_timer_delivers_the_trailing_push() -> None:
    done = threading.Event()
    c = Coalescer(done.set, rate=50)
    c.poke()
    done.clear()
    c.poke()  # within 20 ms of the first: pushed by the timer thread
    assert done.wait(2.0)


def test_pokes_from_many_threads() -> None:
    count = [0]
    lock = threading.Lock()

    def push() -> None:
        with lock:
            count[0] += 1

    c = Coalescer(push, rate=100)

    def worker() -> None:
        for _ in range(500):
            c.poke()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    c.close()
    elapsed = time.monotonic() - started
    assert 1 <= count[0] <= 100 * elapsed + 3
