"""Streaming Markdown in blocks: finished top-level blocks are rendered once, only the open tail again.

Re-rendering a whole answer on every streamed update makes the traffic to the front end grow with
the square of its length. `BlockSplitter` keeps the text seen so far and splits it into the
top-level blocks (paragraphs, headings, lists, tables, fences, quotes) that later text can no longer
change, each rendered to HTML exactly once, and the open tail after them, rendered on each update.
It only parses from the first unfinished block, so each update costs the size of the tail.

When is a block finished? When the block after it starts on a complete line (one that ends with a
newline): that line decides that the earlier block has ended (a paragraph turned into a setext
heading, a list that grows, a table's next row, an open code fence: each is the last block until
then); or when it cannot go on (a heading, a closed fence, a rule); or when a blank line ends it
and it is neither a list nor an indented code block. Two cases need more care: a paragraph opening
with `$$` or `\\[` may still become a math block when its closing line arrives, so it is finished
only after a blank line; and link reference definitions are collected as blocks finish, so a
finished block can use one defined earlier (one defined later than its use shows as text until the
final, whole rendering).

The concatenation of the finished blocks and the tail equals the whole text's rendering (tested on
many documents cut at every position, see tests/test_blocks.py).

Pure: no I/O, no widgets; `parser` is any markdown-it parser (the magic's `display.markdown_parser()`,
the panel's with highlighting and math).

Example:
    >>> from cloudsway_nb.display import markdown_parser
    >>> s = BlockSplitter(markdown_parser())
    >>> s.update("# Title\\n\\nSome *text")
    (['<h1>Title</h1>\\n'], '<p>Some *text</p>\\n')
    >>> s.update("# Title\\n\\nSome *text*.\\n\\n- a")
    (['<p>Some <em>text</em>.</p>\\n'], '<ul>\\n<li>a</li>\\n</ul>\\n')
    >>> "".join(s.blocks) + s.tail_html == markdown_parser().render(s.text)
    True
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["BlockSplitter", "TailBudget"]

_MATH_OPENERS = ("$$", "\\[")
_CLOSED_WHEN_FOLLOWED = ("heading_open", "fence", "hr", "math_block", "math_block_label")
_GO_ON_AFTER_BLANK = ("bullet_list_open", "ordered_list_open", "code_block")


def _groups(tokens: Sequence[Any]) -> list[tuple[int, int]]:
    """(first, past-the-end) token indices of each top-level block."""
    groups: list[tuple[int, int]] = []
    depth = 0
    start = 0
    for i, token in enumerate(tokens):
        if depth == 0:
            start = i
        depth += token.nesting
        if depth == 0:
            groups.append((start, i + 1))
    return groups


class BlockSplitter:
    """Growing Markdown as finished blocks (HTML, each rendered once) and an open tail.

    `update(text)` takes the whole text so far (it must extend the previous one; anything else
    starts again) and returns the blocks finished since the last call and the tail's HTML.
    `blocks` holds every finished block, `tail_html` the last tail.

    Example:
        >>> from cloudsway_nb.display import markdown_parser
        >>> s = BlockSplitter(markdown_parser())
        >>> s.update("```py\\nx = 1\\n\\ny")   # an open fence is one block up to the end
        ([], '<pre><code class="language-py">x = 1\\n\\ny</code></pre>\\n')
        >>> s.update("```py\\nx = 1\\n\\ny\\n```\\nDone.")
        (['<pre><code class="language-py">x = 1\\n\\ny\\n</code></pre>\\n'], '<p>Done.</p>\\n')
    """

    def __init__(self, parser: Any) -> None:
        self.parser = parser
        self.reset()

    def reset(self) -> None:
        """Forget everything (a new answer)."""
        self.text = ""
        self.blocks: list[str] = []
        self.tail_html = ""
        self._start = 0  # offset in `text` of the first unfinished block (always a line start)
        self._references: dict[str, Any] = {}

    @property
    def done(self) -> int:
        """How many characters of `text` the finished blocks hold."""
        return self._start

    def _env(self) -> dict[str, Any]:
        return {"references": dict(self._references)} if self._references else {}

    def update(self, text: str) -> tuple[list[str], str]:
        """Take the text so far; return (blocks finished by it, the tail's HTML)."""
        if not text.startswith(self.text):
            self.reset()
        self.text = text
        segment = text[self._start:]
        env = self._env()
        tokens = self.parser.parse(segment, env)
        groups = _groups(tokens)
        complete_lines = segment.count("\n")  # lines 0 .. complete_lines-1 end with a newline
        done = 0
        while done + 1 < len(groups):
            block, after = tokens[groups[done][0]], tokens[groups[done + 1][0]]
            if after.map is None or block.map is None:
                break
            if after.map[0] >= complete_lines and not self._ended_by_blank(block, after):
                break
            if self._may_become_math(tokens, groups[done], after.map[0]):
                break
            done += 1
        new = [self._render(tokens[a:b], env) for a, b in groups[:done]]
        if done:
            cut = _line_offset(segment, tokens[groups[done][0]].map[0])
            if env.get("references"):
                self._collect_references(segment[:cut])
            self._start += cut
            tail_tokens = [t for a, b in groups[done:] for t in tokens[a:b]]
        else:
            tail_tokens = list(tokens)
        self.blocks.extend(new)
        self.tail_html = self._render(tail_tokens, env)
        return new, self.tail_html

    def _render(self, tokens: Sequence[Any], env: dict[str, Any]) -> str:
        return str(self.parser.renderer.render(tokens, self.parser.options, env))

    @staticmethod
    def _ended_by_blank(block: Any, after: Any) -> bool:
        """The next block starts on the unfinished last line: `block` is over all the same when it
        cannot go on past its own last line (a heading, a closed fence, a rule), or when a blank line
        ends it and it is not a list or an indented code block (either may go on after a blank
        line: "3" may become "3. item", "  " an indented line)."""
        if block.type in _CLOSED_WHEN_FOLLOWED:
            return True
        return block.map[1] < after.map[0] and block.type not in _GO_ON_AFTER_BLANK

    @staticmethod
    def _may_become_math(tokens: Sequence[Any], group: tuple[int, int], next_line: int) -> bool:
        """A paragraph opening with `$$` or `\\[` right above the next block: its closing line may
        still arrive and make both one math block (math blocks cannot span a blank line)."""
        first = tokens[group[0]]
        if first.type != "paragraph_open" or first.map is None or first.map[1] < next_line:
            return False
        inline = tokens[group[0] + 1] if group[0] + 1 < group[1] else None
        return bool(inline is not None and str(inline.content).lstrip().startswith(_MATH_OPENERS))

    def _collect_references(self, finished: str) -> None:
        env: dict[str, Any] = {"references": dict(self._references)}
        self.parser.parse(finished, env)
        self._references = dict(env.get("references") or {})

    def __repr__(self) -> str:
        return f"BlockSplitter(blocks={len(self.blocks)}, tail={len(self.text) - self._start} chars)"


def _line_offset(text: str, line: int) -> int:
    """The offset where line `line` (0-based) of `text` starts."""
    offset = 0
    for _ in range(line):
        offset = text.index("\n", offset) + 1
    return offset


class TailBudget:
    """Decides when an open tail is worth re-sending: finished blocks always go, but the tail's copies
    stay within `floor` bytes plus `ratio` times what has rendered (finished blocks and the tail), so the
    traffic stays linear even while one block (a long table, list or code block) grows for a long time.
    A short answer (its tail copies under `floor`) streams at the full rate.

    Example:
        >>> budget = TailBudget(ratio=1.0, floor=100)
        >>> [budget.take(0, 60) for _ in range(3)]   # 60, 120 (within 100 + 60), 180: no
        [True, True, False]
        >>> budget.take(500, 60)                      # blocks finished: always
        True
    """

    def __init__(self, ratio: float = 1.5, floor: int = 4096) -> None:
        self.ratio = ratio
        self.floor = floor
        self.finished = 0
        self.tail_sent = 0

    def take(self, finished: int, tail: int, *, force: bool = False) -> bool:
        """`finished` bytes of new blocks are to go with a `tail` of this size: send now? (`force`: yes,
        and count it.)"""
        self.finished += finished
        over = self.tail_sent + tail > self.floor + self.ratio * (self.finished + tail)
        if over and not finished and not force:
            return False
        self.tail_sent += tail
        return True
