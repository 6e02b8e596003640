"""Chat messages as safe HTML: Markdown, highlighted code with a copy button, math as MathML.

Pure Python, no widgets. `render_message` is what the panel shows for every message, user or
model, while it streams and once it is done; `render_transcript` is the whole conversation as one
standalone HTML fragment with its stylesheet inline, for the notebook's static fallback (what
nbviewer or GitHub shows without a kernel).

Safety: the parser is `display.markdown_parser()` (commonmark, raw HTML escaped, `javascript:`
links refused, images as plain links), code goes through Pygments (which escapes), math through
`texmath` (MathML written out through an allowlist). Nothing model-written reaches the page as
markup of its own.

Unlike commonmark, a single newline is a line break: in a chat, people and models mean it.
Partial Markdown while streaming is fine: an unclosed fence is a code block up to the end, an
unclosed `$` or `\\(` is text until its closing delimiter arrives.

Example:
    >>> render_message("Hi <b>there</b>")
    '<p>Hi &lt;b&gt;there&lt;/b&gt;</p>\\n'
    >>> "cw-copy" in render_message("```py\\nprint(1)\\n```")
    True
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from importlib import resources
from typing import Any

__all__ = [
    "code_block_html",
    "code_css",
    "header_html",
    "inline_code_block_html",
    "inline_fence",
    "panel_css",
    "render_message",
    "render_partial",
    "render_transcript",
    "transcript_rows",
]

MAX_HIGHLIGHT = 50_000
"""Code blocks longer than this (characters) are shown escaped but not highlighted (Pygments is
linear but not free, and a block still streaming is highlighted again on every update)."""

# Pygments token -> JupyterLab's editor colour variable (and the light theme's value as the fallback
# outside JupyterLab), plus a weight or style. The nearest listed ancestor of a token type applies.
_TOKEN_STYLES: dict[str, tuple[str, str, str]] = {
    "Keyword": ("keyword", "#008000", "font-weight:bold"),
    "Keyword.Type": ("variable-3", "#085", ""),
    "Operator": ("operator", "#7800c2", ""),
    "Operator.Word": ("keyword", "#008000", "font-weight:bold"),
    "Punctuation": ("punctuation", "#05a", ""),
    "Name.Builtin": ("builtin", "#008000", ""),
    "Name.Builtin.Pseudo": ("builtin", "#008000", ""),
    "Name.Function": ("def", "#00f", ""),
    "Name.Class": ("def", "#00f", "font-weight:bold"),
    "Name.Namespace": ("variable-2", "#00366d", ""),
    "Name.Decorator": ("meta", "#a2f", ""),
    "Name.Attribute": ("attribute", "#00c", ""),
    "Name.Tag": ("tag", "#170", "font-weight:bold"),
    "Name.Variable": ("variable-2", "#00366d", ""),
    "Name.Constant": ("atom", "#88f", ""),
    "Name.Exception": ("error", "#f00", "font-weight:bold"),
    "Name.Property": ("property", "#05a", ""),
    "Literal": ("atom", "#88f", ""),
    "String": ("string", "#ba2121", ""),
    "String.Doc": ("comment", "#408080", "font-style:italic"),
    "String.Escape": ("string-2", "#708", ""),
    "String.Interpol": ("string-2", "#708", ""),
    "String.Regex": ("string-2", "#708", ""),
    "Number": ("number", "#080", ""),
    "Comment": ("comment", "#408080", "font-style:italic"),
    "Comment.Preproc": ("meta", "#a2f", ""),
    "Generic.Heading": ("header", "#00f", "font-weight:bold"),
    "Generic.Subheading": ("header", "#00f", "font-weight:bold"),
    "Generic.Deleted": ("error", "#f00", ""),
    "Generic.Inserted": ("string", "#008000", ""),
    "Generic.Error": ("error", "#f00", ""),
    "Generic.Emph": ("", "", "font-style:italic"),
    "Generic.Strong": ("", "", "font-weight:bold"),
    "Generic.Prompt": ("comment", "#408080", "font-weight:bold"),
    "Error": ("error", "#f00", ""),
}


@lru_cache(maxsize=1)
def _class_styles() -> dict[str, str]:
    """Pygments' short class -> its declarations (colours from `--jp-mirror-editor-*`, light fallbacks)."""
    from pygments.token import STANDARD_TYPES, string_to_tokentype

    styled = {string_to_tokentype(name): style for name, style in _TOKEN_STYLES.items()}
    rules: dict[str, str] = {}
    for token, short in sorted(STANDARD_TYPES.items(), key=lambda item: item[1]):
        probe = token
        while probe not in styled and probe.parent is not None:
            probe = probe.parent
        if not short or probe not in styled:
            continue
        var, fallback, extra = styled[probe]
        decls = [f"color:var(--jp-mirror-editor-{var}-color, {fallback})"] if var else []
        decls += [extra] if extra else []
        rules[short] = ";".join(decls)
    return rules


@lru_cache(maxsize=4)
def code_css(scope: str = ".cw-highlight") -> str:
    """The highlighting stylesheet: Pygments' short classes coloured by JupyterLab's `--jp-mirror-editor-*`
    variables, so code follows the light or dark theme (with the light theme's colours outside JupyterLab).

    Example:
        >>> ".cw-highlight .k{color:var(--jp-mirror-editor-keyword-color, #008000);font-weight:bold}" in code_css()
        True
    """
    return "\n".join(f"{scope} .{short}{{{decls}}}" for short, decls in _class_styles().items()) + "\n"


@lru_cache(maxsize=256)
def code_block_html(code: str, lang: str = "") -> str:
    """One code block: a bar with the language and a copy button (the front end wires its click),
    then the code highlighted by Pygments (plain, escaped text for an unknown language).

    Example:
        >>> out = code_block_html("x = 1\\n", "python")
        >>> out[:105]
        '<div class="cw-code" data-lang="python"><div class="cw-code-bar"><span class="cw-code-lang">python</span>'
        >>> out.split("<code>")[1]
        '<span class="n">x</span> <span class="o">=</span> <span class="mi">1</span>\\n</code></pre></div>'
    """
    body = _highlight(code, lang)
    label = html.escape(lang)
    return (
        f'<div class="cw-code" data-lang="{label}"><div class="cw-code-bar"><span class="cw-code-lang">{label}</span>'
        '<button type="button" class="cw-copy" title="Copy code" aria-label="Copy code">Copy</button></div>'
        f'<pre class="cw-highlight"><code>{body}</code></pre></div>'
    )


_INLINE = {
    "box": "margin:.6em 0;border:1px solid var(--jp-border-color2, #e0e0e0);border-radius:4px;"
           "background:var(--jp-cell-editor-background, #f7f7f7);text-align:left",
    "bar": "display:flex;justify-content:space-between;align-items:center;padding:2px 8px;font-size:.8em;"
           "color:var(--jp-ui-font-color2, #616161);border-bottom:1px solid var(--jp-border-color2, #e0e0e0)",
    "button": "font-size:1em;padding:0 .6em;cursor:pointer;border:1px solid var(--jp-border-color1, #bdbdbd);"
              "border-radius:3px;background:var(--jp-layout-color1, #fff);color:inherit",
    "pre": "margin:0;padding:6px 10px;background:transparent;border:0;overflow-x:auto;text-align:left;white-space:pre;"
           "font-family:var(--jp-code-font-family, monospace);font-size:var(--jp-code-font-size, 13px);"
           "line-height:var(--jp-code-line-height, 1.4);color:var(--jp-content-font-color1, #000)",
    "code": "background:transparent;padding:0;font:inherit;white-space:inherit",
}
# The copy button of a code block in a cell's output. No <script> and no stylesheet (an untrusted
# output loses both): inline styles, and an inline handler that makes the button when the pointer or
# the keyboard focus first reaches the block. Handlers run only where the output is trusted (an answer
# just streamed); where JupyterLab sanitized them away (an untrusted notebook) there is no dead button.
_ADD_COPY = (
    "var c=this.closest('.cw-code'),b=c.querySelector('.cw-copy');if(b)return;"
    "b=document.createElement('button');b.type='button';b.className='cw-copy';b.textContent='Copy';"
    "b.title='Copy code';b.setAttribute('aria-label','Copy code');b.setAttribute('style','" + "{button}" + "');"
    "b.onclick=function(){navigator.clipboard.writeText(c.querySelector('code').innerText).then(function(){"
    "b.textContent='Copied';setTimeout(function(){b.textContent='Copy'},1500)})};"
    "c.querySelector('.cw-code-bar').appendChild(b)"
)
_SPAN = re.compile(r'<span class="([\w-]+)">')


@lru_cache(maxsize=256)
def inline_code_block_html(code: str, lang: str = "") -> str:
    """`code_block_html` for a notebook cell's output (the magic's answers): the same highlighting, with
    inline styles instead of classes, and a copy button that needs no script of ours.

    Example:
        >>> out = inline_code_block_html("x = 1\\n", "python")
        >>> 'style="color:var(--jp-mirror-editor-operator-color, #7800c2)">=</span>' in out
        True
        >>> "b.className='cw-copy'" in out and "<button" not in out and "<script" not in out
        True
    """
    styles = _class_styles()
    body = _SPAN.sub(lambda m: f'<span style="{styles[m.group(1)]}">' if m.group(1) in styles else "<span>",
                     _highlight(code, lang))
    label = html.escape(lang)
    add = _ADD_COPY.replace("{button}", _INLINE["button"])
    return (
        f'<div class="cw-code" data-lang="{label}" style="{_INLINE["box"]}" onmouseenter="{add}">'
        f'<div class="cw-code-bar" style="{_INLINE["bar"]}"><span class="cw-code-lang">{label or "code"}</span></div>'
        f'<pre class="cw-highlight" tabindex="0" style="{_INLINE["pre"]}" onfocus="{add}">'
        f'<code style="{_INLINE["code"]}">{body}</code></pre>'
        "</div>"
    )


def inline_fence(renderer: Any, tokens: Sequence[Any], idx: int, options: Any, env: Any) -> str:
    """A markdown-it render rule: fenced and indented code as `inline_code_block_html`."""
    token = tokens[idx]
    info = str(token.info or "").strip()
    return inline_code_block_html(str(token.content), info.split(maxsplit=1)[0] if info else "") + "\n"


def _highlight(code: str, lang: str) -> str:
    if not lang or len(code) > MAX_HIGHLIGHT:
        return html.escape(code, quote=False)
    from pygments.lexers import get_lexer_by_name
    from pygments.util import ClassNotFound

    try:
        lexer = get_lexer_by_name(lang, stripnl=False, ensurenl=True)
    except ClassNotFound:
        return html.escape(code, quote=False)
    return _spans(lexer.get_tokens(code))


def _spans(tokens: Any) -> str:
    """Tokens as `<span class="k">..</span>` runs, split at line ends, text escaped without quotes.

    Our own few lines rather than Pygments' HtmlFormatter, whose escaping changed between releases
    (2.20 wrote `&quot;`, 2.21 writes `"`): the same answer must render to the same bytes everywhere,
    or a notebook's stored output would differ on a machine with another Pygments.

    Example:
        >>> from pygments.lexers import PythonLexer
        >>> _spans(PythonLexer().get_tokens('x = "a"\\n'))
        '<span class="n">x</span> <span class="o">=</span> <span class="s2">"a"</span>\\n'
    """
    out: list[str] = []
    run_class, run = "", []  # adjacent pieces of one class on one line share a span, as Pygments' do

    def close() -> None:
        if run:
            text = "".join(run)
            out.append(f'<span class="{run_class}">{text}</span>' if run_class else text)
            run.clear()

    for ttype, value in tokens:
        short = _short_class(ttype)
        for i, part in enumerate(value.split("\n")):
            if i:
                close()
                out.append("\n")
            if part:
                if short != run_class:
                    close()
                    run_class = short
                run.append(html.escape(part, quote=False))
    close()
    return "".join(out)


@lru_cache(maxsize=512)
def _short_class(ttype: Any) -> str:
    """Pygments' short CSS class of a token type (its nearest standard ancestor's)."""
    from pygments.token import STANDARD_TYPES

    while ttype not in STANDARD_TYPES and ttype.parent is not None:
        ttype = ttype.parent
    return STANDARD_TYPES.get(ttype, "")


def _fence(renderer: Any, tokens: Sequence[Any], idx: int, options: Any, env: Any) -> str:
    token = tokens[idx]
    info = str(token.info or "").strip()
    lang = info.split(maxsplit=1)[0] if info else ""
    if lang.lower() == "math":  # GitLab's ```math fence
        from .texmath import tex_to_mathml

        return f'<div class="cw-math cw-math-block">{tex_to_mathml(str(token.content).strip(), True)}</div>\n'
    return code_block_html(str(token.content), lang) + "\n"


@lru_cache(maxsize=1)
def _parser() -> Any:
    from ..display import markdown_parser
    from .texmath import math_plugin

    md = markdown_parser().use(math_plugin)
    md.options["breaks"] = True  # a chat's single newlines are line breaks (a poem, an address, a typed list)
    md.add_render_rule("fence", _fence)
    md.add_render_rule("code_block", _fence)
    return md


@lru_cache(maxsize=256)
def render_message(text: str) -> str:
    """A message's Markdown as a safe HTML fragment (highlighted code, copy buttons, MathML).

    Cached (a static transcript renders every message again); text still streaming goes through
    `render_partial`, so its many intermediate versions do not fill the cache.

    Example:
        >>> render_message("costs $5 and $10")
        '<p>costs $5 and $10</p>\\n'
        >>> "<mi>x</mi>" in render_message("where $x$ is")
        True
    """
    return _parser().render(text)


def render_partial(text: str) -> str:
    """`render_message` without the cache, for a message that is still streaming.

    Example:
        >>> render_partial("```py\\nx = (") == render_message("```py\\nx = (")
        True
    """
    return _parser().render(text)


@lru_cache(maxsize=1)
def panel_css() -> str:
    """The panel's whole stylesheet: `static/panel.css` and the highlighting rules (what the live
    widget loads, and what a static transcript carries inline)."""
    sheet = resources.files(__package__).joinpath("static/panel.css").read_text(encoding="utf-8")
    return sheet + code_css()


# ---------------------------------------------------------------------------------------------
# the static transcript (same classes as the live widget's DOM, so the one stylesheet serves both)
# ---------------------------------------------------------------------------------------------

_ROLE_LABELS = {"user": "You", "assistant": "Assistant", "system": "System", "error": "Error", "tool": "Tool"}


def _chips(attachments: Iterable[Mapping[str, Any]]) -> str:
    from .state import format_size

    chips = [
        f'<span class="cw-chip">{html.escape(str(a.get("name", "file")))} '
        f'<span class="cw-chip-size">{html.escape(format_size(int(a.get("size") or 0)))}</span></span>'
        for a in attachments
    ]
    return f'<div class="cw-chips">{"".join(chips)}</div>' if chips else ""


def _reasoning(message: Mapping[str, Any]) -> str:
    text = str(message.get("reasoning") or "")
    if not text:
        return ""
    tokens = message.get("reasoning_tokens")
    count = f" · {int(tokens):,} tokens" if tokens else ""
    return (
        f'<details class="cw-reasoning"><summary>Reasoning{count}</summary>'
        f'<div class="cw-reasoning-body">{render_message(text)}</div></details>'
    )


def _message_html(message: Mapping[str, Any]) -> str:
    role = str(message.get("role") or "assistant")
    if role == "tool" and isinstance(message.get("tool"), Mapping):  # a tool call: its collapsible block
        from .tool_blocks import block_html

        return f'<div class="cw-msg cw-tool-msg">{block_html(message["tool"])}</div>'
    label = _ROLE_LABELS.get(role, role.title())
    endpoint = str(message.get("endpoint") or "")
    who = f"{label} · {endpoint}" if endpoint and role == "assistant" else label
    status = str(message.get("status") or "done")
    state = html.escape(status)
    badge = f' <span class="cw-status cw-status-{state}">{state}</span>' if status != "done" else ""
    footer = str(message.get("footer") or "")
    parts = [
        f'<div class="cw-msg cw-{html.escape(role)}"><div class="cw-msg-head">'
        f'<span class="cw-role">{html.escape(who)}</span>{badge}</div>',
        _chips(message.get("attachments") or ()),
        _reasoning(message),
        f'<div class="cw-body">{render_message(str(message.get("text") or ""))}</div>',
        f'<div class="cw-error-text">{html.escape(str(message["error"]))}</div>' if message.get("error") else "",
        f'<div class="cw-footer">{html.escape(footer)}</div>' if footer else "",
        "</div>",
    ]
    return "".join(parts)


def render_transcript(
    messages: Iterable[Mapping[str, Any]], *, title: str = "Chat", header: str = "", css: bool = True
) -> str:
    """A whole conversation as one standalone HTML fragment with inline CSS (readable without a kernel).

    Each message is re-rendered from its Markdown `text` (so a hand-made dict cannot smuggle markup in
    through its `html`); messages sharing a `group` (a comparison) sit side by side.

    Example:
        >>> out = render_transcript([{"role": "user", "text": "hi <script>"}], css=False)
        >>> "hi &lt;script&gt;" in out and "<script>" not in out
        True
    """
    style = f"<style>{panel_css()}</style>" if css else ""
    body = transcript_rows(messages)
    head = header_html(title, header)
    return f'<div class="cloudsway-panel cw-static">{style}{head}<div class="cw-transcript">{body}</div></div>'


def header_html(title: str, totals: str) -> str:
    """The static header: the title and the running totals.

    Example:
        >>> header_html("Chat", "no replies yet")
        '<div class="cw-header"><span class="cw-title">Chat</span><span class="cw-totals">no replies yet</span></div>'
    """
    return (f'<div class="cw-header"><span class="cw-title">{html.escape(title)}</span>'
            f'<span class="cw-totals">{html.escape(totals)}</span></div>')


def transcript_rows(messages: Iterable[Mapping[str, Any]]) -> str:
    """The messages of a static transcript, in order; consecutive messages sharing a `group` in one row.

    Example:
        >>> pair = [{"role": "user", "text": "a", "group": "g"}, {"role": "assistant", "text": "b", "group": "g"}]
        >>> transcript_rows(pair).count("cw-row")
        1
    """
    rows: list[str] = []
    group: str | None = None
    for message in messages:
        item = _message_html(message)
        key = str(message.get("group") or "") or None
        if key is not None and key == group:
            rows[-1] = rows[-1][: -len("</div>")] + item + "</div>"
            continue
        group = key
        rows.append(f'<div class="cw-row cw-group">{item}</div>' if key else item)
    return "".join(rows)
