"""The panel's message renderer: escaping, code, math of every delimiter, dollars that are not math,
partial Markdown while streaming, and the static transcript."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from cloudsway_nb.panel.render import code_block_html, code_css, panel_css, render_message, render_transcript


class Tags(HTMLParser):
    """Every start tag with its attributes, to check that nothing executable got through."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


SAFE_TAGS = {
    "p", "em", "strong", "code", "pre", "span", "div", "button", "a", "ul", "ol", "li", "blockquote",
    "h1", "h2", "h3", "h4", "h5", "h6", "hr", "br", "table", "thead", "tbody", "tr", "th", "td",
    "details", "summary",
    "math", "semantics", "annotation", "mrow", "mi", "mn", "mo", "ms", "mtext", "mspace", "msup", "msub",
    "msubsup", "mfrac", "msqrt", "mroot", "mstyle", "mtable", "mtr", "mtd", "munder", "mover", "munderover",
    "mpadded", "mphantom", "menclose",
}


def assert_inert(out: str) -> None:
    for tag, attrs in Tags(out).tags:
        assert tag in SAFE_TAGS, (tag, out)
        for name, value in attrs.items():
            assert not name.startswith("on"), (tag, name, out)
            assert name not in {"style", "src", "srcdoc", "formaction", "xlink:href"}, (tag, name, out)
            if name == "href":
                assert not (value or "").strip().lower().startswith(("javascript:", "data:", "vbscript:")), out


XSS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '<a href="javascript:alert(1)">x</a>',
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](data:text/html;base64,PHNjcmlwdD4=)",
    "![x](javascript:alert(1))",
    '![x" onerror="alert(1)](https://example.com/a.png)',
    "<svg onload=alert(1)>",
    "<iframe srcdoc='<script>alert(1)</script>'>",
    "```<script>alert(1)</script>\ncode\n```",
    '```python" onmouseover="alert(1)\nx\n```',
    r"$\text{<img src=x onerror=alert(1)>}$",
    r"$\href{javascript:alert(1)}{click}$",
    r"$$\style{color:red}{x}$$",
    r"\(\text{</math><script>alert(1)</script>}\)",
    r"$\mathrm{&lt;script&gt;}$",
    "<details open ontoggle=alert(1)>",
    "`<b>code</b>`",
]


@pytest.mark.parametrize("text", XSS)
def test_nothing_executable_gets_through(text: str) -> None:
    out = render_message(text)
    assert "<script" not in out.lower()
    assert_inert(out)


def test_raw_html_is_escaped_and_shown() -> None:
    assert render_message("a <b>bold</b> claim") == "<p>a &lt;b&gt;bold&lt;/b&gt; claim</p>\n"


def test_images_become_links() -> None:
    out = render_message("![chart](https://example.com/c.png)")
    assert "<img" not in out and 'href="https://example.com/c.png"' in out and "[image: chart]" in out


def test_fenced_code_is_highlighted_with_a_copy_button() -> None:
    out = render_message("Try:\n\n```python\ndef f(x):\n    return x  # done\n```\n")
    assert '<div class="cw-code" data-lang="python">' in out
    assert '<button type="button" class="cw-copy"' in out
    assert '<span class="k">def</span>' in out and '<span class="nf">f</span>' in out
    assert '<span class="c1"># done</span>' in out


def test_unknown_language_and_indented_code_are_plain_escaped_text() -> None:
    out = render_message("```nosuchlang\n<b>x</b>\n```")
    assert "&lt;b&gt;x&lt;/b&gt;" in out and 'data-lang="nosuchlang"' in out
    indented = render_message("para\n\n    a < b\n")
    assert "cw-copy" in indented and "a &lt; b" in indented


def test_code_keeps_its_text_exactly() -> None:
    code = 'print("$5 and $x$ \\\\( y \\\\)")\n'
    out = code_block_html(code, "python")
    text = re.sub(r"<[^>]+>", "", out.split("<code>", 1)[1].split("</code>", 1)[0])
    from html import unescape

    assert unescape(text) == code


def test_long_code_is_not_highlighted() -> None:
    from cloudsway_nb.panel import render

    code = "x = 1\n" * (render.MAX_HIGHLIGHT // 6 + 10)
    out = code_block_html(code, "python")
    assert '<span class="n">' not in out and out.count("x = 1") == code.count("x = 1")


@pytest.mark.parametrize(
    ("text", "display"),
    [
        ("the area $\\pi r^2$ grows", "inline"),
        ("the area \\(\\pi r^2\\) grows", "inline"),
        ("$$\n\\pi r^2\n$$", "block"),
        ("\\[\n\\pi r^2\n\\]", "block"),
        ("\\[\\pi r^2\\]", "block"),
        ("so $$\\pi r^2$$ inline", "block"),
        ("so \\[\\pi r^2\\] inline", "block"),
        ("```math\n\\pi r^2\n```", "block"),
    ],
)
def test_math_of_every_delimiter_becomes_mathml(text: str, display: str) -> None:
    out = render_message(text)
    assert f'<math xmlns="http://www.w3.org/1998/Math/MathML" display="{display}">' in out
    assert "<mi>π</mi>" in out and "<msup><mi>r</mi><mn>2</mn></msup>" in out
    assert '<annotation encoding="application/x-tex">\\pi r^2</annotation>' in out
    assert_inert(out)


@pytest.mark.parametrize(
    "text",
    [
        "It costs $5 and $10.",
        "between $20-$30 a month",
        "I have $5, you have $7",
        "price $5.99, tax $0.50",
        "US$5 or US$6",
        "a lone $ sign",
        "$ 5 $",
        "escaped \\$x\\$ dollars",
        "`$x$` in a code span",
    ],
)
def test_dollars_that_are_not_math(text: str) -> None:
    assert "<math" not in render_message(text)


def test_math_and_dollars_together() -> None:
    out = render_message("It costs $5, where $x$ is the count.")
    assert out.count("<math") == 1 and "costs $5, where" in out


def test_math_inside_code_is_left_alone() -> None:
    out = render_message("```\n$x$ and \\(y\\)\n```\n\n`$$z$$`")
    assert "<math" not in out and "$x$ and \\(y\\)" in out and "<code>$$z$$</code>" in out


def test_bad_tex_shows_the_source() -> None:
    out = render_message("$\\begin{matrix} a$")
    assert '<code class="cw-math-error"' in out and "\\begin{matrix} a" in out


@pytest.mark.parametrize(
    "partial",
    [
        "Here is code:\n\n```python\ndef f(",
        "Here is code:\n\n```",
        "A formula $x^",
        "A formula $$\nx^2",
        "A formula \\(x^",
        "A formula \\[\nx",
        "**bold and `code",
        "| a | b |\n|---|",
        "[link](https://exa",
        "<scr",
    ],
)
def test_partial_markdown_while_streaming_renders(partial: str) -> None:
    out = render_message(partial)
    assert out and "<script" not in out
    assert_inert(out)


def test_unclosed_fence_is_a_code_block_to_the_end() -> None:
    out = render_message("Look:\n\n```python\nx = 1\ny = 2")
    assert "cw-code" in out and '<span class="n">y</span>' in out


def test_code_css_follows_the_theme_variables() -> None:
    css = code_css()
    assert ".cw-highlight .k{color:var(--jp-mirror-editor-keyword-color, #008000);font-weight:bold}" in css
    assert ".cw-highlight .s2{color:var(--jp-mirror-editor-string-color, #ba2121)}" in css
    assert ".cw-highlight .c1{color:var(--jp-mirror-editor-comment-color, #408080);font-style:italic}" in css
    classes = set(re.findall(r"\.cw-highlight \.([\w-]+)\{", css))
    assert {"k", "kn", "nf", "nc", "s", "s1", "s2", "mi", "mf", "c", "c1", "o", "p", "nb", "gd", "gi"} <= classes


def test_panel_css_uses_theme_variables_only() -> None:
    css = panel_css()
    assert "--jp-layout-color0" in css and "--jp-ui-font-color1" in css
    # literal colours appear only as fallbacks inside var(--jp-..., #...) (and white text on the accent button)
    lines = [line for line in css.splitlines() if re.search(r"(?<![\w-])#[0-9a-fA-F]{3,6}\b", line)]
    assert lines
    for line in lines:
        assert "var(--jp-" in line or "color: #fff" in line, line


def test_transcript_is_standalone_and_safe() -> None:
    messages = [
        {"id": "1", "role": "user", "text": "What is $x^2$? <script>alert(1)</script>",
         "attachments": [{"name": "cat.png", "size": 2048}]},
        {"id": "2", "role": "assistant", "text": "It is **x squared**.", "html": "<script>bad()</script>",
         "reasoning": "Think <b>hard</b>.", "reasoning_tokens": 42, "footer": "gpt · in 3 · out 5",
         "endpoint": "gpt"},
        {"id": "3", "role": "assistant", "text": "partial", "status": "interrupted", "endpoint": "claude"},
    ]
    out = render_transcript(messages, title="My <chat>", header="1 reply")
    assert out.startswith('<div class="cloudsway-panel cw-static"><style>')
    assert "--jp-layout-color0" in out  # the stylesheet is inline
    assert "bad()" not in out  # re-rendered from the text, the given html is ignored
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in out
    assert "<strong>x squared</strong>" in out and "<math" in out
    assert "Reasoning · 42 tokens" in out and "Think &lt;b&gt;hard&lt;/b&gt;." in out
    assert "gpt · in 3 · out 5" in out and "cat.png" in out and "2 KB" in out
    assert "Assistant · gpt" in out and 'cw-status-interrupted">interrupted<' in out
    assert "My &lt;chat&gt;" in out
    body = out.split("</style>", 1)[1]
    assert_inert(body)


def test_transcript_puts_a_comparison_side_by_side() -> None:
    messages = [
        {"id": "1", "role": "user", "text": "hi"},
        {"id": "2", "role": "assistant", "text": "A", "group": "g", "endpoint": "gpt"},
        {"id": "3", "role": "assistant", "text": "B", "group": "g", "endpoint": "claude"},
        {"id": "4", "role": "user", "text": "next"},
    ]
    out = render_transcript(messages, css=False)
    assert out.count('class="cw-row cw-group"') == 1
    inside = Ancestors(out).classes
    assert "cw-row" in inside["A"] and "cw-row" in inside["B"]
    assert "cw-row" not in inside["hi"] and "cw-row" not in inside["next"]


class Ancestors(HTMLParser):
    """For each text, the classes of the elements around it."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.classes: dict[str, set[str]] = {}
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack.append(dict(attrs).get("class") or "")

    def handle_endtag(self, tag: str) -> None:
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.classes[data] = {c for classes in self.stack for c in classes.split()}


def test_highlighted_code_is_the_same_bytes_whatever_the_pygments_release() -> None:
    # Pygments 2.20 escaped quotes in token text (&quot;), 2.21 does not: a stored notebook output
    # made on one machine then failed nbval on another. Ours never escapes quotes in text.
    out = code_block_html('s = "x" + \'y\' & z\n', "python")
    assert '"x"' in out and "'y'" in out and "&amp;" in out
    assert "&quot;" not in out.split("<code>")[1] and "&#39;" not in out.split("<code>")[1]
