"""Recorded wire bodies: the JSON files under tests/fixtures/, one per body, named by protocol.

Example:
    >>> load_json("messages/overloaded_error.json")["error"]["type"]
    'overloaded_error'
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).parent / "fixtures"


def load_json(name: str) -> Any:
    """The body recorded in ``tests/fixtures/<name>``, parsed anew on each call (a test may change its copy)."""
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))
