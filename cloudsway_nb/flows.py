"""The client's I/O flows, written once and I/O-free: retries, a whole call, background polling,
the lifecycle of a stream.

A flow is a generator that yields what it needs done and is sent the answer; a driver in
`transport` (one sync, one async) does the I/O. The commands:

    Send(request, stream)   answer: the response (status < 400), or a Failure (error mapped)
    Sleep(seconds)          answer: None
    ReadBody()              answer: the rest of the body (bytes)
    events                  an iterable of a stream's events for the caller (a list, or an iterator
                            that parses a read's events as they are taken); answer: the next chunk,
                            None at the end. A failure while taking them is thrown back into the flow.

A flow's return value is the call's result; its exceptions are the package's own (the driver
throws transport failures into the flow already mapped, so the flow can attach a partial reply).

Example, driven by hand with a fake transport:
    >>> from cloudsway_nb.config import Endpoint
    >>> from cloudsway_nb.retry import RetryPolicy
    >>> flow = send("REQUEST", RetryPolicy(max_retries=1), stream=False)
    >>> next(flow)
    Send(request='REQUEST', stream=False)
    >>> flow.send(Failure(RateLimitError("slow down", status=429), 429, {"retry-after": "2"}))
    Sleep(seconds=2.0)
    >>> flow.send(None)
    Send(request='REQUEST', stream=False)
    >>> try:
    ...     flow.send("RESPONSE")
    ... except StopIteration as done:
    ...     print(done.value)
    RESPONSE
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .errors import APIError, APITimeoutError, MalformedReplyError, RateLimitError, StreamError, summarize_body
from .types import Event, ReasoningDelta, Reply, TextDelta, ToolCallDelta, UsageEvent

if TYPE_CHECKING:
    from .calls import PreparedCall
    from .protocols.base import StreamParser
    from .retry import RetryPolicy

__all__ = [
    "READ_BODY", "Failure", "ReadBody", "Send", "Sleep", "StreamState", "call", "observed", "poll", "send", "stream",
]

__doctest_namespace__ = {"RateLimitError": RateLimitError}


@dataclass(slots=True)
class Send:
    """Send `request` (a transport request); with `stream`, return as soon as the headers arrive."""

    request: Any
    stream: bool


@dataclass(slots=True)
class Sleep:
    """Wait this long (between retries, between polls)."""

    seconds: float


class ReadBody:
    """Read the rest of the current response's body."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "ReadBody()"


READ_BODY = ReadBody()


@dataclass(slots=True)
class Failure:
    """A try that failed: the error (already one of ours, key scrubbed), its status and headers."""

    error: APIError
    status: int | None
    headers: Mapping[str, str]


Flow = Generator[Any, Any, Any]
"""A flow: yields commands (and event lists), is sent their answers, returns the result."""


def send(request: Any, policy: RetryPolicy, *, stream: bool) -> Flow:
    """Send with retries; return the response (open, for a stream) or raise the last error.

    Only the sending is retried: once a stream's response is returned, nothing is.
    """
    attempt = 0
    while True:
        outcome = yield Send(request, stream)
        if not isinstance(outcome, Failure):
            return outcome
        if attempt >= policy.max_retries or not policy.should_retry(outcome.status, outcome.headers):
            outcome.error.retries = attempt  # the message says "after N retries"
            raise outcome.error
        yield Sleep(policy.delay(attempt, outcome.headers))
        attempt += 1


def observed(flow: Flow, observe: Callable[[int | None, Mapping[str, str]], None]) -> Flow:
    """`flow`, with `observe(status, headers)` called on every answer to a Send: a batch learns its
    rate limits from 429s and `x-ratelimit-*` headers this way (status None: a connection failure).

    Example:
        >>> from cloudsway_nb.retry import RetryPolicy
        >>> seen = []
        >>> flow = observed(send("REQ", RetryPolicy(max_retries=0), stream=False), lambda *a: seen.append(a))
        >>> next(flow)
        Send(request='REQ', stream=False)
        >>> try:
        ...     flow.send(Failure(RateLimitError("slow", status=429), 429, {"retry-after": "1"}))
        ... except RateLimitError:
        ...     seen
        [(429, {'retry-after': '1'})]
    """
    answer: Any = None
    error: BaseException | None = None
    while True:
        try:
            command = flow.send(answer) if error is None else flow.throw(error)
        except StopIteration as done:
            return done.value
        answer = error = None
        try:
            answer = yield command
        except GeneratorExit:
            flow.close()
            raise
        except BaseException as exc:  # thrown in by the driver: the inner flow handles it
            error = exc
            continue
        if type(command) is Send:
            if isinstance(answer, Failure):
                observe(answer.status, answer.headers)
            else:
                observe(getattr(answer, "status_code", None), getattr(answer, "headers", {}))


def call(prep: PreparedCall) -> Flow:
    """A whole (non-streamed) call: send, decode, parse; for a background response, poll it."""
    started = time.perf_counter()
    response = yield from send(prep.request, prep.policy, stream=False)
    result = parse(prep, response, decode(response), started)
    if prep.waits:
        result = yield from poll(prep, result)
        result.latency = time.perf_counter() - started  # from submitting to the final state, polls included
    return result


def poll(prep: PreparedCall, reply: Reply) -> Flow:
    """Poll a background response until it reaches a terminal status (or `poll_timeout` passes)."""
    started = prep.clock()
    on_progress = prep.options.get("on_progress")
    terminal = prep.adapter.TERMINAL_STATUSES  # type: ignore[attr-defined]  # a "background" capability
    polls = 0
    while True:
        if on_progress is not None:
            on_progress(reply)
        if reply.status in terminal or reply.id is None:
            reply.polls = polls
            return reply
        yield Sleep(_poll_delay(prep, reply, started))
        follow = prep.followup(reply.id)
        polls += 1
        try:
            reply = yield from call(follow)
        except APIError as exc:
            raise _poll_failed(prep, reply, exc) from None
        reply.endpoint = prep.alias


def stream(prep: PreparedCall, state: StreamState) -> Flow:
    """A streamed call: send (with retries), then feed every chunk to `state`, yielding its events.

    A server that answers a stream request with one JSON reply is read whole (its error body, if
    it holds one, is a StreamError). A failure mid-stream raises with the partial reply attached.
    """
    response = yield from send(prep.request, prep.policy, stream=True)
    state.response, state.response_headers = response, response.headers
    try:
        if "json" in response.headers.get("content-type", ""):
            body = yield READ_BODY
            reply = _whole_reply(prep, response, body)
            if prep.waits:  # a background response answers with its queued state: poll it to the end
                reply = yield from poll(prep, reply)
            yield state.whole_reply_events(reply)
            return
        chunk = yield ()
        while chunk is not None:
            chunk = yield state.each_event(chunk)
        yield state.final_events()
    except APIError as exc:
        raise state.fail(exc, prep.redact) from None
    except (KeyError, IndexError, TypeError, ValueError, AttributeError) as exc:  # an event the parser did not expect
        error = MalformedReplyError(f"a {prep.endpoint.protocol} stream event could not be read "
                                    f"({type(exc).__name__}: {exc})")
        raise state.fail(error, prep.redact) from None


# -- pure steps ----------------------------------------------------------------------------------


def decode(response: Any) -> Any:
    """The JSON of a whole reply; MalformedReplyError (with the request id) when it is not JSON."""
    try:
        return response.json()
    except ValueError:
        snippet = summarize_body(response.text)
        raise MalformedReplyError(
            f"the reply is not JSON ({response.headers.get('content-type', 'no content type')}): {snippet!r}",
            status=response.status_code,
            request_id=request_id_of(response.headers),
        ) from None


def parse(prep: PreparedCall, response: Any, data: Any, started: float) -> Any:
    """The adapter's parse of a reply (a Reply, or Embeddings), timed; errors get the request id."""
    embeddings = prep.adapter.can("embeddings")
    parse_fn = prep.adapter.parse_embeddings if embeddings else prep.adapter.parse_reply  # type: ignore[attr-defined]
    try:
        result = parse_fn(data)
    except APIError as exc:
        exc.request_id = exc.request_id or request_id_of(response.headers)
        exc.message = prep.redact(exc.message)
        raise
    except (KeyError, IndexError, TypeError, ValueError, AttributeError) as exc:  # a shape the parser did not expect
        raise MalformedReplyError(
            f"the {prep.endpoint.protocol} reply could not be read ({type(exc).__name__}: {exc})",
            status=response.status_code, request_id=request_id_of(response.headers),
        ) from None
    if not embeddings:
        result.endpoint = prep.alias
    result.latency = time.perf_counter() - started
    return result


def _whole_reply(prep: PreparedCall, response: Any, body: bytes) -> Reply:
    """The Reply from a JSON body sent where a stream was asked for; an error body raises StreamError."""
    data = decode(response)
    if isinstance(data, dict) and data.get("error"):
        said = prep.error_from_response(response)
        raise StreamError(said.message, status=response.status_code, request_id=said.request_id, code=said.code)
    return parse(prep, response, data, time.perf_counter())


def _poll_delay(prep: PreparedCall, reply: Reply, started: float) -> float:
    timeout = prep.options.get("poll_timeout", 600.0)
    elapsed = prep.clock() - started
    if elapsed > timeout:
        raise APITimeoutError(
            f"background response {reply.id} is still {reply.status} after {elapsed:.0f} s; "
            f"fetch it later with client.retrieve({prep.alias!r}, {reply.id!r}) "
            f"or stop it with client.cancel({prep.alias!r}, {reply.id!r})",
            partial=reply,
        )
    return prep.options.get("poll_interval", 1.0)


def _poll_failed(prep: PreparedCall, reply: Reply, error: APIError) -> APIError:
    """A failed poll keeps the response it was polling, and says how to fetch it later."""
    error.partial = reply
    error.message = (
        f"{error.message} (while polling background response {reply.id}, last seen {reply.status}; "
        f"fetch it later with client.retrieve({prep.alias!r}, {reply.id!r}))"
    )
    return error


_REQUEST_ID_HEADERS = ("x-request-id", "request-id", "apim-request-id", "x-ms-request-id", "x-goog-request-id")


def request_id_of(headers: Mapping[str, str]) -> str | None:
    """The server's request id, from whichever header this server uses.

    Example:
        >>> request_id_of({"apim-request-id": "r-1"})
        'r-1'
    """
    for name in _REQUEST_ID_HEADERS:
        value = headers.get(name)
        if value:
            return value
    return None


class StreamState:
    """The I/O-free part of a stream: SSE decoding, parsing, timing, the partial reply on failure."""

    __slots__ = (
        "alias", "decoder", "finished", "first_token", "parser", "response", "response_headers", "started", "whole",
    )

    def __init__(self, alias: str, parser: StreamParser, decoder: Any, clock: Callable[[], float] = time.perf_counter):
        self.alias = alias
        self.parser = parser
        self.decoder = decoder
        self.started = clock()
        self.first_token: float | None = None
        self.finished = False  # the body was read to its end
        self.whole: Reply | None = None  # set when the server answered with one JSON reply, not a stream
        self.response: Any = None  # the open transport response, for `transport.abort` from another thread
        self.response_headers: Mapping[str, str] = {}

    def events(self, chunk: bytes) -> list[Event]:
        """The events a chunk (a network read) completes, all at once."""
        return list(self.each_event(chunk))

    def each_event(self, chunk: bytes) -> Iterator[Event]:
        """The events a chunk completes, parsed one server-sent event at a time as they are taken.

        A large read holds hundreds of events: made all at once, they (and the dicts they keep)
        would all be alive until the last was handed out, and the garbage collector would run
        over them again and again. A parser's failure is raised where the events are taken.
        """
        feed = self.parser.feed
        sses = iter(self.decoder.feed(chunk))
        if self.first_token is None:
            for sse in sses:
                out = feed(sse)
                if any(type(e) is not UsageEvent for e in out):
                    self.first_token = time.perf_counter()
                    yield from out
                    break
                yield from out
        for sse in sses:
            yield from feed(sse)

    def final_events(self) -> list[Event]:
        out: list[Event] = []
        for sse in self.decoder.flush():
            out += self.parser.feed(sse)
        self.finished = True
        return out

    def whole_reply_events(self, reply: Reply) -> list[Event]:
        """Events for a server that ignored stream=true and sent the whole reply as JSON."""
        self.whole, self.finished = reply, True
        self.first_token = time.perf_counter()
        out: list[Event] = []
        for c in reply.choices:
            if c.reasoning:
                out.append(ReasoningDelta(c.reasoning, c.index))
            if c.text:
                out.append(TextDelta(c.text, c.index))
            out += [ToolCallDelta(k, t.id, t.name, t.arguments_json, c.index) for k, t in enumerate(c.tool_calls)]
        out.append(UsageEvent(reply.usage))
        return out

    def reply(self) -> Reply:
        """The reply as it stands: whole, or assembled from what arrived (marked incomplete if cut short)."""
        reply = self.whole if self.whole is not None else self.parser.finish()
        reply.endpoint = self.alias
        reply.latency = time.perf_counter() - self.started
        if self.first_token is not None:
            reply.ttft = self.first_token - self.started
        if not self.finished:
            reply.incomplete = True
        return reply

    def fail(self, error: APIError, redact: Callable[[str], str]) -> APIError:
        """The error to raise for a failure mid-stream, carrying the partial reply."""
        if not error.request_id:
            error.request_id = request_id_of(self.response_headers)
        error.message = redact(error.message)
        error.partial = self.reply()
        return error
