"""Whether a cell showed anything besides one streamed answer, so the answer may clear the cell.

A streamed answer uses several displays (`blockview.BlockColumn`); at the end the first holds the
whole answer and the others are emptied, which leaves empty outputs in the saved notebook, as many
as timing made. `clear_output(wait=True)` followed by the final answer leaves exactly one output,
but it clears everything the cell showed: it is safe only when nothing else was shown. `CellWatch`
counts what goes out while it is active (every display message through the shell's display
publisher, every write to stdout or stderr); the column knows how many messages it sent itself; when
the two agree, the answer was all the cell showed.

Example:
    >>> import sys
    >>> from IPython.core.interactiveshell import InteractiveShell
    >>> from IPython.utils.capture import capture_output
    >>> shell = InteractiveShell.instance()
    >>> with capture_output(), CellWatch(shell) as watch:
    ...     _ = sys.stdout.write("hello\\n")
    ...     shell.display_pub.publish({"text/plain": "x"})
    >>> watch.count
    2
"""

from __future__ import annotations

import sys
from types import TracebackType
from typing import Any

__all__ = ["CellWatch"]


class CellWatch:
    """Counts the outputs of the current cell while active (a context manager; restores on exit)."""

    def __init__(self, shell: Any) -> None:
        self.shell = shell
        self.count = 0
        self._undo: list[tuple[Any, str]] = []

    def _wrap(self, target: Any, name: str) -> None:
        original = getattr(target, name, None)
        if original is None:
            return

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.count += 1
            return original(*args, **kwargs)

        try:
            setattr(target, name, counted)  # an instance attribute shadows the method
        except (AttributeError, TypeError):  # a stream that takes no attributes: count what we can
            return
        self._undo.append((target, name))

    def __enter__(self) -> CellWatch:
        publisher = getattr(self.shell, "display_pub", None)
        if publisher is not None:
            self._wrap(publisher, "publish")
        for stream in {id(s): s for s in (sys.stdout, sys.stderr)}.values():
            self._wrap(stream, "write")
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        for target, name in reversed(self._undo):
            try:
                delattr(target, name)
            except AttributeError:  # pragma: no cover - someone else removed it
                pass
        self._undo.clear()
