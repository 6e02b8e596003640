"""Tool calls in the chat panel: each call a block (name, arguments, result or error, duration,
approval), as plain data the widget syncs and the static transcript draws.

A block is the `tool` entry of a `role="tool"` message (`state.message_state(..., tool=...)`):

| key | meaning |
|---|---|
| `call_id`, `name` | the call |
| `arguments` | the arguments it ran with (JSON text); `asked_with` the model's, when the user edited them |
| `status` | `asking` (waiting for approval), `running`, `ok`, `error`, `timeout`, `rejected`, `not run` |
| `output` | the result as the model got it (text), or the error |
| `duration` | seconds (None when unknown: a turn made elsewhere, a call not run) |
| `approval`, `reason` | `approved`, `edited`, `rejected`, `session` (approved for the session) or "" |
| `rich` | a DataFrame's first rows (`{"kind": "table", "html", "shape"}`) or an image (`{"kind": "image", "src"}`) |

A block made live (`from_run`) knows everything; one rebuilt from a conversation alone (a turn
made by `%%cloudsway -T` and redrawn, `from_messages`) knows the call, its arguments and what the
model got; what the panel saw live is kept with the transcript (`ChatPanel`'s `tools` entry).

Example:
    >>> from cloudsway_nb.types import ToolCall
    >>> from cloudsway_nb.tool_runner import ToolRun
    >>> block = from_run(ToolRun(ToolCall("c1", "get_weather", {"city": "Oslo"}), None, status="ok",
    ...                          output="sunny", duration=0.0123))
    >>> block["name"], block["status"], block["output"], summary(block)
    ('get_weather', 'ok', 'sunny', 'get_weather(city="Oslo") → ok · 0.01 s')
    >>> "<details" in block_html(block) and "sunny" in block_html(block)
    True
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from typing import Any

from ..tool_runner import ToolRun
from ..types import Message, ToolCall

__all__ = ["block_html", "block_markdown", "from_messages", "from_run", "summary"]

_ICONS = {"asking": "?", "running": "…", "pending": "…", "ok": "✓", "error": "✗", "timeout": "✗",
          "rejected": "⊘", "not run": "–"}  # plain glyphs, as the live panel's (every font has them)
_TABLE_ROWS = 8


def _json(value: Any, indent: int | None = 1) -> str:
    return json.dumps(value, ensure_ascii=False, indent=indent, default=str)


def _short_args(arguments_text: str) -> str:
    try:
        arguments = json.loads(arguments_text)
    except ValueError:
        return arguments_text
    if not isinstance(arguments, dict):
        return _json(arguments, None)
    return ", ".join(f"{k}={_json(v, None)}" for k, v in arguments.items())


def _text(output: Any) -> str:
    if isinstance(output, str):
        return output
    return " ".join(p for p in output or () if isinstance(p, str))


def rich_view(value: Any) -> dict[str, Any] | None:
    """A DataFrame's first rows as an escaped HTML table, an image or figure as a small PNG data URL;
    None for anything else (its text is enough).

    Example:
        >>> import pandas as pd
        >>> view = rich_view(pd.DataFrame({"a": ["<b>"] * 20}))
        >>> view["kind"], view["shape"], "&lt;b&gt;" in view["html"], "<b>" in view["html"]
        ('table', '20 rows × 1 columns', True, False)
    """
    kind = type(value).__name__
    if kind in ("DataFrame", "Series") and hasattr(value, "head") and hasattr(value, "shape"):
        frame = value.to_frame() if kind == "Series" else value
        rows, cols = frame.shape
        table = frame.head(_TABLE_ROWS).to_html(border=0, max_cols=12, escape=True)  # pandas escapes every cell
        return {"kind": "table", "html": table, "shape": f"{rows} rows × {cols} columns"}
    from ..tool_runner import _image_png
    from .uploads import thumbnail

    png = _image_png(value)
    if png is not None:
        src = thumbnail(png, "image/png", side=320)
        return {"kind": "image", "src": src} if src else None
    return None


def from_run(run: ToolRun, *, status: str | None = None) -> dict[str, Any]:
    """The block of a call the panel ran (or is asking about: `status="asking"`)."""
    asked = run.call.arguments
    rich = rich_view(run.result) if run.status == "ok" and run.result is not None else None
    state = status or ("running" if run.status == "pending" else run.status)
    return {
        "call_id": run.call.id, "name": run.name, "arguments": _json(run.arguments),
        "asked_with": _json(asked) if asked != run.arguments else "", "status": state,
        "output": "" if state in ("asking", "running") else (run.error or _text(run.output)),
        "duration": run.duration, "approval": run.approval or "", "reason": run.reason, "rich": rich,
    }


def _guess_status(output: str) -> str:
    if output.startswith("The user rejected this call"):
        return "rejected"
    if output.startswith("Not run:"):
        return "not run"
    if output.startswith("Error: ") and " did not finish within " in output:
        return "timeout"
    return "error" if output.startswith("Error: ") else "ok"


def from_messages(call: ToolCall | None, result: Message) -> dict[str, Any]:
    """The block of a call known only from the conversation: the assistant's `call` (None when it is
    not found) and the tool `result` turn."""
    output = _text(result.content)
    arguments = call.arguments if call is not None else {}
    return {"call_id": result.tool_call_id or "", "name": result.name or (call.name if call else "tool"),
            "arguments": _json(arguments), "asked_with": "", "status": _guess_status(output), "output": output,
            "duration": None, "approval": "", "reason": "", "rich": None}


def summary(block: Mapping[str, Any]) -> str:
    """The block's one line: the call, its status, duration and approval."""
    parts = [f"{block.get('name')}({_short_args(str(block.get('arguments') or '{}'))}) → {block.get('status')}"]
    if block.get("duration") is not None:
        parts.append(f"{float(block['duration']):.2f} s")
    if block.get("approval"):
        parts.append(str(block["approval"]))
    return " · ".join(parts)


def block_markdown(block: Mapping[str, Any]) -> str:
    """The block as Markdown (a message's `text`: Copy, the Markdown export).

    Example:
        >>> print(block_markdown({"name": "f", "arguments": "{}", "status": "ok", "output": "42"}))
        **Tool** `f() → ok`
        <BLANKLINE>
        ```text
        42
        ```
    """
    body = str(block.get("output") or "")
    reason = f"\n\nReason: {block['reason']}" if block.get("reason") else ""
    fence = f"\n\n```text\n{body}\n```" if body else ""
    return f"**Tool** `{summary(block)}`{reason}{fence}"


def block_html(block: Mapping[str, Any]) -> str:
    """The block as a static, collapsible `<details>` (the static transcript; every value escaped)."""
    icon = _ICONS.get(str(block.get("status")), "")
    rows = [("arguments", str(block.get("arguments") or ""))]
    if block.get("asked_with"):
        rows.append(("asked with", str(block["asked_with"])))
    if block.get("output"):
        rows.append(("error" if block.get("status") in ("error", "timeout") else "result", str(block["output"])))
    if block.get("approval"):
        rows.append(("approval", str(block["approval"]) + (f": {block['reason']}" if block.get("reason") else "")))
    body = "".join(f'<div class="cw-tool-label">{html.escape(k)}</div><pre class="cw-tool-pre">{html.escape(v)}</pre>'
                   for k, v in rows)
    rich = block.get("rich") or {}
    if rich.get("kind") == "image" and str(rich.get("src", "")).startswith("data:image/png;base64,"):
        body += f'<img class="cw-tool-image" alt="the tool\'s image" src="{html.escape(str(rich["src"]))}">'
    # a table's HTML is left out here (the result text holds its first rows): a static transcript draws
    # only what it escapes itself
    return (f'<details class="cw-tool cw-tool-{html.escape(str(block.get("status")))}"><summary>{icon} '
            f'<code>{html.escape(summary(block))}</code></summary><div class="cw-tool-body">{body}</div></details>')
