"""MessagesAdapter (Anthropic Messages): request bodies, replies and streams from hand-written fixtures."""

from __future__ import annotations

import json
from typing import Any

import pytest
from recorded import load_json

from cloudsway_nb.errors import MalformedReplyError, StreamError, UnsupportedError, UsageError
from cloudsway_nb.protocols import get_adapter
from cloudsway_nb.protocols.base import CallSpec, ServerSentEvent
from cloudsway_nb.protocols.messages import MessagesAdapter
from cloudsway_nb.types import (
    Attachment,
    Message,
    ReasoningDelta,
    TextDelta,
    Tool,
    ToolCall,
    ToolCallDelta,
    Usage,
    UsageEvent,
)

ADAPTER = MessagesAdapter()
PNG = b"\x89PNG\r\n\x1a\nfake"
PDF = b"%PDF-1.4 fake"


def build(messages: list[Message] | None = None, **kw: Any) -> dict[str, Any]:
    spec = CallSpec(messages=messages or [Message.user("hi")], endpoint_path="cl/sonnet", **kw)
    return ADAPTER.build_request(spec).json


def sse(event: str | None, data: dict[str, Any] | str) -> ServerSentEvent:
    return ServerSentEvent(data=data if isinstance(data, str) else json.dumps(data), event=event)


# ---------------------------------------------------------------------------------------------
# requests
# ---------------------------------------------------------------------------------------------


def test_registered_under_its_name() -> None:
    assert isinstance(get_adapter("messages"), MessagesAdapter)
    assert ADAPTER.name == "messages"


def test_minimal_request() -> None:
    spec = CallSpec(messages=[Message.user("hi")], endpoint_path="team/claude-sonnet", model="claude-x")
    req = ADAPTER.build_request(spec)
    assert req.method == "POST"
    assert req.path == "/team/claude-sonnet/v1/messages"  # slashes kept, no quoting
    assert req.headers == {"anthropic-version": "2023-06-01"}
    assert req.stream is False
    assert req.json == {"model": "claude-x", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 4096}


def test_no_model_key_when_model_is_none() -> None:
    assert "model" not in build()


def test_stream_request() -> None:
    req = ADAPTER.build_request(CallSpec(messages=[Message.user("hi")], endpoint_path="x", stream=True))
    assert req.stream is True
    assert req.json["stream"] is True
    assert "stream_options" not in req.json


def test_system_is_a_string_from_call_and_system_messages() -> None:
    body = build(
        [Message.system("be brief"), Message("developer", "use metric units"), Message.user("hi")],
        system="You are a weather bot",
    )
    assert body["system"] == "You are a weather bot\n\nbe brief\n\nuse metric units"
    assert body["messages"] == [{"role": "user", "content": "hi"}]


def test_multi_turn_text() -> None:
    body = build([Message.user("hi"), Message.assistant("hello!"), Message.user("how are you?")])
    assert body["messages"] == [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "hello!"},
        {"role": "user", "content": "how are you?"},
    ]


def test_tool_call_round_trip_turns() -> None:
    calls = [
        ToolCall(id="toolu_01", name="get_weather", arguments={"city": "Oslo"}),
        ToolCall(id="toolu_02", name="get_weather", arguments={"city": "Rome"}, raw_arguments='{"city": "Rome"}'),
    ]
    body = build(
        [
            Message.user("weather in Oslo and Rome?"),
            Message.assistant("Let me check.", calls),
            Message.tool_result(calls[0], {"temp": 3}),
            Message.tool_result(calls[1], "sunny, 24C"),
            Message.user("and tomorrow?"),
        ]
    )
    assert body["messages"] == [
        {"role": "user", "content": "weather in Oslo and Rome?"},
        {
            "role": "assistant",
            "content": [
                {"type": "text", "text": "Let me check."},
                {"type": "tool_use", "id": "toolu_01", "name": "get_weather", "input": {"city": "Oslo"}},
                {"type": "tool_use", "id": "toolu_02", "name": "get_weather", "input": {"city": "Rome"}},
            ],
        },
        {
            "role": "user",
            "content": [  # ONE user turn: both results first, then the user's next words
                {"type": "tool_result", "tool_use_id": "toolu_01", "content": '{"temp": 3}'},
                {"type": "tool_result", "tool_use_id": "toolu_02", "content": "sunny, 24C"},
                {"type": "text", "text": "and tomorrow?"},
            ],
        },
    ]


def test_assistant_tool_call_without_text_and_results_at_the_end() -> None:
    call = ToolCall(id="toolu_9", name="now")
    body = build([Message.user("time?"), Message.assistant("", [call]), Message.tool_result(call, "12:00")])
    assert body["messages"][1] == {
        "role": "assistant",
        "content": [{"type": "tool_use", "id": "toolu_9", "name": "now", "input": {}}],
    }
    assert body["messages"][2] == {
        "role": "user",
        "content": [{"type": "tool_result", "tool_use_id": "toolu_9", "content": "12:00"}],
    }


def test_native_blocks_are_sent_back_verbatim() -> None:
    native = [
        {"type": "thinking", "thinking": "User wants weather.", "signature": "EqQBCkYIBRgCKkBsig=="},
        {"type": "redacted_thinking", "data": "EmwKAhgBEgy3va3p"},
        {"type": "tool_use", "id": "toolu_01", "name": "get_weather", "input": {"city": "Oslo"}},
    ]
    turn = Message(
        "assistant",
        "",
        tool_calls=[ToolCall(id="toolu_01", name="get_weather", arguments={"city": "Oslo"})],
        reasoning="User wants weather.",
        native=native,
        native_protocol="messages",
    )
    body = build([Message.user("weather?"), turn, Message.tool_result("toolu_01", "3C", name="get_weather")])
    assert body["messages"][1] == {"role": "assistant", "content": native}


def test_native_of_another_protocol_is_not_used() -> None:
    turn = Message("assistant", "hello", native=[{"text": "hello", "thoughtSignature": "x"}], native_protocol="gemini")
    body = build([Message.user("hi"), turn, Message.user("again")])
    assert body["messages"][1] == {"role": "assistant", "content": "hello"}


def test_reply_to_message_round_trip_keeps_thinking_signature() -> None:
    reply = ADAPTER.parse_reply(REPLY_WITH_TOOLS)
    body = build([Message.user("weather in Paris?"), reply.to_message()])
    assert body["messages"][1]["content"] == REPLY_WITH_TOOLS["content"]


# attachments ----------------------------------------------------------------------------------


def test_image_attachments() -> None:
    parts = [
        "what is in these?",
        Attachment(kind="image", mime_type="image/png", data=PNG),
        Attachment(kind="image", mime_type="image/jpeg", url="https://example.com/cat.jpg"),
        Attachment(kind="image", mime_type="image/gif", url="data:image/gif;base64,R0lGOD=="),
    ]
    content = build([Message.user(parts)])["messages"][0]["content"]
    b64 = Attachment(kind="image", mime_type="image/png", data=PNG).base64()
    assert content == [
        {"type": "text", "text": "what is in these?"},
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": b64}},
        {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.jpg"}},
        {"type": "image", "source": {"type": "base64", "media_type": "image/gif", "data": "R0lGOD=="}},
    ]


def test_document_attachments() -> None:
    pdf = Attachment(kind="document", mime_type="application/pdf", data=PDF, filename="report.pdf")
    pdf_url = Attachment(kind="document", mime_type="application/pdf", url="https://example.com/a.pdf")
    txt = Attachment(kind="document", mime_type="text/plain", data=b"plain words")
    content = build([Message.user([pdf, pdf_url, txt, "summarize"])])["messages"][0]["content"]
    assert content == [
        {
            "type": "document",
            "source": {"type": "base64", "media_type": "application/pdf", "data": pdf.base64()},
            "title": "report.pdf",
        },
        {"type": "document", "source": {"type": "url", "url": "https://example.com/a.pdf"}},
        {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "plain words"}},
        {"type": "text", "text": "summarize"},
    ]


def test_text_attachment_is_inlined_and_dict_parts_pass_verbatim() -> None:
    note = Attachment(kind="text", mime_type="text/markdown", data="# Notes\nçà".encode())
    cached = {"type": "text", "text": "long context", "cache_control": {"type": "ephemeral"}}
    content = build([Message.user([note, cached])])["messages"][0]["content"]
    assert content == [{"type": "text", "text": "# Notes\nçà"}, cached]


@pytest.mark.parametrize(
    "att",
    [
        Attachment(kind="audio", mime_type="audio/mpeg", data=b"ID3"),
        Attachment(kind="video", mime_type="video/mp4", url="https://example.com/v.mp4"),
    ],
    ids=["audio", "video"],
)
def test_audio_and_video_are_unsupported_and_name_who_can(att: Attachment) -> None:
    with pytest.raises(UnsupportedError) as info:
        build([Message.user(["listen", att])])
    assert "messages" in str(info.value)
    assert "gemini" in str(info.value)  # the error names a protocol that can carry it


def test_unsupported_document_type() -> None:
    docx = Attachment(
        kind="document",
        mime_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        data=b"PK",
    )
    with pytest.raises(UnsupportedError, match="PDF"):
        build([Message.user([docx])])


# tools ---------------------------------------------------------------------------------------


def test_tools_rendered_as_input_schema() -> None:
    def get_weather(city: str) -> str:
        """Current weather in a city."""
        return "sunny"

    openai_style = {
        "type": "function",
        "function": {"name": "lookup", "description": "Look up", "parameters": {"type": "object"}},
    }
    builtin = {"type": "web_search_20250305", "name": "web_search", "max_uses": 3}
    body = build(tools=[get_weather, Tool(name="now"), openai_style, builtin])
    assert body["tools"] == [
        {
            "name": "get_weather",
            "description": "Current weather in a city.",
            "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
        },
        {"name": "now", "description": "", "input_schema": {"type": "object", "properties": {}}},
        {"name": "lookup", "description": "Look up", "input_schema": {"type": "object"}},
        builtin,
    ]


def test_no_tools_key_without_tools() -> None:
    assert "tools" not in build()


@pytest.mark.parametrize(
    ("choice", "wire"),
    [
        ("auto", {"type": "auto"}),
        ("none", {"type": "none"}),
        ("required", {"type": "any"}),
        ("get_weather", {"type": "tool", "name": "get_weather"}),
        ({"type": "any", "disable_parallel_tool_use": True}, {"type": "any", "disable_parallel_tool_use": True}),
        ({"type": "function", "function": {"name": "f"}}, {"type": "tool", "name": "f"}),
    ],
)
def test_tool_choice(choice: Any, wire: dict[str, Any]) -> None:
    assert build(params={"tool_choice": choice})["tool_choice"] == wire


# common params ---------------------------------------------------------------------------------


def test_sampling_params() -> None:
    body = build(params={"temperature": 0.3, "top_p": 0.9, "max_tokens": 500, "stop": "END"})
    assert (body["temperature"], body["top_p"], body["max_tokens"]) == (0.3, 0.9, 500)
    assert body["stop_sequences"] == ["END"]
    assert "stop" not in body
    assert build(params={"stop": ["a", "b"]})["stop_sequences"] == ["a", "b"]


def test_n_one_is_fine_and_more_is_unsupported() -> None:
    assert "n" not in build(params={"n": 1})
    with pytest.raises(UnsupportedError, match="n=3"):
        build(params={"n": 3})


@pytest.mark.parametrize(
    ("reasoning", "budget"),
    [("low", 1024), ("medium", 4096), ("high", 16384), ("max", 32768), (2000, 2000)],
)
def test_reasoning_becomes_thinking_with_room_in_max_tokens(reasoning: Any, budget: int) -> None:
    body = build(params={"reasoning": reasoning})
    assert body["thinking"] == {"type": "enabled", "budget_tokens": budget}
    assert body["max_tokens"] == budget + 4096


def test_reasoning_with_explicit_max_tokens() -> None:
    body = build(params={"reasoning": "low", "max_tokens": 3000})
    assert body["thinking"] == {"type": "enabled", "budget_tokens": 1024}
    assert body["max_tokens"] == 3000


def test_max_tokens_not_above_budget_is_a_usage_error() -> None:
    with pytest.raises(UsageError) as info:
        build(params={"reasoning": 2000, "max_tokens": 1000})
    assert "1000" in str(info.value) and "2000" in str(info.value)
    assert "max_tokens" in str(info.value)


@pytest.mark.parametrize("off", [False, 0, None])
def test_reasoning_off_is_omitted(off: Any) -> None:
    body = build(params={"reasoning": off})
    assert "thinking" not in body
    assert body["max_tokens"] == 4096


def test_reasoning_dict_passes_verbatim() -> None:
    body = build(params={"reasoning": {"type": "enabled", "budget_tokens": 5000}})
    assert body["thinking"] == {"type": "enabled", "budget_tokens": 5000}
    assert body["max_tokens"] == 9096


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"logprobs": True}, "logprobs"),
        ({"top_logprobs": 5}, "logprobs"),
        ({"json": True}, "tool"),
        ({"schema": {"type": "object", "properties": {}}}, "schema"),
    ],
)
def test_unsupported_params(params: dict[str, Any], match: str) -> None:
    with pytest.raises(UnsupportedError, match=match):
        build(params=params)


def test_falsy_unsupported_params_are_ignored() -> None:
    body = build(params={"logprobs": False, "json": False})
    assert "logprobs" not in body and "json" not in body


def test_passthrough_params_merge_last() -> None:
    body = build(
        params={
            "reasoning": "low",
            "top_k": 40,
            "metadata": {"user_id": "u1"},
            "thinking": {"type": "enabled", "budget_tokens": 1500},  # overrides the mapped one
        }
    )
    assert body["top_k"] == 40
    assert body["metadata"] == {"user_id": "u1"}
    assert body["thinking"] == {"type": "enabled", "budget_tokens": 1500}


# ---------------------------------------------------------------------------------------------
# replies
# ---------------------------------------------------------------------------------------------

REPLY_WITH_TOOLS: dict[str, Any] = {
    "id": "msg_01AbC",
    "type": "message",
    "role": "assistant",
    "model": "claude-sonnet-4-20250514",
    "content": [
        {"type": "thinking", "thinking": "The user wants Paris weather.", "signature": "EqQBCkYIBRgCKkBsig=="},
        {"type": "redacted_thinking", "data": "EmwKAhgBEgy3va3p"},
        {"type": "text", "text": "I'll check the weather.", "citations": None},
        {"type": "tool_use", "id": "toolu_01A", "name": "get_weather", "input": {"city": "Paris", "unit": "c"}},
    ],
    "stop_reason": "tool_use",
    "stop_sequence": None,
    "usage": {
        "input_tokens": 10,
        "cache_creation_input_tokens": 100,
        "cache_read_input_tokens": 50,
        "output_tokens": 20,
        "service_tier": "standard",
    },
}


def test_parse_reply_with_thinking_and_tool_use() -> None:
    reply = ADAPTER.parse_reply(REPLY_WITH_TOOLS)
    assert reply.protocol == "messages"
    assert (reply.id, reply.model) == ("msg_01AbC", "claude-sonnet-4-20250514")
    assert reply.text == "I'll check the weather."
    assert reply.reasoning == "The user wants Paris weather."
    assert reply.finish_reason == "tool_calls"
    assert reply.native_finish_reason == "tool_use"
    (call,) = reply.tool_calls
    assert (call.id, call.name, call.arguments) == ("toolu_01A", "get_weather", {"city": "Paris", "unit": "c"})
    assert json.loads(call.raw_arguments or "") == {"city": "Paris", "unit": "c"}
    assert reply.choices[0].native == REPLY_WITH_TOOLS["content"]
    assert reply.raw is REPLY_WITH_TOOLS
    assert reply.logprobs is None


def test_usage_normalized_with_cache_and_raw_kept() -> None:
    usage = ADAPTER.parse_reply(REPLY_WITH_TOOLS).usage
    assert usage.to_dict() == {"input": 160, "output": 20, "reasoning": None, "cached": 50, "total": 180}
    assert usage.raw == REPLY_WITH_TOOLS["usage"]


def test_usage_reasoning_when_the_server_reports_thinking_tokens() -> None:
    data = {
        **REPLY_WITH_TOOLS,
        "usage": {"input_tokens": 5, "output_tokens": 30, "output_tokens_details": {"thinking_tokens": 12}},
    }
    usage = ADAPTER.parse_reply(data).usage
    assert (usage.input, usage.output, usage.reasoning, usage.cached, usage.total) == (5, 30, 12, None, 35)


def test_missing_usage_is_all_unknown() -> None:
    data = {"type": "message", "content": [{"type": "text", "text": "hi"}], "stop_reason": "end_turn"}
    reply = ADAPTER.parse_reply(data)
    assert reply.usage == Usage()
    assert reply.usage.to_dict() == dict.fromkeys(("input", "output", "reasoning", "cached", "total"))
    assert reply.text == "hi"


def test_several_text_blocks_join_and_unknown_blocks_are_kept_natively() -> None:
    data = {
        "id": "msg_2",
        "type": "message",
        "content": [
            {"type": "text", "text": "The answer is "},
            {"type": "server_tool_use", "id": "srvtoolu_1", "name": "web_search", "input": {"query": "x"}},
            {"type": "web_search_tool_result", "tool_use_id": "srvtoolu_1", "content": []},
            {"type": "text", "text": "42.", "citations": [{"type": "web_search_result_location", "url": "u"}]},
            {"type": "future_block", "x": 1},
        ],
        "stop_reason": "end_turn",
        "usage": {"input_tokens": 1, "output_tokens": 2},
    }
    reply = ADAPTER.parse_reply(data)
    assert reply.text == "The answer is 42."
    assert reply.tool_calls == []
    assert reply.choices[0].native == data["content"]


@pytest.mark.parametrize(
    ("native", "normalized"),
    [
        ("end_turn", "stop"),
        ("stop_sequence", "stop"),
        ("max_tokens", "length"),
        ("tool_use", "tool_calls"),
        ("refusal", "content_filter"),
        ("pause_turn", "other"),
        ("model_context_window_exceeded", "length"),
        ("something_new", "other"),
        (None, None),
    ],
)
def test_finish_reasons(native: str | None, normalized: str | None) -> None:
    reply = ADAPTER.parse_reply({"type": "message", "content": [], "stop_reason": native})
    assert (reply.finish_reason, reply.native_finish_reason) == (normalized, native)


@pytest.mark.parametrize(
    "data",
    [
        ["not", "a", "dict"],
        "text",
        load_json("messages/overloaded_error.json"),
        {"error": {"message": "bad key", "type": "invalid_request_error"}},
        {"id": "x", "choices": []},
        {"type": "message", "content": "oops"},
    ],
)
def test_malformed_replies(data: Any) -> None:
    with pytest.raises(MalformedReplyError):
        ADAPTER.parse_reply(data)


def test_error_body_message_is_kept() -> None:
    with pytest.raises(MalformedReplyError, match="Overloaded") as info:
        ADAPTER.parse_reply(load_json("messages/overloaded_error.json"))
    assert info.value.code == "overloaded_error"


# ---------------------------------------------------------------------------------------------
# streams
# ---------------------------------------------------------------------------------------------

MESSAGE_START = {
    "type": "message_start",
    "message": {
        "id": "msg_stream_1",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-20250514",
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {"input_tokens": 25, "cache_read_input_tokens": 5, "output_tokens": 1},
    },
}

TEXT_STREAM = [
    sse("message_start", MESSAGE_START),
    sse(
        "content_block_start",
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
    ),
    sse("ping", {"type": "ping"}),
    sse(
        "content_block_delta",
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hello"}},
    ),
    sse(
        "content_block_delta",
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": ", world!"}},
    ),
    sse("content_block_stop", {"type": "content_block_stop", "index": 0}),
    sse(
        "message_delta",
        {
            "type": "message_delta",
            "delta": {"stop_reason": "end_turn", "stop_sequence": None},
            "usage": {"output_tokens": 15},
        },
    ),
    sse("message_stop", {"type": "message_stop"}),
]


def run(events: list[ServerSentEvent]) -> tuple[Any, list[Any]]:
    parser = ADAPTER.stream_parser()
    out: list[Any] = []
    for event in events:
        out.extend(parser.feed(event))
    return parser, out


def test_text_stream() -> None:
    parser, events = run(TEXT_STREAM)
    assert [e.text for e in events if isinstance(e, TextDelta)] == ["Hello", ", world!"]
    usages = [e.usage for e in events if isinstance(e, UsageEvent)]
    assert [u.output for u in usages] == [1, 15]
    assert parser.done is True
    reply = parser.finish()
    assert reply.text == "Hello, world!"
    assert reply.finish_reason == "stop"
    assert reply.incomplete is False
    assert (reply.id, reply.model, reply.protocol) == ("msg_stream_1", "claude-sonnet-4-20250514", "messages")
    # input from message_start (cache reads included), output cumulative from message_delta
    assert reply.usage.to_dict() == {"input": 30, "output": 15, "reasoning": None, "cached": 5, "total": 45}
    assert reply.usage.raw == {"input_tokens": 25, "cache_read_input_tokens": 5, "output_tokens": 15}
    assert reply.raw[0] == MESSAGE_START and len(reply.raw) == len(TEXT_STREAM)
    assert reply.choices[0].native == [{"type": "text", "text": "Hello, world!"}]


def test_stream_without_event_names_and_with_blank_data() -> None:
    events = [ServerSentEvent(data=e.data) for e in TEXT_STREAM]
    events.insert(2, ServerSentEvent(data=""))
    events.insert(3, ServerSentEvent(data='{"type": "brand_new_event", "x": 1}', event="brand_new_event"))
    parser, _ = run(events)
    assert parser.finish().text == "Hello, world!"
    assert parser.done


THINKING_TOOL_STREAM = [
    sse("message_start", MESSAGE_START),
    sse(
        "content_block_start",
        {
            "type": "content_block_start",
            "index": 0,
            "content_block": {"type": "thinking", "thinking": "", "signature": ""},
        },
    ),
    sse(
        "content_block_delta",
        {"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta", "thinking": "Need the "}},
    ),
    sse(
        "content_block_delta",
        {"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta", "thinking": "weather tool."}},
    ),
    sse(
        "content_block_delta",
        {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "signature_delta", "signature": "EqQBCgIYAhIM1gbcDa=="},
        },
    ),
    sse("content_block_stop", {"type": "content_block_stop", "index": 0}),
    sse(
        "content_block_start",
        {"type": "content_block_start", "index": 1, "content_block": {"type": "text", "text": ""}},
    ),
    sse(
        "content_block_delta",
        {"type": "content_block_delta", "index": 1, "delta": {"type": "text_delta", "text": "Checking."}},
    ),
    sse("content_block_stop", {"type": "content_block_stop", "index": 1}),
    sse(
        "content_block_start",
        {
            "type": "content_block_start",
            "index": 2,
            "content_block": {"type": "tool_use", "id": "toolu_01", "name": "get_weather", "input": {}},
        },
    ),
    sse(
        "content_block_delta",
        {"type": "content_block_delta", "index": 2, "delta": {"type": "input_json_delta", "partial_json": ""}},
    ),
    sse(
        "content_block_delta",
        {
            "type": "content_block_delta",
            "index": 2,
            "delta": {"type": "input_json_delta", "partial_json": '{"city": "Pa'},
        },
    ),
    sse(
        "content_block_delta",
        {"type": "content_block_delta", "index": 2, "delta": {"type": "input_json_delta", "partial_json": 'ris"}'}},
    ),
    sse("content_block_stop", {"type": "content_block_stop", "index": 2}),
    sse(
        "content_block_start",
        {
            "type": "content_block_start",
            "index": 3,
            "content_block": {"type": "tool_use", "id": "toolu_02", "name": "now", "input": {}},
        },
    ),
    sse("content_block_stop", {"type": "content_block_stop", "index": 3}),
    sse(
        "message_delta", {"type": "message_delta", "delta": {"stop_reason": "tool_use"}, "usage": {"output_tokens": 89}}
    ),
    sse("message_stop", {"type": "message_stop"}),
]


def test_thinking_and_tool_call_stream() -> None:
    parser, events = run(THINKING_TOOL_STREAM)
    assert [e.text for e in events if isinstance(e, ReasoningDelta)] == ["Need the ", "weather tool."]
    deltas = [e for e in events if isinstance(e, ToolCallDelta)]
    assert deltas == [
        ToolCallDelta(0, id="toolu_01", name="get_weather"),
        ToolCallDelta(0, arguments='{"city": "Pa'),
        ToolCallDelta(0, arguments='ris"}'),
        ToolCallDelta(1, id="toolu_02", name="now"),
    ]
    reply = parser.finish()
    assert reply.reasoning == "Need the weather tool."
    assert reply.text == "Checking."
    assert reply.finish_reason == "tool_calls"
    first, second = reply.tool_calls
    assert (first.id, first.name, first.arguments, first.raw_arguments) == (
        "toolu_01",
        "get_weather",
        {"city": "Paris"},
        '{"city": "Paris"}',
    )
    assert (second.id, second.name, second.arguments) == ("toolu_02", "now", {})
    assert reply.choices[0].native == [
        {"type": "thinking", "thinking": "Need the weather tool.", "signature": "EqQBCgIYAhIM1gbcDa=="},
        {"type": "text", "text": "Checking."},
        {"type": "tool_use", "id": "toolu_01", "name": "get_weather", "input": {"city": "Paris"}},
        {"type": "tool_use", "id": "toolu_02", "name": "now", "input": {}},
    ]
    # the streamed turn goes back with its signed thinking block
    body = build([Message.user("weather?"), reply.to_message()])
    assert body["messages"][1]["content"][0]["signature"] == "EqQBCgIYAhIM1gbcDa=="


def test_redacted_thinking_in_stream_is_kept() -> None:
    parser, events = run(
        [
            sse("message_start", MESSAGE_START),
            sse(
                "content_block_start",
                {
                    "type": "content_block_start",
                    "index": 0,
                    "content_block": {"type": "redacted_thinking", "data": "EmwKAhgB"},
                },
            ),
            sse("content_block_stop", {"type": "content_block_stop", "index": 0}),
            sse("message_stop", {"type": "message_stop"}),
        ]
    )
    assert [e for e in events if not isinstance(e, UsageEvent)] == []
    assert parser.finish().choices[0].native == [{"type": "redacted_thinking", "data": "EmwKAhgB"}]


def test_error_mid_stream_keeps_partial_text() -> None:
    parser = ADAPTER.stream_parser()
    for event in TEXT_STREAM[:4]:
        parser.feed(event)
    error = sse("error", load_json("messages/overloaded_error.json"))
    with pytest.raises(StreamError) as info:
        parser.feed(error)
    assert info.value.message == "Overloaded"
    assert info.value.code == "overloaded_error"
    partial = info.value.partial
    assert partial is not None
    assert partial.text == "Hello"
    assert partial.incomplete is True


def test_missing_message_stop_is_incomplete() -> None:
    parser, _ = run(TEXT_STREAM[:-2])
    assert parser.done is False
    reply = parser.finish()
    assert reply.incomplete is True
    assert reply.text == "Hello, world!"
    assert reply.finish_reason is None


def test_empty_stream_finishes_to_an_empty_incomplete_reply() -> None:
    reply = ADAPTER.stream_parser().finish()
    assert (reply.text, reply.incomplete, reply.usage) == ("", True, Usage())


def test_non_json_stream_data_is_malformed() -> None:
    parser = ADAPTER.stream_parser()
    with pytest.raises(MalformedReplyError):
        parser.feed(ServerSentEvent(data="<html>502 Bad Gateway</html>"))


def test_server_tool_input_is_assembled_in_native_but_is_no_tool_call() -> None:
    parser, events = run(
        [
            sse("message_start", MESSAGE_START),
            sse(
                "content_block_start",
                {
                    "type": "content_block_start",
                    "index": 0,
                    "content_block": {"type": "server_tool_use", "id": "srvtoolu_1", "name": "web_search", "input": {}},
                },
            ),
            sse(
                "content_block_delta",
                {
                    "type": "content_block_delta",
                    "index": 0,
                    "delta": {"type": "input_json_delta", "partial_json": '{"query": "news"}'},
                },
            ),
            sse("content_block_stop", {"type": "content_block_stop", "index": 0}),
            sse("message_stop", {"type": "message_stop"}),
        ]
    )
    assert [e for e in events if isinstance(e, ToolCallDelta)] == []
    reply = parser.finish()
    assert reply.tool_calls == []
    assert reply.choices[0].native == [
        {"type": "server_tool_use", "id": "srvtoolu_1", "name": "web_search", "input": {"query": "news"}}
    ]


def test_compaction_block_keeps_its_streamed_summary_and_encrypted_content() -> None:
    # the compaction block starts empty and its one compaction_delta carries both fields, which must go
    # back verbatim in the next turn (as the anthropic SDK's beta stream keeps them)
    delta = {"type": "compaction_delta", "content": "Earlier turns, summarized.", "encrypted_content": "EpwBopaque"}
    parser, events = run(
        [
            sse("message_start", MESSAGE_START),
            sse(
                "content_block_start",
                {
                    "type": "content_block_start",
                    "index": 0,
                    "content_block": {"type": "compaction", "content": None, "encrypted_content": None},
                },
            ),
            sse("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": delta}),
            sse("content_block_stop", {"type": "content_block_stop", "index": 0}),
            sse("message_stop", {"type": "message_stop"}),
        ]
    )
    assert [e for e in events if not isinstance(e, UsageEvent)] == []
    reply = parser.finish()
    block = {"type": "compaction", "content": "Earlier turns, summarized.", "encrypted_content": "EpwBopaque"}
    assert (reply.text, reply.choices[0].native) == ("", [block])
    assert build([Message.user("go on"), reply.to_message()])["messages"][1]["content"] == [block]


def test_a_fallback_block_names_the_model_that_served_the_stream() -> None:
    fallback = {
        "type": "fallback",
        "from": {"model": "claude-sonnet-4-20250514"},
        "to": {"model": "claude-haiku-4-5"},
        "trigger": {"type": "refusal", "category": None},
    }
    parser, _ = run(
        [
            sse("message_start", MESSAGE_START),
            sse("content_block_start", {"type": "content_block_start", "index": 0, "content_block": fallback}),
            sse("content_block_stop", {"type": "content_block_stop", "index": 0}),
            sse(
                "content_block_start",
                {"type": "content_block_start", "index": 1, "content_block": {"type": "text", "text": "Hi"}},
            ),
            sse("content_block_stop", {"type": "content_block_stop", "index": 1}),
            sse("message_stop", {"type": "message_stop"}),
        ]
    )
    reply = parser.finish()
    assert (reply.model, reply.text) == ("claude-haiku-4-5", "Hi")
    assert reply.choices[0].native == [fallback, {"type": "text", "text": "Hi"}]
