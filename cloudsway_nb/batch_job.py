"""`session.map(..., background=True)`: a map that runs while the notebook stays live, with a Stop button.

A blocking map holds the cell until it ends, so a widget's click cannot reach the kernel
meanwhile (the kernel handles comm messages between cells): only an interrupt stops it. With
`background=True` the run (already async, in its own thread's loop) is started and the call
returns a `MapJob` at once. In a notebook the job shows its progress bar beside a Stop button;
the click arrives as a comm message while the run goes on, and ends it as an interrupt would:
the requests in flight are cancelled, the rows finished so far are kept (and cached), the rest
are `stopped`. `job.stop()` does the same from code; `job.wait()`, `job.done` and
`job.result()` give the result (a `MapResult`, whose `retry_failed(stopped=True)` resumes).

Example:
    >>> import pandas as pd
    >>> from cloudsway_nb import Session
    >>> session = Session(); _ = session.use_emulator(pacing="none")
    >>> df = pd.DataFrame({"text": ["a cat", "a dog"]})
    >>> job = session.map(df, "Say: {text}", cache=False, progress=False, background=True)
    >>> job.wait(timeout=30), job.done
    (True, True)
    >>> job.result()["answer"].tolist()
    ['You said: Say: a cat.', 'You said: Say: a dog.']
    >>> job
    MapJob(done: 2 rows, 2 ok)
    >>> session.close()
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from .batch_run import Runner, finish, start, watch

if TYPE_CHECKING:
    from .batch import BatchPlan
    from .batch_run import MapResult, Progress
    from .session import Session

__all__ = ["MapJob"]

STOPPED = "stopped: Stop pressed"


class MapJob:
    """A map running in the background: `stop()`, `wait(timeout)`, `done`, `result()`, `progress`."""

    def __init__(self, session: Session, frame: Any, the_plan: BatchPlan) -> None:
        from .progress import ProgressBar

        self._runner = Runner(session, the_plan)
        self._bar = ProgressBar(self._runner.progress, enabled=the_plan.spec.progress, widget=True)
        self._result: MapResult | None = None
        self._error: BaseException | None = None
        self._ended = threading.Event()  # set once the result (or the run's error) is ready
        self.view, self.button, self._status = _view(self._bar.container, self.stop)
        finished = start(self._runner)
        threading.Thread(target=self._follow, args=(session, frame, the_plan, finished), daemon=True,
                         name="cloudsway-batch-job").start()
        _show(self.view)

    def _follow(self, session: Session, frame: Any, the_plan: BatchPlan, finished: threading.Event) -> None:
        """The job's own waiting thread: refreshes the bar, then builds the result when the run ends."""
        try:
            watch(self._runner, finished, self._bar)
            self._bar.close()
            self._result = finish(session, frame, the_plan, self._runner)
        except BaseException as exc:  # kept for result() to raise in the caller's thread
            self._error = exc
        finally:
            self._closed()
            self._ended.set()

    def _closed(self) -> None:
        if self.button is not None:
            self.button.disabled = True
            self.button.description = "Failed" if self._error else "Stopped" if self._runner.stop_reason else "Done"
            self._status.value = _escape(self._summary(ended=True))

    @property
    def progress(self) -> Progress:
        """The run's counts so far (rows done, cached, failed; tokens, cost; requests sent, 429s)."""
        return self._runner.progress

    @property
    def done(self) -> bool:
        """True once the run has ended and `result()` is ready."""
        return self._ended.is_set()

    def stop(self, *_: Any) -> None:
        """End the run now (what the Stop button does): the finished rows are kept, the rest `stopped`."""
        if not self.done:
            self._runner.request_stop(STOPPED)

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the run to end (at most `timeout` seconds); True when it has. An interrupt stops it."""
        try:
            return self._ended.wait(timeout)
        except KeyboardInterrupt:
            self._runner.request_stop("stopped: interrupted")
            self._ended.wait()
            return True

    def result(self, timeout: float | None = None) -> MapResult:
        """The result, once the run has ended (waiting for it): every row, those not reached `stopped`."""
        if not self.wait(timeout):
            raise TimeoutError(f"the map is still running after {timeout} s: job.stop() ends it now")
        if self._error is not None:
            raise self._error
        assert self._result is not None
        return self._result

    def _summary(self, ended: bool = False) -> str:
        p = self.progress
        if not (ended or self.done):
            return f"running: {p.finished}/{p.total} rows"
        if self._error is not None:
            return f"failed: {type(self._error).__name__}"
        counts = {"ok": p.done, "cached": p.cached, "failed": p.failed, "stopped": p.stopped}
        shown = ", ".join(f"{n} {name}" for name, n in counts.items() if n)
        return f"{'stopped' if self._runner.stop_reason else 'done'}: {p.total} rows, {shown}"

    def __repr__(self) -> str:
        return f"MapJob({self._summary()})"


def _view(container: Any, stop: Any) -> tuple[Any, Any, Any]:
    """The bar (when there is one) above a Stop button and a status line; Nones without ipywidgets."""
    try:
        import ipywidgets as w
    except ImportError:  # pragma: no cover - ipywidgets is a dependency
        return None, None, None
    button = w.Button(description="Stop", button_style="danger", tooltip="stop the map: the finished rows "
                      "are kept", layout=w.Layout(width="auto", flex="0 0 auto"))
    button.on_click(stop)
    status = w.HTML("", layout=w.Layout(margin="0 0 0 1em"))
    row = w.HBox([button, status], layout=w.Layout(align_items="center"))
    return w.VBox([container, row] if container is not None else [row]), button, status


def _show(view: Any) -> None:
    """Show the view in a notebook kernel (a terminal has no widgets: the job's repr says how it goes)."""
    if view is None:
        return
    try:
        from IPython import get_ipython

        shell = get_ipython()
    except ImportError:  # pragma: no cover
        return
    if shell is not None and "IPKernelApp" in getattr(shell, "config", {}):
        from IPython.display import display

        display(view)


def _escape(text: str) -> str:
    import html

    return html.escape(text)
