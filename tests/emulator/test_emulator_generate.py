"""Reply planning, JSON for schemas, the tokenizer and embeddings, without HTTP."""

from __future__ import annotations

import jsonschema
import pytest

from cloudsway_nb.emulator.conversation import Prompt, Tool, ToolCall, ToolResult, Turn
from cloudsway_nb.emulator.embeddings import cosine, embed
from cloudsway_nb.emulator.generate import plan_replies, plan_reply
from cloudsway_nb.emulator.schema_values import Hints, value_for_schema
from cloudsway_nb.emulator.tokenizer import count_tokens, pieces

SCHEMAS = [
    {
        "type": "object",
        "properties": {"a": {"type": "string", "minLength": 12, "maxLength": 20}},
        "required": ["a"],
    },
    {
        "type": "object",
        "properties": {"n": {"type": "integer", "minimum": 10, "maximum": 12, "multipleOf": 4}},
    },
    {"type": "object", "properties": {"x": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1}}},
    {"type": "array", "items": {"enum": ["a", "b", "c"]}, "minItems": 3, "uniqueItems": True},
    {
        "type": "object",
        "properties": {
            "when": {"type": "string", "format": "date-time"},
            "id": {"type": "string", "format": "uuid"},
            "mail": {"type": "string", "format": "email"},
        },
    },
    {
        "type": "object",
        "properties": {"code": {"type": "string", "pattern": "^[0-9]{5}$"}},
        "required": ["code"],
    },
    {"type": ["string", "null"]},
    {"anyOf": [{"type": "null"}, {"type": "object", "properties": {"k": {"const": 7}}, "required": ["k"]}]},
    {
        "$defs": {
            "item": {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}
        },
        "type": "object",
        "properties": {"items": {"type": "array", "items": {"$ref": "#/$defs/item"}}},
        "required": ["items"],
    },
    {
        "allOf": [
            {"type": "object", "properties": {"a": {"type": "boolean"}}, "required": ["a"]},
            {"properties": {"b": {"type": "null"}}, "required": ["b"]},
        ]
    },
    {
        "type": "object",
        "properties": {"tuple": {"type": "array", "prefixItems": [{"type": "integer"}, {"type": "string"}]}},
    },
    {
        "type": "object",
        "properties": {"level": {"type": "integer", "default": 3}},
        "additionalProperties": False,
    },
    {"type": "object", "properties": {"tree": {"$ref": "#"}}},
]


@pytest.mark.parametrize("schema", SCHEMAS, ids=[str(i) for i in range(len(SCHEMAS))])
def test_values_are_valid_for_their_schema(schema: dict) -> None:
    value = value_for_schema(schema, Hints.from_text("Plan a trip to Kyoto for 2 people on 3 days"))
    jsonschema.validate(value, schema)


def test_hints_fill_plausible_values() -> None:
    schema = {
        "type": "object",
        "properties": {
            "city": {"type": "string"},
            "people": {"type": "integer"},
            "unit": {"enum": ["metric", "imperial"]},
            "query": {"type": "string"},
        },
    }
    value = value_for_schema(schema, Hints.from_text("Hotels in New York for 4, imperial units please"))
    assert value == {
        "city": "New York",
        "people": 4,
        "unit": "imperial",
        "query": "Hotels in New York for 4, imperial units please",
    }


def test_plan_is_deterministic_and_reflects_the_prompt() -> None:
    prompt = Prompt(turns=[Turn("system", "Be kind"), Turn("user", "Hello   world\nagain")])
    a, b = plan_reply(prompt), plan_reply(prompt)
    assert a == b
    assert a.text == "You said: Hello world again. Instructions noted: Be kind."
    long = Prompt(turns=[Turn("user", "word " * 300)])
    assert plan_reply(long).text.endswith("…")


def test_reasoning_grows_with_effort_and_respects_budget() -> None:
    base = [Turn("user", "Think about this")]
    low = plan_reply(Prompt(turns=base, reasoning=True, effort="low"))
    high = plan_reply(Prompt(turns=base, reasoning=True, effort="high"))
    assert 0 < low.reasoning_tokens < high.reasoning_tokens
    capped = plan_reply(Prompt(turns=base, reasoning=True, effort="high", reasoning_budget=5))
    assert capped.reasoning_tokens == 5
    assert high.output_tokens == high.reasoning_tokens + high.text_tokens


def test_max_tokens_truncates_and_reports_length() -> None:
    plan = plan_reply(Prompt(turns=[Turn("user", "one two three four five")], max_tokens=4))
    assert plan.finish == "length" and plan.text_tokens == 4 and plan.text == "You said: one"


def test_tool_choice_none_and_tool_results() -> None:
    tool = Tool("lookup", "", {"type": "object", "properties": {"q": {"type": "string"}}, "required": ["q"]})
    turns = [Turn("user", "Find Oslo")]
    assert plan_reply(Prompt(turns=turns, tools=[tool])).tool_call.arguments == {"q": "Find Oslo"}
    assert plan_reply(Prompt(turns=turns, tools=[tool], tool_choice="none")).tool_call is None
    answered = [
        *turns,
        Turn("assistant", tool_calls=[ToolCall("lookup", {"q": "Oslo"}, "c1")]),
        Turn("tool", tool_results=[ToolResult("lookup", "Capital of Norway", "c1")]),
    ]
    plan = plan_reply(Prompt(turns=answered, tools=[tool], tool_choice="required"))
    assert plan.tool_call is None
    assert plan.text == "The tool lookup returned: Capital of Norway. You asked: Find Oslo."


def test_n_alternatives_differ() -> None:
    plans = plan_replies(Prompt(turns=[Turn("user", "x")], n=3))
    assert len({p.text for p in plans}) == 3 and len({p.seed for p in plans}) == 3


def test_pieces_rebuild_the_text_and_match_the_count() -> None:
    for text in ("Hello, world!", "  lead and trail  ", "multi\nline\n\ttext", "日本語 text", "a-b_c.d"):
        assert "".join(pieces(text)) == text
        assert len([p for p in pieces(text) if p.strip()]) == count_tokens(text)


def test_embeddings_are_unit_norm_deterministic_and_similarity_aware() -> None:
    a = embed("The quick brown fox jumps over the lazy dog", 256)
    b = embed("A quick brown fox jumped over a lazy dog", 256)
    c = embed("Interest rates and bond yields", 256)
    assert abs(sum(x * x for x in a) - 1) < 1e-9
    assert a == embed("The quick brown fox jumps over the lazy dog", 256)
    assert cosine(a, b) > 0.5 > cosine(a, c)
    assert abs(sum(x * x for x in embed("", 16)) - 1) < 1e-9
