"""The one exception tree of cloudsway_nb.

    CloudswayError
     ├── UsageError               bad input caught before anything is sent (fix it and retry)
     │    ├── ConfigError          missing key, unknown endpoint alias, bad config file
     │    └── UnsupportedError     a protocol cannot do what was asked (names what can)
     └── APIError                 the call reached for the gateway and failed
          ├── APIConnectionError   could not connect / connection dropped
          │    └── APITimeoutError
          ├── MalformedReplyError  the reply was not what the protocol promises
          ├── StreamError          the server reported an error in mid-stream
          └── APIStatusError       an HTTP error status
               ├── BadRequestError          400, 413, 422
               ├── AuthenticationError      401
               ├── PermissionDeniedError    403
               ├── NotFoundError            404
               ├── ConflictError            409
               ├── RateLimitError           429
               └── ServerError              >= 500
                    └── OverloadedError     529

Every APIError carries `status` (or None), the server's own `message`, the `request_id`,
`retries` (how many times the request had been retried already) and `partial`: the Reply
assembled from what had arrived before the failure (for streams). `str(e)` is one line. Messages
are scrubbed of the API key before they are stored; a body that is not JSON (a proxy's HTML
error page) becomes a one-line summary (`summarize_body`).

Example:
    >>> e = RateLimitError("slow down", status=429, request_id="req_1")
    >>> str(e)
    '429 slow down (request id req_1)'
    >>> e.retries = 2
    >>> describe_error(e)
    'RateLimitError: 429 slow down (request id req_1; after 2 retries)'
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .types import Reply

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "CloudswayError",
    "ConfigError",
    "ConflictError",
    "MalformedReplyError",
    "NotFoundError",
    "OverloadedError",
    "PermissionDeniedError",
    "RateLimitError",
    "ServerError",
    "StreamError",
    "UnsupportedError",
    "UsageError",
    "bad_argument",
    "describe_error",
    "error_for_status",
    "redact",
    "summarize_body",
]


def redact(text: str, secrets: tuple[str, ...] | list[str] = ()) -> str:
    """`text` with every secret (and any long prefix of one) replaced by `***`.

    Example:
        >>> redact("bad key sk-canary-123456", ["sk-canary-123456"])
        'bad key ***'
    """
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
            # servers sometimes echo a truncated key ("sk-abc...xyz"); hide long prefixes too
            if len(secret) >= 12:
                text = text.replace(secret[: len(secret) * 2 // 3], "***")
    return text


# a data URL's base64 (with any "…" or "..." a server added when it cut it short), or a bare base64 run
_DATA_URL = re.compile(r"data:([\w.+-]+/[\w.+-]+)?((?:;[\w.+-]+=[^;,\s]*)*);base64,([A-Za-z0-9+/_-]*=*)(?:…|\.\.\.)?")
_BARE_BASE64 = re.compile(r"[A-Za-z0-9+/_-]{200,}={0,2}")
_UPPER, _LOWER, _DIGIT = re.compile("[A-Z]"), re.compile("[a-z]"), re.compile("[0-9]")


def _shorten_base64(text: str) -> str:
    """`text` with data URLs and long base64 runs replaced by `data:MIME;base64,… (N KB)` summaries.

    Servers echo the request's images back in their error messages; a 1 MB payload must not become
    a 1 MB exception message, log line or ledger row.

    Example:
        >>> _shorten_base64("Invalid image_url: data:image/png;base64," + "A" * 2000 + "; check it")
        'Invalid image_url: data:image/png;base64,… (1 KB); check it'
    """
    if len(text) < 200:
        return text

    from .types import summarize_data_url  # types raises our errors, so it is imported here, not above

    def data_url(m: re.Match[str]) -> str:
        return summarize_data_url(m.group(1) or "application/octet-stream", len(m.group(3)) * 3 // 4)

    def bare(m: re.Match[str]) -> str:
        run = m.group()
        if not (_UPPER.search(run) and _LOWER.search(run) and _DIGIT.search(run)):
            return run  # a long word or path, not base64
        return summarize_data_url("x/x", len(run) * 3 // 4).replace("data:x/x;base64,", "base64,")

    return _BARE_BASE64.sub(bare, _DATA_URL.sub(data_url, text))


_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.I | re.S)
_HEADING = re.compile(r"<h1[^>]*>(.*?)</h1>", re.I | re.S)
_TAG = re.compile(r"<[^>]+>")
_HIDDEN = re.compile(r"<(script|style|head)\b.*?</\1\s*>", re.I | re.S)


def summarize_body(text: str, width: int = 120) -> str:
    """A non-JSON error body as one short line: an HTML page's title (else its first heading, else
    its first line of text), or a plain body's first line; cut at `width` characters with "…".

    Example:
        >>> summarize_body("<html><head><title>502 Bad Gateway</title></head><body><h1>502</h1></body></html>")
        '502 Bad Gateway'
        >>> summarize_body("upstream connect error\\nreset reason: overflow")
        'upstream connect error'
    """
    import html as html_module

    body = text.strip()
    if body.startswith("<") or "<html" in body[:500].lower():
        found = _TITLE.search(body) or _HEADING.search(body)
        inner = found.group(1) if found else _HIDDEN.sub(" ", body)
        lines = [" ".join(html_module.unescape(_TAG.sub(" ", line)).split()) for line in inner.splitlines()]
    else:
        lines = [" ".join(line.split()) for line in body.splitlines()]
    first = next((line for line in lines if line), "")
    return first if len(first) <= width else first[: width - 1].rstrip() + "…"


class CloudswayError(Exception):
    """Base of every error this package raises."""


class UsageError(CloudswayError, ValueError):
    """Bad input, found before anything was sent. The message names the problem and the fix.

    In IPython (a notebook cell calling `ChatPanel(endpoint="nope")`, `panel.ask("")`...) it shows as
    one line, as the magic's UsageErrors do, not as a traceback (`%debug` still opens the frame that raised).

    Example:
        >>> UsageError("nothing to send")._render_traceback_()
        ['UsageError: nothing to send']
    """

    def _render_traceback_(self) -> list[str]:
        # IPython's showtraceback() prints what this returns in place of the traceback (a per-exception
        # hook: no global handler to clash with set_custom_exc users, no stderr write)
        return [f"{type(self).__name__}: {describe_error(self)}"]


class ConfigError(UsageError):
    """Missing API key, unknown endpoint alias, unreadable configuration."""


class UnsupportedError(UsageError):
    """The endpoint's protocol cannot do what was asked (the message names what can)."""


class APIError(CloudswayError):
    """A call to the gateway failed. See the module docstring for the attributes."""

    status: int | None = None

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        request_id: str | None = None,
        code: str | None = None,
        body: Any = None,
        partial: Reply | None = None,
    ) -> None:
        self.message = _shorten_base64(" ".join(str(message).split())) or "(no message)"
        if status is not None:
            self.status = status
        self.request_id = request_id
        self.code = code
        self.body = body
        self.partial = partial
        self.retries = 0  # how many times the request was retried before this failure (set by flows.send)
        super().__init__(self.message)

    def __str__(self) -> str:
        head = f"{self.status} " if self.status is not None else ""
        notes = [f"request id {self.request_id}"] if self.request_id else []
        if self.retries:
            notes.append(f"after {self.retries} retr{'y' if self.retries == 1 else 'ies'}")
        tail = f" ({'; '.join(notes)})" if notes else ""
        partial = ""
        if self.partial is not None and self.partial.text:
            partial = f" [{len(self.partial.text)} characters had arrived]"
        return f"{head}{self.message}{tail}{partial}"

    def one_line(self) -> str:
        """The error as one line for a notebook or a ledger: its class, status, message, request id."""
        return f"{type(self).__name__}: {self}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, status={self.status!r}, request_id={self.request_id!r})"

    def __reduce__(self):  # keep pickling (multiprocessing, nbclient) working with keyword args
        return (_rebuild, (type(self), self.message, self.status, self.request_id, self.code, self.retries))


def _rebuild(cls: type[APIError], message: str, status: int | None, request_id: str | None, code: str | None,
             retries: int = 0):
    error = cls(message, status=status, request_id=request_id, code=code)
    error.retries = retries
    return error


class APIConnectionError(APIError):
    """Could not reach the gateway, or the connection dropped."""


class APITimeoutError(APIConnectionError):
    """The request (or a background poll) took longer than its timeout."""


class MalformedReplyError(APIError):
    """The gateway answered with something the protocol does not allow (not JSON, wrong shape)."""


class StreamError(APIError):
    """The server reported an error in the middle of a stream; `partial` keeps what had arrived."""


class APIStatusError(APIError):
    """The gateway answered with an HTTP error status."""


class BadRequestError(APIStatusError):
    status = 400


class AuthenticationError(APIStatusError):
    status = 401


class PermissionDeniedError(APIStatusError):
    status = 403


class NotFoundError(APIStatusError):
    status = 404


class ConflictError(APIStatusError):
    status = 409


class RateLimitError(APIStatusError):
    status = 429


class ServerError(APIStatusError):
    status = 500


class OverloadedError(ServerError):
    status = 529


_BY_STATUS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    413: BadRequestError,
    422: BadRequestError,
    429: RateLimitError,
    529: OverloadedError,
}


def describe_error(error: BaseException) -> str:
    """Any exception as one line: an APIError with its class, status and request id; others as their text.

    Example:
        >>> describe_error(ValueError("bad\\n  input"))
        'bad input'
    """
    text = error.one_line() if isinstance(error, APIError) else str(error)
    return " ".join(text.split())


def bad_argument(
    name: str, value: Any, expected: str, example: str | None = None, *, cls: type[UsageError] | None = None
) -> UsageError:
    """The one-line error for a bad argument: its name, the value and its type, what it takes, an example.

    The value is shown shortened; pass `value=...` (Ellipsis) to leave it out (a key, say).

    Example:
        >>> str(bad_argument("timeout", "30", "a positive number of seconds, or None for no limit", "timeout=30"))
        "timeout='30' (str) is not valid: it takes a positive number of seconds, or None for no limit; e.g. timeout=30"
    """
    if value is ...:
        shown = name
    else:
        text = repr(value)
        shown = f"{name}={text if len(text) <= 60 else text[:57] + '...'} ({type(value).__name__})"
    tail = f"; e.g. {example}" if example else ""
    return (cls or UsageError)(f"{shown} is not valid: it takes {expected}{tail}")


def error_for_status(status: int) -> type[APIStatusError]:
    """The exception class for an HTTP status.

    Example:
        >>> error_for_status(503).__name__
        'ServerError'
    """
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    if status >= 500:
        return ServerError
    return APIStatusError
