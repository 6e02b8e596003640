"""A batch's progress bar: `tqdm.auto` (a widget in a notebook, a text bar on stderr elsewhere).

It is refreshed by the thread that waits for the run, at most four times a second, with the
rows finished (done, cached, failed), rows a second and the ETA (tqdm's), tokens and dollars so
far, and the 429s seen and the current concurrency when the gateway throttled. `enabled=False`
shows nothing.

Example:
    >>> from cloudsway_nb.batch_run import Progress
    >>> bar = ProgressBar(Progress(total=3), enabled=False)
    >>> bar.update(); bar.close()
"""

from __future__ import annotations

from typing import Any

__all__ = ["ProgressBar"]


class ProgressBar:
    """tqdm over a `batch_run.Progress`, updated by `update()` from the waiting thread."""

    def __init__(self, progress: Any, *, enabled: bool = True, widget: bool = False) -> None:
        self.progress = progress
        self._bar: Any = None
        self.container: Any = None  # the ipywidgets bar, with widget=True
        if enabled and progress.total:
            if widget:  # not displayed here: a background job shows it beside its Stop button
                from tqdm.notebook import tqdm

                options: dict[str, Any] = {"display": False}
            else:
                from tqdm.auto import tqdm

                options = {}
            # the rows already cached count from the start, not as speed: rows/s and the ETA are the sent ones'
            self._shown = progress.finished
            self._bar = tqdm(total=progress.total, initial=self._shown, unit="row", desc="cloudsway map",
                             mininterval=0.25, dynamic_ncols=True, **options)
            self.container = getattr(self._bar, "container", None)

    def update(self, limit: int | None = None) -> None:
        bar = self._bar
        if bar is None:
            return
        p = self.progress
        finished = p.finished
        postfix = {"done": p.done, "cached": p.cached, "failed": p.failed, "tokens": f"{p.tokens:,}"}
        if p.cost:
            postfix["cost"] = f"${p.cost:.4f}"
        if p.throttled:
            postfix["429s"] = p.throttled
            if limit is not None:
                postfix["concurrency"] = limit
        bar.set_postfix(postfix, refresh=False)
        bar.update(finished - self._shown)
        self._shown = finished

    def close(self) -> None:
        if self._bar is not None:
            self.update()
            self._bar.close()
            self._bar = None
