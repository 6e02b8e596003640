"""The chat panel: a notebook widget for conversations with the gateway's endpoints.

Modules, each importable on its own (nothing here is imported by `import cloudsway_nb`):

- `render`: Markdown to safe HTML (highlighted code with copy buttons, math as MathML) and the
  static transcript; `texmath`: the math part.
- `state`: message dicts, footers and totals; `throttle`: the update coalescer;
  `uploads`: files from the browser; `stream`: one reply streaming into the panel.
- `widget`: `ChatView`, the anywidget view (its front end is `static/panel.js` and `panel.css`).
- `controller`: `ChatPanel`, the panel itself: the view wired to a Session's named conversation;
  `transcript`: its JSON, Markdown and notebook-cell forms; `keeping`: its settings kept with the
  transcript, names for loaded ones, the running cell; `interrupts`: a kernel interrupt stops it.

Example:
    >>> from cloudsway_nb.panel import render_message
    >>> render_message("*hi*")
    '<p><em>hi</em></p>\\n'
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "ChatPanel": "controller",
    "ChatView": "widget",
    "Coalescer": "throttle",
    "MessageStream": "stream",
    "Upload": "uploads",
    "message_state": "state",
    "render_message": "render",
    "render_transcript": "render",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'cloudsway_nb.panel' has no attribute {name!r}")
    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
