"""Errors in each protocol's own JSON shape.

A handler raises :class:`EmulatorError` with an HTTP status and a message; the app renders it
for the protocol of the route that was hit:

- ``openai``: ``{"error": {"message", "type", "param", "code"}}``
- ``anthropic``: ``{"type": "error", "error": {"type", "message"}}``
- ``gemini``: ``{"error": {"code", "message", "status"}}``

Example:
    >>> err = EmulatorError(400, "Missing required parameter: 'messages'.", param="messages")
    >>> error_body("openai", err)["error"]["type"]
    'invalid_request_error'
    >>> error_body("anthropic", EmulatorError(529, "Overloaded"))["error"]["type"]
    'overloaded_error'
    >>> error_body("gemini", EmulatorError(401, "bad key"))["error"]["status"]
    'UNAUTHENTICATED'
"""

from __future__ import annotations

from typing import Any, Literal

__all__ = ["PROTOCOLS", "EmulatorError", "Protocol", "bad_request", "error_body", "error_event_body"]

Protocol = Literal["openai", "anthropic", "gemini"]
PROTOCOLS: tuple[str, ...] = ("openai", "anthropic", "gemini")

_OPENAI_TYPES = {
    400: "invalid_request_error",
    401: "invalid_request_error",
    403: "permission_error",
    404: "invalid_request_error",
    405: "invalid_request_error",
    409: "conflict_error",
    413: "invalid_request_error",
    422: "invalid_request_error",
    429: "rate_limit_exceeded",
    500: "server_error",
    502: "server_error",
    503: "server_error",
    529: "server_error",
}
_OPENAI_CODES = {
    401: "invalid_api_key",
    404: "not_found",
    413: "request_too_large",
    429: "rate_limit_exceeded",
    500: "server_error",
    503: "service_unavailable",
    529: "overloaded",
}
_ANTHROPIC_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    405: "invalid_request_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    502: "api_error",
    503: "api_error",
    529: "overloaded_error",
}
_GEMINI_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    405: "INVALID_ARGUMENT",
    409: "ABORTED",
    413: "INVALID_ARGUMENT",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    502: "UNAVAILABLE",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
    529: "UNAVAILABLE",
}


class EmulatorError(Exception):
    """An error reply: HTTP status, message, and optional OpenAI ``param`` / ``code``.

    Example:
        >>> EmulatorError(404, "no such response").status
        404
    """

    def __init__(
        self,
        status: int,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
        kind: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.param = param
        self.code = code
        self.kind = kind
        self.headers = dict(headers or {})


def bad_request(message: str, param: str | None = None, code: str | None = "invalid_value") -> EmulatorError:
    """A 400; ``param`` and ``code`` show in OpenAI bodies (the other protocols carry only the message).

    Example:
        >>> bad_request("Missing 'input'.", "input", "missing_required_parameter").code
        'missing_required_parameter'
    """
    return EmulatorError(400, message, param=param, code=code)


def error_body(protocol: str, error: EmulatorError) -> dict[str, Any]:
    """Render ``error`` as the JSON body the given protocol uses.

    Example:
        >>> error_body("openai", EmulatorError(429, "slow down"))["error"]["code"]
        'rate_limit_exceeded'
    """
    status = error.status
    if protocol == "anthropic":
        kind = error.kind or _ANTHROPIC_TYPES.get(
            status, "api_error" if status >= 500 else "invalid_request_error"
        )
        return {"type": "error", "error": {"type": kind, "message": error.message}}
    if protocol == "gemini":
        return {
            "error": {
                "code": status,
                "message": error.message,
                "status": error.kind
                or _GEMINI_STATUS.get(status, "INTERNAL" if status >= 500 else "INVALID_ARGUMENT"),
            }
        }
    kind = error.kind or _OPENAI_TYPES.get(
        status, "server_error" if status >= 500 else "invalid_request_error"
    )
    return {
        "error": {
            "message": error.message,
            "type": kind,
            "param": error.param,
            "code": error.code if error.code is not None else _OPENAI_CODES.get(status),
        }
    }


def error_event_body(
    protocol: str, error: EmulatorError, sequence_number: int | None = None
) -> dict[str, Any]:
    """The JSON of an error event sent inside a stream.

    OpenAI chat and Gemini send the same body as a plain error reply; the Responses API sends
    ``{"type": "error", "code", "message", "param", "sequence_number"}``.

    Example:
        >>> error_event_body("responses", EmulatorError(500, "boom"), 7)["sequence_number"]
        7
    """
    if protocol == "responses":
        body = error_body("openai", error)["error"]
        return {
            "type": "error",
            "code": body["code"],
            "message": body["message"],
            "param": body["param"],
            "sequence_number": sequence_number,
        }
    return error_body(protocol, error)
