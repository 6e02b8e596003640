"""Parallel tool calls on every protocol, through the official SDKs: every offered tool that fits
the prompt is called in one turn with schema-valid arguments, and the final answer uses every
result it was given."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import anthropic
import jsonschema
import openai
import pytest
from emulator_samples import KEY
from google import genai
from google.genai import types

from cloudsway_nb.emulator.conversation import Prompt, Tool, Turn
from cloudsway_nb.emulator.generate import plan_reply

CITY = {
    "type": "object",
    "properties": {"city": {"type": "string"}, "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
    "required": ["city", "unit"],
    "additionalProperties": False,
}
CLOCK = {
    "type": "object",
    "properties": {"city": {"type": "string"}, "format": {"type": "string", "enum": ["12h", "24h"]}},
    "required": ["city"],
}
STOCKS = {
    "type": "object",
    "properties": {"ticker": {"type": "string", "pattern": "^[A-Z]{1,5}$"}},
    "required": ["ticker"],
}
TOOLS = [
    ("get_weather", "Current weather in a city", CITY),
    ("get_local_time", "The local time in a city", CLOCK),
    ("get_stock_price", "The price of a share", STOCKS),
]
SCHEMAS = {name: schema for name, _, schema in TOOLS}
QUESTION = "What is the weather and the local time in Oslo?"
RESULTS = {"get_weather": "sunny, 21 C", "get_local_time": "14:05"}


def check_calls(calls: list[tuple[str, Any]]) -> None:
    assert [name for name, _ in calls] == ["get_weather", "get_local_time"]
    for name, arguments in calls:
        jsonschema.validate(arguments, SCHEMAS[name])
        assert arguments["city"] == "Oslo"


def check_answer(text: str) -> None:
    assert "The tool get_weather returned: sunny, 21 C." in text
    assert "The tool get_local_time returned: 14:05." in text


# ---------------------------------------------------------------- the plan, without HTTP


def test_every_fitting_tool_is_called_and_only_those() -> None:
    tools = [Tool(name, description, schema) for name, description, schema in TOOLS]
    plan = plan_reply(Prompt(turns=[Turn("user", QUESTION)], tools=tools))
    check_calls([(c.name, c.arguments) for c in plan.tool_calls])
    assert plan.finish == "tool_calls" and len({c.call_id for c in plan.tool_calls}) == 2
    assert plan.tool_tokens == sum(c.tokens() for c in plan.tool_calls)
    one = plan_reply(Prompt(turns=[Turn("user", QUESTION)], tools=tools, parallel_tool_calls=False))
    assert [c.name for c in one.tool_calls] == ["get_weather"]
    named = plan_reply(Prompt(turns=[Turn("user", QUESTION)], tools=tools, tool_choice="get_stock_price"))
    assert [c.name for c in named.tool_calls] == ["get_stock_price"]
    unfit = plan_reply(Prompt(turns=[Turn("user", "Hello there")], tools=tools))
    assert [c.name for c in unfit.tool_calls] == ["get_weather"]  # nothing fits: the first tool, as before
    by_description = plan_reply(Prompt(turns=[Turn("user", "What does a share of ACME cost?")], tools=tools))
    assert [c.name for c in by_description.tool_calls] == ["get_stock_price"]
    jsonschema.validate(by_description.tool_calls[0].arguments, STOCKS)


def test_one_tool_asked_about_several_places_is_called_once_per_place() -> None:
    tool = Tool("get_weather", "", CITY)
    plan = plan_reply(Prompt(turns=[Turn("user", "Is it warmer in Oslo, Paris or Rome and Madrid?")], tools=[tool]))
    assert [c.arguments["city"] for c in plan.tool_calls] == ["Oslo", "Paris", "Rome", "Madrid"]
    plan = plan_reply(Prompt(turns=[Turn("user", "What is the weather in Boston, MA?")], tools=[tool]))
    assert [c.arguments["city"] for c in plan.tool_calls] == ["Boston"]


def test_reasoning_names_every_tool_it_will_call() -> None:
    tools = [Tool(name, description, schema) for name, description, schema in TOOLS]
    plan = plan_reply(Prompt(turns=[Turn("user", QUESTION)], tools=tools, reasoning=True, effort="high"))
    assert "I will call get_weather and get_local_time at once." in plan.reasoning


# ---------------------------------------------------------------- chat completions (openai)


CHAT_TOOLS = [{"type": "function", "function": {"name": n, "description": d, "parameters": s}} for n, d, s in TOOLS]


@pytest.fixture
def oa(emulator_url: str, closer: Callable[[Any], Any]) -> openai.OpenAI:
    return closer(openai.OpenAI(base_url=f"{emulator_url}/v1/ai/gpt4o", api_key=KEY, max_retries=0))


def test_chat_calls_tools_in_parallel_and_answers_with_every_result(oa: openai.OpenAI) -> None:
    messages: list[dict[str, Any]] = [{"role": "user", "content": QUESTION}]
    first = oa.chat.completions.create(model="", messages=messages, tools=CHAT_TOOLS)
    calls = first.choices[0].message.tool_calls
    assert first.choices[0].finish_reason == "tool_calls"
    check_calls([(c.function.name, json.loads(c.function.arguments)) for c in calls])
    assert len({c.id for c in calls}) == 2
    messages.append(first.choices[0].message.model_dump(exclude_none=True))
    messages += [{"role": "tool", "tool_call_id": c.id, "content": RESULTS[c.function.name]} for c in calls]
    final = oa.chat.completions.create(model="", messages=messages, tools=CHAT_TOOLS)
    assert final.choices[0].finish_reason == "stop"
    check_answer(final.choices[0].message.content)


def test_chat_streams_parallel_calls_by_index(oa: openai.OpenAI) -> None:
    stream = oa.chat.completions.create(
        model="", messages=[{"role": "user", "content": QUESTION}], tools=CHAT_TOOLS, stream=True
    )
    calls: dict[int, dict[str, str]] = {}
    for chunk in stream:
        for delta in chunk.choices[0].delta.tool_calls or [] if chunk.choices else []:
            call = calls.setdefault(delta.index, {"name": "", "arguments": ""})
            call["name"] += delta.function.name or ""
            call["arguments"] += delta.function.arguments or ""
    check_calls([(c["name"], json.loads(c["arguments"])) for _, c in sorted(calls.items())])


def test_chat_parallel_tool_calls_false_makes_one_call(oa: openai.OpenAI) -> None:
    reply = oa.chat.completions.create(
        model="", messages=[{"role": "user", "content": QUESTION}], tools=CHAT_TOOLS, parallel_tool_calls=False
    )
    assert [c.function.name for c in reply.choices[0].message.tool_calls] == ["get_weather"]


# ---------------------------------------------------------------- responses (openai)


RESPONSES_TOOLS = [{"type": "function", "name": n, "description": d, "parameters": s} for n, d, s in TOOLS]


@pytest.fixture
def o3(emulator_url: str, closer: Callable[[Any], Any]) -> openai.OpenAI:
    return closer(openai.OpenAI(base_url=f"{emulator_url}/v1/ai/o3", api_key=KEY, max_retries=0))


def test_responses_calls_tools_in_parallel_and_answers_with_every_result(o3: openai.OpenAI) -> None:
    first = o3.responses.create(model="o3", input=QUESTION, tools=RESPONSES_TOOLS)
    calls = [item for item in first.output if item.type == "function_call"]
    check_calls([(c.name, json.loads(c.arguments)) for c in calls])
    assert len({c.id for c in calls}) == 2 and len({c.call_id for c in calls}) == 2
    assert first.parallel_tool_calls is True
    outputs = [{"type": "function_call_output", "call_id": c.call_id, "output": RESULTS[c.name]} for c in calls]
    final = o3.responses.create(model="o3", previous_response_id=first.id, input=outputs, tools=RESPONSES_TOOLS)
    check_answer(final.output_text)
    again = o3.responses.create(  # the whole conversation sent back, as the gateway's second-request example
        model="o3",
        input=[{"role": "user", "content": QUESTION}, *[c.model_dump() for c in calls], *outputs],
        tools=RESPONSES_TOOLS,
    )
    check_answer(again.output_text)


def test_responses_streams_every_call_and_honours_parallel_false(o3: openai.OpenAI) -> None:
    done = [
        e.item
        for e in o3.responses.create(model="o3", input=QUESTION, tools=RESPONSES_TOOLS, stream=True)
        if e.type == "response.output_item.done"
    ]
    check_calls([(item.name, json.loads(item.arguments)) for item in done])
    one = o3.responses.create(model="o3", input=QUESTION, tools=RESPONSES_TOOLS, parallel_tool_calls=False)
    assert [i.name for i in one.output if i.type == "function_call"] == ["get_weather"]
    assert one.parallel_tool_calls is False


# ---------------------------------------------------------------- messages (anthropic)


MESSAGES_TOOLS = [{"name": n, "description": d, "input_schema": s} for n, d, s in TOOLS]


@pytest.fixture
def claude(emulator_url: str, closer: Callable[[Any], Any]) -> anthropic.Anthropic:
    return closer(anthropic.Anthropic(base_url=f"{emulator_url}/claude", api_key=KEY, max_retries=0))


def test_messages_calls_tools_in_parallel_and_answers_with_every_result(claude: anthropic.Anthropic) -> None:
    messages: list[dict[str, Any]] = [{"role": "user", "content": QUESTION}]
    first = claude.messages.create(model="c", max_tokens=1024, messages=messages, tools=MESSAGES_TOOLS)
    uses = [b for b in first.content if b.type == "tool_use"]
    assert first.stop_reason == "tool_use"
    check_calls([(b.name, b.input) for b in uses])
    messages.append({"role": "assistant", "content": [b.model_dump() for b in first.content]})
    results = [{"type": "tool_result", "tool_use_id": b.id, "content": RESULTS[b.name]} for b in uses]
    messages.append({"role": "user", "content": results})
    final = claude.messages.create(model="c", max_tokens=1024, messages=messages, tools=MESSAGES_TOOLS)
    check_answer(final.content[0].text)
    with claude.messages.stream(model="c", max_tokens=1024, messages=messages[:1], tools=MESSAGES_TOOLS) as stream:
        streamed = stream.get_final_message()
    check_calls([(b.name, b.input) for b in streamed.content if b.type == "tool_use"])


def test_messages_disable_parallel_tool_use_makes_one_call(claude: anthropic.Anthropic) -> None:
    reply = claude.messages.create(
        model="c",
        max_tokens=1024,
        messages=[{"role": "user", "content": QUESTION}],
        tools=MESSAGES_TOOLS,
        tool_choice={"type": "auto", "disable_parallel_tool_use": True},
    )
    assert [b.name for b in reply.content if b.type == "tool_use"] == ["get_weather"]


# ---------------------------------------------------------------- gemini (google-genai)


@pytest.fixture
def gem(emulator_url: str, closer: Callable[[Any], Any]) -> genai.Client:
    options = types.HttpOptions(base_url=f"{emulator_url}/v1/ai/gemini", api_version="v1beta")
    return closer(genai.Client(api_key=KEY, http_options=options))


def test_gemini_calls_functions_in_parallel_and_answers_with_every_result(gem: genai.Client) -> None:
    declarations = [types.FunctionDeclaration(name=n, description=d, parameters_json_schema=s) for n, d, s in TOOLS]
    config = types.GenerateContentConfig(
        tools=[types.Tool(function_declarations=declarations)],
        automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
    )
    first = gem.models.generate_content(model="gemini-2.5-flash", contents=QUESTION, config=config)
    calls = first.function_calls
    check_calls([(c.name, c.args) for c in calls])
    contents = [
        types.Content(role="user", parts=[types.Part.from_text(text=QUESTION)]),
        first.candidates[0].content,
        types.Content(
            role="user",
            parts=[types.Part.from_function_response(name=c.name, response={"result": RESULTS[c.name]}) for c in calls],
        ),
    ]
    final = gem.models.generate_content(model="gemini-2.5-flash", contents=contents, config=config)
    assert "get_weather returned" in final.text and "sunny, 21 C" in final.text
    assert "get_local_time returned" in final.text and "14:05" in final.text
    streamed = [
        c for chunk in gem.models.generate_content_stream(model="gemini-2.5-flash", contents=QUESTION, config=config)
        for c in chunk.function_calls or []
    ]  # fmt: skip
    check_calls([(c.name, c.args) for c in streamed])
