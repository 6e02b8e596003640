"""The panel's static copy in the notebook: what a saved `.ipynb` shows without a kernel.

`ChatView.show()` puts, below the widget, a few displays holding the transcript as static HTML
(hidden by the widget's stylesheet wherever the widget is live; nbviewer, GitHub, nbconvert and a
notebook reopened without its kernel show them). Jupyter cannot append an output to a cell that
has finished, only replace a display's whole content (`update_display_data`), so one display
holding the whole transcript would send every earlier message again each time one finishes (the
square of the transcript's length over a conversation). The copy is therefore split, once, into:

| display | holds | updated when |
|---|---|---|
| style | the stylesheet (`panel_css`), once | never |
| header | the title and the running totals | they change (a few hundred bytes) |
| segment 0 | the messages there were when `show()` ran | one of them is edited or deleted |
| segments 1.. | one turn each: a user message and the replies that follow it | that turn changes |

A turn's segment is updated when its question arrives and when each of its replies finishes (so
a reply re-sends only its own question with it); earlier turns' segments are left alone, and an
edit or delete updates only the segments it touches. Segments never used hold an empty bundle and
show nothing. The bound: `SEGMENTS` turns after `show()`; later turns all go into the last segment,
which is then sent whole on each change (run the cell, or `panel.show()`, again for fresh
segments: the new displays start with the whole transcript in their first segment).

Pure of I/O itself: `display` (IPython's, by default) makes the displays.

Example:
    >>> sent = []
    >>> class Handle:
    ...     def __init__(self, n): self.n = n
    ...     def update(self, bundle, raw=True): sent.append((self.n, bundle["text/html"]))
    >>> made = iter(range(100))
    >>> copy = StaticCopy(segments=3, display=lambda bundle, **_: Handle(next(made)))
    >>> copy.show([{"id": "a", "role": "user", "text": "old"}], title="Chat", totals="no replies yet")
    >>> copy.refresh([{"id": "a", "role": "user", "text": "old"}, {"id": "b", "role": "user", "text": "new"}],
    ...              title="Chat", totals="no replies yet")
    >>> [(n, "new" in html, "old" in html) for n, html in sent]   # display 3 = segment 1: the new turn alone
    [(3, True, False)]
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .render import header_html, panel_css, transcript_rows

__all__ = ["COPY_BUTTON", "EMPTY", "SEGMENTS", "StaticCopy", "assign_segments"]

SEGMENTS = 16
"""Segment displays `show()` makes (turns after it that are never sent again; see the module docstring)."""

EMPTY = {"text/plain": "", "text/html": ""}
"""What an unused segment holds (shows nothing)."""

# the static copy's pieces read as one panel: a header box, then the messages under it
_PIECES_CSS = (
    "\n.cloudsway-panel.cw-static.cw-piece{border:0;padding:0 8px;background:transparent}"
    "\n.cloudsway-panel.cw-static.cw-piece-head{border-radius:var(--cw-radius);padding:4px 8px;margin-bottom:4px}"
    "\n.cloudsway-panel.cw-static.cw-piece .cw-transcript{min-height:0;padding:0 0 8px}\n"
)


COPY_BUTTON = '<button type="button" class="cw-copy" title="Copy code" aria-label="Copy code">Copy</button>'
"""A code block's copy button (`render.code_block_html`): left out of the static copy, where no script
wires it (and an untrusted notebook's sanitizer drops the stylesheet that would hide it)."""


def _wrap(inner: str) -> dict[str, str]:
    # mathjax_ignore: JupyterLab typesets $...$ in HTML outputs; prices in a message are text (math is MathML)
    return {"text/plain": "", "text/html": f'<div class="cw-fallback mathjax_ignore">{inner}</div>'}


def _opens_segment(message: Mapping[str, Any], previous: Mapping[str, Any] | None,
                   open_segment: Sequence[Mapping[str, Any]]) -> bool:
    """Does a message appended after `previous` start a segment of its own?"""
    if previous is None or not open_segment:
        return False
    group = str(message.get("group") or "")
    if group and group == str(previous.get("group") or ""):
        return False  # a comparison's answers sit side by side, in one row
    # a reply joins the question that opened the segment
    return not (message.get("role") != "user" and len(open_segment) == 1 and open_segment[0].get("role") == "user")


def assign_segments(messages: Sequence[Mapping[str, Any]], placed: Mapping[str, int],
                    count: int) -> list[list[Mapping[str, Any]]]:
    """Put the messages, in order, into `count` segments: a message already `placed` (id -> segment)
    stays there, one inserted between others joins the segment before it, one appended joins the
    open segment or opens the next (see `_opens_segment`); the last segment takes any overflow.

    Example:
        >>> msgs = [{"id": i, "role": r} for i, r in enumerate(["user", "assistant", "user"])]
        >>> [[m["id"] for m in s] for s in assign_segments(msgs, {}, 3)]
        [[0, 1], [2], []]
        >>> [[m["id"] for m in s] for s in assign_segments(msgs, {0: 0, 1: 0, 2: 0}, 3)]
        [[0, 1, 2], [], []]
    """
    segments: list[list[Mapping[str, Any]]] = [[] for _ in range(count)]
    known_after = [False] * (len(messages) + 1)
    for i in range(len(messages) - 1, -1, -1):
        known_after[i] = known_after[i + 1] or messages[i].get("id") in placed
    current = 0
    previous: Mapping[str, Any] | None = None
    for i, message in enumerate(messages):
        where = placed.get(message.get("id"))  # type: ignore[arg-type]
        if where is None:
            inserted = known_after[i + 1]
            where = current + 1 if not inserted and _opens_segment(message, previous, segments[current]) else current
        current = min(max(where, current), count - 1)
        segments[current].append(message)
        previous = message
    return segments


class StaticCopy:
    """The static copy's displays (see the module docstring): `show(...)` makes them, `refresh(...)`
    updates those whose content changed. `sent` counts the bundles sent and `bytes` their HTML."""

    def __init__(self, *, segments: int | None = None, display: Callable[..., Any] | None = None) -> None:
        self.count = max(1, SEGMENTS if segments is None else segments)
        self._display = display
        self._handles: list[Any] = []
        self._placed: dict[Any, int] = {}
        self._held: list[Any] = []  # what each display shows: its header, or its messages (copies)
        self._lock = threading.Lock()
        self.sent = 0
        self.bytes = 0

    @property
    def shown(self) -> bool:
        return bool(self._handles)

    def _new(self, bundle: dict[str, str]) -> Any:
        show = self._display
        if show is None:
            from IPython.display import display as show
        self.sent += 1
        self.bytes += len(bundle["text/html"])
        return show(bundle, raw=True, display_id=True)

    def show(self, messages: Sequence[Mapping[str, Any]], *, title: str, totals: str) -> None:
        """Make the displays: the style, the header, the transcript so far in segment 0, the rest empty."""
        with self._lock:
            self._new(_wrap(f"<style>{panel_css()}{_PIECES_CSS}</style>"))
            head = (title, totals)
            self._handles = [self._new(self._header(*head))]
            self._held = [head]
            self._placed = {m.get("id"): 0 for m in messages}
            for segment in assign_segments(messages, self._placed, self.count):
                self._handles.append(self._new(self._segment(segment)))
                self._held.append([dict(m) for m in segment])

    def refresh(self, messages: Sequence[Mapping[str, Any]], *, title: str, totals: str) -> None:
        """Update the header if the title or totals changed, and each segment whose messages did."""
        with self._lock:
            if not self._handles:
                return
            if self._held[0] != (title, totals):
                self._held[0] = (title, totals)
                self._update(0, self._header(title, totals))
            segments = assign_segments(messages, self._placed, self.count)
            self._placed = {m.get("id"): index for index, segment in enumerate(segments) for m in segment}
            for index, segment in enumerate(segments, start=1):
                if self._held[index] != segment:  # dicts compare by value: an edited message differs
                    self._held[index] = [dict(m) for m in segment]
                    self._update(index, self._segment(segment))

    def _update(self, index: int, bundle: dict[str, str]) -> None:
        self.sent += 1
        self.bytes += len(bundle["text/html"])
        self._handles[index].update(bundle, raw=True)

    @staticmethod
    def _header(title: str, totals: str) -> dict[str, str]:
        head = header_html(title, totals)
        return _wrap(f'<div class="cloudsway-panel cw-static cw-piece cw-piece-head">{head}</div>')

    @staticmethod
    def _segment(messages: Sequence[Mapping[str, Any]]) -> dict[str, str]:
        if not messages:
            return dict(EMPTY)
        rows = transcript_rows(messages).replace(COPY_BUTTON, "")
        return _wrap(f'<div class="cloudsway-panel cw-static cw-piece"><div class="cw-transcript">{rows}</div></div>')

    def html(self) -> str:
        """The static copy's HTML as the displays show it now, in order (for tests and checks)."""
        with self._lock:
            if not self._handles:
                return ""
            parts = [self._header(*self._held[0])] + [self._segment(s) for s in self._held[1:]]
        return "".join(p["text/html"] for p in parts)
