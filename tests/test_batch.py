"""session.map: a template over a DataFrame, against the emulator, counted at the emulator.

Each test starts its own emulator (`EmulatorServer`, canary key required) so the requests it
served can be counted; rows are few and replies immediate unless a test needs requests in flight.
"""

from __future__ import annotations

import _thread
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pandas as pd
import pytest
from support import CANARY, endpoints

from cloudsway_nb import Client, Session, UsageError
from cloudsway_nb import cache as batch_cache
from cloudsway_nb.config import Endpoint
from cloudsway_nb.emulator.server import EmulatorServer


@contextmanager
def emulated(**options: Any) -> Iterator[tuple[EmulatorServer, Session]]:
    server = EmulatorServer(port=0, pacing="none", api_key=CANARY, **options)
    server.start()
    registry = endpoints()
    registry["priced"] = Endpoint("MaaS-priced", "chat", model="gpt-4o", prices={"input": 2.0, "output": 8.0})
    session = Session(Client(base_url=server.base_url, api_key=CANARY, endpoints=registry))
    session.default_endpoint = "gpt"
    try:
        yield server, session
    finally:
        session.close()
        server.stop()


def texts(n: int, prefix: str = "row") -> pd.DataFrame:
    return pd.DataFrame({"text": [f"{prefix} {i}" for i in range(n)]})


def sent(server: EmulatorServer) -> int:
    return server.app.stats()["requests"]


def test_order_and_index_are_kept(tmp_path):
    df = pd.DataFrame({"text": ["alpha", "beta", "gamma", "delta"], "n": [1, 2, 3, 4]}, index=["d", "b", "a", "c"])
    with emulated(latency=0.01) as (server, session):
        out = session.map(df, "Echo {text} #{n}", cache=tmp_path / "c.sqlite", progress=False, concurrency=4)
    assert list(out.index) == ["d", "b", "a", "c"]
    assert list(out["answer"]) == [f"You said: Echo {t} #{n}." for t, n in zip(df["text"], df["n"], strict=True)]
    assert list(out["status"]) == ["ok"] * 4
    assert out["error"].isna().all()
    assert (out["input_tokens"] > 0).all() and (out["output_tokens"] > 0).all() and (out["latency"] > 0).all()
    assert list(out.columns) == ["answer", "reasoning", "status", "error", "input_tokens", "output_tokens",
                                 "reasoning_tokens", "cached_tokens", "latency"]
    assert len(session.ledger) == 4 and sent(server) == 4
    out.to_parquet(tmp_path / "out.parquet")  # a result is a plain table to write out
    assert pd.read_parquet(tmp_path / "out.parquet")["answer"].tolist() == out["answer"].tolist()


def test_a_missing_column_is_one_error_before_anything_is_sent(tmp_path):
    with emulated() as (server, session):
        with pytest.raises(UsageError, match=r"column 'body'.*its columns: text"):
            session.map(texts(3), "Summarise {body}", cache=tmp_path / "c.sqlite")
        with pytest.raises(UsageError, match="concurrency"):
            session.map(texts(3), "Summarise {text}", cache=False, concurrency=0)
        assert sent(server) == 0


def test_a_row_refused_with_400_fails_alone_and_is_not_retried(tmp_path):
    with emulated(fault="400", fault_match="row 2") as (server, session):
        out = session.map(texts(5), "Say {text}", cache=tmp_path / "c.sqlite", progress=False)
        assert list(out["status"]) == ["ok", "ok", "error", "ok", "ok"]
        assert out.loc[2, "error"].startswith("BadRequestError: 400 Invalid request")
        assert "\n" not in out.loc[2, "error"]
        assert sent(server) == 5  # a 400 is not worth another try


def test_a_row_with_429s_is_retried_and_the_limiter_backs_off(tmp_path):
    with emulated(fault="429:0.01", fault_match="row 3", fault_times=2) as (server, session):
        out = session.map(texts(6), "Say {text}", cache=tmp_path / "c.sqlite", progress=False, concurrency=8)
        assert list(out["status"]) == ["ok"] * 6
        assert sent(server) == 8  # two 429s, then the row went through
        progress = out.progress
        assert progress.throttled == 2 and progress.retries == 2
        assert [e.status for e in session.ledger].count("error") == 2


def test_retry_failed_resends_only_the_failed_rows(tmp_path):
    with emulated(fault="503", fault_match="row 1", fault_times=3) as (server, session):
        out = session.map(texts(4), "Say {text}", cache=tmp_path / "c.sqlite", progress=False)
        assert list(out["status"]) == ["ok", "error", "ok", "ok"]  # 503, retried twice, 503 again
        before = sent(server)
        again = out.retry_failed()
        assert sent(server) - before == 1
        assert list(again["status"]) == ["ok", "ok", "ok", "ok"]
        assert again.loc[1, "answer"] == "You said: Say row 1."
        assert list(again.index) == list(out.index)


def test_identical_prompts_are_sent_once(tmp_path):
    df = pd.DataFrame({"text": ["same", "other", "same", "same"]})
    with emulated() as (server, session):
        out = session.map(df, "Say {text}", cache=False, progress=False)
        assert sent(server) == 2
        assert list(out["status"]) == ["ok", "ok", "cached", "cached"]
        assert out.loc[3, "answer"] == out.loc[0, "answer"] == "You said: Say same."


def test_stop_mid_run_then_resume_sends_only_the_rest(tmp_path):
    cache = tmp_path / "c.sqlite"
    with emulated(latency=0.02) as (server, session):
        out = session.map(texts(40), "Say {text}", cache=cache, progress=False, concurrency=4,
                          stop=lambda p: p.done >= 10)
        counts = out["status"].value_counts().to_dict()
        assert counts == {"ok": 10, "stopped": 30}
        assert set(out.loc[out["status"] == "stopped", "error"]) == {"stopped by stop="}
        server.app.reset_stats()
        resumed = session.map(texts(40), "Say {text}", cache=cache, progress=False, concurrency=4)
        assert sent(server) == 30
        assert resumed["status"].value_counts().to_dict() == {"ok": 30, "cached": 10}
        assert list(resumed["answer"]) == [f"You said: Say row {i}." for i in range(40)]


def test_keyboard_interrupt_returns_the_finished_rows(tmp_path):
    def interrupt(progress: Any) -> bool:
        if progress.done == 5:
            _thread.interrupt_main()  # what the notebook's Stop button does to the kernel
        return False

    with emulated(latency=0.05) as (_, session):
        out = session.map(texts(60), "Say {text}", cache=tmp_path / "c.sqlite", progress=False, concurrency=2,
                          stop=interrupt)
    counts = out["status"].value_counts().to_dict()
    assert counts["ok"] >= 5 and counts["stopped"] > 0 and sum(counts.values()) == 60
    assert set(out.loc[out["status"] == "stopped", "error"]) == {"stopped: interrupted"}
    assert len(batch_cache.list(tmp_path / "c.sqlite")) == counts["ok"]


def test_dry_run_matches_the_real_run(tmp_path):
    df = pd.concat([texts(12), texts(12).iloc[[0, 1, 5]]], ignore_index=True)  # 0 and 1 cached, 5 a duplicate
    cache = tmp_path / "c.sqlite"
    with emulated() as (server, session):
        session.map(df.iloc[:4], "Label this: {text}", endpoint="priced", cache=cache, progress=False, max_tokens=50)
        server.app.reset_stats()
        estimate = session.map(df, "Label this: {text}", endpoint="priced", cache=cache, dry_run=True, max_tokens=50)
        assert sent(server) == 0
        assert (estimate.rows, estimate.to_send, estimate.cached, estimate.duplicates) == (15, 8, 6, 1)
        assert estimate.output_tokens == 8 * 50
        out = session.map(df, "Label this: {text}", endpoint="priced", cache=cache, progress=False, max_tokens=50)
        assert sent(server) == estimate.to_send
        fresh = out[out["status"] == "ok"]
        assert abs(estimate.input_tokens - fresh["input_tokens"].sum()) <= 0.25 * fresh["input_tokens"].sum()
        assert fresh["output_tokens"].sum() <= estimate.output_tokens
        assert estimate.cost == pytest.approx((estimate.input_tokens * 2 + estimate.output_tokens * 8) / 1e6)
        assert out["cost"].sum() == pytest.approx(fresh["cost"].sum()) and fresh["cost"].gt(0).all()
        assert out.loc[out["status"] == "cached", "cost"].eq(0).all()


def test_a_budget_stops_the_run_and_keeps_what_is_done(tmp_path):
    with emulated() as (server, session):
        estimate = session.map(texts(20), "Say {text}", cache=False, dry_run=True, max_tokens=20)
        per_row = (estimate.input_tokens + estimate.output_tokens) // 20
        out = session.map(texts(20), "Say {text}", cache=False, progress=False, max_tokens=20, concurrency=1,
                          budget=per_row * 6 + 1)
        counts = out["status"].value_counts().to_dict()
        assert counts["ok"] >= 6 and counts["stopped"] > 0
        assert out.loc[out["status"] == "stopped", "error"].str.contains("budget").all()
        assert out["input_tokens"].sum() + out["output_tokens"].sum() <= per_row * 6 + 1 + 10 * counts["ok"]
        assert sent(server) == counts["ok"]
        with pytest.raises(UsageError, match="prices"):
            session.map(texts(2), "Say {text}", cache=False, progress=False, budget="$0.10")


def test_a_schema_gives_columns_and_a_mismatch_is_asked_again_once(tmp_path):
    pydantic = pytest.importorskip("pydantic")

    schema = {"type": "object", "properties": {"label": {"type": "string", "enum": ["pos", "neg"]},
                                               "score": {"type": "integer"}}, "required": ["label", "score"]}

    class Strict(pydantic.BaseModel):
        label: str

        @pydantic.field_validator("label")
        @classmethod
        def never(cls, value: str) -> str:
            raise ValueError("label must be a known one")

    with emulated() as (server, session):
        out = session.map(texts(3), "Rate {text}", schema=schema, cache=tmp_path / "c.sqlite", progress=False)
        assert list(out.columns[:3]) == ["label", "score", "reasoning"]
        assert set(out["label"]) <= {"pos", "neg"} and list(out["status"]) == ["ok"] * 3
        assert sent(server) == 3
        server.app.reset_stats()
        failed = session.map(texts(3), "Rate {text}", schema=Strict, cache=tmp_path / "c.sqlite", progress=False)
        assert sent(server) == 6  # each row asked again once with the validation error
        assert list(failed["status"]) == ["error"] * 3
        assert failed.loc[0, "error"] == "schema: label: Value error, label must be a known one"
        assert batch_cache.list(tmp_path / "c.sqlite").shape[0] == 3  # failed rows are not cached


def test_several_endpoints_give_a_set_of_columns_each(tmp_path):
    with emulated() as (server, session):
        out = session.map(texts(2), "Say {text}", endpoint=["gpt", "claude"], cache=False, progress=False)
        assert sent(server) == 4
        assert {"gpt.answer", "gpt.status", "claude.answer", "claude.output_tokens"} <= set(out.columns)
        assert list(out["claude.status"]) == ["ok", "ok"]


async def test_map_works_inside_a_running_event_loop(tmp_path):
    with emulated() as (_, session):
        out = session.map(texts(3), "Say {text}", cache=False, progress=False)
    assert list(out["status"]) == ["ok"] * 3


def test_the_key_is_nowhere_in_the_cache_nor_the_result(tmp_path):
    cache = tmp_path / "c.sqlite"
    with emulated(fault="400", fault_match="row 1") as (_, session):
        out = session.map(texts(3), "Say {text}", cache=cache, progress=False)
    assert out["status"].tolist() == ["ok", "error", "ok"]  # a call through the canary emulator: the key was sent
    assert CANARY not in out.to_csv() and CANARY[:20] not in out.to_csv()
    for file in tmp_path.iterdir():
        assert CANARY.encode() not in file.read_bytes()
    assert CANARY not in batch_cache.list(cache).to_csv()


def test_progress_is_a_text_bar_on_stderr_or_nothing(tmp_path, capsys):
    with emulated() as (_, session):
        session.map(texts(3), "Say {text}", cache=False)
        bar = capsys.readouterr().err
        assert "cloudsway map" in bar and "3/3" in bar and "done=3" in bar
        session.map(texts(3), "Say {text}", cache=False, progress=False)
        assert capsys.readouterr().err == ""


def test_the_cache_lists_clears_and_exports(tmp_path):
    cache = tmp_path / "c.sqlite"
    with emulated() as (_, session):
        session.map(texts(3), "Say {text}", endpoint=["gpt", "claude"], cache=cache, progress=False)
    listed = batch_cache.list(cache)
    assert sorted(listed["endpoint"]) == ["claude"] * 3 + ["gpt"] * 3
    assert batch_cache.export(tmp_path / "out.csv", cache).read_text().count("You said") >= 3
    assert batch_cache.clear(cache, endpoint="claude") == 3
    assert len(batch_cache.list(cache)) == 3
    db = sqlite3.connect(cache)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    db.close()


def test_connections_stay_within_the_concurrency(tmp_path):
    with emulated(latency=0.01) as (server, session):
        out = session.map(texts(40), "Say {text}", cache=False, progress=False, concurrency=4)
        assert set(out["status"]) == {"ok"}
        assert 1 <= server.app.stats()["connections"] <= 4


def test_a_stop_event_already_set_sends_nothing(tmp_path):
    import threading

    stop = threading.Event()
    stop.set()
    with emulated() as (server, session):
        out = session.map(texts(5), "Say {text}", cache=False, progress=False, stop=stop)
        assert sent(server) == 0 and set(out["status"]) == {"stopped"}
        with pytest.raises(UsageError, match="stop="):
            session.map(texts(5), "Say {text}", cache=False, stop="now")


def test_a_budget_in_dollars_needs_prices_and_holds(tmp_path):
    with emulated() as (server, session):
        estimate = session.map(texts(10), "Say {text}", endpoint="priced", cache=False, dry_run=True, max_tokens=10)
        out = session.map(texts(10), "Say {text}", endpoint="priced", cache=False, progress=False, max_tokens=10,
                          concurrency=1, budget=f"${estimate.cost / 2:.8f}")
        counts = out["status"].value_counts().to_dict()
        assert 0 < counts["ok"] < 10 and counts["stopped"] == 10 - counts["ok"]
        assert out["cost"].sum() <= estimate.cost / 2
        assert sent(server) == counts["ok"]


def test_a_schema_mismatch_asked_again_can_succeed(tmp_path):
    pydantic = pytest.importorskip("pydantic")

    class Quoted(pydantic.BaseModel):
        text: str

        @pydantic.field_validator("text")
        @classmethod
        def not_the_input(cls, value: str) -> str:
            if "row" in value:  # the emulator's first answer quotes the prompt; its second, the re-ask
                raise ValueError("must not quote the input")
            return value

    with emulated() as (server, session):
        out = session.map(texts(2), "Rate {text}", schema=Quoted, cache=False, progress=False)
        assert sent(server) == 4 and list(out["status"]) == ["ok", "ok"]
        assert out.loc[0, "text"].startswith("Your answer did not match the required JSON schema")
        assert (out["input_tokens"] > 0).all()


def test_the_key_holds_attachment_content_not_its_summary():
    from cloudsway_nb.cache import request_key
    from cloudsway_nb.types import Payload

    def body(content: bytes) -> dict[str, Any]:
        return {"messages": [{"content": [{"image_url": Payload("data:image/png;base64,… (1 KB)", len(content),
                                                                 lambda: iter([content]))}]}]}

    path = "/v1/ai/gpt/chat/completions"
    assert request_key(path, "chat", "m", body(b"AAAA")) == request_key(path, "chat", "m", body(b"AAAA"))
    assert request_key(path, "chat", "m", body(b"AAAA")) != request_key(path, "chat", "m", body(b"BBBB"))


def test_attachment_columns_go_with_each_row_and_key_by_content(tmp_path):
    from cloudsway_nb.media.samples import image_bytes

    red, blue = image_bytes(8, 8, color="red"), image_bytes(8, 8, color="blue")
    df = pd.DataFrame({"text": ["what is it"] * 4, "photo": [red, blue, red, None]})
    cache = tmp_path / "c.sqlite"
    with emulated() as (server, session):
        out = session.map(df, "Describe: {text}", attachments="photo", cache=cache, progress=False)
        assert sent(server) == 3  # the same text with two images, and without one; the third row is the first's
        assert list(out["status"]) == ["ok", "ok", "cached", "ok"]
        assert "image" in out.loc[0, "answer"].lower() and "image" not in out.loc[3, "answer"].lower()
        with pytest.raises(UsageError, match="attachments='picture'"):
            session.map(df, "Describe: {text}", attachments="picture", cache=cache)
    assert red not in cache.read_bytes()  # the cache holds the request's hash, not its images
