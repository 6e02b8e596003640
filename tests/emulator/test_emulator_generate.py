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


def test_embeddings_relate_word_forms_and_related_words_but_not_unrelated_texts() -> None:
    import itertools
    import statistics

    def sim(x: str, y: str) -> float:
        return cosine(embed(x), embed(y))

    assert sim("dog", "puppy") > sim("dog", "stock market") + 0.2  # was 0.0 vs 0.046
    assert sim("dog", "dogs") > 0.6 and sim("run", "running") > 0.6  # shared stems and n-grams
    assert sim("a small cat", "a little cat") > sim("a small cat", "quarterly tax filing") + 0.3
    assert sim("dog", "dogs") < 1.0  # the exact form still counts
    unrelated = [
        "dog", "stock market", "weather in Oslo", "python programming", "a red car", "quarterly revenue",
        "the history of Rome", "football match tonight", "quantum physics", "gardening tips",
        "train timetable", "jazz concert", "tax filing deadline", "chess opening",
    ]  # fmt: skip
    pairs = list(itertools.combinations(unrelated, 2))
    for dimensions in (1024, 256):
        values = [cosine(embed(x, dimensions), embed(y, dimensions)) for x, y in pairs]
        assert abs(statistics.mean(values)) < 0.03
    for text in ("dog", "Dogs running fast!", "日本語", ""):
        vector = embed(text, 128)
        assert vector == embed(text, 128) and abs(sum(x * x for x in vector) - 1) < 1e-9


# every keyword that once was ignored: pattern, min/maxProperties, lengths, items, const, formats,
# oneOf/anyOf/allOf, $ref into $defs/definitions, additionalProperties: false, patternProperties
KEYWORD_SCHEMAS = [
    {"type": "string", "pattern": "^[A-Z]{3}-\\d{4}$"},
    {"type": "object", "properties": {"id": {"type": "string", "pattern": "^[A-Z]{3}-\\d{4}$"}}, "required": ["id"]},
    {"type": "object", "minProperties": 2},
    {"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "integer"}, "c": {"type": "boolean"}},
     "minProperties": 2, "maxProperties": 2},
    {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"], "additionalProperties": False,
     "minProperties": 1},
    {"type": "object", "additionalProperties": {"type": "integer"}, "minProperties": 3},
    {"type": "object", "properties": {"n": {"type": "integer"}}, "patternProperties": {"^x_": {"type": "string"}},
     "additionalProperties": False, "minProperties": 2},
    {"type": "string", "minLength": 10, "maxLength": 12},
    {"type": "string", "maxLength": 3},
    {"type": "array", "items": {"type": "integer"}, "minItems": 3, "maxItems": 5, "uniqueItems": True},
    {"type": "array", "items": {"type": "string", "pattern": "^t[0-9]$"}, "minItems": 3, "uniqueItems": True},
    {"const": {"x": 1}},
    {"type": "string", "format": "date"},
    {"type": "string", "format": "date-time"},
    {"type": "string", "format": "email"},
    {"type": "string", "format": "uri"},
    {"type": "string", "format": "uuid"},
    {"oneOf": [{"type": "string", "maxLength": 3}, {"type": "integer"}]},
    {"oneOf": [{"type": "integer"}, {"type": "number", "minimum": 0}]},
    {"oneOf": [
        {"type": "object", "properties": {"kind": {"const": "circle"}, "r": {"type": "number"}},
         "required": ["kind", "r"], "additionalProperties": False},
        {"type": "object", "properties": {"kind": {"const": "square"}, "side": {"type": "number"}},
         "required": ["kind", "side"], "additionalProperties": False}]},
    {"anyOf": [{"type": "null"}, {"type": "integer", "minimum": 3}]},
    {"allOf": [{"type": "integer", "minimum": 5}, {"maximum": 10}, {"multipleOf": 3}]},
    {"allOf": [{"type": "string", "minLength": 4}, {"maxLength": 4}, {"pattern": "^[a-z]+$"}]},
    {"$defs": {"P": {"type": "object", "properties": {"code": {"type": "string", "pattern": "^[a-z]+_[0-9]{2}$"}},
                     "required": ["code"], "additionalProperties": False}}, "$ref": "#/$defs/P"},
    {"definitions": {"N": {"type": "integer", "minimum": 7}}, "type": "array", "items": {"$ref": "#/definitions/N"},
     "minItems": 2, "uniqueItems": True},
    {"not": {"type": "string"}},
    {"type": "string", "pattern": "^(foo|bar)+baz?$"},
    {"type": "string", "pattern": "^\\w+@\\w+\\.com$"},
    {"type": "string", "pattern": "^[^0-9]{2,4}\\s[0-9a-f]{6}$"},
    {"type": "string", "pattern": "^#[0-9A-Fa-f]{6}$"},
    {"type": "string", "pattern": "^\\+?[1-9]\\d{1,14}$"},
    {"type": "string", "pattern": "^(?:[a-z]{2}|[A-Z]{3})-(\\d{2})?x*$", "minLength": 8},
    {"type": "string", "pattern": "^(?P<y>\\d{4})-(?P<m>0[1-9]|1[0-2])$"},
    {"type": "string", "pattern": "(?i)^ab+c$", "minLength": 5},
    {"type": "string", "pattern": "[0-9]{5}"},
]  # fmt: skip


@pytest.mark.parametrize("schema", KEYWORD_SCHEMAS, ids=[str(i) for i in range(len(KEYWORD_SCHEMAS))])
@pytest.mark.parametrize("prompt", ["Book a table in Oslo for 4 people on Friday", ""])
def test_every_keyword_is_honoured(schema: dict, prompt: str) -> None:
    jsonschema.validate(value_for_schema(schema, Hints.from_text(prompt, "seed")), schema)


def test_patterns_and_property_counts_give_real_values() -> None:
    assert value_for_schema({"type": "string", "pattern": "^[A-Z]{3}-\\d{4}$"}) == "ABC-1234"
    assert len(value_for_schema({"type": "object", "minProperties": 2})) == 2
    from cloudsway_nb.emulator.regex_sample import sample

    assert sample("^[a-z]+$", prefer="oslo") == "oslo"  # a fitting hint is kept
    assert sample("(") is None  # not a regex: the caller keeps its value


def test_string_arguments_are_plausible_for_their_names() -> None:
    schema = {
        "type": "object",
        "properties": {
            name: {"type": "string"}
            for name in ("location", "unit", "date", "email", "website", "query", "user_id", "count", "created_at")
        }
        | {"year": {"type": "integer"}, "limit": {"type": "integer"}},
    }
    value = value_for_schema(schema, Hints.from_text("What's the weather in Oslo? Show 3 results", "s"))
    assert value["location"] == "Oslo" and value["query"] == "What's the weather in Oslo? Show 3 results"
    assert value["unit"] == "celsius" and value["date"] == "2024-01-15"  # not 'Oslo'
    assert value["email"] == "user@example.com" and value["website"] == "https://example.com/"
    assert value["created_at"] == "2024-01-15T12:00:00Z" and value["count"] == "3"
    assert value["user_id"].startswith("id_") and value["year"] == 2024 and value["limit"] == 3
    plan = plan_reply(
        Prompt(turns=[Turn("user", "Weather in Paris")], tools=[Tool("get_weather", "", {
            "type": "object", "properties": {"city": {"type": "string"}, "unit": {"type": "string"}},
            "required": ["city", "unit"]})])
    )  # fmt: skip
    assert plan.tool_call.arguments == {"city": "Paris", "unit": "celsius"}
