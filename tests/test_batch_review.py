"""session.map's harder cases: retries by (row, endpoint) and by position, a row's unexpected failure,
a cache that cannot be written, the progress bar's rate; counted at the emulator."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from test_batch import emulated, sent, texts

import cloudsway_nb
from cloudsway_nb import batch_run
from cloudsway_nb import cache as batch_cache
from cloudsway_nb.batch_run import Progress
from cloudsway_nb.progress import ProgressBar


def test_retry_failed_goes_by_position_when_index_labels_repeat(tmp_path):
    df = texts(4)
    df.index = [1, 1, 2, 2]
    with emulated(fault="400", fault_match="row 1", fault_times=1) as (server, session):
        out = session.map(df, "Say {text}", cache=False, progress=False)
        assert list(out["status"]) == ["ok", "error", "ok", "ok"]
        again = out.retry_failed()
        assert list(again.index) == [1, 1, 2, 2]
        assert list(again["status"]) == ["ok", "ok", "ok", "ok"]
        assert list(again["answer"]) == [f"You said: Say row {i}." for i in range(4)]
        assert sent(server) == 5
        assert dict(again.dtypes) == dict(out.dtypes)


def test_retry_failed_sends_only_the_endpoint_that_failed(tmp_path):
    with emulated(fault="400", fault_match="row 1", fault_times=1) as (server, session):
        out = session.map(texts(3), "Say {text}", endpoint=["gpt", "claude"], cache=False, progress=False)
        assert list(out["gpt.status"]) == ["ok", "error", "ok"] and list(out["claude.status"]) == ["ok"] * 3
        server.app.reset_stats()
        again = out.retry_failed()
        assert sent(server) == 1  # gpt's row 1 alone: claude had answered it
        assert list(again["gpt.status"]) == ["ok"] * 3
        assert again["claude.answer"].tolist() == out["claude.answer"].tolist()
        assert again.progress.sent == 1 and again.progress.done == 1


def test_a_row_that_breaks_unexpectedly_fails_alone(tmp_path, monkeypatch):
    validated = batch_run.Runner._validated

    def flaky(self, text):
        if "row 2" in text:
            raise RuntimeError("something odd\nin this row")
        return validated(self, text)

    monkeypatch.setattr(batch_run.Runner, "_validated", flaky)
    with emulated() as (_, session):
        out = session.map(texts(4), "Say {text}", cache=tmp_path / "c.sqlite", progress=False)
    assert list(out["status"]) == ["ok", "ok", "error", "ok"]
    assert out.loc[2, "error"] == "RuntimeError: something odd in this row"
    assert len(batch_cache.list(tmp_path / "c.sqlite")) == 3


def test_an_answer_the_cache_cannot_store_is_kept_and_says_so(tmp_path, monkeypatch):
    put = batch_cache.ResultCache.put

    def failing(self, row):
        if "row 1" in row.prompt:
            raise sqlite3.OperationalError("disk I/O error")
        put(self, row)

    monkeypatch.setattr(batch_cache.ResultCache, "put", failing)
    with emulated() as (_, session):
        out = session.map(texts(3), "Say {text}", cache=tmp_path / "c.sqlite", progress=False)
    assert list(out["status"]) == ["ok"] * 3 and out.loc[1, "answer"] == "You said: Say row 1."
    assert out.loc[1, "error"] == "not cached: OperationalError: disk I/O error"
    assert out["error"].isna().sum() == 2


def test_cached_rows_are_not_counted_as_speed():
    bar = ProgressBar(Progress(total=10, cached=8), enabled=True)
    try:
        meter = bar._bar.format_dict
        assert (meter["n"], meter["initial"]) == (8, 8)  # rows/s and the ETA are of the 2 rows to send
    finally:
        bar.close()


def test_the_cache_module_is_reachable_from_the_package():
    code = "import sys, cloudsway_nb; assert 'cloudsway_nb.cache' not in sys.modules; print(cloudsway_nb.cache.list)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(Path(cloudsway_nb.__file__).parent.parent)})
    assert done.returncode == 0, done.stderr
    assert "function list" in done.stdout


def test_the_emulators_answers_are_never_the_gateways(tmp_path):
    from support import endpoints

    from cloudsway_nb import Client, Session

    cache = tmp_path / "c.sqlite"
    with emulated() as (_, session):
        session.map(texts(3), "Say {text}", cache=cache, progress=False)
    with emulated() as (_, other_port):  # another emulator, on another port: the same answers
        assert other_port.map(texts(3), "Say {text}", cache=cache, dry_run=True).cached == 3
    gateway = Session(Client(base_url="https://genaiapi.cloudsway.net", api_key="k", endpoints=endpoints()))
    try:
        estimate = gateway.map(texts(3), "Say {text}", endpoint="gpt", cache=cache, dry_run=True)
        assert (estimate.cached, estimate.to_send) == (0, 3)  # nothing is sent by a dry run
    finally:
        gateway.close()


def test_a_cache_file_opened_by_several_at_once_waits_for_its_turn(tmp_path, monkeypatch):
    """Switching a new file to WAL answers "database is locked" without waiting while another process
    opens it too (seen with Dask workers): the open is asked again rather than failing the run."""
    connect = sqlite3.connect

    class Contended:
        def __init__(self, db: sqlite3.Connection) -> None:
            self.db, self.refused = db, False

        def execute(self, sql: str, *args):
            if sql == "PRAGMA journal_mode=WAL" and not self.refused:
                self.refused = True
                raise sqlite3.OperationalError("database is locked")
            return self.db.execute(sql, *args)

        def close(self) -> None:
            self.db.close()

    monkeypatch.setattr(batch_cache.sqlite3, "connect", lambda *a, **k: Contended(connect(*a, **k)))
    with batch_cache.ResultCache(tmp_path / "c.sqlite") as cache:
        assert len(cache) == 0
    monkeypatch.undo()
    db = sqlite3.connect(tmp_path / "c.sqlite")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    db.close()


def test_a_budget_waits_for_the_requests_in_flight_and_never_cuts_them_short(tmp_path):
    with emulated(latency=0.02) as (server, session):
        estimate = session.map(texts(20), "Say {text}", cache=False, dry_run=True)  # output assumed: 256 a row
        reserved = (estimate.input_tokens + estimate.output_tokens) // 20
        # room for 4 rows as reserved, for all 20 as they really spend (a few output tokens each)
        out = session.map(texts(20), "Say {text}", cache=False, progress=False, concurrency=8, budget=reserved * 4)
        assert list(out["status"]) == ["ok"] * 20 and sent(server) == 20
        assert out["input_tokens"].sum() + out["output_tokens"].sum() <= reserved * 4
        server.app.reset_stats()
        per_row = int(out.loc[0, "input_tokens"] + out.loc[0, "output_tokens"])
        tight = session.map(texts(20, "item"), "Say {text}", cache=False, progress=False, concurrency=4,
                            max_tokens=per_row, budget=per_row * 8)
        counts = tight["status"].value_counts().to_dict()
        assert counts["ok"] >= 4 and counts["stopped"] > 0 and sent(server) == counts["ok"]
        assert tight["input_tokens"].sum() + tight["output_tokens"].sum() <= per_row * 8
        assert "interrupted" not in [e.status for e in session.ledger]  # a budget stop cuts nothing short
