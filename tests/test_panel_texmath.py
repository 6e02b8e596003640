"""TeX to MathML: the allowlist writer, errors, and the bracket rules."""

from __future__ import annotations

import pytest
from markdown_it import MarkdownIt

from cloudsway_nb.panel.texmath import math_plugin, tex_to_mathml


def test_mathml_is_escaped_text_in_allowed_elements() -> None:
    out = tex_to_mathml(r"\text{a < b & <i>c</i>}").replace("\xa0", " ")  # latex2mathml keeps spaces as NBSP
    assert "<mtext>a &lt; b &amp; &lt;i&gt;c&lt;/i&gt;</mtext>" in out
    assert "<i>" not in out


def test_latex2mathml_entities_become_characters() -> None:
    assert "<mo>+</mo>" in tex_to_mathml("a+b") and "&#x" not in tex_to_mathml("a+b")
    assert "<mo>∑</mo>" in tex_to_mathml(r"\sum_i x_i", True)


@pytest.mark.parametrize("tex", [r"\href{javascript:alert(1)}{x}", r"\href{https://example.com}{x}"])
def test_links_are_dropped(tex: str) -> None:
    out = tex_to_mathml(tex)
    assert "href" not in out.split("<annotation")[0]


def test_colours_are_kept_but_not_urls() -> None:
    assert 'mathcolor="red"' in tex_to_mathml(r"\color{red}{x}")


def test_display_mode_and_matrix() -> None:
    out = tex_to_mathml(r"\begin{pmatrix}a&b\\c&d\end{pmatrix}", display=True)
    assert 'display="block"' in out and out.count("<mtd>") == 4


@pytest.mark.parametrize("tex", [r"\begin{matrix} a", "x^", r"\frac{a}{"])
def test_unfinished_tex_is_shown_as_source_or_rendered_partially(tex: str) -> None:
    out = tex_to_mathml(tex)
    assert out.startswith(('<code class="cw-math-error"', "<math"))
    assert "<script" not in out


def parser() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False}).use(math_plugin)


def test_bracket_block_needs_its_closing_within_the_block() -> None:
    md = parser()
    assert "<math" not in md.render("\\[\nx\n\nmore text")
    assert md.render("\\[\nx\n\\]\n").count('display="block"') == 1


def test_indented_bracket_is_code() -> None:
    assert "<math" not in parser().render("    \\[x\\]\n")


def test_escaped_backslash_is_not_a_delimiter() -> None:
    out = parser().render("a \\\\(b\\\\) c")
    assert "<math" not in out
