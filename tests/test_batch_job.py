"""A map in the background: a job whose Stop button (clicked as the browser would, through its comm)
ends the run at once, keeping the finished rows; counted at the emulator."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from IPython.core.history import HistoryManager
from IPython.core.interactiveshell import InteractiveShell
from support import CANARY
from test_batch import emulated, sent, texts

from cloudsway_nb import UsageError
from cloudsway_nb import cache as batch_cache
from cloudsway_nb.batch import make_spec, plan
from cloudsway_nb.batch_job import MapJob
from cloudsway_nb.batch_run import Runner, start
from cloudsway_nb.magics import CloudswayMagics, unload_ipython_extension


def reached(count: int) -> tuple[threading.Event, Any]:
    """An event set once `count` rows are done, and the `stop=` function that sets it (never stopping)."""
    event = threading.Event()

    def watch(progress: Any) -> bool:
        if progress.done >= count:
            event.set()
        return False

    return event, watch


def browser_click(button: Any) -> None:
    """The comm message a click in the browser sends to the kernel (ipywidgets' Button protocol)."""
    button.comm.handle_msg({"content": {"data": {"method": "custom", "content": {"event": "click"}}}, "buffers": []})


def sent_states(widget: Any) -> list[dict[str, Any]]:
    """Record the state updates the kernel sends the browser for `widget` (its comm's messages)."""
    messages: list[dict[str, Any]] = []
    original = widget.comm.send

    def send(data: Any = None, *args: Any, **kwargs: Any) -> Any:
        if isinstance(data, dict) and data.get("method") == "update":
            messages.append(data["state"])
        return original(data, *args, **kwargs)

    widget.comm.send = send
    return messages


def test_the_stop_button_ends_a_background_run_and_keeps_the_finished_rows(tmp_path):
    cache = tmp_path / "c.sqlite"
    ten, watch = reached(10)
    with emulated(latency=0.05) as (server, session):
        job = session.map(texts(80), "Say {text}", cache=cache, concurrency=2, background=True, stop=watch)
        assert isinstance(job, MapJob) and not job.done  # the call returned while the run goes on
        bar = job.view.children[0].children[1]  # tqdm's ipywidgets bar, above the Stop button
        bar_updates, button_updates = sent_states(bar), sent_states(job.button)
        assert ten.wait(30)
        browser_click(job.button)
        assert job.wait(30) and job.done
        out = job.result()
        counts = out["status"].value_counts().to_dict()
        assert counts["ok"] >= 10 and counts["stopped"] > 0 and sum(counts.values()) == 80
        assert set(out.loc[out["status"] == "stopped", "error"]) == {"stopped: Stop pressed"}
        assert len(batch_cache.list(cache)) == counts["ok"]  # every finished row was written
        assert sent(server) <= counts["ok"] + 2  # at most the requests in flight were cut short
        statuses = [e.status for e in session.ledger]  # the requests cut short are there too, estimated
        assert statuses.count("ok") == counts["ok"] and 0 < statuses.count("interrupted") <= 2
        assert all(e.estimated and e.input for e in session.ledger if e.status == "interrupted")
        assert any("value" in s for s in bar_updates)  # the bar moved while the cell was free
        assert {"disabled": True} in button_updates or any(s.get("disabled") for s in button_updates)
        assert job.button.description == "Stopped" and "stopped: 80 rows" in repr(job)
        assert bar.bar_style == "danger"  # not every row finished
        import ipywidgets

        widgets = json.dumps(ipywidgets.Widget.get_manager_state(), default=str)
        assert CANARY not in widgets and CANARY not in repr(job) and CANARY not in json.dumps(bar_updates)

        server.app.reset_stats()
        resumed = session.map(texts(80), "Say {text}", cache=cache, progress=False, concurrency=8)
        assert sent(server) == counts["stopped"]  # only the rest went out
        assert list(resumed["answer"]) == [f"You said: Say row {i}." for i in range(80)]


def test_a_background_run_left_alone_finishes(tmp_path):
    with emulated() as (server, session):
        job = session.map(texts(6), "Say {text}", cache=tmp_path / "c.sqlite", background=True)
        out = job.result(timeout=30)
        assert list(out["status"]) == ["ok"] * 6 and sent(server) == 6
        assert job.button.disabled and job.button.description == "Done"
        assert job.view.children[0].children[1].bar_style == "success"
        assert repr(job) == "MapJob(done: 6 rows, 6 ok)"
        job.stop()  # after the end: nothing changes
        assert job.result() is out and job.button.description == "Done"
        assert len(session.ledger) == 6


def test_job_stop_from_code_and_progress_false(tmp_path):
    ten, watch = reached(4)
    with emulated(latency=0.05) as (_, session):
        job = session.map(texts(60), "Say {text}", cache=False, progress=False, concurrency=2, background=True,
                          stop=watch)
        assert job.view.children[0].children[0] is job.button  # no bar, still a Stop button
        assert ten.wait(30)
        job.stop()
        out = job.result(timeout=30)
        assert (out["status"] == "stopped").sum() > 0 and (out["status"] == "ok").sum() >= 4
        assert job.progress.stopped == (out["status"] == "stopped").sum()


def test_a_stop_asked_before_the_run_starts_sends_nothing(tmp_path):
    with emulated() as (server, session):
        spec = make_spec("Say {text}", "gpt", schema=None, system=None, cache=False, progress=False, budget=None,
                         params={}, default="gpt")
        runner = Runner(session, plan(session, texts(5), spec))
        runner.request_stop("stopped: Stop pressed")  # e.g. a click the instant the job appeared
        assert start(runner).wait(30)
        assert sent(server) == 0 and runner.stop_reason == "stopped: Stop pressed"


def test_a_run_that_breaks_raises_in_result(tmp_path, monkeypatch):
    from cloudsway_nb import batch_run

    async def broken(self):
        raise RuntimeError("the loop broke")

    monkeypatch.setattr(batch_run.Runner, "run", broken)
    with emulated() as (_, session):
        job = session.map(texts(2), "Say {text}", cache=False, background=True)
        with pytest.raises(RuntimeError, match="the loop broke"):
            job.result(timeout=30)
        assert job.done and job.button.description == "Failed" and repr(job) == "MapJob(failed: RuntimeError)"


def test_background_is_checked_and_refused_before_it_starts(tmp_path):
    with emulated() as (server, session):
        with pytest.raises(UsageError, match="background"):
            session.map(texts(2), "Say {text}", cache=False, background="yes")
        with pytest.raises(UsageError, match="budget in dollars needs prices"):  # refused before it starts
            session.map(texts(2), "Say {text}", cache=False, background=True, budget="$1")
        assert sent(server) == 0


@pytest.fixture(scope="module")
def ip() -> Iterator[InteractiveShell]:
    HistoryManager.enabled = False
    yield InteractiveShell.instance()


def test_the_magic_and_the_accessor_run_in_the_background(ip, tmp_path):
    with emulated() as (server, session):
        unload_ipython_extension(ip)
        ip.register_magics(CloudswayMagics(ip, session=session))
        ip.user_ns["reviews"] = texts(3)
        cache = tmp_path / "c.sqlite"
        try:
            job = ip.run_cell_magic("cloudsway", f"gpt --map reviews --background --out job -o cache='{cache}'",
                                    "Label {text}\n")
            assert isinstance(job, MapJob) and ip.user_ns["job"] is job
            out = job.result(timeout=30)
            assert list(out["status"]) == ["ok"] * 3
            again = session.map(texts(3), "Label {text}", cache=cache, progress=False)
            assert list(again["status"]) == ["cached"] * 3  # the same requests: background was not sent
            job2 = texts(2).cloudsway.map("Say {text}", cache=False, background=True)
            assert list(job2.result(timeout=30)["status"]) == ["ok", "ok"]
            assert sent(server) == 5
        finally:
            unload_ipython_extension(ip)
            for name in ("reviews", "job"):
                ip.user_ns.pop(name, None)
