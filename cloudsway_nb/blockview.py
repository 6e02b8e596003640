"""A streamed reply as a column of cell displays: each finished block is sent once, only the tail again.

Jupyter has no "append HTML to a display" message: `update_display_data` replaces a display's whole
content, so one display updated as an answer grows sends the square of its length. `BlockColumn`
keeps a column of displays instead. The last one shows the open tail (the Markdown block still
growing, the reasoning still streaming) and is replaced on each refresh; when blocks finish, that
display is given them for good (one update carrying only the new blocks) and a new display below
takes the tail. At the end `close(bundle)` puts the final answer, rendered whole as before, in the
first display and empties the others, so the cell keeps one output that shows anything.

Pure of I/O itself: `display` (IPython's, by default) makes the displays.

Example:
    >>> shown = []
    >>> class Handle:
    ...     def __init__(self, bundle): shown.append(["new", bundle["text/html"]])
    ...     def update(self, bundle, raw=True): shown.append(["update", bundle["text/html"]])
    >>> column = BlockColumn(display=lambda bundle, **_: Handle(bundle))
    >>> column.refresh("Hello", "")
    1
    >>> column.refresh("Hello world.\\n\\nNext", "")
    2
    >>> [kind for kind, _ in shown], "Hello world." in shown[1][1], "Next" in shown[2][1]
    (['new', 'update', 'new'], True, True)
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

from .blocks import BlockSplitter, TailBudget

__all__ = ["BlockColumn", "TextSplitter"]

EMPTY = {"text/plain": "", "text/html": ""}
"""What a display holds once its blocks have moved into the final answer (shows nothing)."""

_REASONING_STYLE = "white-space:pre-wrap;opacity:.7;font-size:.9em;border-left:3px solid #ccc;padding-left:.6em"


class TextSplitter:
    """Plain text (reasoning, a `text` or `json` answer) in paragraphs: those before the last blank
    line are finished, each escaped into `wrap` once.

    Example:
        >>> s = TextSplitter("<pre>{}</pre>")
        >>> s.update("a <b>\\n\\nb")
        (['<pre>a &lt;b&gt;</pre>'], '<pre>b</pre>')
    """

    def __init__(self, wrap: str) -> None:
        self.wrap = wrap
        self.text = ""
        self.done = 0

    def update(self, text: str, *, final: bool = False) -> tuple[list[str], str]:
        if not text.startswith(self.text):
            self.done = 0
        self.text = text
        cut = len(text) if final else text.rfind("\n\n", self.done) + 2  # 1 when there is none
        new = []
        if cut > self.done + 1:  # something before the last blank line, not yet sent
            new.append(self.wrap.format(html.escape(text[self.done : cut].rstrip("\n"))))  # its own display
            self.done = cut
        tail = text[self.done :]
        return new, self.wrap.format(html.escape(tail)) if tail else ""


class BlockColumn:
    """The displays of one streamed reply (see the module docstring).

    `refresh(text, reasoning, extra_html)` shows the state so far and returns the number of messages
    it sent (1, or 2 when blocks finished); `close(bundle)` shows the final answer; `messages` and
    `bytes` count what was sent (the HTML and plain text of every bundle).
    """

    def __init__(
        self,
        *,
        fmt: str = "markdown",
        show_reasoning: bool = True,
        parser: Any = None,
        display: Callable[..., Any] | None = None,
    ) -> None:
        if parser is None:
            from .display import _markdown

            parser = _markdown()
        self.answer: BlockSplitter | TextSplitter = (
            TextSplitter('<pre class="cloudsway-text" style="white-space:pre-wrap;margin:0">{}</pre>')
            if fmt in ("text", "json") else BlockSplitter(parser)
        )
        self.reasoning = TextSplitter(f'<div class="cloudsway-reasoning-part" style="{_REASONING_STYLE}">{{}}</div>')
        self.show_reasoning = show_reasoning
        self._display = display
        self.handles: list[Any] = []
        self.messages = 0
        self.bytes = 0
        self._labelled = False
        self.budget = TailBudget()  # the open tail is re-sent only within a linear budget

    def _send(self, bundle: dict[str, str], new: bool = False) -> None:
        self.messages += 1
        self.bytes += sum(len(v) for v in bundle.values())
        if new:
            show = self._display
            if show is None:
                from IPython.display import display as show
            self.handles.append(show(bundle, raw=True, display_id=True))
        else:
            self.handles[-1].update(bundle, raw=True)

    def open(self, bundle: dict[str, str]) -> None:
        """The first display (a status line until content arrives)."""
        self._send(bundle, new=True)

    def status(self, bundle: dict[str, str]) -> None:
        """Replace the last display (a status line while nothing has streamed yet)."""
        if not self.handles:
            self.open(bundle)
        else:
            self._send(bundle)

    def _parts(self, text: str, reasoning: str) -> tuple[list[str], str]:
        """(the newly finished blocks' HTML, the tail's HTML)."""
        finished: list[str] = []
        tail = ""
        if self.show_reasoning and reasoning:
            r_new, tail = self.reasoning.update(reasoning, final=bool(text))  # the answer has begun
            if not self._labelled:  # a label above the first reasoning part (a <details> cannot span displays)
                label = '<div class="cloudsway-reasoning-label" style="opacity:.7">Reasoning</div>'
                if r_new:
                    r_new[0] = label + r_new[0]
                    self._labelled = True
                elif tail:
                    tail = label + tail
            finished += r_new
        a_new, a_tail = self.answer.update(text)
        return finished + a_new, tail + a_tail

    def refresh(self, text: str, reasoning: str = "", extra_html: str = "") -> int:
        """Show the reply so far; return the messages sent (0 when the tail's budget says wait)."""
        before = self.messages
        finished, tail = self._parts(text, reasoning)
        tail += extra_html
        if not self.budget.take(sum(map(len, finished)), len(tail)) and self.handles:
            return 0  # a long open block (a table, a list, a code block): wait until it has grown more
        if finished:  # the last display keeps them for good; a new one takes the tail
            self._part("".join(finished), "", new=not self.handles)  # (the final bundle has the plain text)
            self._part(tail, "", new=True)
        else:
            self._part(tail, "", new=not self.handles)
        return self.messages - before

    def _part(self, body: str, plain: str, *, new: bool) -> None:
        # in a <div>: JupyterLab trims the bottom margin of an output's last child, which would pull
        # the blocks of separate displays closer together than in the final, single one
        self._send({"text/plain": plain, "text/html": f"<div>{body}</div>"}, new=new)

    def close(self, bundle: dict[str, str], *, sole: bool = False) -> None:
        """The final answer into the first display; the others emptied (they show nothing). `sole`:
        these displays are all the cell shows, so it is cleared and the answer shown once instead,
        leaving one output in the saved notebook rather than some empty ones (see `cellwatch`)."""
        if not self.handles:
            self.open(bundle)
            return
        first, *rest = self.handles
        if sole and rest:
            from IPython.display import clear_output

            clear_output(wait=True)  # takes effect with the next output: no flicker
            self.messages += 2
            self.bytes += sum(len(v) for v in bundle.values())
            first.display(bundle, raw=True)  # the same display id, now the cell's only output
            self.handles = [first]
            return
        self.messages += 1 + len(rest)
        self.bytes += sum(len(v) for v in bundle.values())
        first.update(bundle, raw=True)
        for handle in rest:
            handle.update(EMPTY, raw=True)
