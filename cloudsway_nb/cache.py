"""The batch cache: one SQLite file of finished rows, keyed by the request as sent.

`session.map` writes every successful row here the moment it arrives, so a re-run cell, a
crashed kernel or a reloaded DataFrame sends only the rows not yet done. The key is a SHA-256 of
the request as it goes on the wire: the endpoint's URL path, the protocol, the model, the JSON
body (rendered messages, parameters, schema) with each attachment replaced by the hash of its
content, and the gateway (`gateway_origin`: its URL, or "local" for the emulator). Headers are
not part of it, so the API key is never in the key nor in the file.

The file is in WAL mode with a busy timeout: several processes (Dask workers, two notebooks) may
read and write it at once, and a process killed in the middle of a write leaves it consistent
(SQLite rolls the unfinished transaction back). Where it lives by default: `$CLOUDSWAY_CACHE`,
else `cloudsway-cache.sqlite` in the working folder when running in a notebook kernel (Jupyter
starts kernels next to the notebook), else the user cache folder.

    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "c.sqlite"
    >>> with ResultCache(path) as cache:
    ...     cache.put(CachedRow("k1", "gpt", "chat", "gpt-4o", "Hi", "Hello!", None, 3, 2, 0, 0, 0.1))
    ...     cache.get_many(["k1", "k2"])["k1"].answer
    'Hello!'
    >>> len(list(path)), clear(path), len(list(path))
    (1, 1, 0)
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import astuple, dataclass, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .errors import bad_argument

__all__ = ["CachedRow", "ResultCache", "clear", "default_path", "export", "gateway_origin", "list", "request_key"]

_builtin_list = list  # this module's `list` is the public listing function

_COLUMNS = ("key", "endpoint", "protocol", "model", "prompt", "answer", "reasoning", "input_tokens",
            "output_tokens", "reasoning_tokens", "cached_tokens", "latency")
_SCHEMA = """CREATE TABLE IF NOT EXISTS results (
    key TEXT PRIMARY KEY, endpoint TEXT, protocol TEXT, model TEXT, prompt TEXT, answer TEXT, reasoning TEXT,
    input_tokens INTEGER, output_tokens INTEGER, reasoning_tokens INTEGER, cached_tokens INTEGER, latency REAL,
    created REAL)"""
_INSERT = f"INSERT OR REPLACE INTO results ({', '.join(_COLUMNS)}, created) VALUES ({', '.join('?' * 13)})"
_CHUNK = 900  # SQLite's default limit is 999 parameters per statement
_TIMEOUT = 30.0  # seconds a writer waits for another's lock


@dataclass(slots=True)
class CachedRow:
    """One finished request: what it answered and what it cost in tokens."""

    key: str
    endpoint: str
    protocol: str
    model: str | None
    prompt: str
    answer: str
    reasoning: str | None
    input_tokens: int | None
    output_tokens: int | None
    reasoning_tokens: int | None
    cached_tokens: int | None
    latency: float | None


def request_key(path: str, protocol: str, model: str | None, body: Any) -> str:
    """The cache key of a request: SHA-256 of its URL path, protocol, model and JSON body, each
    attachment (a `Payload` in the body) standing for the SHA-256 of its content.

    Example:
        >>> a = request_key("/v1/ai/gpt/chat/completions", "chat", "gpt-4o", {"messages": [{"content": "Hi"}]})
        >>> a == request_key("/v1/ai/gpt/chat/completions", "chat", "gpt-4o", {"messages": [{"content": "Hi"}]})
        True
        >>> a == request_key("/v1/ai/gpt/chat/completions", "chat", "gpt-4o", {"messages": [{"content": "Ho"}]})
        False
    """
    text = json.dumps([path, protocol, model, _hashed_payloads(body)], sort_keys=True, ensure_ascii=False,
                      separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def gateway_origin(base_url: str) -> str:
    """Where requests go, as the cache key holds it: the gateway's URL without credentials, except
    that every loopback address is "local" (an emulator, whatever port it got this time). So the
    emulator's answers are never served as cached ones of the real gateway.

    Example:
        >>> gateway_origin("https://genaiapi.cloudsway.net/"), gateway_origin("http://127.0.0.1:8123")
        ('https://genaiapi.cloudsway.net', 'local')
    """
    parts = urlsplit(base_url)
    host = (parts.hostname or "").lower()
    if host in ("localhost", "::1") or host.startswith("127."):
        return "local"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme.lower()}://{host}{port}{parts.path.rstrip('/')}"


def _hashed_payloads(value: Any) -> Any:
    from .types import Payload

    if isinstance(value, Payload):
        digest = hashlib.sha256()
        for chunk in value.chunks():
            digest.update(chunk)
        return "sha256:" + digest.hexdigest()
    if isinstance(value, dict):
        return {k: _hashed_payloads(v) for k, v in value.items()}
    if isinstance(value, _builtin_list | tuple):
        return [_hashed_payloads(v) for v in value]
    return value


def default_path() -> Path:
    """Where the cache lives when `cache=` is not given (see the module docstring).

    Example:
        >>> default_path().name
        'cloudsway-cache.sqlite'
    """
    explicit = os.environ.get("CLOUDSWAY_CACHE")
    if explicit:
        return Path(explicit).expanduser()
    if "ipykernel" in sys.modules:  # a notebook kernel runs in the notebook's folder
        return Path.cwd() / "cloudsway-cache.sqlite"
    base = os.environ.get("XDG_CACHE_HOME") or "~/.cache"
    return Path(base).expanduser() / "cloudsway_nb" / "cloudsway-cache.sqlite"


def _checked_path(path: Any) -> Path:
    if path is None:
        return default_path()
    if not isinstance(path, str | os.PathLike):
        raise bad_argument("cache", path, "the cache file's path, None for the default, or False for none",
                           "cache='labels.sqlite'")
    return Path(path).expanduser()


class ResultCache:
    """The cache file, open: look rows up in bulk, write each one as it arrives (one transaction each)."""

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = _checked_path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # autocommit off for writes we commit ourselves; check_same_thread off: a batch opens it in
        # its event loop's thread, and that thread alone uses it
        self._db = sqlite3.connect(self.path, timeout=_TIMEOUT, check_same_thread=False, isolation_level=None)
        try:
            self._set_up()
        except BaseException:
            self._db.close()
            raise

    def _set_up(self) -> None:
        """WAL mode and the table. Switching a new file to WAL can answer "database is locked" at once,
        without waiting, while another process (or Dask worker) opens it too: asked again until it holds."""
        deadline = time.monotonic() + _TIMEOUT
        while True:
            try:
                if self._db.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                    self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute("PRAGMA synchronous=NORMAL")  # in WAL: durable across a killed process
                self._db.execute(_SCHEMA)
                return
            except sqlite3.OperationalError as exc:
                if ("locked" not in str(exc) and "busy" not in str(exc)) or time.monotonic() > deadline:
                    raise
                time.sleep(0.02)

    def get_many(self, keys: Iterable[str]) -> dict[str, CachedRow]:
        """The cached rows among `keys` (key -> row)."""
        wanted = _builtin_list(dict.fromkeys(keys))
        found: dict[str, CachedRow] = {}
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start:start + _CHUNK]
            query = f"SELECT {', '.join(_COLUMNS)} FROM results WHERE key IN ({', '.join('?' * len(chunk))})"
            for row in self._db.execute(query, chunk):
                found[row[0]] = CachedRow(*row)
        return found

    def put(self, row: CachedRow) -> None:
        """Write one row now (its own transaction: it survives whatever happens next)."""
        self._db.execute(_INSERT, (*astuple(row), time.time()))

    def rows(self) -> Iterator[dict[str, Any]]:
        for values in self._db.execute(f"SELECT {', '.join(_COLUMNS)}, created FROM results ORDER BY created"):
            yield dict(zip((*_COLUMNS, "created"), values, strict=True))

    def delete(self, endpoint: str | None = None) -> int:
        where, args = ("WHERE endpoint = ?", (endpoint,)) if endpoint is not None else ("", ())
        return self._db.execute(f"DELETE FROM results {where}", args).rowcount

    def __len__(self) -> int:
        return self._db.execute("SELECT COUNT(*) FROM results").fetchone()[0]

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> ResultCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"ResultCache({str(self.path)!r})"


def list(path: str | os.PathLike[str] | None = None) -> Any:
    """The cached rows as a DataFrame (one row per request: endpoint, model, prompt, answer, tokens, when).

    Example:
        cloudsway_nb.cache.list("labels.sqlite").groupby("endpoint").size()
    """
    import pandas as pd

    with ResultCache(path) as cache:
        records = _builtin_list(cache.rows())
    frame = pd.DataFrame.from_records(records, columns=[*_COLUMNS, "created"])
    frame["created"] = pd.to_datetime(frame["created"], unit="s", utc=True)
    return frame


def clear(path: str | os.PathLike[str] | None = None, *, endpoint: str | None = None) -> int:
    """Delete the cached rows (only one endpoint's with `endpoint=`); returns how many went."""
    with ResultCache(path) as cache:
        return cache.delete(endpoint)


def export(destination: str | os.PathLike[str], path: str | os.PathLike[str] | None = None) -> Path:
    """Write the cache's rows to a file: `.csv`, `.jsonl`/`.json` or `.parquet`, by the suffix.

    Example:
        cloudsway_nb.cache.export("labels.csv", "labels.sqlite")
    """
    out = Path(destination).expanduser()
    writers = {".csv": lambda f: f.to_csv(out, index=False),
               ".jsonl": lambda f: f.to_json(out, orient="records", lines=True, date_format="iso"),
               ".json": lambda f: f.to_json(out, orient="records", date_format="iso"),
               ".parquet": lambda f: f.to_parquet(out, index=False)}
    if out.suffix.lower() not in writers:
        raise bad_argument("destination", str(destination), "a .csv, .jsonl, .json or .parquet file name",
                           "export('labels.csv')")
    writers[out.suffix.lower()](list(path))
    return out


assert [f.name for f in fields(CachedRow)] == _builtin_list(_COLUMNS)
