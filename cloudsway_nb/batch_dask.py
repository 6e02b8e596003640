"""`session.map` on a Dask DataFrame or bag: the same row function on every partition.

`RowMapper` carries what a partition needs to run a map on its own: the gateway's URL, the
endpoints, the map's settings and the cache file's path, never the key (a worker reads
`CLOUDSWAY_API_KEY` from its environment; the bundled emulator gets its dummy key). Each call
makes its own Session and client, so every worker has its own connections; they share the cache
file (SQLite in WAL mode takes concurrent writers), so a re-run, on Dask or in pandas, sends only
what no worker finished. Rate limits hold per partition being run: give each worker its share.

Example:
    >>> import pandas as pd
    >>> from cloudsway_nb.batch import make_spec
    >>> from cloudsway_nb.config import Endpoint
    >>> spec = make_spec("Say {text}", "gpt", schema=None, system=None, cache=False, progress=False,
    ...                  budget=None, params={}, default=None)
    >>> mapper = RowMapper("http://127.0.0.1:9", {"gpt": Endpoint("MaaS-gpt", "chat")}, spec)
    >>> list(mapper.meta().columns[:3])
    ['answer', 'reasoning', 'status']
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .errors import UsageError

if TYPE_CHECKING:
    from .batch import MapSpec
    from .config import Endpoint
    from .session import Session

__all__ = ["RowMapper", "map_dask"]


@dataclass
class RowMapper:
    """A picklable map over one partition (a pandas DataFrame, or a bag's list of dicts)."""

    base_url: str
    endpoints: dict[str, Endpoint]
    spec: MapSpec
    emulator_key: bool = False  # the session runs the bundled emulator: send its dummy key

    def session(self) -> Session:
        from .client import Client
        from .config import EMULATOR_KEY
        from .session import Session

        key = EMULATOR_KEY if self.emulator_key else None  # None: CLOUDSWAY_API_KEY on the worker
        return Session(Client(base_url=self.base_url, api_key=key, endpoints=dict(self.endpoints)))

    def __call__(self, partition: Any) -> Any:
        """The map's result for one pandas partition (a plain DataFrame with its index)."""
        import pandas as pd

        from .batch import plan
        from .batch_run import run_plan

        session = self.session()
        try:
            return pd.DataFrame(run_plan(session, partition, plan(session, partition, self.spec)))
        finally:
            session.close()

    def records(self, items: Any) -> list[dict[str, Any]]:
        """A bag partition: each item a dict of columns, returned with the result's columns added."""
        import pandas as pd

        frame = pd.DataFrame.from_records(list(items))
        out = self(frame)
        return [{**row, **done} for row, done in zip(frame.to_dict("records"), out.to_dict("records"), strict=True)]

    def meta(self) -> Any:
        """The result's empty frame (columns and dtypes), for Dask's `meta=`."""
        from .batch_run import empty_result

        return empty_result(self.spec, {a: e.prices for a, e in self.endpoints.items()})


def map_dask(session: Session, collection: Any, spec: MapSpec) -> Any:
    """A lazy Dask DataFrame (or bag) of results: `.compute()` runs the map on the workers."""
    if spec.budget is not None:
        raise UsageError("budget= is not available on Dask (each worker would hold its own); run a dry run "
                         "first (dry_run=True on a sample), or map the pandas DataFrame")
    if spec.stop is not None:
        raise UsageError("stop= is not available on Dask; cancel the Dask computation instead")
    endpoints = {}
    for alias in spec.endpoints:
        alias, endpoint = session.resolve(alias)
        endpoints[alias] = endpoint
    spec = dataclasses.replace(spec, progress=False, cache=spec.cache.resolve() if spec.cache else None)
    mapper = RowMapper(session.client.base_url, endpoints, spec, emulator_key=session.emulator_url is not None)
    if hasattr(collection, "map_partitions") and hasattr(collection, "columns"):
        return collection.map_partitions(mapper, meta=mapper.meta())
    if hasattr(collection, "map_partitions"):
        return collection.map_partitions(mapper.records)
    raise UsageError(f"session.map takes a pandas or Dask DataFrame, or a Dask bag; not {type(collection).__name__}")
