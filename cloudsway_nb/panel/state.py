"""The chat panel's state as plain dicts: messages, their footers and the running totals.

A message is what the widget syncs to the browser and what `render_transcript` draws:

| key | meaning |
|---|---|
| `id` | unique within the panel |
| `role` | `user`, `assistant`, `system` or `error` |
| `text` | the Markdown source (what edit starts from) |
| `html` | `render_message(text)`: safe HTML |
| `reasoning`, `reasoning_html`, `reasoning_tokens` | the model's reasoning, rendered, and its token count |
| `footer` | one line: endpoint · model · in · out · reasoning · cached · latency · first token · cost |
| `status` | `done`, `streaming`, `interrupted` (stopped, the partial answer kept) or `error` |
| `error` | one line for a failed reply |
| `endpoint`, `group` | who answered; messages sharing a group (a comparison) are shown side by side |
| `attachments` | chips: `{id, name, size, mime, thumb}` (a thumbnail data URL for images, else "") |
| `tool` | a `tool` message's block (`tool_blocks`): name, arguments, result or error, duration, approval |

Example:
    >>> m = message_state("user", "**hi**", id="m1")
    >>> (m["id"], m["role"], m["html"], m["status"])
    ('m1', 'user', '<p><strong>hi</strong></p>\\n', 'done')
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import Any, Literal, TypedDict

from .render import render_message, render_partial

__all__ = [
    "NOTHING_TO_SEND",
    "ROLES",
    "STATUSES",
    "MessageState",
    "add_to_totals",
    "empty_totals",
    "footer_line",
    "format_cost",
    "format_size",
    "message_state",
    "new_id",
    "totals_line",
]

NOTHING_TO_SEND = "nothing to send: type a message or attach a file"
"""The one line for an empty send (the panel's front end says the same)."""

ROLES = ("user", "assistant", "system", "error", "tool")
STATUSES = ("done", "streaming", "interrupted", "error")
_OLD_STATUSES = {"stopped": "interrupted"}  # the word before: one word for it everywhere (issue 11)

Role = Literal["user", "assistant", "system", "error", "tool"]


class MessageState(TypedDict, total=False):
    """One message as synced to the browser (see the module docstring for each key)."""

    id: str
    role: str
    text: str
    html: str
    reasoning: str
    reasoning_html: str
    reasoning_tokens: int | None
    footer: str
    status: str
    error: str
    endpoint: str
    group: str
    attachments: list[dict[str, Any]]
    tool: dict[str, Any]


def new_id() -> str:
    """A fresh message id.

    Example:
        >>> len(new_id())
        12
    """
    return uuid.uuid4().hex[:12]


def message_state(
    role: str,
    text: str = "",
    *,
    id: str | None = None,
    reasoning: str = "",
    reasoning_tokens: int | None = None,
    footer: str = "",
    status: str = "done",
    error: str = "",
    endpoint: str = "",
    group: str = "",
    attachments: Iterable[Mapping[str, Any]] = (),
    tool: Mapping[str, Any] | None = None,
    with_text: bool = True,
) -> MessageState:
    """A message dict with its Markdown rendered (`with_text=False` leaves the source out, as the
    streamed copy does: the browser needs only the HTML while it streams; nor is it cached).

    Example:
        >>> sorted(message_state("assistant", "x", with_text=False))[:4]
        ['attachments', 'endpoint', 'error', 'footer']
    """
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    status = _OLD_STATUSES.get(status, status)
    if status not in STATUSES:
        raise ValueError(f"status must be one of {', '.join(STATUSES)}, not {status!r}")
    render = render_message if with_text else render_partial
    state = MessageState(
        id=id or new_id(),
        role=role,
        html=render(text),
        reasoning_html=render(reasoning) if reasoning else "",
        reasoning_tokens=reasoning_tokens,
        footer=footer,
        status=status,
        error=error,
        endpoint=endpoint,
        group=group,
        attachments=[dict(a) for a in attachments],
    )
    if tool is not None:
        from .tool_blocks import summary

        state["tool"] = {**tool, "summary": summary(tool)}
    if with_text:
        state["text"] = text
        state["reasoning"] = reasoning
    return state


def format_size(size: int) -> str:
    """A byte count for a chip.

    Example:
        >>> format_size(512), format_size(2048), format_size(3 * 1024 * 1024)
        ('512 B', '2 KB', '3.0 MB')
    """
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB"
    if size >= 1024:
        return f"{size // 1024} KB"
    return f"{size} B"


def format_cost(cost: float | None) -> str:
    """A price in dollars, to four decimals, with "<$0.0001" for a tiny non-zero cost.

    Example:
        >>> format_cost(0.01234), format_cost(0.00001), format_cost(None)
        ('$0.0123', '<$0.0001', '')
    """
    if cost is None:
        return ""
    if 0 < cost < 0.0001:
        return "<$0.0001"
    return f"${cost:.4f}"


def footer_line(reply: Any, *, endpoint: str | None = None, cost: float | None = None) -> str:
    """A reply's footer: the magic's usage line (endpoint, model, tokens, latency, first token) and
    the cost when priced.

    Example:
        >>> from cloudsway_nb.types import Reply, Usage
        >>> footer_line(Reply(usage=Usage(input=3, output=4), model="m", latency=1.0), endpoint="gpt", cost=0.002)
        'gpt · m · in 3 · out 4 · 1.00 s · $0.0020'
    """
    from ..display import usage_line

    line = usage_line(reply, endpoint if endpoint is not None else getattr(reply, "endpoint", None))
    if cost is None or getattr(reply, "cost", None) is not None:  # a reply's own cost is in the line already
        return line
    return f"{line} · {format_cost(cost)}"


def empty_totals() -> dict[str, Any]:
    """Running totals before the first reply.

    Example:
        >>> empty_totals()["text"]
        'no replies yet'
    """
    totals: dict[str, Any] = {"replies": 0, "input": 0, "output": 0, "reasoning": 0, "cached": 0, "cost": None}
    totals["text"] = totals_line(totals)
    return totals


def add_to_totals(totals: Mapping[str, Any], usage: Any, cost: float | None = None) -> dict[str, Any]:
    """New totals with one more reply's `Usage` (unknown counts add nothing) and cost; once a reply's
    counts were estimated (a stream cut short), the token totals are marked `~` as its footer is.

    Example:
        >>> from cloudsway_nb.types import Usage
        >>> totals = add_to_totals(empty_totals(), Usage(input=10, output=5, reasoning=2), 0.01)
        >>> totals["text"]
        '1 reply · in 10 · out 5 · reasoning 2 · cached 0 · $0.0100'
        >>> add_to_totals(totals, Usage(input=3, output=4, estimated=True))["text"]
        '2 replies · in ~13 · out ~9 · reasoning ~2 · cached ~0 · $0.0100'
    """
    out = dict(totals)
    out["replies"] = int(out.get("replies") or 0) + 1
    out["estimated"] = bool(out.get("estimated")) or bool(getattr(usage, "estimated", False))
    for key in ("input", "output", "reasoning", "cached"):
        out[key] = int(out.get(key) or 0) + int(getattr(usage, key, None) or 0)
    if cost is not None:
        out["cost"] = float(out.get("cost") or 0.0) + cost
    out["text"] = totals_line(out)
    return out


def totals_line(totals: Mapping[str, Any]) -> str:
    """The header's one line.

    Example:
        >>> totals_line({"replies": 2, "input": 1200, "output": 30, "reasoning": 0, "cached": 0, "cost": None})
        '2 replies · in 1,200 · out 30 · reasoning 0 · cached 0'
    """
    replies = int(totals.get("replies") or 0)
    if not replies:
        return "no replies yet"
    parts = [f"{replies} repl{'y' if replies == 1 else 'ies'}"]
    mark = "~" if totals.get("estimated") else ""
    parts += [f"{key} {mark}{int(totals.get(key) or 0):,}" for key in ("input", "output", "reasoning", "cached")]
    parts[1] = parts[1].replace("input", "in", 1)
    parts[2] = parts[2].replace("output", "out", 1)
    if totals.get("cost") is not None:
        parts.append(format_cost(float(totals["cost"])))
    return " · ".join(parts)
