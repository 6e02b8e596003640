"""`Client` and `AsyncClient`: one call shape for every Cloudsway deployment and protocol.

Both are thin drivers: `calls.ClientCore` checks the arguments and builds each call, the flows
in `flows` (retries, background polling, the stream lifecycle) are written once and I/O-free,
and `transport`'s SyncDriver / AsyncDriver run them over httpx.

Example:
    >>> from cloudsway_nb import Client
    >>> client = Client(base_url="http://127.0.0.1:8000", api_key="sk-test")
    >>> client.add_endpoint("claude", path="MaaS-claude", protocol="messages", model="claude-sonnet")
    Endpoint('MaaS-claude', 'messages', model='claude-sonnet')
    >>> client
    Client(base_url='http://127.0.0.1:8000', api_key='****', endpoints=['claude'])
    >>> client.close()

    reply = client.chat("claude", "Why is the sky blue?", reasoning="low")
    print(reply.text, reply.usage)
    for event in client.stream("claude", "Count to five"):
        ...
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from typing import Any

from . import flows
from .calls import ClientCore, EndpointRef, PreparedCall, Prompt
from .config import Endpoint, Secret
from .errors import UsageError
from .sse import SSEDecoder
from .transport import AsyncDriver, SyncDriver, abort, http_client, timeout_of
from .types import Done, Event, Reply

__all__ = ["AsyncClient", "AsyncReplyStream", "Client", "ReplyStream"]


def _stream_state(prep: PreparedCall) -> flows.StreamState:
    return flows.StreamState(prep.alias, prep.adapter.stream_parser(), SSEDecoder())


class ReplyStream:
    """A streaming reply: iterate it for typed events; `reply` holds the final Reply afterwards.

    The request is sent when iteration starts. Iterating to the end yields a last `Done(reply)`.
    If iteration stops early (break, interrupt, error), `reply` holds what had arrived, marked
    interrupted (`reply.interrupted`, also spelled `incomplete`). Use it as a context manager to
    be sure the connection is closed.

    Example:
        with client.stream("gpt", "Tell me a story") as s:
            for event in s:
                if isinstance(event, TextDelta):
                    print(event.text, end="")
        print(s.reply.usage)
    """

    def __init__(self, driver: SyncDriver, prep: PreparedCall) -> None:
        self._driver, self._prep = driver, prep
        self._state: flows.StreamState | None = None
        self._events: Iterator[Event] | None = None
        self.reply: Reply | None = None

    def __iter__(self) -> Iterator[Event]:
        if self._state is not None:
            raise UsageError("a ReplyStream can be iterated only once; its final reply is in .reply")
        state = self._state = _stream_state(self._prep)
        self._events = self._driver.events(flows.stream(self._prep, state))
        try:
            yield from self._events
        finally:
            self._events.close()
            self.reply = state.reply()
        yield Done(self.reply)

    def abort(self) -> None:
        """Cut the connection now, from any thread (a Stop button): the iterating thread's read
        wakes up at once and raises with the partial reply; `close()` from that thread then."""
        if self._state is not None:
            abort(self._state.response)

    def until_done(self) -> Reply:
        """Consume the rest of the stream and return the final Reply."""
        if self._state is None:
            for _ in self:
                pass
        assert self.reply is not None
        return self.reply

    def close(self) -> None:
        """Close the connection; `reply` then holds what had arrived."""
        if self._events is not None:
            self._events.close()
        if self.reply is None and self._state is not None:
            self.reply = self._state.reply()

    def __enter__(self) -> ReplyStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncReplyStream:
    """The async twin of ReplyStream: `async for event in stream`, then `stream.reply`."""

    def __init__(self, driver: AsyncDriver, prep: PreparedCall) -> None:
        self._driver, self._prep = driver, prep
        self._state: flows.StreamState | None = None
        self._events: Any = None
        self.reply: Reply | None = None

    async def __aiter__(self) -> AsyncIterator[Event]:
        if self._state is not None:
            raise UsageError("an AsyncReplyStream can be iterated only once; its final reply is in .reply")
        state = self._state = _stream_state(self._prep)
        self._events = self._driver.events(flows.stream(self._prep, state))
        try:
            async for event in self._events:
                yield event
        finally:
            await self._events.aclose()
            self.reply = state.reply()
        yield Done(self.reply)

    def abort(self) -> None:
        """Cut the connection now, from any thread or task (see ReplyStream.abort)."""
        if self._state is not None:
            abort(self._state.response)

    async def until_done(self) -> Reply:
        """Consume the rest of the stream and return the final Reply."""
        if self._state is None:
            async for _ in self:
                pass
        assert self.reply is not None
        return self.reply

    async def aclose(self) -> None:
        """Close the connection; `reply` then holds what had arrived."""
        if self._events is not None:
            await self._events.aclose()
        if self.reply is None and self._state is not None:
            self.reply = self._state.reply()

    async def __aenter__(self) -> AsyncReplyStream:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


class Client(ClientCore):
    """The synchronous client. See the module docstring for an example.

    Args:
        base_url: the gateway (default `CLOUDSWAY_BASE_URL`, else https://genaiapi.cloudsway.net).
        api_key: the key (default `CLOUDSWAY_API_KEY`). Never shown in any repr, log or error.
        endpoints: alias -> Endpoint; default: the registry file (`CLOUDSWAY_CONFIG`).
        timeout, connect_timeout: seconds (600 and 5 by default, as the official SDKs; None: no limit).
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
        http_client: Any = None,
        transport: Any = None,
        sleep: Callable[[float], None] = time.sleep,
        **options: Any,
    ) -> None:
        api_key = Secret.wrap(api_key)  # first thing: no frame of ours holds the key bare
        super().__init__(base_url, api_key, endpoints, **options)
        self._http = _checked_http(http_client, "httpx.Client", "send") or _new_http(
            self, asynchronous=False, transport=transport)
        self._driver = SyncDriver(self._http, sleep, lambda: self.secrets)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def async_client(self) -> AsyncClient:
        """An AsyncClient with this client's gateway, key, endpoints, timeouts, retries and headers
        (a batch runs on it; the key is handed over inside the client layer, never shown).

        Example:
            >>> with Client(base_url="http://127.0.0.1:1", api_key="k", endpoints={}) as c:
            ...     twin = c.async_client()
            >>> twin
            AsyncClient(base_url='http://127.0.0.1:1', api_key='****', endpoints=[])
            >>> asyncio.run(twin.aclose())
        """
        return AsyncClient(self.base_url, self._api_key, dict(self.endpoints), timeout=self.timeout,
                           connect_timeout=self.connect_timeout, retry=self.retry, headers=self.extra_headers)

    def chat(
        self, endpoint: EndpointRef, prompt_or_messages: Prompt, *, system: str | None = None,
        attachments: Any = (), tools: Any = (), stream: bool = False, **params: Any,
    ) -> Reply:
        """Send a prompt (or a conversation) and return the Reply.

        Common params (mapped per protocol): temperature, top_p, max_tokens, stop, n,
        reasoning (minimal|low|medium|high|max or a token budget), logprobs, top_logprobs,
        json, schema, tool_choice. Any other keyword goes on the wire verbatim. Client options:
        timeout, connect_timeout, max_retries, retry; for responses endpoints also background
        (+ poll_interval, poll_timeout, on_progress, wait) and previous_response_id.

        Example:
            reply = client.chat("gpt", "Name three rivers", temperature=0.2, max_tokens=100)
        """
        if stream:
            return self.stream(
                endpoint, prompt_or_messages, system=system, attachments=attachments, tools=tools, **params
            ).until_done()
        prep = self.prepare_chat(endpoint, prompt_or_messages, system=system, attachments=attachments, tools=tools,
                                 stream=False, params=params)
        return self._driver.run(flows.call(prep))

    def stream(
        self, endpoint: EndpointRef, prompt_or_messages: Prompt, *, system: str | None = None,
        attachments: Any = (), tools: Any = (), **params: Any,
    ) -> ReplyStream:
        """Like chat, streamed: returns a ReplyStream to iterate for events (sent on iteration)."""
        prep = self.prepare_chat(endpoint, prompt_or_messages, system=system, attachments=attachments, tools=tools,
                                 stream=True, params=params)
        return ReplyStream(self._driver, prep)

    def embed(self, endpoint: EndpointRef, texts: str | list[str], **params: Any) -> Any:
        """Embed one text or many; returns an `Embeddings` (vectors in input order, usage).

        Example:
            vectors = client.embed("e5", ["a cat", "a dog"]).vectors
        """
        return self._driver.run(flows.call(self.prepare_embed(endpoint, texts, params)))

    def retrieve(self, endpoint: EndpointRef, response_id: str, **options: Any) -> Reply:
        """Fetch a Responses API response by id (its status, and its output once done)."""
        return self._driver.run(flows.call(self.prepare_followup(endpoint, response_id, "retrieve", options)))

    def cancel(self, endpoint: EndpointRef, response_id: str, **options: Any) -> Reply:
        """Cancel a background Responses API response; returns it as it now stands."""
        return self._driver.run(flows.call(self.prepare_followup(endpoint, response_id, "cancel", options)))


class AsyncClient(ClientCore):
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
        http_client: Any = None,
        transport: Any = None,
        sleep: Callable[[float], Any] = asyncio.sleep,
        **options: Any,
    ) -> None:
        api_key = Secret.wrap(api_key)  # first thing: no frame of ours holds the key bare
        super().__init__(base_url, api_key, endpoints, **options)
        self._http = _checked_http(http_client, "httpx.AsyncClient", "send") or _new_http(
            self, asynchronous=True, transport=transport)
        self._driver = AsyncDriver(self._http, sleep, lambda: self.secrets)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def chat(
        self, endpoint: EndpointRef, prompt_or_messages: Prompt, *, system: str | None = None,
        attachments: Any = (), tools: Any = (), stream: bool = False, **params: Any,
    ) -> Reply:
        """See Client.chat."""
        if stream:
            return await self.stream(
                endpoint, prompt_or_messages, system=system, attachments=attachments, tools=tools, **params
            ).until_done()
        prep = self.prepare_chat(endpoint, prompt_or_messages, system=system, attachments=attachments, tools=tools,
                                 stream=False, params=params)
        return await self._driver.run(flows.call(prep))

    def stream(
        self, endpoint: EndpointRef, prompt_or_messages: Prompt, *, system: str | None = None,
        attachments: Any = (), tools: Any = (), **params: Any,
    ) -> AsyncReplyStream:
        """See Client.stream; iterate with `async for`."""
        prep = self.prepare_chat(endpoint, prompt_or_messages, system=system, attachments=attachments, tools=tools,
                                 stream=True, params=params)
        return AsyncReplyStream(self._driver, prep)

    async def send_prepared(
        self, prep: PreparedCall, observe: Callable[[int | None, Mapping[str, str]], None] | None = None,
    ) -> Any:
        """Run a call made by `prepare_chat` / `prepare_embed` (a batch keys its cache on `prep.http`
        before sending); `observe(status, headers)` sees the answer to every try (see `flows.observed`)."""
        flow = flows.call(prep)
        return await self._driver.run(flows.observed(flow, observe) if observe is not None else flow)

    async def embed(self, endpoint: EndpointRef, texts: str | list[str], **params: Any) -> Any:
        """See Client.embed."""
        return await self._driver.run(flows.call(self.prepare_embed(endpoint, texts, params)))

    async def retrieve(self, endpoint: EndpointRef, response_id: str, **options: Any) -> Reply:
        """See Client.retrieve."""
        return await self._driver.run(flows.call(self.prepare_followup(endpoint, response_id, "retrieve", options)))

    async def cancel(self, endpoint: EndpointRef, response_id: str, **options: Any) -> Reply:
        """See Client.cancel."""
        return await self._driver.run(flows.call(self.prepare_followup(endpoint, response_id, "cancel", options)))


def _new_http(core: ClientCore, *, asynchronous: bool, transport: Any) -> Any:
    return http_client(asynchronous=asynchronous, timeout=timeout_of(core.timeout, core.connect_timeout),
                       transport=transport)


def _checked_http(http_client: Any, kind: str, method: str) -> Any:
    if http_client is not None and not callable(getattr(http_client, method, None)):
        from .errors import bad_argument

        raise bad_argument("http_client", http_client, f"an {kind}", f"http_client={kind}(proxy=...)")
    return http_client
