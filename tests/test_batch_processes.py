"""The batch cache across processes: a child killed with SIGKILL mid-run, two children at once."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support import CANARY
from test_batch import emulated, sent, texts

CHILD = """
import json, os, sys
import pandas as pd
from cloudsway_nb import Client, Session
from cloudsway_nb.config import Endpoint
n, prefix = int(os.environ["ROWS"]), os.environ["PREFIX"]
session = Session(Client(base_url=os.environ["URL"], endpoints={"gpt": Endpoint("MaaS-gpt", "chat", model="gpt-4o")}))
df = pd.DataFrame({"text": [f"{prefix} {i}" for i in range(n)]})
out = session.map(df, "Say {text}", endpoint="gpt", cache=os.environ["CACHE"], progress=False, concurrency=8)
print(json.dumps(out["status"].value_counts().to_dict()))
session.close()
"""


def child(url: str, cache: Path, rows: int, prefix: str = "row") -> subprocess.Popen[str]:
    env = {**os.environ, "URL": url, "CACHE": str(cache), "ROWS": str(rows), "PREFIX": prefix,
           "CLOUDSWAY_API_KEY": CANARY, "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.Popen([sys.executable, "-c", CHILD], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def cached_rows(cache: Path) -> int:
    if not cache.exists():
        return 0
    db = sqlite3.connect(cache, timeout=30)
    try:
        return db.execute("SELECT COUNT(*) FROM results").fetchone()[0]
    except sqlite3.OperationalError:  # the table is not made yet
        return 0
    finally:
        db.close()


def test_a_child_killed_mid_write_loses_nothing_written(tmp_path):
    cache = tmp_path / "c.sqlite"
    with emulated(latency=0.01) as (server, session):
        proc = child(server.base_url, cache, 400)
        deadline = time.monotonic() + 60
        while cached_rows(cache) < 30:  # waiting for another process: nothing to be signalled by
            assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read() if proc.stderr else ""
            time.sleep(0.01)
        os.kill(proc.pid, signal.SIGKILL)
        proc.communicate()
        assert proc.returncode == -signal.SIGKILL
        db = sqlite3.connect(cache)
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        db.close()
        kept = cached_rows(cache)
        assert 30 <= kept < 400
        server.app.reset_stats()
        out = session.map(texts(400), "Say {text}", cache=cache, progress=False)
        assert out["status"].value_counts().to_dict() == {"ok": 400 - kept, "cached": kept}
        assert sent(server) == 400 - kept
        assert list(out["answer"]) == [f"You said: Say row {i}." for i in range(400)]


@pytest.mark.parametrize("rows", [120])
def test_two_processes_share_one_cache(tmp_path, rows):
    cache = tmp_path / "c.sqlite"
    with emulated(latency=0.005) as (server, session):
        procs = [child(server.base_url, cache, rows), child(server.base_url, cache, rows)]
        results = [p.communicate(timeout=120) for p in procs]
        for proc, (out, err) in zip(procs, results, strict=True):
            assert proc.returncode == 0, err
            counts = json.loads(out)
            assert counts.get("error", 0) == 0 and sum(counts.values()) == rows
        assert cached_rows(cache) == rows
        assert rows <= sent(server) <= 2 * rows
        server.app.reset_stats()
        again = session.map(texts(rows), "Say {text}", cache=cache, progress=False)
        assert sent(server) == 0 and set(again["status"]) == {"cached"}
