"""session.map on Dask: the same row function on a distributed.LocalCluster with two workers."""

from __future__ import annotations

import os
import pickle

import pandas as pd
import pytest
from support import CANARY
from test_batch import emulated, sent, texts

dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def dask_client():
    """Two worker processes, as on a cluster: the row function travels pickled, and each process reads
    the key from its own environment (set here, before they start)."""
    saved = os.environ.get("CLOUDSWAY_API_KEY")
    os.environ["CLOUDSWAY_API_KEY"] = CANARY
    try:
        cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                           dashboard_address=None)
        with cluster, distributed.Client(cluster) as client:
            yield client
    finally:
        if saved is None:
            os.environ.pop("CLOUDSWAY_API_KEY", None)
        else:
            os.environ["CLOUDSWAY_API_KEY"] = saved


def test_every_row_is_done_once_on_two_workers(dask_client, tmp_path, monkeypatch):
    monkeypatch.setenv("CLOUDSWAY_API_KEY", CANARY)  # what each worker's environment holds
    cache = tmp_path / "c.sqlite"
    df = texts(40)
    ddf = dd.from_pandas(df, npartitions=4)
    with emulated(latency=0.005) as (server, session):
        lazy = session.map(ddf, "Say {text}", cache=cache, concurrency=4)
        assert sent(server) == 0  # nothing runs before compute()
        out = lazy.compute()
        assert len(dask_client.scheduler_info()["workers"]) == 2
        assert sent(server) == 40
        assert list(out.index) == list(df.index) and set(out["status"]) == {"ok"}
        assert list(out["answer"]) == [f"You said: Say row {i}." for i in range(40)]
        server.app.reset_stats()
        again = session.map(df, "Say {text}", cache=cache, progress=False)
        assert sent(server) == 0 and set(again["status"]) == {"cached"}


def test_a_bag_of_records_and_no_key_in_the_task(dask_client, tmp_path, monkeypatch):
    import dask.bag as db

    monkeypatch.setenv("CLOUDSWAY_API_KEY", CANARY)
    bag = db.from_sequence([{"text": f"item {i}"} for i in range(6)], npartitions=2)
    with emulated() as (server, session):
        lazy = session.map(bag, "Say {text}", cache=tmp_path / "c.sqlite")
        graph = pickle.dumps(dict(lazy.__dask_graph__()))
        assert CANARY.encode() not in graph
        records = lazy.compute()
        assert sent(server) == 6
    assert [r["answer"] for r in records] == [f"You said: Say item {i}." for i in range(6)]
    assert {r["status"] for r in records} == {"ok"} and records[0]["text"] == "item 0"


def test_a_budget_is_refused_on_dask():
    from cloudsway_nb import UsageError

    with emulated() as (_, session), pytest.raises(UsageError, match="budget"):
        session.map(dd.from_pandas(pd.DataFrame({"text": ["a"]}), npartitions=1), "Say {text}", budget=100)



def test_two_worker_processes_share_the_cache_and_do_each_row_once(dask_client, tmp_path):
    from cloudsway_nb import cache as batch_cache

    assert len(set(dask_client.run(os.getpid).values()) - {os.getpid()}) == 2  # processes of their own
    cache = tmp_path / "c.sqlite"
    with emulated(latency=0.005) as (server, session):
        out = session.map(dd.from_pandas(texts(40), npartitions=4), "Say {text}", cache=cache, concurrency=4).compute()
        assert sent(server) == 40 and set(out["status"]) == {"ok"}
        assert server.app.stats()["connections"] >= 2  # a client per worker process
    listed = batch_cache.list(cache)
    assert len(listed) == 40 and listed["key"].is_unique
