"""BlockSplitter: finished blocks rendered once plus the tail add up to the whole text's rendering,
whatever the chunks the text arrives in (cut at every character), with both front ends' parsers."""

from __future__ import annotations

import pytest

from cloudsway_nb.blocks import BlockSplitter
from cloudsway_nb.display import markdown_parser
from cloudsway_nb.panel.render import _parser as panel_parser

DOCUMENTS = [
    "# Title\n\nA paragraph with *emphasis* and `code`.\n\nAnother one\nover two lines.\n",
    "Setext heading\n==============\n\nAnd another\n---\n\ntext\n",
    "- one\n- two\n\n- three (now the list is loose)\n\n  still item three\n\nafter the list\n",
    "1. a\n2. b\n\n3. c\n\n10. d\n\nend",
    "| a | b |\n|---|---|\n| 1 | 2 |\n| 3 | 4 |\n\nafter the table\n",
    "Text\n```python\ndef f(x):\n\n    return x\n```\nafter the fence\n\n~~~\nother fence\n~~~\n",
    "```js\nunclosed fence\n\nstill code",
    "> quote\nlazy continuation\n\n> second quote\n\n    indented code\n\n    more code\n\ntext\n",
    "para\n# heading interrupts\npara\n***\n---\nx\n",
    "[d]: https://example.com/docs \"Docs\"\n\nSee [the docs][d] and [x].\n\nUse [d] again.\n[e]: /e\n\n[e]\n",
    "Math $x^2$ inline.\n\n$$\na + b\n- c\n$$\n\n\\[\nx = 1\n\\]\n\nafter $y$ math\n",
    "Mixed:\n\n1. step\n   ```sh\n   ls -la\n   ```\n2. next\n\n> - quoted list\n> - more\n\nDone.",
    "A line\nand a line break\n\n* star list\n+ plus list\n\n<b>raw html</b> & entities &amp; <script>x</script>\n",
    "",
    "no newline at all",
    "trailing blanks\n\n\n\n",
]


def _parsers() -> list[object]:
    return [markdown_parser(), panel_parser()]


def _stream(parser: object, text: str, step: int) -> BlockSplitter:
    splitter = BlockSplitter(parser)
    for end in range(step, len(text) + step, step):
        _new, tail = splitter.update(text[:end])
        assert tail == splitter.tail_html
    return splitter


@pytest.mark.parametrize("parser_index", [0, 1], ids=["magic", "panel"])
@pytest.mark.parametrize("doc", DOCUMENTS)
def test_blocks_add_up_to_the_whole_rendering_at_every_cut(doc: str, parser_index: int) -> None:
    parser = _parsers()[parser_index]
    whole = parser.render(doc)
    for step in (1, 2, 7, 50):
        splitter = _stream(parser, doc, step)
        assert "".join(splitter.blocks) + splitter.tail_html == whole, (step, splitter)


@pytest.mark.parametrize("parser_index", [0, 1], ids=["magic", "panel"])
def test_every_prefix_renders_like_the_whole_prefix(parser_index: int) -> None:
    """Not only at the end: after each update, blocks + tail show what rendering that prefix shows."""
    parser = _parsers()[parser_index]
    doc = DOCUMENTS[2] + DOCUMENTS[5] + DOCUMENTS[4] + DOCUMENTS[1]
    splitter = BlockSplitter(parser)
    for end in range(1, len(doc) + 1):
        splitter.update(doc[:end])
        assert "".join(splitter.blocks) + splitter.tail_html == parser.render(doc[:end]), repr(doc[:end])


def test_finished_blocks_are_rendered_once_and_the_tail_stays_small() -> None:
    parser = markdown_parser()
    paragraphs = [f"Paragraph {i} with some words in it.\n\n" for i in range(200)]
    text = "".join(paragraphs)
    splitter = BlockSplitter(parser)
    sent = 0
    for end in range(10, len(text) + 10, 10):
        new, tail = splitter.update(text[:end])
        sent += sum(map(len, new)) + len(tail)
    final = len(parser.render(text))
    assert len(splitter.blocks) >= 199
    assert sent < 8 * final  # linear: about (final + one paragraph per update), not updates x final


def test_a_list_that_may_grow_stays_in_the_tail() -> None:
    splitter = BlockSplitter(markdown_parser())
    assert splitter.update("1. a\n\n3")[0] == []  # "3" may become "3. c", joining (and loosening) the list
    new, tail = splitter.update("1. a\n\n3. c\n\nend\n\nmore")
    assert new == ["<ol>\n<li>\n<p>a</p>\n</li>\n<li>\n<p>c</p>\n</li>\n</ol>\n", "<p>end</p>\n"]
    assert tail == "<p>more</p>\n"


def test_text_that_does_not_extend_the_last_starts_again() -> None:
    splitter = BlockSplitter(markdown_parser())
    splitter.update("# A\n\nx\n\ny")
    new, tail = splitter.update("# B\n\nz")
    assert new == ["<h1>B</h1>\n"] and tail == "<p>z</p>\n" and splitter.blocks == ["<h1>B</h1>\n"]


def test_a_reference_defined_after_its_use_is_text_until_the_final_rendering() -> None:
    """The one known difference (the front ends render the whole text once at the end)."""
    splitter = _stream(markdown_parser(), "See [d].\n\n[d]: /x\n\nUse [d].\n", 1)
    assert splitter.blocks[0] == "<p>See [d].</p>\n"
    assert "".join(splitter.blocks[1:]) + splitter.tail_html == '<p>Use <a href="/x">d</a>.</p>\n'
