"""`Client` and `AsyncClient`: one call shape for every Cloudsway deployment and protocol.

Both share `_ClientCore`, which does everything that is not I/O: resolving an endpoint alias,
merging defaults, building the neutral `CallSpec`, picking the adapter, timing the reply. The two
classes only send and receive.

Example:
    >>> from cloudsway_nb import Client
    >>> client = Client(base_url="http://127.0.0.1:8000", api_key="sk-test")
    >>> client.add_endpoint("claude", path="MaaS-claude", protocol="messages", model="claude-sonnet")
    Endpoint('MaaS-claude', 'messages', model='claude-sonnet')
    >>> client
    Client(base_url='http://127.0.0.1:8000', api_key='****', endpoints=['claude'])

    reply = client.chat("claude", "Why is the sky blue?", reasoning="low")
    print(reply.text, reply.usage)
    for event in client.stream("claude", "Count to five"):
        ...
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from . import transport
from . import transport as transport_mod  # the parameter `transport` shadows it
from .config import (
    Endpoint,
    config_path,
    load_endpoints,
    mask_key,
    resolve_api_key,
    resolve_base_url,
    save_endpoints,
)
from .errors import APIError, APITimeoutError, ConfigError, MalformedReplyError, StreamError, UsageError, redact
from .protocols import get_adapter
from .protocols.base import Adapter, CallSpec, HttpRequest, StreamParser
from .retry import RetryPolicy
from .sse import SSEDecoder
from .types import (
    Attachment,
    Done,
    Event,
    Message,
    ReasoningDelta,
    Reply,
    TextDelta,
    Tool,
    ToolCallDelta,
    UsageEvent,
)

__all__ = ["AsyncClient", "AsyncReplyStream", "Client", "ReplyStream"]

Prompt = str | Message | Sequence[Message | dict[str, Any] | str]
EndpointRef = str | Endpoint

TERMINAL_STATUSES = ("completed", "failed", "cancelled", "incomplete")
_DEFAULT_HEADERS = {"user-agent": transport.USER_AGENT}

# keyword arguments of chat()/stream()/embed() that steer the client rather than go on the wire
_CALL_OPTIONS = (
    "timeout",
    "connect_timeout",
    "max_retries",
    "retry",
    "poll_interval",
    "poll_timeout",
    "on_progress",
    "wait",
)


class _Secret(str):
    """A string (the key, or a header holding it) whose repr is masked: verbose tracebacks and
    debuggers show the locals of every frame, and this keeps the key out of them."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "'****'"


def _secret(key: str | None) -> _Secret | None:
    return None if key is None else _Secret(key)


@dataclass(slots=True)
class _Prepared:
    alias: str
    endpoint: Endpoint
    adapter: Adapter
    http: HttpRequest
    options: dict[str, Any]


def _messages_from(prompt: Prompt, attachments: Iterable[Any]) -> list[Message]:
    if isinstance(prompt, (str, Message, dict)):
        messages = [Message.coerce(prompt)]
    elif isinstance(prompt, Sequence):
        messages = [Message.coerce(m) for m in prompt]
    else:
        raise UsageError(f"the prompt must be a string or a list of messages, not {type(prompt).__name__}")
    attachments = list(attachments)
    if not attachments:
        return messages
    if not all(isinstance(item, Attachment) for item in attachments):
        from .media import attach  # lazy: paths, bytes, PIL images, figures... become Media

        attachments = [item if isinstance(item, Attachment) else attach(item) for item in attachments]
    users = [i for i, m in enumerate(messages) if m.role == "user"]
    if not users:
        messages.append(Message.user(list(attachments)))
        return messages
    last = messages[users[-1]]
    content = [last.content] if isinstance(last.content, str) else list(last.content)
    if content == [""]:
        content = []
    messages[users[-1]] = Message(last.role, [*content, *attachments], last.tool_calls, last.tool_call_id, last.name)
    return messages


class _ClientCore:
    """What Client and AsyncClient share: configuration, the endpoint registry, request building."""

    def __init__(
        self,
        base_url: str | None = None,
        api_key: str | None = None,
        endpoints: Mapping[str, Endpoint] | None = None,
        *,
        timeout: float | httpx.Timeout = 600.0,
        connect_timeout: float = 5.0,
        max_retries: int = 2,
        retry: RetryPolicy | None = None,
        headers: Mapping[str, str] | None = None,
        config_file: str | Path | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._clock = clock
        self.base_url = resolve_base_url(base_url)
        self._api_key = _secret(resolve_api_key(api_key))
        self._config_file = Path(config_file).expanduser() if config_file is not None else None
        self.endpoints: dict[str, Endpoint] = (
            dict(endpoints) if endpoints is not None else load_endpoints(self._config_file)
        )
        if not isinstance(timeout, httpx.Timeout):
            timeout = httpx.Timeout(timeout, connect=connect_timeout)
        self.timeout = timeout
        self.retry = retry if retry is not None else RetryPolicy(max_retries=max_retries)
        self.extra_headers = dict(headers or {})

    # -- configuration -------------------------------------------------------------------------

    @property
    def api_key_set(self) -> bool:
        """Whether a key is configured (the key itself is never exposed)."""
        return self._api_key is not None

    def set_api_key(self, api_key: str | None) -> None:
        """Replace the key (e.g. after `%cloudsway login`)."""
        self._api_key = _secret(resolve_api_key(api_key)) if api_key else None

    def add_endpoint(
        self, alias: str, *, path: str, protocol: str, model: str | None = None, **defaults: Any
    ) -> Endpoint:
        """Register (or replace) an alias for a deployment and return its Endpoint."""
        if not alias or not isinstance(alias, str) or any(c in alias for c in " ,\t\n"):
            raise ConfigError(f"endpoint alias {alias!r} must be a non-empty word without spaces or commas")
        endpoint = Endpoint(path, protocol, model, **defaults)
        self.endpoints[alias] = endpoint
        return endpoint

    def remove_endpoint(self, alias: str) -> Endpoint:
        """Forget an alias; returns what it was."""
        self._resolve(alias)
        return self.endpoints.pop(alias)

    def save_endpoints(self, path: str | Path | None = None) -> Path:
        """Write the registry to its TOML file (never the key) and return the path."""
        return save_endpoints(self.endpoints, path if path is not None else self._config_file)

    def resolve(self, endpoint: EndpointRef) -> tuple[str, Endpoint]:
        """(alias, Endpoint) for an alias or an Endpoint; a ConfigError that says how to fix an unknown alias."""
        return self._resolve(endpoint)

    def redact(self, text: str) -> str:
        """`text` with this client's key scrubbed out (for messages built from what a server said)."""
        return redact(text, self._secrets)

    @property
    def masked_key(self) -> str:
        """The key as it may be shown: its length and at most its last two characters."""
        return mask_key(self._api_key)

    def _resolve(self, endpoint: EndpointRef) -> tuple[str, Endpoint]:
        if isinstance(endpoint, Endpoint):
            return endpoint.path, endpoint
        if isinstance(endpoint, str) and endpoint in self.endpoints:
            return endpoint, self.endpoints[endpoint]
        known = ", ".join(sorted(self.endpoints)) or "none yet"
        where = self._config_file or config_path()
        raise ConfigError(
            f"unknown endpoint {endpoint!r} (known: {known}); add it with "
            f"client.add_endpoint({endpoint!r}, path='<endpointPath>', protocol='chat') or in {where}"
        )

    def _auth_headers(self) -> dict[str, str]:
        if self._api_key is None:
            raise ConfigError(
                "no API key: set the CLOUDSWAY_API_KEY environment variable or pass Client(api_key=...) "
                "(in a notebook: %cloudsway login)"
            )
        return {"authorization": _Secret(f"Bearer {self._api_key}"), **self.extra_headers}

    @property
    def _secrets(self) -> tuple[str, ...]:
        return (self._api_key,) if self._api_key else ()

    def __repr__(self) -> str:
        key = "'****'" if self._api_key else "None"
        return f"{type(self).__name__}(base_url={self.base_url!r}, api_key={key}, endpoints={sorted(self.endpoints)!r})"

    # -- request building (pure) ---------------------------------------------------------------

    @staticmethod
    def _split_options(params: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        options = {k: params.pop(k) for k in _CALL_OPTIONS if k in params}
        return options, params

    def _timeout_for(self, options: dict[str, Any]) -> httpx.Timeout | None:
        value, connect = options.get("timeout"), options.get("connect_timeout")
        if value is None and connect is None:
            return None
        if isinstance(value, httpx.Timeout):
            return value
        read = self.timeout.read if value is None else value
        return httpx.Timeout(read, connect=self.timeout.connect if connect is None else connect)

    def _policy_for(self, options: dict[str, Any]) -> RetryPolicy:
        policy = options.get("retry") or self.retry
        if not isinstance(policy, RetryPolicy):
            raise UsageError(f"retry= takes a RetryPolicy, not {type(policy).__name__}")
        retries = options.get("max_retries")
        return policy if retries is None else policy.with_(max_retries=retries)

    def _prepare_chat(
        self,
        endpoint: EndpointRef,
        prompt: Prompt,
        *,
        system: str | None,
        attachments: Iterable[Any],
        tools: Iterable[Tool | dict[str, Any] | Callable[..., Any]],
        stream: bool,
        params: dict[str, Any],
    ) -> _Prepared:
        alias, ep = self._resolve(endpoint)
        if ep.protocol == "embeddings":
            raise UsageError(f"endpoint {alias!r} serves embeddings; use client.embed({alias!r}, texts)")
        options, params = self._split_options(dict(params))
        adapter = get_adapter(ep.protocol)
        tool_list = [t if isinstance(t, (Tool, dict)) else Tool.from_any(t) for t in tools]
        call = CallSpec(
            messages=_messages_from(prompt, attachments),
            endpoint_path=ep.path,
            model=params.pop("model", ep.model),
            system=system,
            tools=tool_list,
            params={**ep.defaults, **params},
            stream=stream,
        )
        if call.params.get("background") and ep.protocol != "responses":
            raise UsageError(f"background=True needs a responses endpoint; {alias!r} speaks {ep.protocol}")
        request = adapter.build_request(call)
        # only attachments put media Payloads in a body: skip the search for them otherwise
        request.may_hold_payloads = any(
            not isinstance(m.content, str) and any(isinstance(p, Attachment) for p in m.content)
            for m in call.messages
        )
        return _Prepared(alias, ep, adapter, request, options)

    def _prepare_embed(self, endpoint: EndpointRef, texts: str | Sequence[str], params: dict[str, Any]) -> _Prepared:
        alias, ep = self._resolve(endpoint)
        if ep.protocol != "embeddings":
            raise UsageError(f"endpoint {alias!r} speaks {ep.protocol}, not embeddings")
        options, params = self._split_options(dict(params))
        adapter = get_adapter("embeddings")
        merged = {**ep.defaults, **params}
        model = merged.pop("model", ep.model)
        request = adapter.build_embed_request(ep.path, texts, model, merged)  # type: ignore[attr-defined]
        return _Prepared(alias, ep, adapter, request, options)

    def _prepare_followup(
        self, endpoint: EndpointRef, response_id: str, action: str, options: dict[str, Any] | None = None
    ) -> _Prepared:
        alias, ep = self._resolve(endpoint)
        if ep.protocol != "responses":
            raise UsageError(f"{action} works on responses endpoints; {alias!r} speaks {ep.protocol}")
        adapter = get_adapter("responses")
        if action == "cancel":
            request = adapter.build_cancel(ep.path, response_id)  # type: ignore[attr-defined]
        else:
            request = adapter.build_retrieve(ep.path, response_id)  # type: ignore[attr-defined]
        return _Prepared(alias, ep, adapter, request, dict(options or {}))

    def _httpx_request(self, http: httpx.Client | httpx.AsyncClient, prep: _Prepared) -> httpx.Request:
        return transport.build_request(
            http, self.base_url, prep.http, self._auth_headers(), self._timeout_for(prep.options)
        )

    @staticmethod
    def _decode(response: httpx.Response) -> Any:
        try:
            return response.json()
        except ValueError:
            snippet = response.text[:120].replace("\n", " ")
            raise MalformedReplyError(
                f"the reply is not JSON ({response.headers.get('content-type', 'no content type')}): {snippet!r}",
                status=response.status_code,
                request_id=transport.request_id_of(response.headers),
            ) from None

    def _parse(self, prep: _Prepared, response: httpx.Response, data: Any, started: float) -> Any:
        """The adapter's parse of a reply (a Reply, or Embeddings), timed; errors get the request id."""
        embeddings = prep.endpoint.protocol == "embeddings"
        parse = prep.adapter.parse_embeddings if embeddings else prep.adapter.parse_reply  # type: ignore[attr-defined]
        try:
            result = parse(data)
        except APIError as exc:
            exc.request_id = exc.request_id or transport.request_id_of(response.headers)
            exc.message = redact(exc.message, self._secrets)
            raise
        if not embeddings:
            result.endpoint = prep.alias
        result.latency = time.perf_counter() - started
        return result

    def _whole_reply(self, prep: _Prepared, response: httpx.Response) -> Reply:
        """The Reply from a JSON body sent where a stream was asked for; an error body raises StreamError."""
        data = self._decode(response)
        if isinstance(data, dict) and data.get("error"):
            said = transport.error_from_response(response, secrets=self._secrets)
            raise StreamError(said.message, status=response.status_code, request_id=said.request_id, code=said.code)
        return self._parse(prep, response, data, time.perf_counter())

    @staticmethod
    def _poll_failed(prep: _Prepared, reply: Reply, error: APIError) -> APIError:
        """A failed poll keeps the response it was polling, and says how to fetch it later."""
        error.partial = reply
        error.message = (
            f"{error.message} (while polling background response {reply.id}, last seen {reply.status}; "
            f"fetch it later with client.retrieve({prep.alias!r}, {reply.id!r}))"
        )
        return error

    def _poll_state(self, prep: _Prepared, reply: Reply, started: float) -> float:
        timeout = prep.options.get("poll_timeout", 600.0)
        elapsed = self._clock() - started
        if elapsed > timeout:
            raise APITimeoutError(
                f"background response {reply.id} is still {reply.status} after {elapsed:.0f} s; "
                f"fetch it later with client.retrieve({prep.alias!r}, {reply.id!r}) "
                f"or stop it with client.cancel({prep.alias!r}, {reply.id!r})",
                partial=reply,
            )
        return prep.options.get("poll_interval", 1.0)


def _is_json(response: httpx.Response) -> bool:
    return "json" in response.headers.get("content-type", "")


class _StreamState:
    """The I/O-free part of a stream: SSE decoding, parsing, timing. Shared by both stream classes."""

    __slots__ = ("alias", "decoder", "finished", "first_token", "parser", "started", "whole")

    def __init__(self, prep: _Prepared, started: float) -> None:
        self.alias = prep.alias
        self.parser: StreamParser = prep.adapter.stream_parser()
        self.decoder = SSEDecoder()
        self.started = started
        self.first_token: float | None = None
        self.finished = False  # the body was read to its end
        self.whole: Reply | None = None  # set when the server answered with one JSON reply, not a stream

    def events(self, chunk: bytes) -> list[Event]:
        out: list[Event] = []
        feed = self.parser.feed
        for sse in self.decoder.feed(chunk):
            out += feed(sse)
        if self.first_token is None and out and any(type(e) is not UsageEvent for e in out):
            self.first_token = time.perf_counter()
        return out

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
        reply = self.whole if self.whole is not None else self.parser.finish()
        reply.endpoint = self.alias
        now = time.perf_counter()
        reply.latency = now - self.started
        if self.first_token is not None:
            reply.ttft = self.first_token - self.started
        return reply

    def fail(self, exc: BaseException, response: httpx.Response | None, secrets: Sequence[str]) -> APIError:
        """The error to raise for a failure mid-stream, carrying the partial reply."""
        if isinstance(exc, APIError):
            error = exc
        elif isinstance(exc, httpx.HTTPError):
            error = transport.error_from_exception(exc, secrets=secrets)
            error.message = f"the stream broke off: {error.message}"
        else:
            raise exc
        if response is not None and not error.request_id:
            error.request_id = transport.request_id_of(response.headers)
        error.message = redact(error.message, secrets)
        partial = self.reply()
        partial.incomplete = True
        error.partial = partial
        return error


class ReplyStream:
    """A streaming reply: iterate it for typed events; `reply` holds the final Reply afterwards.

    The request is sent when iteration starts. Iterating to the end yields a last `Done(reply)`.
    If iteration stops early (break, interrupt, error), `reply` holds what had arrived, marked
    `incomplete`. Use it as a context manager to be sure the connection is closed.

    Example:
        with client.stream("gpt", "Tell me a story") as s:
            for event in s:
                if isinstance(event, TextDelta):
                    print(event.text, end="")
        print(s.reply.usage)
    """

    def __init__(self, client: Client, prep: _Prepared) -> None:
        self._client = client
        self._prep = prep
        self._response: httpx.Response | None = None
        self._state: _StreamState | None = None
        self._started = False
        self.reply: Reply | None = None

    def __iter__(self) -> Iterator[Event]:
        if self._started:
            raise UsageError("a ReplyStream can be iterated only once; its final reply is in .reply")
        self._started = True
        client, prep = self._client, self._prep
        started = time.perf_counter()
        state = self._state = _StreamState(prep, started)
        self._response = response = transport.send(
            client._http,
            client._httpx_request(client._http, prep),
            policy=client._policy_for(prep.options),
            stream=True,
            secrets=client._secrets,
            sleep=client._sleep,
        )
        try:
            if _is_json(response):
                response.read()
                yield from state.whole_reply_events(client._whole_reply(prep, response))
            else:
                for chunk in response.iter_bytes():
                    yield from state.events(chunk)
                yield from state.final_events()
        except (APIError, httpx.HTTPError) as exc:
            raise state.fail(exc, response, client._secrets) from None
        finally:
            response.close()
            self.reply = state.reply()
            if not state.finished:  # the caller stopped early (break, interrupt) or it failed
                self.reply.incomplete = True
        yield Done(self.reply)

    def until_done(self) -> Reply:
        """Consume the rest of the stream and return the final Reply."""
        if not self._started:
            for _ in self:
                pass
        assert self.reply is not None
        return self.reply

    def close(self) -> None:
        if self._response is not None:
            self._response.close()
        if self.reply is None and self._state is not None:
            self.reply = self._state.reply()

    def __enter__(self) -> ReplyStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncReplyStream:
    """The async twin of ReplyStream: `async for event in stream`, then `stream.reply`."""

    def __init__(self, client: AsyncClient, prep: _Prepared) -> None:
        self._client = client
        self._prep = prep
        self._response: httpx.Response | None = None
        self._state: _StreamState | None = None
        self._started = False
        self.reply: Reply | None = None

    async def __aiter__(self) -> AsyncIterator[Event]:
        if self._started:
            raise UsageError("an AsyncReplyStream can be iterated only once; its final reply is in .reply")
        self._started = True
        client, prep = self._client, self._prep
        started = time.perf_counter()
        state = self._state = _StreamState(prep, started)
        self._response = response = await transport.asend(
            client._http,
            client._httpx_request(client._http, prep),
            policy=client._policy_for(prep.options),
            stream=True,
            secrets=client._secrets,
            sleep=client._sleep,
        )
        try:
            if _is_json(response):
                await response.aread()
                for event in state.whole_reply_events(client._whole_reply(prep, response)):
                    yield event
            else:
                async for chunk in response.aiter_bytes():
                    for event in state.events(chunk):
                        yield event
                for event in state.final_events():
                    yield event
        except (APIError, httpx.HTTPError) as exc:
            raise state.fail(exc, response, client._secrets) from None
        finally:
            await response.aclose()
            self.reply = state.reply()
            if not state.finished:
                self.reply.incomplete = True
        yield Done(self.reply)

    async def until_done(self) -> Reply:
        """Consume the rest of the stream and return the final Reply."""
        if not self._started:
            async for _ in self:
                pass
        assert self.reply is not None
        return self.reply

    async def aclose(self) -> None:
        if self._response is not None:
            await self._response.aclose()
        if self.reply is None and self._state is not None:
            self.reply = self._state.reply()

    async def __aenter__(self) -> AsyncReplyStream:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


class Client(_ClientCore):
    """The synchronous client. See the module docstring for an example.

    Args:
        base_url: the gateway (default `CLOUDSWAY_BASE_URL`, else https://genaiapi.cloudsway.net).
        api_key: the key (default `CLOUDSWAY_API_KEY`). Never shown in any repr, log or error.
        endpoints: alias -> Endpoint; default: the registry file (`CLOUDSWAY_CONFIG`).
        timeout, connect_timeout: seconds (600 and 5 by default, as the official SDKs).
        max_retries, retry: how failures are retried (RetryPolicy); per call `max_retries=`.
        http_client: an httpx.Client to use (its transport, proxies, limits).
        transport: an httpx transport (e.g. httpx.MockTransport in tests).
        sleep: the function used to wait between retries and polls (a fake clock in tests).
    """

    def __init__(
        self,
        base_url: str | None = None,
        api_key: str | None = None,
        endpoints: Mapping[str, Endpoint] | None = None,
        *,
        http_client: httpx.Client | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        **options: Any,
    ) -> None:
        super().__init__(base_url, api_key, endpoints, **options)
        # our user-agent as a client default (set per request, httpx would rebuild its headers each time)
        self._http = http_client or httpx.Client(
            timeout=self.timeout, transport=transport, headers=_DEFAULT_HEADERS, limits=transport_mod.POOL_LIMITS
        )
        self._sleep = sleep

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _request(self, prep: _Prepared) -> tuple[httpx.Response, Any, float]:
        started = time.perf_counter()
        response = transport.send(
            self._http,
            self._httpx_request(self._http, prep),
            policy=self._policy_for(prep.options),
            stream=False,
            secrets=self._secrets,
            sleep=self._sleep,
        )
        return response, self._decode(response), started

    def chat(
        self,
        endpoint: EndpointRef,
        prompt_or_messages: Prompt,
        *,
        system: str | None = None,
        attachments: Iterable[Any] = (),
        tools: Iterable[Tool | dict[str, Any] | Callable[..., Any]] = (),
        stream: bool = False,
        **params: Any,
    ) -> Reply:
        """Send a prompt (or a conversation) and return the Reply.

        Common params (mapped per protocol): temperature, top_p, max_tokens, stop, n,
        reasoning ("low"|"medium"|"high"|"max" or a token budget), logprobs, top_logprobs,
        json, schema, tool_choice. Any other keyword goes on the wire verbatim. Client options:
        timeout, max_retries; for responses endpoints also background (+ poll_interval,
        poll_timeout, on_progress, wait) and previous_response_id.

        Example:
            reply = client.chat("gpt", "Name three rivers", temperature=0.2, max_tokens=100)
        """
        if stream:
            return self.stream(
                endpoint, prompt_or_messages, system=system, attachments=attachments, tools=tools, **params
            ).until_done()
        prep = self._prepare_chat(
            endpoint, prompt_or_messages, system=system, attachments=attachments, tools=tools, stream=False,
            params=params,
        )
        response, data, started = self._request(prep)
        reply = self._parse(prep, response, data, started)
        if prep.http.json.get("background") and prep.options.get("wait", True):
            reply = self._wait(prep, reply)
        return reply

    def stream(
        self,
        endpoint: EndpointRef,
        prompt_or_messages: Prompt,
        *,
        system: str | None = None,
        attachments: Iterable[Any] = (),
        tools: Iterable[Tool | dict[str, Any] | Callable[..., Any]] = (),
        **params: Any,
    ) -> ReplyStream:
        """Like chat, streamed: returns a ReplyStream to iterate for events (sent on iteration)."""
        prep = self._prepare_chat(
            endpoint, prompt_or_messages, system=system, attachments=attachments, tools=tools, stream=True,
            params=params,
        )
        return ReplyStream(self, prep)

    def embed(self, endpoint: EndpointRef, texts: str | Sequence[str], **params: Any) -> Any:
        """Embed one text or many; returns an `Embeddings` (vectors in input order, usage).

        Example:
            vectors = client.embed("e5", ["a cat", "a dog"]).vectors
        """
        prep = self._prepare_embed(endpoint, texts, params)
        return self._parse(prep, *self._request(prep))

    def retrieve(self, endpoint: EndpointRef, response_id: str) -> Reply:
        """Fetch a Responses API response by id (its status, and its output once done)."""
        prep = self._prepare_followup(endpoint, response_id, "retrieve")
        response, data, started = self._request(prep)
        return self._parse(prep, response, data, started)

    def cancel(self, endpoint: EndpointRef, response_id: str) -> Reply:
        """Cancel a background Responses API response; returns it as it now stands."""
        prep = self._prepare_followup(endpoint, response_id, "cancel")
        response, data, started = self._request(prep)
        return self._parse(prep, response, data, started)

    def _wait(self, prep: _Prepared, reply: Reply) -> Reply:
        started = self._clock()
        on_progress = prep.options.get("on_progress")
        while True:
            if on_progress is not None:
                on_progress(reply)
            if reply.status in TERMINAL_STATUSES or reply.id is None:
                return reply
            self._sleep(self._poll_state(prep, reply, started))
            poll = self._prepare_followup(prep.endpoint, reply.id, "retrieve", prep.options)
            try:
                reply = self._parse(poll, *self._request(poll))
            except APIError as exc:
                raise self._poll_failed(prep, reply, exc) from None
            reply.endpoint = prep.alias


class AsyncClient(_ClientCore):
    """The asyncio client: the same methods as Client, awaited (`stream` returns an async iterable).

    Example:
        async with AsyncClient() as client:
            replies = await asyncio.gather(client.chat("gpt", "hi"), client.chat("claude", "hi"))
    """

    def __init__(
        self,
        base_url: str | None = None,
        api_key: str | None = None,
        endpoints: Mapping[str, Endpoint] | None = None,
        *,
        http_client: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Any] = asyncio.sleep,
        **options: Any,
    ) -> None:
        super().__init__(base_url, api_key, endpoints, **options)
        self._http = http_client or httpx.AsyncClient(
            timeout=self.timeout, transport=transport, headers=_DEFAULT_HEADERS, limits=transport_mod.POOL_LIMITS
        )
        self._sleep = sleep

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def _request(self, prep: _Prepared) -> tuple[httpx.Response, Any, float]:
        started = time.perf_counter()
        response = await transport.asend(
            self._http,
            self._httpx_request(self._http, prep),
            policy=self._policy_for(prep.options),
            stream=False,
            secrets=self._secrets,
            sleep=self._sleep,
        )
        return response, self._decode(response), started

    async def chat(
        self,
        endpoint: EndpointRef,
        prompt_or_messages: Prompt,
        *,
        system: str | None = None,
        attachments: Iterable[Any] = (),
        tools: Iterable[Tool | dict[str, Any] | Callable[..., Any]] = (),
        stream: bool = False,
        **params: Any,
    ) -> Reply:
        """See Client.chat."""
        if stream:
            return await self.stream(
                endpoint, prompt_or_messages, system=system, attachments=attachments, tools=tools, **params
            ).until_done()
        prep = self._prepare_chat(
            endpoint, prompt_or_messages, system=system, attachments=attachments, tools=tools, stream=False,
            params=params,
        )
        response, data, started = await self._request(prep)
        reply = self._parse(prep, response, data, started)
        if prep.http.json.get("background") and prep.options.get("wait", True):
            reply = await self._wait(prep, reply)
        return reply

    def stream(
        self,
        endpoint: EndpointRef,
        prompt_or_messages: Prompt,
        *,
        system: str | None = None,
        attachments: Iterable[Any] = (),
        tools: Iterable[Tool | dict[str, Any] | Callable[..., Any]] = (),
        **params: Any,
    ) -> AsyncReplyStream:
        """See Client.stream; iterate with `async for`."""
        prep = self._prepare_chat(
            endpoint, prompt_or_messages, system=system, attachments=attachments, tools=tools, stream=True,
            params=params,
        )
        return AsyncReplyStream(self, prep)

    async def embed(self, endpoint: EndpointRef, texts: str | Sequence[str], **params: Any) -> Any:
        """See Client.embed."""
        prep = self._prepare_embed(endpoint, texts, params)
        return self._parse(prep, *(await self._request(prep)))

    async def retrieve(self, endpoint: EndpointRef, response_id: str) -> Reply:
        """See Client.retrieve."""
        prep = self._prepare_followup(endpoint, response_id, "retrieve")
        response, data, started = await self._request(prep)
        return self._parse(prep, response, data, started)

    async def cancel(self, endpoint: EndpointRef, response_id: str) -> Reply:
        """See Client.cancel."""
        prep = self._prepare_followup(endpoint, response_id, "cancel")
        response, data, started = await self._request(prep)
        return self._parse(prep, response, data, started)

    async def _wait(self, prep: _Prepared, reply: Reply) -> Reply:
        started = self._clock()
        on_progress = prep.options.get("on_progress")
        while True:
            if on_progress is not None:
                on_progress(reply)
            if reply.status in TERMINAL_STATUSES or reply.id is None:
                return reply
            await self._sleep(self._poll_state(prep, reply, started))
            poll = self._prepare_followup(prep.endpoint, reply.id, "retrieve", prep.options)
            try:
                reply = self._parse(poll, *(await self._request(poll)))
            except APIError as exc:
                raise self._poll_failed(prep, reply, exc) from None
            reply.endpoint = prep.alias

