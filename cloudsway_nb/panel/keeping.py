"""What the panel keeps outside the kernel, and where it meets the notebook: the settings saved with
the transcript, a free name for a loaded transcript, and the id of the cell running now (where
`to_cells` inserts).

Example:
    >>> saved_settings({"effort": "high", "temperature": "hot"})
    {'effort': 'high'}
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import UsageError
from ..options import REASONING_EFFORTS

if TYPE_CHECKING:
    from ..session import Session

__all__ = ["SETTINGS", "current_cell_id", "free_name", "saved_settings"]

SETTINGS = ("endpoint", "effort", "temperature", "max_tokens")
"""The panel settings kept with the transcript (the system prompt is the conversation's own)."""


def saved_settings(panel: Any, endpoints: list[str] | None = None) -> dict[str, Any]:
    """The settings of a transcript's `panel` entry that are still valid (a hand-edited file, an endpoint
    no longer in the registry: those are left at their defaults).

    Example:
        >>> saved_settings({"effort": "low", "temperature": 0.2, "max_tokens": "x", "endpoint": "gone"}, ["gpt"])
        {'effort': 'low', 'temperature': 0.2}
    """
    panel = panel if isinstance(panel, Mapping) else {}
    out: dict[str, Any] = {}
    if panel.get("endpoint") in (endpoints or []):
        out["endpoint"] = panel["endpoint"]
    if panel.get("effort") in ("", *REASONING_EFFORTS):
        out["effort"] = panel["effort"]
    temperature = panel.get("temperature")
    if isinstance(temperature, int | float) and not isinstance(temperature, bool):
        out["temperature"] = float(temperature)
    tokens = panel.get("max_tokens")
    if isinstance(tokens, int) and not isinstance(tokens, bool) and tokens > 0:
        out["max_tokens"] = tokens
    return out


def free_name(session: Session, wanted: str, folder: Path | None, *, source: str | Path, fresh: bool) -> str:
    """A name for a transcript loaded from `source` that replaces nothing: not a conversation of the
    session, nor (with an autosave `folder`) another transcript autosaved there. `wanted` when free;
    else, with `fresh`, the first free one of NAME-2, NAME-3...; else a one-line UsageError.

    Example:
        >>> from cloudsway_nb import Session
        >>> s = Session(); s.chats["notes"] = s.chats["notes-2"] = None
        >>> free_name(s, "notes", None, source="notes.json", fresh=True)
        'notes-3'
    """
    origin = Path(source).expanduser().resolve()

    def taken(candidate: str) -> bool:
        autosave = folder / f"{candidate}.json" if folder is not None else None
        return (candidate in session.chats or f"panel:{candidate}" in session.views
                or (autosave is not None and autosave.exists() and autosave.resolve() != origin))

    if not taken(wanted):
        return wanted
    if not fresh:
        raise UsageError(f"a conversation named {wanted!r} exists already: load it under another name "
                         f"(name=...), or leave name out for a fresh one")
    number = 2
    while taken(f"{wanted}-{number}"):
        number += 1
    return f"{wanted}-{number}"


def current_cell_id() -> str | None:
    """The id of the notebook cell running now ("" when the front end does not say), None outside a kernel."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython is a dependency
        return None
    ip = get_ipython()
    kernel = getattr(ip, "kernel", None)
    if kernel is None:
        return None
    try:
        parent = kernel.get_parent("shell")
    except TypeError:  # pragma: no cover - older ipykernel: get_parent() takes no channel
        parent = kernel.get_parent()
    return str(((parent or {}).get("metadata") or {}).get("cellId") or "")
