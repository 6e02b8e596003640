"""The emulator as a pure ASGI application: routing, auth, limits, faults, pacing.

Routes (``{ep}`` is any endpoint path, one or more segments):

=========  ==================================================  =========================
method     path                                                protocol
=========  ==================================================  =========================
GET        ``/health``, ``/healthz``, ``/``                    health (no auth)
GET        ``/emulator/stats``                                 requests served, connections (no auth)
POST       ``/v1/ai/{ep}/chat/completions``                    OpenAI chat completions
POST       ``/v1/ai/{ep}/responses``                           OpenAI responses (create)
GET        ``/v1/ai/{ep}/responses/{id}``                      retrieve (``stream``, ``starting_after``)
POST       ``/v1/ai/{ep}/responses/{id}/cancel``               cancel a background response
DELETE     ``/v1/ai/{ep}/responses/{id}``                      delete
POST       ``/v1/ai/{ep}/embeddings``                          OpenAI embeddings
GET        ``/v1/ai/{ep}/models``                              a one-model list
POST       ``/{ep}/v1/messages`` (and ``/count_tokens``)       Anthropic messages
POST       ``/v1/ai/{ep}/generateContent``,                    Gemini (``?alt=sse`` streams)
           ``/v1/ai/{ep}/streamGenerateContent``, ``countTokens``
POST       ``{prefix}/models/{model}:generateContent`` etc.    Gemini, as google-genai calls it
=========  ==================================================  =========================

Example:
    >>> import asyncio, httpx
    >>> async def demo():
    ...     transport = httpx.ASGITransport(app=create_app())
    ...     async with httpx.AsyncClient(transport=transport, base_url="http://emu") as client:
    ...         r = await client.post("/v1/ai/gpt/chat/completions", headers={"Authorization": "Bearer k"},
    ...                               json={"messages": [{"role": "user", "content": "Hi"}]})
    ...         return r.json()["choices"][0]["message"]["content"]
    >>> asyncio.run(demo())
    'You said: Hi.'
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from .auth import check_key
from .conversation import digest
from .errors import EmulatorError, error_body
from .faults import Fault, FaultPlanner
from .options import EmulatorOptions
from .pacing import Pacing
from .protocols_chat import handle as chat_completions
from .protocols_embeddings import handle as embeddings
from .protocols_embeddings import models
from .protocols_gemini import handle as gemini
from .protocols_messages import count_tokens
from .protocols_messages import handle as messages
from .protocols_responses import cancel, create, delete, retrieve
from .replies import Frame, JSONReply, StreamReply, dumps
from .request import Request
from .store import ResponseStore

__all__ = ["DroppedConnection", "EmulatorApp", "create_app"]

logger = logging.getLogger("cloudsway_nb.emulator")

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
Handler = Callable[[Request, "EmulatorApp"], JSONReply | StreamReply]


class DroppedConnection(Exception):
    """Raised inside the app to make the server close the connection mid-reply (a ``drop`` fault).

    Example:
        >>> isinstance(DroppedConnection("x"), Exception)
        True
    """


@dataclass(frozen=True)
class Route:
    """One route: method, compiled path pattern, protocol, handler, and whether auth / faults apply.

    Example:
        >>> EmulatorApp.match("GET", "/health")[0].auth
        False
    """

    method: str
    pattern: re.Pattern[str]
    protocol: str
    handler: Handler
    auth: bool = True
    faults: bool = True


def _stats(request: Request, app: EmulatorApp) -> JSONReply:
    return JSONReply(app.stats())


def _route(method: str, pattern: str, protocol: str, handler: Handler, **flags: bool) -> Route:
    return Route(method, re.compile(f"^{pattern}$"), protocol, handler, **flags)


def _health(request: Request, app: EmulatorApp) -> JSONReply:
    return JSONReply(
        {
            "status": "ok",
            "name": "cloudsway-nb emulator",
            "version": app.options.version,
            "protocols": ["chat.completions", "responses", "embeddings", "anthropic.messages", "gemini"],
            "auth": "fixed key" if app.options.api_key else "any non-empty key",
            "pacing": {
                "chunk_delay": app.options.chunk_delay,
                "first_token_delay": app.options.first_token_delay,
            },
        }
    )


_EP = r"/v1/ai/(?P<ep>.+?)"
ROUTES: tuple[Route, ...] = (
    _route("GET", r"/(?:health|healthz)?", "openai", _health, auth=False, faults=False),
    _route("GET", r"/emulator/stats", "openai", _stats, auth=False, faults=False),
    _route("POST", _EP + r"/chat/completions", "openai", chat_completions),
    _route("POST", _EP + r"/responses", "openai", create),
    _route("GET", _EP + r"/responses/(?P<rid>[^/]+)", "openai", retrieve),
    _route("DELETE", _EP + r"/responses/(?P<rid>[^/]+)", "openai", delete),
    _route("POST", _EP + r"/responses/(?P<rid>[^/]+)/cancel", "openai", cancel),
    _route("POST", _EP + r"/embeddings", "openai", embeddings),
    _route("GET", _EP + r"/models", "openai", models),
    _route("POST", r"/(?P<ep>.+?)/v1/messages", "anthropic", messages),
    _route("POST", r"/(?P<ep>.+?)/v1/messages/count_tokens", "anthropic", count_tokens),
    _route(
        "POST",
        _EP + r"/(?P<verb>generateContent|streamGenerateContent|countTokens)",
        "gemini",
        gemini,
    ),
    _route(
        "POST",
        r"(?P<prefix>.*?)/models/(?P<model>[^/:]+):(?P<verb>generateContent|streamGenerateContent|countTokens)",
        "gemini",
        gemini,
    ),
)


def _guess_protocol(path: str) -> str:
    if "/v1/messages" in path:
        return "anthropic"
    if "generateContent" in path or "/models/" in path or "countTokens" in path:
        return "gemini"
    return "openai"


class EmulatorApp:
    """The ASGI application. Build it with :func:`create_app`.

    Attributes:
        options: the start-up options.
        store: stored Responses-API responses (for retrieve, cancel, ``previous_response_id``).
        faults: the fault planner.
        sleep: the coroutine function every pacing delay awaits (``asyncio.sleep``; a test may
            put a recorder in its place to check the pacing without waiting for it).

    Pacing: a stream waits ``first_token_delay`` before its first token and ``chunk_delay``
    before each later one; a non-streamed reply of N output tokens is held back as long as its
    stream would have taken (``first_token_delay + (N - 1) * chunk_delay``), or until the client
    goes away. ``latency`` is waited once before any reply, errors included.

    Counting (what a test or a benchmark checks at the server): ``requests`` maps each served
    request's path to how many times it came (the stats and health routes aside), and
    ``stats()`` adds the TCP connections seen (distinct client addresses).

    Example:
        >>> app = create_app(api_key="secret")
        >>> app.options.api_key
        'secret'
    """

    def __init__(self, options: EmulatorOptions | None = None) -> None:
        self.options = options or EmulatorOptions()
        self.store = ResponseStore(self.options.store_size)
        self.faults = FaultPlanner(self.options.fault, self.options.fault_rate, self.options.seed,
                                   self.options.fault_match, self.options.fault_times)
        self.requests: Counter[str] = Counter()  # path -> requests served
        self._peers: set[Any] = set()  # the client addresses seen: one per TCP connection
        self._counter = 0
        self._lock = threading.Lock()
        self.sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep

    def _next_request_id(self, method: str, path: str) -> str:
        """``req_`` + a digest of the method, the path and a per-app counter (deterministic per run)."""
        with self._lock:
            self._counter += 1
            count = self._counter
        return "req_" + digest(method, path, count)[:24]

    async def _latency(self, route: Route) -> None:
        if self.options.latency > 0 and route.faults:  # the health and stats routes answer at once
            await self.sleep(self.options.latency)

    def _count(self, path: str, scope: Scope, route: Route | None) -> None:
        if route is not None and not route.faults:  # the health and stats routes are not counted
            return
        with self._lock:
            self.requests[path] += 1
            self._peers.add(tuple(scope.get("client") or ()))

    def stats(self) -> dict[str, Any]:
        """Requests served (in all and per path) and TCP connections seen, since start or `reset_stats()`.

        Example:
            >>> create_app().stats()
            {'requests': 0, 'connections': 0, 'paths': {}}
        """
        with self._lock:
            return {"requests": sum(self.requests.values()), "connections": len(self._peers),
                    "paths": dict(self.requests)}

    def reset_stats(self) -> None:
        """Start counting afresh."""
        with self._lock:
            self.requests.clear()
            self._peers.clear()

    @staticmethod
    def match(method: str, path: str) -> tuple[Route | None, dict[str, str], bool]:
        """(route, path parameters, path-known-but-method-not-allowed)."""
        wrong_method = False
        for route in ROUTES:
            found = route.pattern.match(path)
            if found:
                if route.method == method or (route.method == "GET" and method == "HEAD"):
                    return route, {k: v for k, v in found.groupdict().items() if v is not None}, False
                wrong_method = True
        return None, {}, wrong_method

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The ASGI entry point."""
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":  # websockets are not part of the gateway
            return
        method = scope["method"].upper()
        path = scope["path"]
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True))
        route, params, wrong_method = self.match(method, path)
        protocol = route.protocol if route else _guess_protocol(path)
        request_id = self._next_request_id(method, path)
        fault: Fault | None = None
        pacing = Pacing(0.0, 0.0, 5.0)
        self._count(path, scope, route)
        try:
            if route is None:
                if wrong_method:
                    raise EmulatorError(405, f"Method {method} is not allowed on {path}.")
                if protocol == "openai":
                    raise EmulatorError(404, f"Invalid URL ({method} {path})")
                raise EmulatorError(404, f"Not found: {method} {path}")
            body = await self._read_body(scope, receive, headers)
            request = Request(method, path, query, headers, body, params, protocol)
            if route.auth:
                check_key(protocol, headers, query, self.options.api_key)
            try:
                pacing = Pacing.from_request(self.options, headers)
                fault = self.faults.decide(headers, body) if route.faults else None
            except ValueError as exc:
                raise EmulatorError(400, str(exc)) from None
            await self._latency(route)
            if fault is not None and await self._fault_first(fault, send):
                return  # the fault was the whole reply (a proxy's page)
            reply = route.handler(request, self)
        except EmulatorError as err:
            if fault is not None and fault.kind in ("drop", "error-event"):
                fault = None
            reply = JSONReply(error_body(protocol, err), err.status, err.headers)
        except Exception as exc:  # a bug in the emulator: still answer in the protocol's shape
            logger.exception("emulator handler failed")
            internal = EmulatorError(500, f"Emulator internal error: {type(exc).__name__}: {exc}")
            reply = JSONReply(error_body(protocol, internal), 500)
        base_headers = {"x-request-id": request_id, "request-id": request_id}
        if isinstance(reply, StreamReply):
            await self._send_stream(send, receive, reply, base_headers, pacing, fault, protocol)
        else:
            if fault is not None and fault.kind == "error-event":
                failure = EmulatorError(
                    500, "The server had an error while processing your request (emulated fault)."
                )
                reply = JSONReply(error_body(protocol, failure), 500)
                fault = None
            if reply.tokens > 0 and reply.status < 400:
                delay = pacing.first_token_delay + pacing.chunk_delay * (reply.tokens - 1)
                if not await self._hold(delay, receive):
                    return  # the client has gone: nothing to send
            await self._send_json(send, reply, base_headers, fault, method == "HEAD")

    async def _hold(self, delay: float, receive: Receive) -> bool:
        """Wait ``delay`` seconds before a non-streamed reply; False when the client left meanwhile."""
        if delay <= 0:
            return True

        async def gone() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass

        waiting = asyncio.ensure_future(self.sleep(delay))
        watcher = asyncio.ensure_future(gone())
        try:
            await asyncio.wait({waiting, watcher}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (waiting, watcher):
                task.cancel()
        return not (watcher.done() and not watcher.cancelled())

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _read_body(self, scope: Scope, receive: Receive, headers: dict[str, str]) -> bytes:
        limit = self.options.max_body
        declared = headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise EmulatorError(
                413, f"Request body too large: {declared} bytes exceeds the limit of {limit} bytes."
            )
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise EmulatorError(413, f"Request body too large: more than {limit} bytes (the limit).")
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)

    @staticmethod
    def _header_list(
        content_type: str, base: dict[str, str], extra: dict[str, str]
    ) -> list[tuple[bytes, bytes]]:
        merged = {"content-type": content_type, **base, **extra}
        return [(k.lower().encode("latin-1"), str(v).encode("latin-1")) for k, v in merged.items()]

    async def _fault_first(self, fault: Fault, send: Send) -> bool:
        """What a fault does before the handler runs: a delay, a status error (raised), or a proxy's
        HTML page sent in place of the reply (True)."""
        if fault.kind == "slow-first-byte":
            await asyncio.sleep(fault.delay)
        if fault.status is not None:
            raise fault.error()
        if fault.kind == "html":  # not the gateway's JSON
            await self._send_page(send, fault)
            return True
        return False

    async def _send_page(self, send: Send, fault: Fault) -> None:
        page = fault.page()
        headers = [(b"content-type", b"text/html"), (b"content-length", str(len(page)).encode())]
        await send({"type": "http.response.start", "status": fault.page_status, "headers": headers})
        await send({"type": "http.response.body", "body": page, "more_body": False})

    async def _send_json(
        self, send: Send, reply: JSONReply, base: dict[str, str], fault: Fault | None, head: bool
    ) -> None:
        payload = dumps(reply.body).encode("utf-8")
        headers = self._header_list("application/json", base, reply.headers)
        headers.append((b"content-length", str(len(payload)).encode()))
        await send({"type": "http.response.start", "status": reply.status, "headers": headers})
        if fault is not None and fault.kind == "drop":
            await send(
                {"type": "http.response.body", "body": payload[: len(payload) // 2], "more_body": True}
            )
            raise DroppedConnection("emulated fault: connection dropped mid-body")
        await send({"type": "http.response.body", "body": b"" if head else payload, "more_body": False})

    async def _send_stream(
        self,
        send: Send,
        receive: Receive,
        reply: StreamReply,
        base: dict[str, str],
        pacing: Pacing,
        fault: Fault | None,
        protocol: str,
    ) -> None:
        headers = self._header_list(reply.content_type, base, {"cache-control": "no-cache", **reply.headers})
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        frames = reply.frames
        cut = None
        if fault is not None and fault.kind in ("drop", "error-event"):
            token_positions = [i for i, f in enumerate(frames) if f.token]
            cut = (
                token_positions[fault.after]
                if fault.after < len(token_positions)
                else max(0, len(frames) - 1)
            )
        gone = asyncio.Event()

        async def watch() -> None:  # stop generating once the client has gone
            while (await receive())["type"] != "http.disconnect":
                pass
            gone.set()

        watcher = asyncio.ensure_future(watch())
        try:
            await self._stream_frames(send, reply, frames, cut, pacing, fault, protocol, gone)
        finally:
            watcher.cancel()

    async def _stream_frames(
        self,
        send: Send,
        reply: StreamReply,
        frames: list[Frame],
        cut: int | None,
        pacing: Pacing,
        fault: Fault | None,
        protocol: str,
        gone: asyncio.Event,
    ) -> None:
        first_token = True
        for position, frame in enumerate(frames):
            if gone.is_set():
                return
            if position == cut and fault is not None:
                if fault.kind == "drop":
                    raise DroppedConnection("emulated fault: connection dropped mid-stream")
                error = (
                    EmulatorError(529, "Overloaded")
                    if protocol == "anthropic"
                    else EmulatorError(
                        500, "The server had an error while processing your request (emulated fault)."
                    )
                )
                await send(
                    {
                        "type": "http.response.body",
                        "body": reply.error_frame(error, position),
                        "more_body": True,
                    }
                )
                break
            if frame.token:
                if first_token:
                    first_token = False
                    await self._wait(
                        send, pacing.first_token_delay, pacing.keepalive_interval, reply.keepalive
                    )
                elif pacing.chunk_delay > 0:
                    await self.sleep(pacing.chunk_delay)
            await send({"type": "http.response.body", "body": frame.data, "more_body": True})
        else:
            if reply.live is not None:  # frames that become due later (a background response)
                async for frame in reply.live(gone.is_set):
                    if gone.is_set():
                        return
                    await send({"type": "http.response.body", "body": frame.data, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def _wait(self, send: Send, delay: float, interval: float, keepalive: bytes | None) -> None:
        """Sleep ``delay`` seconds, sending a keep-alive every ``interval`` seconds meanwhile."""
        remaining = delay
        while remaining > 0:
            step = min(interval, remaining)
            await self.sleep(step)
            remaining -= step
            if remaining > 1e-9 and keepalive is not None:
                await send({"type": "http.response.body", "body": keepalive, "more_body": True})


def create_app(options: EmulatorOptions | None = None, **overrides: Any) -> EmulatorApp:
    """Build the ASGI app; keyword arguments are :class:`EmulatorOptions` fields.

    Example:
        >>> create_app(chunk_delay=0.01).options.chunk_delay
        0.01
    """
    if options is None:
        options = EmulatorOptions.from_kwargs(**overrides)
    elif overrides:
        options = options.with_changes(**overrides)  # validates the names
    return EmulatorApp(options)
