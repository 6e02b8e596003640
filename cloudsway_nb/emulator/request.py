"""The parsed HTTP request handed to protocol handlers, with the protocol's JSON-error wording.

Example:
    >>> r = Request("POST", "/x", {}, {}, b'{"a": 1}', {}, "openai")
    >>> r.json_object()
    {'a': 1}
    >>> try:
    ...     Request("POST", "/x", {}, {}, b"{oops", {}, "gemini").json_object()
    ... except EmulatorError as e:
    ...     print(e.status, e.message.split(".")[0])
    400 Invalid JSON payload received
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from .errors import EmulatorError

__all__ = ["Request"]


@dataclass
class Request:
    """Method, path, query (last value per name), lower-case headers, body, route parameters.

    Example:
        >>> Request("GET", "/health", {}, {}, b"", {}, "openai").method
        'GET'
    """

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    params: dict[str, str] = field(default_factory=dict)
    protocol: str = "openai"

    def json(self) -> Any:
        """The body parsed as JSON; a 400 in the protocol's wording when it is not JSON."""
        text = self.body.decode("utf-8", errors="replace")
        if not text.strip():
            raise EmulatorError(400, self._message("the body is empty"))
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise EmulatorError(
                400, self._message(f"{exc.msg} at line {exc.lineno} column {exc.colno}")
            ) from None

    def json_object(self) -> dict[str, Any]:
        """The body as a JSON object (a 400 when it is an array or a scalar)."""
        value = self.json()
        if not isinstance(value, dict):
            raise EmulatorError(400, self._message(f"expected a JSON object, got {type(value).__name__}"))
        return value

    def _message(self, detail: str) -> str:
        if self.protocol == "anthropic":
            return f"There was an error parsing the body of your request: {detail}."
        if self.protocol == "gemini":
            return f"Invalid JSON payload received. {detail[0].upper()}{detail[1:]}."
        return (
            "We could not parse the JSON body of your request. "
            "(HINT: This likely means you aren't using your "
            "HTTP library correctly. The API expects a JSON payload, but what was sent was not valid JSON: "
            f"{detail}.)"
        )
