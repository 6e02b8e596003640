"""The real openai package takes the emulator for the gateway: chat, responses, embeddings."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import jsonschema
import openai
import pytest
from emulator_samples import KEY

from cloudsway_nb.emulator.embeddings import cosine
from cloudsway_nb.emulator.testing import running_emulator

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_current_weather",
        "description": "Get the current weather in a given location",
        "parameters": {
            "type": "object",
            "properties": {
                "location": {"type": "string", "description": "The city and state, e.g. San Francisco, CA"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                "days": {"type": "integer", "minimum": 1, "maximum": 7},
            },
            "required": ["location", "unit"],
            "additionalProperties": False,
        },
    },
}
QUESTION = "What is the weather like in Boston today, in fahrenheit?"


@pytest.fixture
def client(emulator_url: str, closer: Callable[[Any], Any]) -> openai.OpenAI:
    return closer(openai.OpenAI(base_url=f"{emulator_url}/v1/ai/gpt4o", api_key=KEY, max_retries=0))


# ---------------------------------------------------------------- chat completions


def test_chat_create(client: openai.OpenAI) -> None:
    completion = client.chat.completions.create(
        model="", messages=[{"role": "user", "content": "what's 1+1? Answer in one word."}], temperature=0.7
    )
    assert completion.choices[0].message.content == "You said: what's 1+1? Answer in one word."
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage is not None and completion.usage.completion_tokens > 0


def test_chat_stream_with_include_usage(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(
        model="",
        messages=[{"role": "user", "content": "Stream please"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "You said: Stream please."
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == len(
        [c for c in chunks if c.choices and c.choices[0].delta.content]
    )


def test_chat_stream_helper_final_completion(client: openai.OpenAI) -> None:
    with client.chat.completions.stream(
        model="", messages=[{"role": "user", "content": "Hi helper"}], stream_options={"include_usage": True}
    ) as stream:
        final = stream.get_final_completion()
    assert final.choices[0].message.content == "You said: Hi helper."
    assert final.usage is not None and final.usage.total_tokens > 0


def test_chat_tools_round_trip(client: openai.OpenAI) -> None:
    messages: list[dict] = [{"role": "user", "content": QUESTION}]
    first = client.chat.completions.create(model="", messages=messages, tools=[WEATHER_TOOL])
    call = first.choices[0].message.tool_calls[0]
    assert first.choices[0].finish_reason == "tool_calls" and first.choices[0].message.content is None
    args = json.loads(call.function.arguments)
    jsonschema.validate(args, WEATHER_TOOL["function"]["parameters"])
    assert args["location"] == "Boston" and args["unit"] == "fahrenheit"
    messages += [
        first.choices[0].message.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": call.id, "content": "68"},
    ]
    second = client.chat.completions.create(model="", messages=messages, tools=[WEATHER_TOOL])
    assert second.choices[0].message.content.startswith("The tool get_current_weather returned: 68.")
    assert second.choices[0].message.tool_calls is None


def test_chat_tool_call_streams_as_fragments(client: openai.OpenAI) -> None:
    with client.chat.completions.stream(
        model="",
        messages=[{"role": "user", "content": QUESTION}],
        tools=[WEATHER_TOOL],
        tool_choice="required",
    ) as stream:
        events = [e.type for e in stream]
        final = stream.get_final_completion()
    assert "tool_calls.function.arguments.delta" in events
    call = final.choices[0].message.tool_calls[0]
    jsonschema.validate(json.loads(call.function.arguments), WEATHER_TOOL["function"]["parameters"])
    assert call.id.startswith("call_") and call.function.name == "get_current_weather"


def test_chat_n_gives_distinct_deterministic_choices(client: openai.OpenAI) -> None:
    kwargs = {"model": "", "messages": [{"role": "user", "content": "Pick"}], "n": 3}
    a = client.chat.completions.create(**kwargs)
    b = client.chat.completions.create(**kwargs)
    texts = [c.message.content for c in a.choices]
    assert len(set(texts)) == 3 and texts == [c.message.content for c in b.choices]
    assert [c.index for c in a.choices] == [0, 1, 2]


def test_chat_json_schema_and_json_object(client: openai.OpenAI) -> None:
    schema = {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "age": {"type": "integer", "minimum": 0},
            "tags": {"type": "array", "items": {"type": "string"}, "minItems": 2, "uniqueItems": True},
        },
        "required": ["name", "age", "tags"],
        "additionalProperties": False,
    }
    r = client.chat.completions.create(
        model="",
        messages=[{"role": "user", "content": "Describe Ada Lovelace aged 36"}],
        response_format={
            "type": "json_schema",
            "json_schema": {"name": "person", "schema": schema, "strict": True},
        },
    )
    value = json.loads(r.choices[0].message.content)
    jsonschema.validate(value, schema)
    assert value["name"] == "Ada Lovelace" and value["age"] == 36
    r = client.chat.completions.create(
        model="",
        messages=[{"role": "user", "content": "JSON please"}],
        response_format={"type": "json_object"},
    )
    assert isinstance(json.loads(r.choices[0].message.content), dict)


def test_chat_reasoning_content_and_tokens(client: openai.OpenAI) -> None:
    r = client.chat.completions.create(
        model="MaaS_Deepseek_V4",
        messages=[{"role": "user", "content": "Hi"}],
        reasoning_effort="high",
        extra_body={"thinking": {"type": "enabled"}},
    )
    message = r.choices[0].message
    reasoning = message.model_extra["reasoning_content"]
    assert reasoning.startswith("The user wrote: Hi.")
    assert r.usage.completion_tokens_details.reasoning_tokens > 0
    assert r.usage.completion_tokens > r.usage.completion_tokens_details.reasoning_tokens
    assert r.usage.model_extra["prompt_cache_miss_tokens"] == r.usage.prompt_tokens  # DeepSeek extras


def test_chat_logprobs(client: openai.OpenAI) -> None:
    r = client.chat.completions.create(
        model="", messages=[{"role": "user", "content": "Hi"}], logprobs=True, top_logprobs=3
    )
    content = r.choices[0].logprobs.content
    assert "".join(t.token for t in content) == r.choices[0].message.content
    assert all(len(t.top_logprobs) == 3 and t.logprob <= 0 for t in content)


def test_chat_errors_raise_the_sdks_exceptions(emulator_url: str, closer: Callable[[Any], Any]) -> None:
    with running_emulator(api_key="right") as url:
        wrong = closer(openai.OpenAI(base_url=f"{url}/v1/ai/gpt4o", api_key="wrong-key-123", max_retries=0))
        with pytest.raises(openai.AuthenticationError) as auth_err:
            wrong.chat.completions.create(model="", messages=[{"role": "user", "content": "x"}])
        assert auth_err.value.code == "invalid_api_key"
    client = closer(openai.OpenAI(base_url=f"{emulator_url}/v1/ai/gpt4o", api_key=KEY, max_retries=0))
    with pytest.raises(openai.BadRequestError) as err:
        client.chat.completions.create(model="", messages=[{"role": "wizard", "content": "x"}])
    assert err.value.body["param"] == "messages[0].role"


# ---------------------------------------------------------------- responses


def test_responses_create_with_reasoning_summary(client: openai.OpenAI) -> None:
    r = client.responses.create(
        model="o3", input="1+2+n=?", reasoning={"effort": "high", "summary": "detailed"}
    )
    assert r.status == "completed"
    assert r.output_text == "You said: 1+2+n=?"
    reasoning = next(item for item in r.output if item.type == "reasoning")
    assert reasoning.summary[0].type == "summary_text" and reasoning.summary[0].text
    assert r.usage.output_tokens_details.reasoning_tokens > 0
    # without a summary the reasoning is still counted
    quiet = client.responses.create(model="o3", input="1+2+n=?", reasoning={"effort": "high"})
    assert next(i for i in quiet.output if i.type == "reasoning").summary == []
    assert (
        quiet.usage.output_tokens_details.reasoning_tokens == r.usage.output_tokens_details.reasoning_tokens
    )


def test_responses_stream_helper(client: openai.OpenAI) -> None:
    with client.responses.stream(
        model="o3", input="Stream me", reasoning={"effort": "low", "summary": "auto"}
    ) as s:
        deltas = [e.delta for e in s if e.type == "response.output_text.delta"]
        final = s.get_final_response()
    assert "".join(deltas) == "You said: Stream me." == final.output_text
    assert final.usage.total_tokens == final.usage.input_tokens + final.usage.output_tokens


def test_responses_tools_round_trip(client: openai.OpenAI) -> None:
    tool = {"type": "function", **WEATHER_TOOL["function"]}
    first = client.responses.create(model="o3", input=QUESTION, tools=[tool], tool_choice="auto")
    call = next(item for item in first.output if item.type == "function_call")
    jsonschema.validate(json.loads(call.arguments), tool["parameters"])
    follow = client.responses.create(
        model="o3",
        input=[
            {"role": "user", "content": QUESTION},
            {
                "type": "function_call",
                "call_id": call.call_id,
                "name": call.name,
                "arguments": call.arguments,
            },
            {"type": "function_call_output", "call_id": call.call_id, "output": "68"},
        ],
        tools=[tool],
    )
    assert follow.output_text.startswith("The tool get_current_weather returned: 68.")


def test_responses_function_call_streams(client: openai.OpenAI) -> None:
    tool = {"type": "function", **WEATHER_TOOL["function"]}
    with client.responses.stream(model="o3", input=QUESTION, tools=[tool]) as stream:
        kinds = [e.type for e in stream]
        final = stream.get_final_response()
    assert "response.function_call_arguments.delta" in kinds
    call = final.output[0]
    assert call.type == "function_call" and json.loads(call.arguments)["location"] == "Boston"


def test_responses_json_schema_format(client: openai.OpenAI) -> None:
    schema = {
        "type": "object",
        "properties": {
            "city": {"type": "string"},
            "score": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
        },
        "required": ["city", "score"],
        "additionalProperties": False,
    }
    r = client.responses.create(
        model="o3",
        input="Rate Paris",
        text={"format": {"type": "json_schema", "name": "rating", "schema": schema, "strict": True}},
    )
    jsonschema.validate(json.loads(r.output_text), schema)


def test_responses_retrieve_and_previous_response_id(client: openai.OpenAI) -> None:
    first = client.responses.create(model="o3", input="Remember 42")
    again = client.responses.retrieve(first.id)
    assert again.id == first.id and again.output_text == first.output_text
    second = client.responses.create(model="o3", input="What did I say?", previous_response_id=first.id)
    assert second.output_text.startswith(f"Continuing from {first.id}.")


def test_responses_background_retrieve_cancel_and_resume(
    emulator_url: str, closer: Callable[[Any], Any]
) -> None:
    with running_emulator(background_queued=0.1, background_running=0.1) as url:
        client = closer(openai.OpenAI(base_url=f"{url}/v1/ai/o3", api_key=KEY, max_retries=0))
        job = client.responses.create(model="o3", input="Long task", background=True)
        assert job.status == "queued"
        statuses = [job.status]
        deadline = time.monotonic() + 5
        while statuses[-1] not in ("completed", "failed", "cancelled") and time.monotonic() < deadline:
            status = client.responses.retrieve(job.id).status
            if status != statuses[-1]:
                statuses.append(status)
            time.sleep(0.02)
        assert statuses == ["queued", "in_progress", "completed"]
        assert client.responses.retrieve(job.id).output_text == "You said: Long task."
        events = list(client.responses.retrieve(job.id, stream=True, starting_after=2))
        assert events[0].sequence_number == 3 and events[-1].type == "response.completed"
        other = client.responses.create(model="o3", input="Never mind", background=True)
        assert client.responses.cancel(other.id).status == "cancelled"
        assert client.responses.retrieve(other.id).status == "cancelled"


def test_responses_background_stream(client: openai.OpenAI) -> None:
    stream = client.responses.create(model="o3", input="Background stream", background=True, stream=True)
    events = list(stream)
    assert [e.type for e in events[:3]] == ["response.created", "response.queued", "response.in_progress"]
    assert events[0].response.status == "queued"
    assert events[-1].response.output_text == "You said: Background stream."


def test_responses_missing_response_is_not_found(client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve("resp_does_not_exist")


# ---------------------------------------------------------------- embeddings


def test_embeddings_default_base64_decoding(client: openai.OpenAI) -> None:
    texts = ["The cat sat on the mat", "A cat was sitting on a mat", "Quarterly revenue rose by 12 percent"]
    r = client.embeddings.create(model="e5", input=texts)
    vectors = [d.embedding for d in r.data]
    assert all(len(v) == 1024 for v in vectors)
    assert all(abs(sum(x * x for x in v) - 1) < 1e-4 for v in vectors)
    assert cosine(vectors[0], vectors[1]) > cosine(vectors[0], vectors[2]) + 0.2
    again = client.embeddings.create(model="e5", input=texts[0], dimensions=256, encoding_format="float")
    assert len(again.data[0].embedding) == 256
    assert client.embeddings.create(model="e5", input=texts[0]).data[0].embedding == vectors[0]
    assert r.usage.prompt_tokens > 0


def test_responses_stream_of_a_cancelled_background_response(closer: Callable[[Any], Any]) -> None:
    with running_emulator(background_queued=5.0, background_running=5.0) as url:
        client = closer(openai.OpenAI(base_url=f"{url}/v1/ai/o3", api_key=KEY, max_retries=0))
        job = client.responses.create(model="o3", input="Cancel then stream", background=True)
        assert client.responses.cancel(job.id).status == "cancelled"
        events = list(client.responses.retrieve(job.id, stream=True))
        # no response.cancelled in the SDK's event union: the last state event carries the status
        assert [e.type for e in events] == ["response.created", "response.queued", "response.queued"]
        assert events[-1].response.status == "cancelled"
        assert [e.sequence_number for e in events] == [0, 1, 2]
