"""The client end to end against the emulator on a loopback port: every protocol, streamed and not,
tools, reasoning, background mode, embeddings, faults and retries."""

from __future__ import annotations

import math
from collections.abc import Iterator

import pytest

from cloudsway_nb import (
    APIConnectionError,
    AsyncClient,
    AuthenticationError,
    Client,
    Endpoint,
    Message,
    RateLimitError,
    StreamError,
    TextDelta,
)
from cloudsway_nb.emulator.testing import running_emulator

Endpoints = dict[str, Endpoint]  # tests/conftest.py's emulator_endpoints
CHATTY = ["gpt", "o3", "claude", "gemini"]  # its aliases that chat


@pytest.fixture
def client(emulator_url: str, canary: str, emulator_endpoints: Endpoints) -> Iterator[Client]:
    with Client(emulator_url, canary, emulator_endpoints, sleep=lambda s: None) as c:
        yield c


@pytest.mark.parametrize("alias", CHATTY)
def test_chat_every_protocol(client: Client, alias: str, emulator_endpoints: Endpoints) -> None:
    reply = client.chat(alias, "What is the capital of Norway?", system="Answer briefly.")
    assert "capital of Norway" in reply.text
    assert reply.finish_reason == "stop" and reply.protocol == emulator_endpoints[alias].protocol
    assert reply.usage.input and reply.usage.output and reply.usage.total == reply.usage.input + reply.usage.output
    assert reply.id and reply.latency is not None


@pytest.mark.parametrize("alias", CHATTY)
def test_stream_every_protocol_matches_the_plain_reply(client: Client, alias: str) -> None:
    plain = client.chat(alias, "Tell me about rivers")
    stream = client.stream(alias, "Tell me about rivers")
    pieces = [e.text for e in stream if isinstance(e, TextDelta)]
    reply = stream.reply
    assert len(pieces) > 1 and "".join(pieces) == reply.text == plain.text
    assert not reply.incomplete and reply.ttft is not None
    assert reply.usage.input == plain.usage.input and reply.usage.output == plain.usage.output


@pytest.mark.parametrize("alias", CHATTY)
def test_reasoning_every_protocol(client: Client, alias: str) -> None:
    for stream in (False, True):
        reply = client.chat(alias, "Is 17 prime?", reasoning="low", stream=stream)
        assert reply.reasoning, (alias, stream)
        if alias != "claude":  # Anthropic does not report reasoning tokens separately
            assert reply.usage.reasoning and reply.usage.reasoning > 0


@pytest.mark.parametrize("alias", CHATTY)
@pytest.mark.parametrize("stream", [False, True])
def test_tool_round_trip_every_protocol(client: Client, alias: str, stream: bool) -> None:
    def get_weather(location: str, unit: str = "celsius") -> str:
        """Current weather in a city."""
        return "21 degrees and sunny"

    messages = [Message.user("What is the weather in Oslo?")]
    first = client.chat(alias, messages, tools=[get_weather], stream=stream)
    assert first.finish_reason == "tool_calls"
    call = first.tool_calls[0]
    assert call.name == "get_weather" and isinstance(call.arguments, dict) and "location" in call.arguments
    messages += [first.to_message(), Message.tool_result(call, get_weather(**call.arguments))]
    second = client.chat(alias, messages, tools=[get_weather], stream=stream)
    assert "21 degrees and sunny" in second.text and second.finish_reason == "stop"


def test_chat_n_and_logprobs(client: Client) -> None:
    reply = client.chat("gpt", "Say something", n=3, logprobs=True, top_logprobs=2)
    assert len(reply.choices) == 3 and len({c.text for c in reply.choices}) == 3
    assert reply.logprobs and len(reply.logprobs[0].top) == 2
    streamed = client.chat("gpt", "Say something", n=3, stream=True)
    assert [c.text for c in streamed.choices] == [c.text for c in reply.choices]


def test_json_schema_replies_parse(client: Client) -> None:
    import json

    schema = {"type": "object", "properties": {"city": {"type": "string"}, "population": {"type": "integer"}},
              "required": ["city", "population"]}
    for alias in ("gpt", "o3", "gemini"):
        data = json.loads(client.chat(alias, "Largest city in Norway?", schema=schema).text)
        assert isinstance(data["city"], str) and isinstance(data["population"], int)


def test_responses_continuation_and_background(client: Client) -> None:
    first = client.chat("o3", "Remember the number 42")
    follow = client.chat("o3", "What number?", previous_response_id=first.id)
    assert first.id in follow.text or "Continuing" in follow.text
    statuses: list[str | None] = []
    done = client.chat("o3", "Think in the background", background=True, poll_interval=0.05,
                       on_progress=lambda r: statuses.append(r.status))
    assert done.status == "completed" and "Think in the background" in done.text
    assert statuses[0] == "queued" and statuses[-1] == "completed"
    queued = client.chat("o3", "Cancel me", background=True, wait=False)
    assert queued.status == "queued"
    assert client.cancel("o3", queued.id).status == "cancelled"
    assert client.retrieve("o3", queued.id).status == "cancelled"


def test_embeddings(client: Client) -> None:
    result = client.embed("e5", ["a small cat", "a little cat", "quarterly tax filing"])
    cat, kitten, tax = result.vectors
    assert all(math.isclose(sum(x * x for x in v), 1.0, rel_tol=1e-4) for v in result.vectors)

    def cos(a: list[float], b: list[float]) -> float:
        return sum(x * y for x, y in zip(a, b, strict=True))

    assert cos(cat, kitten) > cos(cat, tax)
    floats = client.embed("e5", "a small cat", encoding_format="float").vectors[0]
    assert all(math.isclose(x, y, abs_tol=1e-6) for x, y in zip(cat, floats, strict=True))


def test_wrong_key_is_an_authentication_error_without_the_key(canary: str, emulator_endpoints: Endpoints) -> None:
    with running_emulator(api_key="the-right-key") as url:
        for alias in CHATTY:
            with Client(url, canary, emulator_endpoints) as wrong, pytest.raises(AuthenticationError) as info:
                wrong.chat(alias, "hi")
            assert canary not in str(info.value) and info.value.status == 401


def test_rate_limits_are_retried_with_retry_after(
    emulator_url: str, canary: str, emulator_endpoints: Endpoints
) -> None:
    slept: list[float] = []
    with Client(emulator_url, canary, emulator_endpoints, sleep=slept.append,
                headers={"x-emulator-fault": "429"}) as always_limited:
        with pytest.raises(RateLimitError) as info:
            always_limited.chat("gpt", "hi")
    assert len(slept) == 2 and info.value.request_id


@pytest.mark.parametrize("alias", CHATTY)
def test_faults_mid_stream_keep_partial_text(
    emulator_url: str, canary: str, emulator_endpoints: Endpoints, alias: str
) -> None:
    for fault, error in (("error-event", StreamError), ("drop", APIConnectionError)):
        headers = {"x-emulator-fault": fault, "x-emulator-fault-after": "3"}
        with Client(emulator_url, canary, emulator_endpoints, headers=headers) as faulty:
            with pytest.raises(error) as info:
                faulty.chat(alias, "Tell me a long story about rivers and mountains", stream=True)
        partial = info.value.partial
        assert partial is not None and partial.incomplete and partial.text, (alias, fault)


async def test_async_client_concurrently(emulator_url: str, canary: str, emulator_endpoints: Endpoints) -> None:
    import asyncio

    async with AsyncClient(emulator_url, canary, emulator_endpoints) as client:
        replies = await asyncio.gather(*(client.chat(alias, f"Hello {alias}") for alias in CHATTY))
        assert all(f"Hello {alias}" in r.text for alias, r in zip(CHATTY, replies, strict=True))
        stream = client.stream("claude", "Stream please")
        text = "".join([e.text async for e in stream if isinstance(e, TextDelta)])
        assert text == stream.reply.text and text


@pytest.mark.parametrize("alias", ["o3", "gemini"])
@pytest.mark.parametrize("stream", [False, True])
def test_logprobs_responses_and_gemini(client: Client, alias: str, stream: bool) -> None:
    reply = client.chat(alias, "Say something", logprobs=True, top_logprobs=2, stream=stream)
    assert reply.logprobs, (alias, stream)
    assert "".join(t.token for t in reply.logprobs) == reply.text == "You said: Say something."
    assert all(len(t.top) == 2 and t.logprob < 0 for t in reply.logprobs)
    assert all(t.top[0].token == t.token and t.top[0].logprob == t.logprob for t in reply.logprobs)
    # one generator behind every protocol: the chat route gives the same tokens and values
    chat = client.chat("gpt", "Say something", logprobs=True, top_logprobs=2)
    assert [(t.token, t.logprob) for t in reply.logprobs] == [(t.token, t.logprob) for t in chat.logprobs]
