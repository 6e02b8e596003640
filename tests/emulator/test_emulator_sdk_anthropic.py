"""The real anthropic package takes the emulator for the gateway's native messages route."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anthropic
import jsonschema
import pytest
from emulator_samples import KEY, b64, pdf, png

from cloudsway_nb.emulator.testing import running_emulator

WEATHER = {
    "name": "get_weather",
    "description": "Current weather for a city",
    "input_schema": {
        "type": "object",
        "properties": {
            "city": {"type": "string"},
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
        },
        "required": ["city"],
    },
}


@pytest.fixture
def client(emulator_url: str, closer: Callable[[Any], Any]) -> anthropic.Anthropic:
    return closer(anthropic.Anthropic(base_url=f"{emulator_url}/claude-sonnet", api_key=KEY, max_retries=0))


def test_messages_create(client: anthropic.Anthropic) -> None:
    message = client.messages.create(
        model="claude-x",
        max_tokens=256,
        system="You are an expert",
        messages=[{"role": "user", "content": "Analyze the major themes in Pride and Prejudice."}],
    )
    assert message.content[0].type == "text"
    assert message.content[0].text.startswith("You said: Analyze the major themes in Pride and Prejudice.")
    assert message.stop_reason == "end_turn" and message.model == "claude-x"
    assert message.usage.input_tokens > 0 and message.usage.output_tokens > 0


def test_messages_stream_with_thinking(client: anthropic.Anthropic) -> None:
    with client.messages.stream(
        model="claude-x",
        max_tokens=4096,
        thinking={"type": "enabled", "budget_tokens": 2000},
        messages=[{"role": "user", "content": "Prove the Pythagorean theorem"}],
    ) as stream:
        kinds = [event.type for event in stream]
        final = stream.get_final_message()
    assert {"thinking", "signature", "text"} <= set(kinds)
    thinking, text = final.content
    assert thinking.type == "thinking" and thinking.thinking.startswith("The user asks for a proof of the Pythagorean")
    assert thinking.signature
    assert text.type == "text" and text.text.startswith("You asked for a proof of the Pythagorean theorem.")
    assert "$$\na^2 + b^2 = c^2\n$$" in text.text  # a proof asks for math: a long, Markdown answer
    # the same request without streaming gives the same blocks and usage
    plain = client.messages.create(
        model="claude-x",
        max_tokens=4096,
        thinking={"type": "enabled", "budget_tokens": 2000},
        messages=[{"role": "user", "content": "Prove the Pythagorean theorem"}],
    )
    assert [b.model_dump() for b in plain.content] == [b.model_dump() for b in final.content]
    assert plain.usage.output_tokens == final.usage.output_tokens
    assert plain.usage.input_tokens == final.usage.input_tokens


def test_tool_use_round_trip_and_stream(client: anthropic.Anthropic) -> None:
    question = {"role": "user", "content": "What's the weather in Madrid?"}
    first = client.messages.create(model="c", max_tokens=300, tools=[WEATHER], messages=[question])
    assert first.stop_reason == "tool_use"
    use = next(b for b in first.content if b.type == "tool_use")
    jsonschema.validate(use.input, WEATHER["input_schema"])
    assert use.input["city"] == "Madrid" and use.id.startswith("toolu_")
    with client.messages.stream(model="c", max_tokens=300, tools=[WEATHER], messages=[question]) as stream:
        kinds = [e.type for e in stream]
        streamed = stream.get_final_message()
    assert "input_json" in kinds
    assert streamed.content[0].input == use.input
    answer = client.messages.create(
        model="c",
        max_tokens=300,
        tools=[WEATHER],
        messages=[
            question,
            {"role": "assistant", "content": [b.model_dump() for b in first.content]},
            {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": use.id, "content": "21 C, sunny"}],
            },
        ],
    )
    assert answer.stop_reason == "end_turn"
    assert answer.content[0].text.startswith("The tool get_weather returned: 21 C, sunny.")


def test_tool_choice_forces_a_named_tool(client: anthropic.Anthropic) -> None:
    other = {"name": "lookup", "description": "x", "input_schema": {"type": "object", "properties": {}}}
    message = client.messages.create(
        model="c",
        max_tokens=100,
        tools=[other, WEATHER],
        tool_choice={"type": "tool", "name": "get_weather"},
        messages=[{"role": "user", "content": "Weather in Rome"}],
    )
    assert message.content[0].name == "get_weather"


def test_image_and_document_blocks_are_described(client: anthropic.Anthropic) -> None:
    message = client.messages.create(
        model="c",
        max_tokens=300,
        messages=[
            {
                "role": "user",
                "content": [
                    {
                        "type": "image",
                        "source": {"type": "base64", "media_type": "image/png", "data": b64(png())},
                    },
                    {
                        "type": "document",
                        "source": {"type": "base64", "media_type": "application/pdf", "data": b64(pdf(2))},
                    },
                    {"type": "image", "source": {"type": "url", "url": "https://example.com/a.jpg"}},
                    {"type": "text", "text": "What are these?"},
                ],
            }
        ],
    )
    text = message.content[0].text
    assert "Image 1: PNG, 64x48 pixels." in text
    assert "Document 1: PDF, 2 pages." in text
    assert "Image 2: URL https://example.com/a.jpg (not fetched)." in text


def test_max_tokens_and_stop_sequences(client: anthropic.Anthropic) -> None:
    content = "one two three four five six seven eight nine ten"
    short = client.messages.create(model="c", max_tokens=3, messages=[{"role": "user", "content": content}])
    assert short.stop_reason == "max_tokens" and short.usage.output_tokens == 3
    stopped = client.messages.create(
        model="c", max_tokens=100, stop_sequences=["four"], messages=[{"role": "user", "content": content}]
    )
    assert stopped.stop_reason == "stop_sequence" and stopped.stop_sequence == "four"
    assert stopped.content[0].text == "You said: one two three "


def test_errors_raise_the_sdks_exceptions(emulator_url: str, closer: Callable[[Any], Any]) -> None:
    with running_emulator(api_key="right") as url:
        wrong = closer(anthropic.Anthropic(base_url=f"{url}/c", api_key="wrong", max_retries=0))
        with pytest.raises(anthropic.AuthenticationError) as err:
            wrong.messages.create(model="c", max_tokens=5, messages=[{"role": "user", "content": "x"}])
        assert err.value.body["error"]["type"] == "authentication_error"
    client = closer(anthropic.Anthropic(base_url=f"{emulator_url}/c", api_key=KEY, max_retries=0))
    with pytest.raises(anthropic.BadRequestError):
        client.messages.create(
            model="c",
            max_tokens=1000,
            thinking={"type": "enabled", "budget_tokens": 500},
            messages=[{"role": "user", "content": "x"}],
        )
    with pytest.raises(anthropic.InternalServerError) as overloaded:
        client.messages.create(
            model="c",
            max_tokens=5,
            messages=[{"role": "user", "content": "x"}],
            extra_headers={"x-emulator-fault": "529"},
        )
    assert overloaded.value.status_code == 529
    assert overloaded.value.body["error"]["type"] == "overloaded_error"


def test_count_tokens_agrees_with_usage(client: anthropic.Anthropic) -> None:
    messages = [{"role": "user", "content": "Count these words please"}]
    counted = client.messages.count_tokens(model="c", messages=messages, system="Sys")
    usage = client.messages.create(model="c", max_tokens=50, messages=messages, system="Sys").usage
    assert counted.input_tokens == usage.input_tokens + usage.cache_read_input_tokens
