"""TeX math in model output, rendered to MathML on the server: no network, no script in the browser.

Four delimiters are recognised, as models write them: `$..$` and `$$..$$` (through
mdit-py-plugins' dollarmath, with Pandoc's rule that an opening `$` is followed and a closing `$`
preceded by a non-space, and a closing `$` is not followed by a digit, so "$5 and $10" stays
text), and `\\(..\\)` and `\\[..\\]` (rules of our own here, since texmath's bracket rules share
dollarmath's token names). latex2mathml turns the TeX into an element tree, which is written out
again through an allowlist of MathML elements and attributes with every text escaped: its own
string output passes `\\text{<img onerror=...>}` through raw and keeps `\\href{javascript:..}`.

Example:
    >>> tex_to_mathml("x^2").split("<semantics>")[1].split("<annotation")[0]
    '<mrow><msup><mi>x</mi><mn>2</mn></msup></mrow>'
    >>> "<mtext>&lt;b&gt;</mtext>" in tex_to_mathml(r"\\text{<b>}")
    True
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

__all__ = ["math_plugin", "tex_to_mathml"]

_MATHML_NS = "http://www.w3.org/1998/Math/MathML"

# MathML Core's presentation elements (no maction, no href-bearing or scripting element)
def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_ELEMENTS = _words(
    "math mrow mi mn mo ms mtext mspace msup msub msubsup mfrac msqrt mroot mstyle mtable mtr mtd "
    "munder mover munderover mpadded mphantom menclose merror semantics annotation mmultiscripts "
    "mprescripts none mlabeledtr mfenced"
)
# presentation attributes only: no href, no style, no event handlers, no xlink
_ATTRIBUTES = _words(
    "display mathvariant mathcolor mathbackground mathsize stretchy fence separator lspace rspace "
    "minsize maxsize symmetric movablelimits accent accentunder linethickness columnalign rowalign "
    "columnspacing rowspacing columnlines rowlines frame framespacing displaystyle scriptlevel width "
    "height depth voffset notation align open close separators columnspan rowspan equalrows "
    "equalcolumns form largeop bevelled numalign denomalign side encoding"
)


def _clean_value(value: str) -> str | None:
    text = html.unescape(value)
    lowered = text.replace(" ", "").lower()
    if "javascript:" in lowered or "url(" in lowered or "expression(" in lowered:
        return None
    return html.escape(text, quote=True)


def _write(element: Any, out: list[str]) -> None:
    """Serialise an ElementTree element through the allowlist (unknown tags become mrow)."""
    tag = str(element.tag).rsplit("}", 1)[-1]
    if tag not in _ELEMENTS or tag == "math":
        tag = "mrow"
    attrs = []
    for name, value in element.attrib.items():
        local = str(name).rsplit("}", 1)[-1]
        if local in _ATTRIBUTES:
            clean = _clean_value(str(value))
            if clean is not None:
                attrs.append(f' {local}="{clean}"')
    out.append(f"<{tag}{''.join(attrs)}>")
    # latex2mathml stores characters as entity references ("&#x0002B;") inside the text
    if element.text:
        out.append(html.escape(html.unescape(element.text), quote=False))
    for child in element:
        _write(child, out)
        if child.tail:
            out.append(html.escape(html.unescape(child.tail), quote=False))
    out.append(f"</{tag}>")


@lru_cache(maxsize=512)
def tex_to_mathml(tex: str, display: bool = False) -> str:
    """TeX to a safe MathML `<math>` element, the source kept as an annotation; a TeX error
    gives the source as escaped code with the class `cw-math-error`.

    Example:
        >>> tex_to_mathml(r"\\begin{matrix} a")
        '<code class="cw-math-error" title="not rendered: unfinished TeX">\\\\begin{matrix} a</code>'
    """
    from latex2mathml.converter import convert_to_element

    try:
        root = convert_to_element(tex, display="block" if display else "inline")
    except Exception:  # latex2mathml raises a dozen exception types for malformed TeX
        return f'<code class="cw-math-error" title="not rendered: unfinished TeX">{html.escape(tex)}</code>'
    out: list[str] = []
    for child in root:
        _write(child, out)
    body = "".join(out) if len(root) == 1 else f"<mrow>{''.join(out)}</mrow>"
    mode = "block" if display else "inline"
    return (
        f'<math xmlns="{_MATHML_NS}" display="{mode}"><semantics>{body}'
        f'<annotation encoding="application/x-tex">{html.escape(tex, quote=False)}</annotation>'
        f"</semantics></math>"
    )


# ---------------------------------------------------------------------------------------------
# markdown-it rules for \( .. \) and \[ .. \]
# ---------------------------------------------------------------------------------------------


def _bracket_inline(state: Any, silent: bool) -> bool:
    """`\\(x\\)` inline and `\\[x\\]` inside a paragraph (display math)."""
    src, pos = state.src, state.pos
    if src[pos] != "\\" or pos + 1 >= len(src) or src[pos + 1] not in "([":
        return False
    close = "\\)" if src[pos + 1] == "(" else "\\]"
    end = src.find(close, pos + 2)
    if end < 0 or not src[pos + 2 : end].strip():
        return False
    if not silent:
        token = state.push("math_inline" if close == "\\)" else "math_inline_double", "math", 0)
        token.content = src[pos + 2 : end]
        token.markup = src[pos : pos + 2]
    state.pos = end + 2
    return True


def _bracket_block(state: Any, start_line: int, end_line: int, silent: bool) -> bool:
    """`\\[` opening a line, up to the line that `\\]` ends (a display block)."""
    if state.sCount[start_line] - state.blkIndent >= 4:  # an indented code block
        return False
    begin = state.bMarks[start_line] + state.tShift[start_line]
    if not state.src.startswith("\\[", begin):
        return False
    line = start_line
    first = begin + 2
    while line < end_line:
        lo = first if line == start_line else state.bMarks[line] + state.tShift[line]
        text = state.src[lo : state.eMarks[line]].rstrip()
        if text.endswith("\\]"):
            break
        if line > start_line and not text:
            return False  # a blank line ends the paragraph: not a block
        line += 1
    else:
        return False
    if silent:
        return True
    content = state.src[first : state.eMarks[line]].rstrip()[:-2]
    token = state.push("math_block", "math", 0)
    token.block = True
    token.content = content
    token.markup = "\\["
    token.map = [start_line, line + 1]
    state.line = line + 1
    return True


def _render(display: bool, tag: str, cls: str) -> Any:
    def rule(renderer: Any, tokens: Sequence[Any], idx: int, options: Any, env: Any) -> str:
        body = tex_to_mathml(str(tokens[idx].content).strip(), display)
        return f'<{tag} class="cw-math {cls}">{body}</{tag}>' + ("\n" if tag == "div" else "")

    return rule


def math_plugin(md: Any) -> None:
    """Add the four math delimiters to a MarkdownIt parser, rendered as MathML.

    Example:
        >>> from markdown_it import MarkdownIt
        >>> md = MarkdownIt("commonmark", {"html": False}).use(math_plugin)
        >>> "<math" in md.render(r"\\(a\\)"), "<math" in md.render("costs $5 and $10")
        (True, False)
    """
    from mdit_py_plugins.dollarmath import dollarmath_plugin

    dollarmath_plugin(md, allow_labels=False, allow_space=False, allow_digits=False,
                      allow_blank_lines=False, double_inline=True)
    md.inline.ruler.before("escape", "math_brackets", _bracket_inline)
    md.block.ruler.before("fence", "math_block_brackets", _bracket_block,
                          {"alt": ["paragraph", "reference", "blockquote", "list"]})
    md.add_render_rule("math_inline", _render(False, "span", "cw-math-inline"))
    md.add_render_rule("math_inline_double", _render(True, "span", "cw-math-display"))
    md.add_render_rule("math_block", _render(True, "div", "cw-math-block"))
