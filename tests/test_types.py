"""The protocol-neutral value types: what each one computes, copies, hides and round-trips."""

from __future__ import annotations

import copy
import dataclasses
import json
import pickle
from collections.abc import Iterator

import pytest

from cloudsway_nb.errors import UsageError
from cloudsway_nb.types import (
    FINISH_REASONS,
    PROTOCOLS,
    Attachment,
    Choice,
    Done,
    Message,
    Payload,
    ReasoningDelta,
    Reply,
    TextDelta,
    TokenLogprob,
    Tool,
    ToolCall,
    ToolCallDelta,
    TopLogprob,
    Usage,
    UsageEvent,
    parse_tool_arguments,
    summarize_data_url,
)

# ------------------------------------------------------------------------------------------------
# constants
# ------------------------------------------------------------------------------------------------


def test_the_protocol_and_finish_reason_names() -> None:
    assert PROTOCOLS == ("chat", "responses", "messages", "gemini", "embeddings")
    assert FINISH_REASONS[:4] == ("stop", "length", "tool_calls", "content_filter")
    assert len(set(FINISH_REASONS)) == len(FINISH_REASONS)


# ------------------------------------------------------------------------------------------------
# Usage
# ------------------------------------------------------------------------------------------------


def test_usage_total_is_input_plus_output_unless_the_server_gave_one() -> None:
    assert Usage(input=3, output=5).total == 8
    assert Usage(input=3, output=5, total=10).total == 10  # the server's own total is kept
    assert Usage(input=3).total is None  # an unknown output leaves the total unknown
    assert Usage().total is None


def test_usage_addition_sums_known_counts_and_keeps_unknown_ones_unknown() -> None:
    a = Usage(input=10, output=4, reasoning=2, raw={"prompt_tokens": 10})
    b = Usage(input=1, output=1, cached=1)
    s = a + b
    assert (s.input, s.output, s.reasoning, s.cached, s.total) == (11, 5, 2, 1, 16)
    assert s.raw is None  # a sum is no server's dict
    assert Usage() + Usage() == Usage()
    assert (Usage() + Usage()).to_dict() == dict.fromkeys(("input", "output", "reasoning", "cached", "total"))
    assert (Usage(reasoning=3) + Usage()).reasoning == 3


def test_usage_sum_of_many_starts_from_the_empty_usage() -> None:
    parts = [Usage(input=i, output=2 * i) for i in range(1, 4)]
    total = sum(parts, Usage())
    assert (total.input, total.output, total.total) == (6, 12, 18)


def test_usage_raw_is_neither_compared_nor_shown() -> None:
    a, b = Usage(input=1, output=2, raw={"x": 1}), Usage(input=1, output=2, raw={"y": 2})
    assert a == b
    assert "raw" not in repr(a)
    assert a.raw == {"x": 1}


def test_usage_to_dict_has_the_five_counts_and_round_trips() -> None:
    u = Usage(input=7, output=3, reasoning=1, cached=2, raw={"secret": "x"})
    d = u.to_dict()
    assert d == {"input": 7, "output": 3, "reasoning": 1, "cached": 2, "total": 10}
    assert Usage(**d) == u
    assert json.loads(json.dumps(d)) == d


def test_usage_is_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        Usage(input=1).input = 2  # type: ignore[misc]


# ------------------------------------------------------------------------------------------------
# summarize_data_url and Payload
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "amount"),
    [
        (0, "0 B"),
        (1023, "1023 B"),
        (1024, "1 KB"),
        (126_000, "123 KB"),
        (1024 * 1024 - 1, "1023 KB"),
        (1024 * 1024, "1.0 MB"),
        (5 * 1024 * 1024 + 512 * 1024, "5.5 MB"),
    ],
)
def test_summarize_data_url_names_the_type_and_size_only(size: int, amount: str) -> None:
    assert summarize_data_url("image/png", size) == f"data:image/png;base64,… ({amount})"


def _payload(pieces: list[bytes]) -> tuple[Payload, list[int]]:
    calls: list[int] = []

    def chunks() -> Iterator[bytes]:
        calls.append(1)
        return iter(pieces)

    text = b"".join(pieces)
    return Payload(summarize_data_url("image/png", len(text) * 3 // 4), len(text), chunks), calls


def test_payload_is_its_summary_as_text_and_its_real_text_on_demand() -> None:
    p, calls = _payload([b"aGVs", b"bG8="])
    assert isinstance(p, str)
    assert p == "data:image/png;base64,… (6 B)"
    assert p.length == 8
    assert calls == []  # nothing is produced until asked
    assert p.materialize() == "aGVsbG8="
    assert list(p.chunks()) == [b"aGVs", b"bG8="]
    assert list(p.chunks()) == [b"aGVs", b"bG8="]  # a fresh iterator each time (a retry sends it again)
    assert len(calls) == 3


def test_payload_in_json_shows_the_summary_not_the_payload() -> None:
    p, _ = _payload([b"QUJD" * 1000])
    body = {"image": p}
    assert json.dumps(body, ensure_ascii=False) == '{"image": "data:image/png;base64,… (2 KB)"}'


def test_payload_copies_are_itself_and_pickles_are_plain_summaries() -> None:
    p, _ = _payload([b"aGk="])
    assert copy.copy(p) is p
    body = copy.deepcopy({"parts": [p]})
    assert body["parts"][0] is p
    restored = pickle.loads(pickle.dumps(p))
    assert type(restored) is str
    assert restored == str(p)


# ------------------------------------------------------------------------------------------------
# Attachment
# ------------------------------------------------------------------------------------------------


def test_attachment_needs_exactly_one_of_data_and_url() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        Attachment(kind="image", mime_type="image/png")
    with pytest.raises(ValueError, match="exactly one"):
        Attachment(kind="image", mime_type="image/png", data=b"x", url="https://example.com/x.png")


def test_inline_attachment_base64_data_url_and_size() -> None:
    a = Attachment(kind="audio", mime_type="audio/wav", data=b"hello")
    assert a.base64() == "aGVsbG8="
    assert a.data_url() == "data:audio/wav;base64,aGVsbG8="
    assert a.wire_base64() == a.base64()
    assert a.wire_data_url() == a.data_url()
    assert a.size == 5
    assert a.base64() is a.base64()  # computed once


def test_url_attachment_is_its_url_and_has_no_base64() -> None:
    a = Attachment(kind="image", mime_type="image/jpeg", url="https://example.com/cat.jpg", detail="low")
    assert a.data_url() == "https://example.com/cat.jpg"
    assert a.wire_data_url() == "https://example.com/cat.jpg"
    assert a.size is None
    assert a.detail == "low"
    with pytest.raises(ValueError, match="URL attachment"):
        a.base64()


@pytest.mark.parametrize(
    ("mime_type", "fmt"),
    [
        ("image/png", "png"),
        ("IMAGE/JPEG", "jpeg"),
        ("audio/mpeg", "mp3"),
        ("audio/x-wav", "wav"),
        ("audio/wave", "wav"),
        ("audio/x-m4a", "m4a"),
        ("audio/mp4a-latm", "aac"),
        ("application/pdf", "pdf"),
        ("text", "text"),
    ],
)
def test_attachment_format_is_the_short_name_of_its_mime_type(mime_type: str, fmt: str) -> None:
    assert Attachment(kind="document", mime_type=mime_type, data=b"x").format == fmt


def test_attachment_repr_never_shows_the_payload() -> None:
    a = Attachment(kind="image", mime_type="image/png", data=b"\x89PNG" + b"secretpixels" * 200)
    text = repr(a)
    assert text == "Attachment(image, data:image/png;base64,… (2 KB))"
    assert a.base64()[:20] not in text
    assert repr(Attachment(kind="video", mime_type="video/mp4", url="gs://b/v.mp4")) == "Attachment(video, gs://b/v.mp4)"


def test_attachments_are_frozen_and_equal_only_to_themselves() -> None:
    a = Attachment(kind="image", mime_type="image/png", data=b"x")
    b = Attachment(kind="image", mime_type="image/png", data=b"x")
    assert a == a
    assert a != b  # eq=False: identity, so two large payloads are never compared byte by byte
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.mime_type = "image/gif"  # type: ignore[misc]


# ------------------------------------------------------------------------------------------------
# Tool, ToolCall, parse_tool_arguments
# ------------------------------------------------------------------------------------------------


def get_weather(city: str, days: int, hourly: bool = False, *args: str, scale: float = 1.0, **kw: str) -> str:
    """Weather in a city.

    A second paragraph that is not part of the description.
    """
    return "sunny"


def test_tool_from_a_function_reads_its_signature_and_first_docstring_paragraph() -> None:
    t = Tool.from_any(get_weather)
    assert t.name == "get_weather"
    assert t.description == "Weather in a city."
    assert t.parameters == {
        "type": "object",
        "properties": {
            "city": {"type": "string"},
            "days": {"type": "integer"},
            "hourly": {"type": "boolean"},
            "scale": {"type": "number"},
        },
        "required": ["city", "days"],
    }
    assert t.function is get_weather
    assert t.strict is None


def test_tool_from_a_function_maps_containers_and_unknown_types() -> None:
    def f(items: list[int], options: dict[str, int], thing: object, untyped) -> None:  # type: ignore[no-untyped-def]
        pass

    props = Tool.from_any(f).parameters["properties"]
    assert props == {
        "items": {"type": "array", "items": {"type": "integer"}},
        "options": {"type": "object", "additionalProperties": {"type": "integer"}},
        "thing": {},
        "untyped": {},
    }
    assert Tool.from_any(f).description == ""


SCHEMA = {"type": "object", "properties": {"q": {"type": "string"}}, "required": ["q"]}


@pytest.mark.parametrize(
    "spec",
    [
        {"type": "function", "function": {"name": "search", "description": "Find", "parameters": SCHEMA}},  # chat
        {"type": "function", "name": "search", "description": "Find", "parameters": SCHEMA},  # responses
        {"name": "search", "description": "Find", "input_schema": SCHEMA},  # anthropic
        {"name": "search", "description": "Find", "parametersJsonSchema": SCHEMA},  # gemini
    ],
    ids=["chat", "responses", "messages", "gemini"],
)
def test_tool_from_every_protocol_dict_shape(spec: dict) -> None:
    assert Tool.from_any(spec) == Tool(name="search", description="Find", parameters=SCHEMA)


def test_tool_from_a_dict_keeps_strict_and_defaults_an_empty_schema() -> None:
    t = Tool.from_any({"name": "ping", "strict": True})
    assert (t.name, t.description, t.strict) == ("ping", "", True)
    assert t.parameters == {"type": "object", "properties": {}}
    assert Tool(name="x").parameters == {"type": "object", "properties": {}}
    assert Tool(name="x").parameters is not Tool(name="y").parameters  # not one shared default dict


def test_tool_from_a_tool_is_the_same_tool_and_bad_specs_are_refused() -> None:
    t = Tool(name="x")
    assert Tool.from_any(t) is t
    with pytest.raises(UsageError, match="a tool dict needs a 'name'"):
        Tool.from_any({"description": "nameless"})
    with pytest.raises(UsageError, match=r"tools=42 \(int\) is not valid"):
        Tool.from_any(42)  # type: ignore[arg-type]


def test_tools_compare_without_their_function() -> None:
    assert Tool(name="x", function=print) == Tool(name="x")
    assert "function" not in repr(Tool(name="x", function=print))


@pytest.mark.parametrize(
    ("raw", "parsed"),
    [
        (None, {}),
        ("", {}),
        ('{"city": "Oslo"}', {"city": "Oslo"}),
        ("[1, 2]", [1, 2]),
        ({"already": "parsed"}, {"already": "parsed"}),
        ('{"cut": "shor', '{"cut": "shor'),  # not JSON: the text itself
    ],
)
def test_parse_tool_arguments(raw: object, parsed: object) -> None:
    assert parse_tool_arguments(raw) == parsed  # type: ignore[arg-type]


def test_tool_call_arguments_json_prefers_the_raw_wire_text() -> None:
    assert ToolCall(id="c", name="f", arguments={"city": "Zürich"}).arguments_json == '{"city": "Zürich"}'
    call = ToolCall(id="c", name="f", arguments={"a": 1}, raw_arguments='{"a":1}')
    assert call.arguments_json == '{"a":1}'
    assert ToolCall(id="c", name="f").arguments == {}
    assert call.to_dict() == {"id": "c", "name": "f", "arguments": {"a": 1}}


# ------------------------------------------------------------------------------------------------
# Message
# ------------------------------------------------------------------------------------------------


def test_message_constructors() -> None:
    assert Message.user("hi") == Message("user", "hi")
    assert Message.system("be brief") == Message("system", "be brief")
    call = ToolCall(id="c1", name="f")
    m = Message.assistant("calling", (c for c in [call]))
    assert (m.role, m.content, m.tool_calls) == ("assistant", "calling", [call])
    assert Message.assistant() == Message("assistant", "")
    assert Message("user").tool_calls is not Message("user").tool_calls


def test_tool_result_from_a_call_or_an_id() -> None:
    call = ToolCall(id="c1", name="get_weather")
    m = Message.tool_result(call, {"temp": 21, "sky": "☀"})
    assert (m.role, m.tool_call_id, m.name) == ("tool", "c1", "get_weather")
    assert m.content == '{"temp": 21, "sky": "☀"}'  # JSON, not ASCII-escaped
    by_id = Message.tool_result("c2", "plain text", name="f")
    assert by_id == Message("tool", "plain text", tool_call_id="c2", name="f")
    assert Message.tool_result("c3", 5).name is None
    assert Message.tool_result(call, {"x": 1}, name="other").name == "other"


def test_tool_result_of_something_json_cannot_encode_uses_its_str() -> None:
    import datetime

    m = Message.tool_result("c1", {"when": datetime.date(2024, 5, 1)})
    assert json.loads(m.content) == {"when": "2024-05-01"}


def test_coerce_a_message_or_a_string() -> None:
    m = Message.user("x")
    assert Message.coerce(m) is m
    assert Message.coerce("hello") == Message("user", "hello")


def test_coerce_an_openai_style_dict() -> None:
    m = Message.coerce(
        {
            "role": "assistant",
            "content": None,
            "reasoning_content": "thinking",
            "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": '{"x": 1}'}},
                ToolCall(id="call_2", name="g"),
            ],
        }
    )
    assert m.role == "assistant"
    assert m.content == ""  # None becomes empty text
    assert m.reasoning == "thinking"
    assert m.tool_calls == [ToolCall(id="call_1", name="f", arguments={"x": 1}), ToolCall(id="call_2", name="g")]
    tool = Message.coerce({"role": "tool", "content": "42", "tool_call_id": "call_1", "name": "f"})
    assert tool == Message("tool", "42", tool_call_id="call_1", name="f")
    assert Message.coerce({"role": "assistant", "reasoning": "r"}).reasoning == "r"


def test_coerce_round_trips_tool_calls_through_their_dicts() -> None:
    calls = [ToolCall(id="c1", name="f", arguments={"x": [1, 2]}), ToolCall(id="c2", name="g")]
    original = Message.assistant("ok", calls)
    as_dict = {"role": original.role, "content": original.content, "tool_calls": [c.to_dict() for c in calls]}
    assert Message.coerce(json.loads(json.dumps(as_dict))) == original


def test_coerce_refuses_what_is_not_a_message() -> None:
    with pytest.raises(UsageError, match="needs a 'role'"):
        Message.coerce({"content": "no role"})
    with pytest.raises(UsageError, match=r"message=3 \(int\) is not valid"):
        Message.coerce(3)  # type: ignore[arg-type]
    with pytest.raises(UsageError, match=r"prompt=3 \(int\)"):
        Message.coerce(3, "prompt")  # type: ignore[arg-type]


def test_message_text_joins_only_the_text_parts() -> None:
    image = Attachment(kind="image", mime_type="image/png", data=b"x")
    m = Message.user(["What is ", image, "this?", {"type": "input_text", "text": "wire part"}])
    assert m.text() == "What is this?"
    assert Message.user("plain").text() == "plain"


# ------------------------------------------------------------------------------------------------
# Reply and Choice
# ------------------------------------------------------------------------------------------------


def _reply() -> Reply:
    call = ToolCall(id="c1", name="f", arguments={"x": 1})
    logprobs = [TokenLogprob("Hi", -0.1, (TopLogprob("Hi", -0.1), TopLogprob("Hey", -2.5)))]
    first = Choice(
        text="Hi",
        reasoning="greet",
        tool_calls=[call],
        finish_reason="tool_calls",
        native_finish_reason="tool_use",
        logprobs=logprobs,
        native=[{"type": "thinking", "signature": "sig"}],
    )
    second = Choice(index=1, text="Hello", finish_reason="stop", native_finish_reason="end_turn")
    return Reply(
        choices=[first, second],
        usage=Usage(input=5, output=2),
        protocol="messages",
        model="claude",
        id="msg_1",
        status="completed",
        endpoint="claude",
        latency=0.5,
        ttft=0.1,
        raw={"big": "payload"},
    )


def test_reply_exposes_its_first_choice() -> None:
    r = _reply()
    assert (r.text, r.reasoning, r.finish_reason, r.native_finish_reason) == ("Hi", "greet", "tool_calls", "tool_use")
    assert r.tool_calls == [ToolCall(id="c1", name="f", arguments={"x": 1})]
    assert r.logprobs is not None and r.logprobs[0].top[1].token == "Hey"
    assert str(r) == "Hi"


def test_an_empty_reply_reads_as_an_empty_choice() -> None:
    r = Reply()
    assert (r.text, r.reasoning, r.tool_calls, r.finish_reason, r.logprobs) == ("", "", [], None, None)
    assert str(r) == ""
    assert r.usage == Usage()
    assert r.to_message() == Message("assistant", "", native_protocol="")


def test_reply_to_message_continues_the_conversation_with_native_items() -> None:
    r = _reply()
    m = r.to_message()
    assert (m.role, m.content, m.reasoning) == ("assistant", "Hi", "greet")
    assert m.tool_calls == r.tool_calls and m.tool_calls is not r.choices[0].tool_calls
    assert m.native == [{"type": "thinking", "signature": "sig"}]
    assert m.native_protocol == "messages"
    second = r.to_message(1)
    assert (second.content, second.reasoning, second.tool_calls) == ("Hello", None, [])


def test_reply_to_dict_is_a_json_ready_summary_without_raw() -> None:
    d = _reply().to_dict()
    assert d == {
        "id": "msg_1",
        "model": "claude",
        "protocol": "messages",
        "endpoint": "claude",
        "status": "completed",
        "text": "Hi",
        "reasoning": "greet",
        "tool_calls": [{"id": "c1", "name": "f", "arguments": {"x": 1}}],
        "finish_reason": "tool_calls",
        "native_finish_reason": "tool_use",
        "usage": {"input": 5, "output": 2, "reasoning": None, "cached": None, "total": 7},
        "latency": 0.5,
        "ttft": 0.1,
        "incomplete": False,
        "choices": 2,
    }
    assert json.loads(json.dumps(d)) == d
    assert "payload" not in json.dumps(d)
    assert "payload" not in repr(_reply())  # nor in the repr


def test_reply_to_frame_has_a_row_per_output_part() -> None:
    frame = _reply().to_frame()
    assert list(zip(frame["choice"], frame["part"], frame["content"], strict=True)) == [
        (0, "reasoning", "greet"),
        (0, "text", "Hi"),
        (0, "tool_call", '{"x": 1}'),
        (1, "text", "Hello"),
    ]


# ------------------------------------------------------------------------------------------------
# stream events
# ------------------------------------------------------------------------------------------------


def test_stream_events_default_to_the_first_choice() -> None:
    assert TextDelta("a") == TextDelta("a", index=0)
    assert ReasoningDelta("b").index == 0
    d = ToolCallDelta(call_index=2)
    assert (d.id, d.name, d.arguments, d.index) == (None, None, "", 0)


def test_stream_events_are_slotted_and_tell_apart() -> None:
    assert TextDelta("a") != ReasoningDelta("a")  # same fields, different events
    for event in (TextDelta("a"), ReasoningDelta("b"), ToolCallDelta(0), UsageEvent(Usage()), Done(Reply())):
        assert not hasattr(event, "__dict__")  # one per chunk: no per-instance dict
    with pytest.raises(AttributeError):
        TextDelta("a").extra = 1  # type: ignore[attr-defined]


def test_tool_call_fragments_concatenate_to_the_arguments() -> None:
    fragments = [ToolCallDelta(0, id="c1", name="f", arguments='{"ci'), ToolCallDelta(0, arguments='ty": "Oslo"}')]
    assert parse_tool_arguments("".join(f.arguments for f in fragments)) == {"city": "Oslo"}


def test_usage_event_and_done_carry_their_values() -> None:
    u = Usage(input=1, output=1)
    r = Reply(choices=[Choice(text="x")])
    assert UsageEvent(u).usage is u
    assert Done(r).reply is r


def test_a_deferred_usage_event_normalizes_once_when_read() -> None:
    calls: list[dict[str, int]] = []

    def normalize(raw: dict[str, int]) -> Usage:
        calls.append(raw)
        return Usage(input=raw["in"], output=raw["out"], raw=raw)

    event = UsageEvent.deferred(normalize, {"in": 2, "out": 3})
    assert calls == []  # nothing made until read
    assert event.usage.total == 5 and event.usage is event.usage and len(calls) == 1
    assert event == UsageEvent(Usage(input=2, output=3)) and repr(event) == repr(UsageEvent(event.usage))
    assert not hasattr(event, "__dict__") and [f.name for f in dataclasses.fields(UsageEvent)] == ["usage"]
    match UsageEvent.deferred(normalize, {"in": 1, "out": 1}):
        case UsageEvent(usage=Usage(total=total)):
            assert total == 2
    with pytest.raises(AttributeError, match="'UsageEvent' object has no attribute 'other'"):
        event.other  # noqa: B018
