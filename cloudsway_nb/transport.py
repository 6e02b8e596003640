"""The only module that touches httpx: the HTTP clients, building requests, the two drivers that run
the I/O-free flows of `flows` (one sync, one async), and turning HTTP failures into the package's
exceptions.

Every exception that leaves a driver is one of the package's, raised with its cause suppressed,
so no frame of httpx, httpcore or h11 (whose locals hold the request headers, key included) is
ever shown, not even by a verbose traceback; a KeyboardInterrupt is raised afresh the same way.

Example:
    >>> import httpx
    >>> r = httpx.Response(429, json={"error": {"message": "slow down"}}, headers={"x-request-id": "r1"})
    >>> error_from_response(r, secrets=()).one_line()
    'RateLimitError: 429 slow down (request id r1)'
"""

from __future__ import annotations

import json
import re
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from typing import Any

import httpx

from . import __version__
from .errors import (
    APIConnectionError,
    APIError,
    APIStatusError,
    APITimeoutError,
    UsageError,
    error_for_status,
    redact,
    summarize_body,
)
from .flows import READ_BODY, Failure, Flow, Send, Sleep, request_id_of
from .protocols.base import HttpRequest
from .types import Event, Payload

__all__ = [
    "POOL_LIMITS",
    "USER_AGENT",
    "AsyncDriver",
    "SyncDriver",
    "abort",
    "build_request",
    "encode_json_body",
    "error_from_exception",
    "error_from_response",
    "http_client",
    "materialize_payloads",
    "probe_health",
    "request_id_of",
    "timeout_of",
]

USER_AGENT = f"cloudsway-nb/{__version__}"
# httpx keeps only 20 idle connections by default, so a burst of 32 concurrent calls reopens
# connections all the time (a TLS handshake each on the real gateway): keep as many idle as are open.
POOL_LIMITS = httpx.Limits(max_connections=1000, max_keepalive_connections=1000, keepalive_expiry=5.0)


def timeout_of(timeout: Any, connect: float | None) -> httpx.Timeout:
    """An httpx.Timeout from checked seconds (see `options.check_timeout`): `timeout` for reading,
    writing and the pool, `connect` for connecting; an httpx.Timeout passes as it is."""
    if isinstance(timeout, httpx.Timeout):
        return timeout
    return httpx.Timeout(timeout, connect=connect)


def http_client(*, asynchronous: bool, timeout: httpx.Timeout, transport: Any = None) -> Any:
    """A pooled httpx client with our user-agent (set once here: per request, httpx rebuilds headers)."""
    cls = httpx.AsyncClient if asynchronous else httpx.Client
    return cls(timeout=timeout, transport=transport, headers={"user-agent": USER_AGENT}, limits=POOL_LIMITS)


def probe_health(base_url: str, *, timeout: float = 2.0) -> dict[str, Any] | None:
    """`GET /health` of a plain-http gateway, sent with no key: its JSON, or None (no answer, not JSON,
    or an https URL, which is never asked: the emulator serves no TLS, a real gateway is not probed)."""
    if not base_url.startswith("http://"):
        return None
    try:
        reply = httpx.get(f"{base_url.rstrip('/')}/health", timeout=timeout)
        data = reply.json() if reply.status_code == 200 else None
    except (httpx.HTTPError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _find_payloads(value: Any, found: list[Payload]) -> Any:
    """A copy of a JSON tree with every Payload replaced by a numbered marker (collected in `found`).

    The copy is made only down the paths that hold a Payload; the tree itself is not changed.
    """
    if isinstance(value, Payload):
        found.append(value)
        return _MARKER.format(len(found) - 1)
    if isinstance(value, dict):
        items = {k: _find_payloads(v, found) for k, v in value.items()}
        return items if any(items[k] is not v for k, v in value.items()) else value
    if isinstance(value, (list, tuple)):
        seq = [_find_payloads(v, found) for v in value]
        return seq if any(a is not b for a, b in zip(seq, value, strict=True)) else value
    return value


# a marker no JSON text of ours contains: private-use characters around a number
_MARKER = "\ue000cwnb:{}\ue001"
_MARKER_RE = re.compile("\ue000cwnb:(\\d+)\ue001".encode())


class _StreamedBody:
    """A JSON body whose large base64 payloads are produced in chunks as it is sent.

    Iterating it again starts over (so a retried request sends the whole body again).
    """

    def __init__(self, parts: list[bytes | Payload]) -> None:
        self.parts = parts
        self.length = sum(len(p) if isinstance(p, bytes) else p.length for p in parts)

    def __iter__(self) -> Iterator[bytes]:
        for part in self.parts:
            if isinstance(part, bytes):
                yield part
            else:
                yield from part.chunks()


class _AsyncStreamedBody:
    """The async face of _StreamedBody (httpx.AsyncClient needs an async iterable body)."""

    def __init__(self, body: _StreamedBody) -> None:
        self.body = body

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.body:
            yield chunk


def encode_json_body(value: Any) -> bytes | _StreamedBody:
    """The request body for a JSON value: bytes, or a re-iterable streamed body when it holds Payloads.

    Example:
        >>> encode_json_body({"a": [1, "b"]})
        b'{"a":[1,"b"]}'
        >>> from cloudsway_nb.types import Payload
        >>> body = encode_json_body({"data": Payload("… (2 B)", 4, lambda: iter([b"aGk="]))})
        >>> (body.length, b"".join(body))
        (15, b'{"data":"aGk="}')
    """
    found: list[Payload] = []
    marked = _find_payloads(value, found)
    text = json.dumps(marked, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    if not found:
        return text
    pieces = _MARKER_RE.split(text)  # literal, index, literal, index, ..., literal
    if pieces[1::2] != [str(i).encode() for i in range(len(found))]:
        # the prompt itself holds something that looks like a marker: send the plain body
        return json.dumps(materialize_payloads(value), ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    parts: list[bytes | Payload] = []
    for i, piece in enumerate(pieces):
        if i % 2:
            parts.append(found[int(piece)])
        elif piece:
            parts.append(piece)
    return _StreamedBody(parts)


def materialize_payloads(value: Any) -> Any:
    """A copy of a JSON tree with every Payload replaced by its real text (for code that needs it whole).

    Example:
        >>> from cloudsway_nb.types import Payload
        >>> materialize_payloads({"d": [Payload("…", 4, lambda: iter([b"aGk="]))]})
        {'d': ['aGk=']}
    """
    if isinstance(value, Payload):
        return value.materialize()
    if isinstance(value, dict):
        return {k: materialize_payloads(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [materialize_payloads(v) for v in value]
    return value


def build_request(
    http: httpx.Client | httpx.AsyncClient,
    base_url: str,
    request: HttpRequest,
    headers: dict[str, str],
    timeout: httpx.Timeout | None = None,
) -> httpx.Request:
    """An httpx.Request for an adapter's HttpRequest (body serialized once, compactly).

    Media payloads (`types.Payload` placeholders) are streamed: the body is sent in chunks with an
    exact Content-Length, so a large file never sits in memory as one base64 string.
    """
    all_headers = {**headers, **request.headers}
    content: Any = None
    if request.json is not None:
        try:
            if request.may_hold_payloads:
                body = encode_json_body(request.json)
            else:
                body = json.dumps(request.json, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        except (TypeError, ValueError) as exc:
            raise UsageError(f"{_unsendable(request.json)} cannot be sent as JSON ({exc})") from None
        if isinstance(body, bytes):
            content = body
        else:
            all_headers["content-length"] = str(body.length)
            content = _AsyncStreamedBody(body) if isinstance(http, httpx.AsyncClient) else body
        all_headers["content-type"] = "application/json"
    if request.stream:
        all_headers.setdefault("accept", "text/event-stream")
    extensions = {"timeout": timeout.as_dict()} if timeout is not None else None
    return http.build_request(
        request.method,
        base_url + request.path,
        params=request.params or None,
        headers=all_headers,
        content=content,
        extensions=extensions,
    )


def _unsendable(body: Any) -> str:
    """Which top-level parameter of a body JSON cannot encode (for the error message)."""
    if isinstance(body, dict):
        for key, value in body.items():
            try:
                json.dumps(value)
            except (TypeError, ValueError):
                return f"the parameter {key!r}"
    return "the request"


def error_from_response(response: httpx.Response, *, secrets: Sequence[str]) -> APIStatusError:
    """The exception for an HTTP error reply, with the server's message (key scrubbed) and request id.

    Understands the error bodies of every protocol: OpenAI `{"error": {"message", "type", "code"}}`,
    Anthropic `{"type": "error", "error": {"type", "message"}}`, Gemini `{"error": {"code",
    "message", "status"}}`, and plain text.
    """
    text = redact(response.text if response.content else "", list(secrets))
    message: str | None = None
    code: str | None = None
    body: Any = text
    try:
        body = json.loads(text) if text else None
    except ValueError:
        pass
    if isinstance(body, dict):
        err = body.get("error")
        if isinstance(err, dict):
            message = err.get("message")
            raw_code = err.get("code") or err.get("type") or err.get("status")
            code = str(raw_code) if raw_code is not None else None
        elif isinstance(err, str):
            message = err
        message = message or body.get("message") or body.get("detail")
    if not message:  # not JSON: a one-line summary (a proxy's HTML page is its title), never the page
        message = summarize_body(body) if isinstance(body, str) and body.strip() else ""
        message = message or response.reason_phrase
    cls = error_for_status(response.status_code)
    return cls(
        str(message),
        status=response.status_code,
        request_id=request_id_of(response.headers),
        code=code,
        body=body,
    )


def error_from_exception(exc: httpx.HTTPError, *, secrets: Sequence[str]) -> APIError:
    """The exception for an httpx transport failure (timeouts become APITimeoutError)."""
    detail = redact(str(exc) or type(exc).__name__, list(secrets))
    if isinstance(exc, httpx.TimeoutException):
        return APITimeoutError(f"request timed out ({type(exc).__name__}: {detail})")
    return APIConnectionError(f"connection failed ({type(exc).__name__}: {detail})")


def abort(response: Any) -> None:
    """Cut an open streamed response's connection at once, from any thread: a read blocked on a
    silent server (a model thinking) wakes up with an error instead of waiting for the next event.

    Closing the response from another thread would not wake that read; shutting the socket does.
    """
    stream = response.extensions.get("network_stream") if response is not None else None
    sock = stream.get_extra_info("socket") if stream is not None else None
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass  # already closed


def _unexpected(exc: Exception, secrets: Sequence[str]) -> APIError:
    """An exception httpx let through (httpcore and h11 raise plain TypeErrors and ValueErrors on odd
    input) as one of ours, so that nothing of theirs, frames included, reaches the user."""
    detail = redact(str(exc) or type(exc).__name__, list(secrets))
    return APIConnectionError(f"the request could not be sent ({type(exc).__name__}: {detail})")


def _read_failed(exc: Exception, secrets: Sequence[str]) -> APIError:
    if isinstance(exc, httpx.HTTPError):
        error = error_from_exception(exc, secrets=secrets)
    else:
        error = _unexpected(exc, secrets)
    error.message = f"the stream broke off: {error.message}"
    return error


class SyncDriver:
    """Runs flows over an httpx.Client: `run(flow)` for a call, `events(flow)` for a stream."""

    def __init__(self, http: httpx.Client, sleep: Callable[[float], None], secrets: Callable[[], Sequence[str]]):
        self.http, self.sleep, self.secrets = http, sleep, secrets

    def run(self, flow: Flow) -> Any:
        """Drive a flow that yields no events; return its result."""
        events = self.events(flow)
        while True:
            try:
                next(events)
            except StopIteration as done:
                return done.value

    def events(self, flow: Flow) -> Iterator[Event]:
        """Drive a flow, yielding the events it produces; returns (StopIteration.value) its result."""
        response: httpx.Response | None = None
        chunks: Iterator[bytes] | None = None
        answer: Any = None
        error: Exception | None = None
        try:
            while True:
                try:
                    command = flow.send(answer) if error is None else flow.throw(error)
                except StopIteration as done:
                    return done.value
                error = answer = None
                if type(command) is Send:
                    answer = self._send(command)
                    if isinstance(answer, httpx.Response):
                        if response is not None:  # a poll after the first answer: that one is done with
                            response.close()
                        response, chunks = answer, answer.iter_bytes()
                elif type(command) is Sleep:
                    self.sleep(command.seconds)
                elif command is READ_BODY:
                    try:
                        answer = response.read()  # type: ignore[union-attr]
                    except Exception as exc:
                        error = _read_failed(exc, self.secrets())
                else:  # events, parsed as they are taken: the flow maps a parser's failure
                    try:
                        yield from command
                    except Exception as exc:
                        error = exc
                        continue
                    try:
                        answer = next(chunks, None)  # type: ignore[arg-type]
                    except Exception as exc:
                        error = _read_failed(exc, self.secrets())
        except KeyboardInterrupt:
            raise KeyboardInterrupt from None  # afresh: the old one's frames hold the request headers
        finally:
            if response is not None:
                response.close()
            flow.close()

    def _send(self, command: Send) -> httpx.Response | Failure:
        secrets = self.secrets()
        try:
            response = self.http.send(command.request, stream=command.stream)
        except httpx.HTTPError as exc:
            return Failure(error_from_exception(exc, secrets=secrets), None, {})
        except Exception as exc:
            return Failure(_unexpected(exc, secrets), None, {})
        if response.status_code < 400:
            return response
        try:
            response.read()
        except httpx.HTTPError:
            pass
        finally:
            response.close()
        return Failure(error_from_response(response, secrets=secrets), response.status_code, response.headers)


class AsyncDriver:
    """The async face of SyncDriver, over an httpx.AsyncClient (the flows are the same)."""

    def __init__(
        self, http: httpx.AsyncClient, sleep: Callable[[float], Awaitable[Any]], secrets: Callable[[], Sequence[str]]
    ):
        self.http, self.sleep, self.secrets = http, sleep, secrets

    async def run(self, flow: Flow) -> Any:
        """Drive a flow that yields no events; return its result."""
        result: list[Any] = []
        async for _ in self.events(flow, result):
            pass
        return result[0] if result else None

    async def events(self, flow: Flow, result: list[Any] | None = None) -> AsyncIterator[Event]:
        """Drive a flow, yielding its events; its result is appended to `result`."""
        response: httpx.Response | None = None
        chunks: AsyncIterator[bytes] | None = None
        answer: Any = None
        error: Exception | None = None
        try:
            while True:
                try:
                    command = flow.send(answer) if error is None else flow.throw(error)
                except StopIteration as done:
                    if result is not None:
                        result.append(done.value)
                    return
                error = answer = None
                if type(command) is Send:
                    answer = await self._send(command)
                    if isinstance(answer, httpx.Response):
                        if response is not None:
                            await response.aclose()
                        response, chunks = answer, answer.aiter_bytes()
                elif type(command) is Sleep:
                    await self.sleep(command.seconds)
                elif command is READ_BODY:
                    try:
                        answer = await response.aread()  # type: ignore[union-attr]
                    except Exception as exc:
                        error = _read_failed(exc, self.secrets())
                else:  # events, parsed as they are taken: the flow maps a parser's failure
                    try:
                        for event in command:
                            yield event
                    except Exception as exc:
                        error = exc
                        continue
                    try:
                        answer = await anext(chunks, None)  # type: ignore[arg-type]
                    except Exception as exc:
                        error = _read_failed(exc, self.secrets())
        except KeyboardInterrupt:
            raise KeyboardInterrupt from None
        finally:
            if response is not None:
                await response.aclose()
            flow.close()

    async def _send(self, command: Send) -> httpx.Response | Failure:
        secrets = self.secrets()
        try:
            response = await self.http.send(command.request, stream=command.stream)
        except httpx.HTTPError as exc:
            return Failure(error_from_exception(exc, secrets=secrets), None, {})
        except Exception as exc:
            return Failure(_unexpected(exc, secrets), None, {})
        if response.status_code < 400:
            return response
        try:
            await response.aread()
        except httpx.HTTPError:
            pass
        finally:
            await response.aclose()
        return Failure(error_from_response(response, secrets=secrets), response.status_code, response.headers)
