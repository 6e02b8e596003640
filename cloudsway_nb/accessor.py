"""`df.cloudsway.map(...)`: the pandas accessor, and `%%cloudsway ENDPOINT --map df` for the magic.

The accessor is registered when this module is imported, which `session.map`, `%load_ext
cloudsway_nb` and `import cloudsway_nb.accessor` all do (pandas is not imported before that,
so `import cloudsway_nb` stays fast). Its default session is the notebook's, the one behind
`%%cloudsway` (`magics.get_session()`); outside IPython, one Session for the process, made from
the environment on first use.

Example:
    >>> import pandas as pd
    >>> from cloudsway_nb import Session
    >>> session = Session(); _ = session.use_emulator(pacing="none")
    >>> df = pd.DataFrame({"text": ["a cat"]})
    >>> df.cloudsway.map("Say: {text}", session=session, cache=False, progress=False)["answer"].tolist()
    ['You said: Say: a cat.']
    >>> df.cloudsway.estimate("Say: {text}", session=session, cache=False).to_send
    1
    >>> session.close()
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from .errors import CloudswayError, UsageError, describe_error

__all__ = ["CloudswayAccessor", "cell_map", "default_session", "register"]

_SESSION: list[Any] = []


def default_session() -> Any:
    """The notebook's session (the one `%%cloudsway` uses), else one for this process."""
    try:
        from IPython import get_ipython

        shell = get_ipython()
    except ImportError:  # pragma: no cover - IPython is a dependency
        shell = None
    if shell is not None:
        from .magics import get_session

        return get_session(shell)
    if not _SESSION:
        from .session import Session

        _SESSION.append(Session())
    return _SESSION[0]


class CloudswayAccessor:
    """`df.cloudsway`: `map(template, session=None, **kwargs)` and `estimate(...)`; see `Session.map`."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self._frame = frame

    def map(self, template: str, session: Any = None, **kwargs: Any) -> Any:
        """`session.map(df, template, **kwargs)` with the notebook's session by default."""
        return (session or default_session()).map(self._frame, template, **kwargs)

    def estimate(self, template: str, session: Any = None, **kwargs: Any) -> Any:
        """What `map` would send and cost (`dry_run=True`): nothing is sent."""
        return self.map(template, session, dry_run=True, **kwargs)


def register() -> None:
    """Register `df.cloudsway` (once)."""
    if "cloudsway" not in getattr(pd.DataFrame, "_accessors", set()):
        pd.api.extensions.register_dataframe_accessor("cloudsway")(CloudswayAccessor)


def cell_map(magics: Any, args: Any, cell: str) -> Any:
    """`%%cloudsway ENDPOINT --map DF`: the cell is the template (its braces name columns, so it
    is not interpolated); returns the result (shown as the cell's output; `--out VAR` keeps it).
    With `--background` the cell returns at once: the result is a `MapJob` (a progress bar and a
    Stop button; `job.result()` when it is done)."""
    from IPython.core.error import UsageError as IPythonUsageError

    frame = magics.shell.user_ns.get(args.map)
    try:
        if not isinstance(frame, pd.DataFrame) and not type(frame).__module__.startswith("dask"):
            raise UsageError(f"--map {args.map!r}: not a DataFrame variable; e.g. --map df")
        params = magics._params(args)
        background = bool(params.pop("background", False))  # --background: a MapJob with a Stop button
        aliases = [a.strip() for a in (args.endpoint or "").split(",") if a.strip()] or None
        result = magics.session.map(frame, cell.strip(), endpoint=aliases, system=args.system,
                                    schema=params.pop("schema", None), background=background, **params)
    except CloudswayError as exc:
        raise IPythonUsageError(describe_error(exc)) from None
    if args.out:
        magics.shell.user_ns[args.out] = result
    return result


register()
