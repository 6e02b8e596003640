"""Client and AsyncClient end to end through httpx.MockTransport: requests, replies, streams,
retries (with a fake clock), background polling, and a canary key that must never show.

A parity suite: every test that takes the `clock` fixture runs twice, through `Client` ([sync]) and
through `AsyncClient` ([async]), the latter behind `AsyncFacade`, which drives it from a private
event loop so that the same test code checks both (retrieve, cancel, breaking out of a stream,
retries, background polling...)."""

from __future__ import annotations

import asyncio
import json
import logging
import traceback
from collections.abc import Callable, Iterator

import httpx
import pytest
from support import CANARY

from cloudsway_nb import (
    APIConnectionError,
    APITimeoutError,
    AsyncClient,
    AuthenticationError,
    BadRequestError,
    Client,
    Done,
    Endpoint,
    MalformedReplyError,
    ReasoningDelta,
    ServerError,
    StreamError,
    TextDelta,
    ToolCallDelta,
    UsageError,
    UsageEvent,
)

BASE = "http://gateway.test"

ENDPOINTS = {
    "gpt": Endpoint("MaaS-gpt", "chat", model="gpt-4o"),
    "resp": Endpoint("MaaS-o3", "responses"),
    "claude": Endpoint("MaaS-cl", "messages", model="claude"),
    "gem": Endpoint("MaaS-ge", "gemini"),
    "e5": Endpoint("MaaS-e5", "embeddings", model="e5"),
}

CHAT_REPLY = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "model": "gpt-4o",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello!"}, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7},
}


def sse(*payloads: object) -> bytes:
    return b"".join(
        f"data: {p if isinstance(p, str) else json.dumps(p)}\n\n".encode() for p in payloads
    )


def chunk(content: str | None = None, *, reasoning: str | None = None, finish: str | None = None) -> dict:
    delta: dict = {}
    if content is not None:
        delta["content"] = content
    if reasoning is not None:
        delta["reasoning_content"] = reasoning
    return {"id": "c1", "object": "chat.completion.chunk", "model": "gpt-4o",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}


class Recorder:
    """A fake gateway: answers from a queue of handlers, records every request."""

    def __init__(self, *answers: Callable[[httpx.Request], httpx.Response] | httpx.Response) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        return answer(request) if callable(answer) else answer

    def body(self, i: int = -1) -> dict:
        return json.loads(self.requests[i].content)


class FakeClock:
    def __init__(self, kind: str = "sync") -> None:
        self.kind = kind  # which client make_client builds: "sync" or "async"
        self.now = 0.0
        self.slept: list[float] = []
        self.facades: list[AsyncFacade] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds

    async def asleep(self, seconds: float) -> None:
        self.sleep(seconds)

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["sync", "async"])
def clock(request: pytest.FixtureRequest) -> Iterator[FakeClock]:
    fake = FakeClock(request.param)
    yield fake
    for facade in fake.facades:
        facade.close()


def _async_answer(recorder: Recorder) -> Callable[[httpx.Request], object]:
    """The recorder as an async MockTransport handler: a sync streamed body becomes an async one."""

    async def answer(request: httpx.Request) -> httpx.Response:
        response = recorder(request)
        if isinstance(response.stream, httpx.AsyncByteStream):
            return response
        chunks = response.stream

        async def body():
            for piece in chunks:  # an exception (a dropped connection) propagates as it would
                yield piece

        return httpx.Response(response.status_code, headers=response.headers, content=body())

    return answer


class AsyncFacade:
    """An AsyncClient with Client's synchronous face, each call run on a private event loop."""

    def __init__(self, client: AsyncClient) -> None:
        self.client = client
        self.loop = asyncio.new_event_loop()

    def __getattr__(self, name: str):
        attr = getattr(self.client, name)
        if name in ("chat", "embed", "retrieve", "cancel"):
            return lambda *a, **k: self.loop.run_until_complete(attr(*a, **k))
        if name == "stream":
            return lambda *a, **k: _SyncStream(self.loop, attr(*a, **k))
        return attr

    def __enter__(self) -> AsyncFacade:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def close(self) -> None:
        if not self.loop.is_closed():
            self.loop.run_until_complete(self.client.aclose())
            self.loop.close()


class _SyncStream:
    """An AsyncReplyStream iterated synchronously (breaking out closes it, as with ReplyStream)."""

    def __init__(self, loop: asyncio.AbstractEventLoop, stream) -> None:
        self.loop, self.stream = loop, stream

    def __iter__(self):
        events = self.stream.__aiter__()
        try:
            while True:
                try:
                    yield self.loop.run_until_complete(events.__anext__())
                except StopAsyncIteration:
                    return
        finally:
            self.loop.run_until_complete(events.aclose())

    @property
    def reply(self):
        return self.stream.reply

    def until_done(self):
        return self.loop.run_until_complete(self.stream.until_done())

    def close(self) -> None:
        self.loop.run_until_complete(self.stream.aclose())

    def __enter__(self) -> _SyncStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def make_client(recorder: Recorder, clock: FakeClock, **options) -> Client:
    """A Client, or (for the [async] run) an AsyncClient behind the same synchronous face."""
    if clock.kind == "sync":
        return Client(BASE, CANARY, ENDPOINTS, transport=httpx.MockTransport(recorder), sleep=clock.sleep,
                      clock=clock, **options)
    facade = AsyncFacade(AsyncClient(BASE, CANARY, ENDPOINTS, transport=httpx.MockTransport(_async_answer(recorder)),
                                     sleep=clock.asleep, clock=clock, **options))
    clock.facades.append(facade)
    return facade  # type: ignore[return-value]


# -- plain calls --------------------------------------------------------------------------------


def test_chat_sends_the_right_request_and_parses_the_reply(clock: FakeClock) -> None:
    gateway = Recorder(httpx.Response(200, json=CHAT_REPLY))
    client = make_client(gateway, clock)
    reply = client.chat("gpt", "hi", system="be brief", temperature=0.2, max_tokens=50, seed=7)
    request = gateway.requests[0]
    assert str(request.url) == f"{BASE}/v1/ai/MaaS-gpt/chat/completions"
    assert request.headers["authorization"] == f"Bearer {CANARY}"
    assert request.headers["user-agent"].startswith("cloudsway-nb/")
    body = gateway.body()
    assert body["model"] == "gpt-4o" and body["temperature"] == 0.2 and body["max_tokens"] == 50
    assert body["seed"] == 7  # unknown parameters pass through verbatim
    assert body["messages"] == [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}]
    assert (reply.text, reply.finish_reason, reply.endpoint, reply.id) == ("Hello!", "stop", "gpt", "chatcmpl-1")
    assert (reply.usage.input, reply.usage.output, reply.usage.total) == (5, 2, 7)
    assert reply.latency is not None and reply.latency >= 0


def test_endpoint_defaults_apply_and_calls_override_them(clock: FakeClock) -> None:
    gateway = Recorder(httpx.Response(200, json=CHAT_REPLY))
    client = make_client(gateway, clock)
    client.add_endpoint("cold", path="MaaS-gpt", protocol="chat", temperature=0.0, top_p=0.5)
    client.chat("cold", "hi", top_p=None, temperature=1.0)
    body = gateway.body()
    assert body["temperature"] == 1.0 and "top_p" not in body


def test_an_endpoint_value_works_without_an_alias(clock: FakeClock) -> None:
    gateway = Recorder(httpx.Response(200, json=CHAT_REPLY))
    reply = make_client(gateway, clock).chat(Endpoint("Other/deploy", "chat"), "hi")
    assert gateway.requests[0].url.path == "/v1/ai/Other/deploy/chat/completions"
    assert reply.endpoint == "Other/deploy"


def test_embeddings_endpoint_refuses_chat_and_chat_refuses_embed(clock: FakeClock) -> None:
    client = make_client(Recorder(httpx.Response(200, json=CHAT_REPLY)), clock)
    with pytest.raises(UsageError, match="embed"):
        client.chat("e5", "hi")
    with pytest.raises(UsageError, match="cannot embed"):
        client.embed("gpt", "hi")


def test_embed_through_the_client(clock: FakeClock) -> None:
    import base64
    import struct

    packed = base64.b64encode(struct.pack("<3f", 0.5, -1.0, 2.0)).decode()
    reply = {"object": "list", "model": "e5", "usage": {"prompt_tokens": 4, "total_tokens": 4},
             "data": [{"index": 1, "embedding": [1.0, 0.0, 0.0]}, {"index": 0, "embedding": packed}]}
    gateway = Recorder(httpx.Response(200, json=reply))
    result = make_client(gateway, clock).embed("e5", ["a", "b"])
    assert gateway.requests[0].url.path == "/v1/ai/MaaS-e5/embeddings"
    assert gateway.body()["input"] == ["a", "b"]
    assert result.vectors == [[0.5, -1.0, 2.0], [1.0, 0.0, 0.0]]
    assert result.usage.input == 4


def test_malformed_reply(clock: FakeClock) -> None:
    gateway = Recorder(httpx.Response(200, text="<html>proxy error</html>", headers={"x-request-id": "r9"}))
    with pytest.raises(MalformedReplyError) as info:
        make_client(gateway, clock).chat("gpt", "hi")
    assert info.value.request_id == "r9" and "not JSON" in str(info.value)


# -- retries -------------------------------------------------------------------------------------


def test_retries_server_errors_then_succeeds(clock: FakeClock) -> None:
    gateway = Recorder(
        httpx.Response(503, json={"error": {"message": "busy"}}),
        httpx.Response(429, json={"error": {"message": "slow"}}, headers={"retry-after-ms": "1500"}),
        httpx.Response(200, json=CHAT_REPLY),
    )
    reply = make_client(gateway, clock).chat("gpt", "hi")
    assert reply.text == "Hello!" and len(gateway.requests) == 3
    assert 0.375 <= clock.slept[0] <= 0.5 and clock.slept[1] == 1.5


def test_gives_up_after_max_retries_with_the_last_error(clock: FakeClock) -> None:
    gateway = Recorder(httpx.Response(500, json={"error": {"message": "down"}}, headers={"x-request-id": "req_7"}))
    with pytest.raises(ServerError) as info:
        make_client(gateway, clock).chat("gpt", "hi")
    assert len(gateway.requests) == 3 and len(clock.slept) == 2
    assert info.value.one_line() == "ServerError: 500 down (request id req_7; after 2 retries)"  # issue 11, 18
    assert info.value.retries == 2
    assert str(info.value) == "500 down (request id req_7; after 2 retries)"  # a traceback names the class once


def test_max_retries_per_client_and_per_call(clock: FakeClock) -> None:
    gateway = Recorder(httpx.Response(500))
    with pytest.raises(ServerError):
        make_client(gateway, clock, max_retries=4).chat("gpt", "hi")
    assert len(gateway.requests) == 5
    gateway.requests.clear()
    with pytest.raises(ServerError):
        make_client(gateway, clock, max_retries=4).chat("gpt", "hi", max_retries=0)
    assert len(gateway.requests) == 1


def test_client_errors_are_not_retried_and_x_should_retry_is_obeyed(clock: FakeClock) -> None:
    gateway = Recorder(httpx.Response(400, json={"error": {"message": "bad"}}))
    with pytest.raises(BadRequestError):
        make_client(gateway, clock).chat("gpt", "hi")
    assert len(gateway.requests) == 1
    gateway = Recorder(httpx.Response(503, headers={"x-should-retry": "false"}))
    with pytest.raises(ServerError):
        make_client(gateway, clock).chat("gpt", "hi")
    assert len(gateway.requests) == 1
    gateway = Recorder(httpx.Response(400, headers={"x-should-retry": "true"}), httpx.Response(200, json=CHAT_REPLY))
    assert make_client(gateway, clock).chat("gpt", "hi").text == "Hello!"


def test_connection_errors_and_timeouts_are_retried(clock: FakeClock) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    gateway = Recorder(refuse, slow, httpx.Response(200, json=CHAT_REPLY))
    assert make_client(gateway, clock).chat("gpt", "hi").text == "Hello!"
    gateway = Recorder(slow)
    with pytest.raises(APITimeoutError):
        make_client(gateway, clock).chat("gpt", "hi")
    gateway = Recorder(refuse)
    with pytest.raises(APIConnectionError):
        make_client(gateway, clock).chat("gpt", "hi", max_retries=0)


def test_per_call_timeout_reaches_httpx(clock: FakeClock) -> None:
    seen = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.extensions["timeout"])
        return httpx.Response(200, json=CHAT_REPLY)

    client = make_client(Recorder(answer), clock, timeout=30.0, connect_timeout=2.0)
    client.chat("gpt", "hi", timeout=3.0)
    client.chat("gpt", "hi")
    assert seen[0]["read"] == 3.0 and seen[0]["connect"] == 2.0
    assert seen[1]["read"] == 30.0


# -- streams -------------------------------------------------------------------------------------

STREAM_BODY = sse(
    chunk(reasoning="Think"), chunk(reasoning="ing."), chunk("Hel"), chunk("lo"), chunk(finish="stop"),
    {"id": "c1", "object": "chat.completion.chunk", "choices": [],
     "usage": {"prompt_tokens": 5, "completion_tokens": 6, "total_tokens": 11,
               "completion_tokens_details": {"reasoning_tokens": 4}}},
    "[DONE]",
)


def pieces(body: bytes, size: int = 7) -> Iterator[bytes]:
    for i in range(0, len(body), size):
        yield body[i : i + size]


def test_stream_yields_typed_events_and_the_final_reply(clock: FakeClock) -> None:
    gateway = Recorder(lambda r: httpx.Response(200, content=pieces(STREAM_BODY),
                                                headers={"content-type": "text/event-stream"}))
    stream = make_client(gateway, clock).stream("gpt", "hi")
    events = list(stream)
    assert gateway.body()["stream"] is True
    assert [type(e) for e in events[:4]] == [ReasoningDelta, ReasoningDelta, TextDelta, TextDelta]
    assert any(isinstance(e, UsageEvent) for e in events)
    assert isinstance(events[-1], Done) and events[-1].reply is stream.reply
    reply = stream.reply
    assert (reply.text, reply.reasoning, reply.usage.reasoning, reply.incomplete) == ("Hello", "Thinking.", 4, False)
    assert reply.ttft is not None and reply.latency is not None and reply.ttft <= reply.latency
    with pytest.raises(UsageError, match="only once"):
        list(stream)


def test_chat_with_stream_true_returns_the_assembled_reply(clock: FakeClock) -> None:
    gateway = Recorder(lambda r: httpx.Response(200, content=pieces(STREAM_BODY)))
    reply = make_client(gateway, clock).chat("gpt", "hi", stream=True)
    assert reply.text == "Hello" and reply.usage.total == 11


def test_stream_tool_call_fragments(clock: FakeClock) -> None:
    def tc(args: str, first: bool = False) -> dict:
        call: dict = {"index": 0, "function": {"arguments": args}}
        if first:
            call.update(id="call_1", type="function", function={"name": "get_weather", "arguments": ""})
        return {"choices": [{"index": 0, "delta": {"tool_calls": [call]}, "finish_reason": None}]}

    body = sse(tc("", True), tc('{"city"'), tc(': "Oslo"}'),
               {"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]}, "[DONE]")
    gateway = Recorder(lambda r: httpx.Response(200, content=pieces(body)))
    stream = make_client(gateway, clock).stream("gpt", "weather?", tools=[{"type": "function", "function": {
        "name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}])
    events = list(stream)
    assert any(isinstance(e, ToolCallDelta) for e in events)
    call = stream.reply.tool_calls[0]
    assert (call.id, call.name, call.arguments) == ("call_1", "get_weather", {"city": "Oslo"})
    assert stream.reply.finish_reason == "tool_calls"


def test_error_event_mid_stream_keeps_the_partial_text(clock: FakeClock) -> None:
    body = sse(chunk("Par"), chunk("tial"), {"error": {"message": "model crashed", "type": "server_error"}})
    gateway = Recorder(lambda r: httpx.Response(200, content=pieces(body), headers={"x-request-id": "req_s"}))
    stream = make_client(gateway, clock).stream("gpt", "hi")
    seen = []
    with pytest.raises(StreamError) as info:
        for event in stream:
            seen.append(event)
    assert "model crashed" in str(info.value) and info.value.request_id == "req_s"
    assert info.value.partial.text == "Partial" and info.value.partial.incomplete
    assert stream.reply is not None and stream.reply.text == "Partial"
    assert len(gateway.requests) == 1  # a stream that delivered data is never retried


def test_connection_drop_mid_stream_is_not_retried_and_keeps_the_partial(clock: FakeClock) -> None:
    def broken() -> Iterator[bytes]:
        yield sse(chunk("Half an "))
        yield sse(chunk("answer"))
        raise httpx.RemoteProtocolError("peer closed connection without sending complete message body")

    gateway = Recorder(lambda r: httpx.Response(200, content=broken()))
    with pytest.raises(APIConnectionError) as info:
        list(make_client(gateway, clock).stream("gpt", "hi"))
    assert info.value.partial.text == "Half an answer" and info.value.partial.incomplete
    assert "broke off" in str(info.value)
    assert len(gateway.requests) == 1


def test_stream_missing_its_end_marker_is_incomplete(clock: FakeClock) -> None:
    gateway = Recorder(lambda r: httpx.Response(200, content=sse(chunk("cut"))))
    reply = make_client(gateway, clock).chat("gpt", "hi", stream=True)
    assert reply.text == "cut" and reply.incomplete


def test_a_stream_refused_before_any_data_is_retried(clock: FakeClock) -> None:
    gateway = Recorder(
        httpx.Response(429, json={"error": {"message": "slow"}}, headers={"retry-after": "2"}),
        lambda r: httpx.Response(200, content=STREAM_BODY),
    )
    assert make_client(gateway, clock).chat("gpt", "hi", stream=True).text == "Hello"
    assert clock.slept == [2.0]


def test_breaking_out_of_a_stream_keeps_what_arrived(clock: FakeClock) -> None:
    gateway = Recorder(lambda r: httpx.Response(200, content=pieces(STREAM_BODY, 1000)))
    with make_client(gateway, clock).stream("gpt", "hi") as stream:
        for event in stream:
            if isinstance(event, TextDelta):
                break
    assert stream.reply is not None and stream.reply.incomplete


# -- responses: background polling, cancel -------------------------------------------------------


def response_obj(status: str, text: str | None = None) -> dict:
    output = [] if text is None else [{"type": "message", "role": "assistant", "id": "msg_1",
                                       "content": [{"type": "output_text", "text": text, "annotations": []}]}]
    usage = None if text is None else {"input_tokens": 3, "output_tokens": 2, "total_tokens": 5}
    return {"id": "resp_1", "object": "response", "status": status, "output": output, "usage": usage,
            "background": True, "model": "o3"}


def test_background_polls_until_done_with_progress(clock: FakeClock) -> None:
    gateway = Recorder(
        httpx.Response(200, json=response_obj("queued")),
        httpx.Response(200, json=response_obj("in_progress")),
        httpx.Response(200, json=response_obj("completed", "Done.")),
    )
    statuses = []
    reply = make_client(gateway, clock).chat("resp", "think hard", background=True, poll_interval=2.0,
                                             on_progress=lambda r: statuses.append(r.status))
    assert statuses == ["queued", "in_progress", "completed"]
    assert reply.text == "Done." and reply.status == "completed" and reply.endpoint == "resp"
    assert gateway.body(0)["background"] is True
    polls = gateway.requests[1:]
    assert all(r.method == "GET" and r.url.path == "/v1/ai/MaaS-o3/responses/resp_1" for r in polls)
    assert polls[0].url.params["api-version"] == "preview" and polls[0].url.params["stream"] == "false"
    assert clock.slept == [2.0, 2.0]


def test_background_poll_timeout_says_how_to_fetch_later(clock: FakeClock) -> None:
    gateway = Recorder(httpx.Response(200, json=response_obj("queued")))
    with pytest.raises(APITimeoutError) as info:
        make_client(gateway, clock).chat("resp", "x", background=True, poll_interval=5, poll_timeout=12)
    assert "client.retrieve('resp', 'resp_1')" in str(info.value)
    assert info.value.partial.status == "queued"


def test_background_without_waiting_and_cancel(clock: FakeClock) -> None:
    gateway = Recorder(httpx.Response(200, json=response_obj("queued")),
                       httpx.Response(200, json=response_obj("cancelled")))
    client = make_client(gateway, clock)
    first = client.chat("resp", "x", background=True, wait=False)
    assert first.status == "queued"
    cancelled = client.cancel("resp", first.id)
    assert cancelled.status == "cancelled" and cancelled.finish_reason == "cancelled"
    assert gateway.requests[1].method == "POST" and gateway.requests[1].url.path.endswith("/resp_1/cancel")


def test_retrieve_fetches_a_stored_response_and_takes_call_options(clock: FakeClock) -> None:
    gateway = Recorder(httpx.Response(503), httpx.Response(200, json=response_obj("completed", "Stored.")))
    client = make_client(gateway, clock)
    reply = client.retrieve("resp", "resp_1", timeout=7)
    assert reply.text == "Stored." and reply.status == "completed" and reply.endpoint == "resp"
    assert [r.method for r in gateway.requests] == ["GET", "GET"] and len(clock.slept) == 1  # retried once
    assert gateway.requests[0].extensions["timeout"]["read"] == 7
    with pytest.raises(UsageError, match="timeout='x'"):
        client.retrieve("resp", "resp_1", timeout="x")


def test_background_needs_a_responses_endpoint(clock: FakeClock) -> None:
    with pytest.raises(UsageError, match="responses endpoint"):
        make_client(Recorder(httpx.Response(200)), clock).chat("gpt", "x", background=True)


# -- the async client ------------------------------------------------------------------------------


def make_async(recorder: Recorder, clock: FakeClock, **options) -> AsyncClient:
    return AsyncClient(BASE, CANARY, ENDPOINTS, transport=httpx.MockTransport(recorder), sleep=clock.asleep,
                       clock=clock, **options)


async def test_async_chat_retries_and_concurrency(clock: FakeClock) -> None:
    gateway = Recorder(httpx.Response(503), httpx.Response(200, json=CHAT_REPLY))
    async with make_async(gateway, clock) as client:
        first = await client.chat("gpt", "hi")
        replies = await asyncio.gather(*(client.chat("gpt", f"q{i}") for i in range(5)))
    assert first.text == "Hello!" and len(clock.slept) == 1
    assert [r.text for r in replies] == ["Hello!"] * 5


async def test_async_stream_and_error(clock: FakeClock) -> None:
    async def body():
        for piece in pieces(STREAM_BODY):
            yield piece

    gateway = Recorder(lambda r: httpx.Response(200, content=body()))
    client = make_async(gateway, clock)
    stream = client.stream("gpt", "hi")
    events = [e async for e in stream]
    assert isinstance(events[-1], Done) and stream.reply.text == "Hello"
    assert stream.reply.reasoning == "Thinking."

    async def broken():
        yield sse(chunk("Par"))
        raise httpx.ReadError("reset")

    gateway = Recorder(lambda r: httpx.Response(200, content=broken()))
    with pytest.raises(APIConnectionError) as info:
        await make_async(gateway, clock).chat("gpt", "hi", stream=True)
    assert info.value.partial.text == "Par"


async def test_async_background_and_embed(clock: FakeClock) -> None:
    gateway = Recorder(httpx.Response(200, json=response_obj("queued")),
                       httpx.Response(200, json=response_obj("completed", "ok")))
    reply = await make_async(gateway, clock).chat("resp", "x", background=True, poll_interval=1)
    assert reply.text == "ok" and clock.slept == [1]
    gateway = Recorder(httpx.Response(200, json={"data": [{"index": 0, "embedding": [1.0, 2.0]}]}))
    assert (await make_async(gateway, clock).embed("e5", "a")).vectors == [[1.0, 2.0]]


# -- the canary key never shows -------------------------------------------------------------------


def test_the_key_never_appears_in_reprs_errors_logs_or_tracebacks(
    clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    echo = {"error": {"message": f"Incorrect API key provided: {CANARY}", "type": "invalid_request_error"}}
    gateway = Recorder(httpx.Response(401, json=echo, headers={"x-request-id": "r1"}))
    client = make_client(gateway, clock)
    texts = [repr(client), str(client)]
    with pytest.raises(AuthenticationError) as info:
        client.chat("gpt", "hi")
    error = info.value
    texts += [str(error), repr(error), error.message, json.dumps(error.body)]
    texts.append("".join(traceback.format_exception(error)))
    body = sse(chunk("x"), {"error": {"message": f"key {CANARY} revoked"}})
    gateway.answers = [lambda r: httpx.Response(200, content=body)]
    with pytest.raises(StreamError) as info2:
        client.chat("gpt", "hi", stream=True)
    texts += [str(info2.value), repr(info2.value.partial)]
    reply_gateway = Recorder(httpx.Response(200, json=CHAT_REPLY))
    reply = make_client(reply_gateway, clock).chat("gpt", "hi")
    texts += [repr(reply), json.dumps(reply.to_dict())]
    texts.append(caplog.text)
    for text in texts:
        assert CANARY not in text
        assert CANARY[:20] not in text


def test_public_accessors_never_expose_the_key(clock: FakeClock) -> None:
    client = make_client(Recorder(httpx.Response(200, json=CHAT_REPLY)), clock)
    assert client.resolve("gpt") == ("gpt", ENDPOINTS["gpt"])
    assert client.redact(f"echo {CANARY} back") == "echo *** back"
    assert client.masked_key == "set (from the api_key argument)" and client.has_key


# -- regressions found in review --------------------------------------------------------------


def test_the_key_is_masked_in_the_locals_of_every_frame(clock: FakeClock) -> None:
    """Verbose tracebacks (IPython's %xmode Verbose) print each frame's locals with repr()."""

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    with pytest.raises(APIConnectionError) as info:
        make_client(Recorder(refuse), clock, max_retries=0).chat("gpt", "hi")
    tb = info.value.__traceback__
    seen = []
    while tb is not None:
        seen += [repr(v) for v in tb.tb_frame.f_locals.values()]
        tb = tb.tb_next
    assert seen and not any(CANARY in text for text in seen)


def test_ttft_counts_content_not_a_usage_only_first_event(clock: FakeClock) -> None:
    from cloudsway_nb.flows import StreamState
    from cloudsway_nb.protocols import get_adapter
    from cloudsway_nb.sse import SSEDecoder

    state = StreamState("claude", get_adapter("messages").stream_parser(), SSEDecoder())
    start = b'event: message_start\ndata: {"type":"message_start","message":{"id":"m","model":"c",' \
            b'"usage":{"input_tokens":3,"output_tokens":1}}}\n\n'
    assert state.events(start) and state.first_token is None
    delta = b'event: content_block_start\ndata: {"type":"content_block_start","index":0,' \
            b'"content_block":{"type":"text","text":""}}\n\nevent: content_block_delta\ndata: ' \
            b'{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}}\n\n'
    state.events(delta)
    assert state.first_token is not None


def test_a_stream_answered_with_one_json_reply_is_still_a_reply(clock: FakeClock) -> None:
    gateway = Recorder(httpx.Response(200, json=CHAT_REPLY))
    stream = make_client(gateway, clock).stream("gpt", "hi")
    events = list(stream)
    assert [type(e).__name__ for e in events] == ["TextDelta", "UsageEvent", "Done"]
    assert stream.reply.text == "Hello!" and not stream.reply.incomplete and stream.reply.usage.total == 7


def test_a_stream_answered_with_a_json_error_raises_it(clock: FakeClock) -> None:
    gateway = Recorder(httpx.Response(200, json={"error": {"message": "bad key"}}, headers={"x-request-id": "r5"}))
    with pytest.raises(StreamError) as info:
        list(make_client(gateway, clock).stream("gpt", "hi"))
    assert "bad key" in str(info.value) and info.value.request_id == "r5"


def test_client_options_per_call_never_reach_the_wire(clock: FakeClock) -> None:
    from cloudsway_nb import RetryPolicy

    seen = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append((request.extensions["timeout"], json.loads(request.content)))
        return httpx.Response(503)

    client = make_client(Recorder(answer), clock)
    with pytest.raises(ServerError):
        client.chat("gpt", "hi", connect_timeout=1.5, retry=RetryPolicy(max_retries=4, jitter=0.0))
    assert len(seen) == 5 and clock.slept == [0.5, 1.0, 2.0, 4.0]
    timeout, body = seen[0]
    assert timeout["connect"] == 1.5 and "connect_timeout" not in body and "retry" not in body
    with pytest.raises(UsageError, match="RetryPolicy"):
        client.chat("gpt", "hi", retry=3)


def test_a_parameter_that_is_not_json_is_a_usage_error(clock: FakeClock) -> None:
    with pytest.raises(UsageError, match="'seed' cannot be sent as JSON"):
        make_client(Recorder(httpx.Response(200, json=CHAT_REPLY)), clock).chat("gpt", "hi", seed=object())


def test_a_failed_background_poll_keeps_the_response_id(clock: FakeClock) -> None:
    gateway = Recorder(httpx.Response(200, json=response_obj("queued")),
                       httpx.Response(500, json={"error": {"message": "poll broke"}}))
    with pytest.raises(ServerError) as info:
        make_client(gateway, clock).chat("resp", "x", background=True, poll_interval=1, max_retries=0)
    assert info.value.partial.id == "resp_1" and "client.retrieve('resp', 'resp_1')" in str(info.value)
    assert len(gateway.requests) == 2  # max_retries=0 applied to the poll too


def test_a_reply_the_parser_cannot_read_is_a_malformed_reply_not_a_raw_error(
    clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The parsers are lenient; should one still meet a shape it cannot read, the caller gets one of our
    errors (with what had arrived), never a raw KeyError from inside the package."""
    from cloudsway_nb.protocols import get_adapter

    adapter = get_adapter("chat")

    def unreadable(data: object) -> None:
        raise KeyError("choices")

    monkeypatch.setattr(adapter, "parse_reply", unreadable)
    with pytest.raises(MalformedReplyError, match=r"chat reply could not be read \(KeyError"):
        make_client(Recorder(httpx.Response(200, json=CHAT_REPLY)), clock).chat("gpt", "hi")
    monkeypatch.undo()
    parser_class = type(adapter.stream_parser())
    original = parser_class.feed
    fed: list[int] = []

    def feed(self, sse):  # the second event breaks the parser
        fed.append(1)
        if len(fed) == 2:
            raise TypeError("unexpected delta")
        return original(self, sse)

    monkeypatch.setattr(parser_class, "feed", feed)
    stream = sse(chunk("Par"), chunk("tial"))
    with pytest.raises(MalformedReplyError, match=r"stream event could not be read \(TypeError") as info:
        make_client(Recorder(lambda r: httpx.Response(200, content=stream)), clock).chat("gpt", "hi", stream=True)
    assert info.value.partial.text == "Par" and info.value.partial.incomplete


def test_headers_with_a_newline_are_refused_without_being_shown() -> None:
    with pytest.raises(UsageError, match=r"headers\['x-a'\] is not valid") as info:
        Client(BASE, CANARY, ENDPOINTS, headers={"x-a": "v\nInjected: 1"})
    assert "Injected" not in str(info.value)


def test_a_background_stream_answered_with_its_queued_state_polls_to_the_end(clock: FakeClock) -> None:
    gateway = Recorder(httpx.Response(200, json=response_obj("queued")),
                       httpx.Response(200, json=response_obj("in_progress")),
                       httpx.Response(200, json=response_obj("completed", "Done at last.")))
    stream = make_client(gateway, clock).stream("resp", "x", background=True, poll_interval=1)
    events = list(stream)
    assert stream.reply.text == "Done at last." and stream.reply.status == "completed" and not stream.reply.incomplete
    assert any(isinstance(e, TextDelta) and e.text == "Done at last." for e in events) and clock.slept == [1, 1]
    assert [r.method for r in gateway.requests] == ["POST", "GET", "GET"]
