"""The chat completions adapter: request bodies, replies and streams, from hand-written fixtures."""

from __future__ import annotations

import base64
import json

import pytest

from cloudsway_nb.errors import MalformedReplyError, StreamError, UnsupportedError
from cloudsway_nb.protocols import get_adapter
from cloudsway_nb.protocols.base import CallSpec, ServerSentEvent
from cloudsway_nb.protocols.chat import ChatAdapter, RawChunks, chat_usage
from cloudsway_nb.types import (
    Attachment,
    Message,
    ReasoningDelta,
    TextDelta,
    Tool,
    ToolCall,
    ToolCallDelta,
    UsageEvent,
)

chat = ChatAdapter()


def body(messages=None, **kwargs):
    spec = CallSpec(messages=messages or [Message.user("hi")], endpoint_path="MaaS-4o", **kwargs)
    return chat.build_request(spec).json


def sse(*chunks):
    """ServerSentEvents from dicts (JSON-encoded) and strings (sent as they are)."""
    return [ServerSentEvent(c if isinstance(c, str) else json.dumps(c)) for c in chunks]


def feed_all(events, parser=None):
    parser = parser or chat.stream_parser()
    out = []
    for event in events:
        out.extend(parser.feed(event))
    return parser, out


def chunk(delta=None, index=0, finish=None, **extra):
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1694268190,
        "model": "gpt-4o",
        "choices": [{"index": index, "delta": delta or {}, "logprobs": None, "finish_reason": finish}],
        **extra,
    }


# ------------------------------------------------------------------------------ requests


def test_registered_and_media_kinds():
    assert get_adapter("chat").name == "chat"
    assert set(chat.media_kinds) == {"image", "audio", "video", "document", "text"}


def test_request_basics():
    spec = CallSpec(
        messages=[Message.user("hi"), Message("developer", "be terse"), Message.user("again")],
        endpoint_path="/team/MaaS-4o/",
        model="gpt-4o",
        system="You are helpful.",
    )
    req = chat.build_request(spec)
    assert (req.method, req.path, req.stream, req.params, req.headers) == (
        "POST",
        "/v1/ai/team/MaaS-4o/chat/completions",
        False,
        {},
        {},
    )
    assert req.json == {
        "model": "gpt-4o",
        "messages": [
            {"role": "system", "content": "You are helpful."},
            {"role": "user", "content": "hi"},
            {"role": "developer", "content": "be terse"},
            {"role": "user", "content": "again"},
        ],
    }


def test_no_model_no_stream_keys_by_default():
    assert body() == {"messages": [{"role": "user", "content": "hi"}]}


def test_stream_request_asks_for_usage_unless_the_user_set_stream_options():
    spec = CallSpec([Message.user("hi")], "p", stream=True)
    req = chat.build_request(spec)
    assert req.stream is True
    assert req.json["stream"] is True
    assert req.json["stream_options"] == {"include_usage": True}
    assert body(stream=True, params={"stream_options": {"include_usage": False}})["stream_options"] == {
        "include_usage": False
    }


def test_tool_call_round_trip_turns():
    call = ToolCall(id="call_9", name="get_weather", arguments={"city": "Oslo"})
    messages = [
        Message.user("weather?"),
        Message.assistant("", [call]),
        Message.tool_result(call, {"temp": 3}),
        Message.assistant("It is 3 degrees."),
    ]
    assert body(messages)["messages"][1:] == [
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_9",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city": "Oslo"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_9", "content": '{"temp": 3}'},
        {"role": "assistant", "content": "It is 3 degrees."},
    ]


def test_raw_arguments_are_sent_back_unchanged():
    call = ToolCall(id="c", name="f", arguments={"a": 1}, raw_arguments='{"a":1}')
    sent = body([Message.assistant("", [call])])["messages"][0]
    assert sent["tool_calls"][0]["function"]["arguments"] == '{"a":1}'


def test_reasoning_of_a_tool_calling_chat_turn_goes_back_as_reasoning_content():
    call = ToolCall(id="c", name="f")
    from_chat = Message("assistant", "", [call], reasoning="think", native_protocol="chat")
    from_claude = Message("assistant", "", [call], reasoning="think", native_protocol="messages")
    plain = Message("assistant", "hello", reasoning="think", native_protocol="chat")
    sent = body([from_chat, from_claude, plain])["messages"]
    assert sent[0]["reasoning_content"] == "think"
    assert "reasoning_content" not in sent[1]
    assert "reasoning_content" not in sent[2]  # without tool calls DeepSeek ignores it: leave it out


def test_native_chat_message_is_sent_verbatim():
    native = {"role": "assistant", "content": "x", "audio": {"id": "a1"}}
    sent = body([Message("assistant", "x", native=native, native_protocol="chat")])["messages"]
    assert sent == [native]
    other = body([Message("assistant", "x", native=[{"type": "text"}], native_protocol="messages")])["messages"]
    assert other == [{"role": "assistant", "content": "x"}]


def test_text_only_part_lists_collapse_to_a_string():
    assert body([Message.user(["a", "b"])])["messages"][0] == {"role": "user", "content": "a\nb"}


def test_text_parts_are_joined_with_a_newline_not_glued():
    content = body([Message.user(["Describe", "/tmp/x.png"])])["messages"][0]["content"]
    assert content == "Describe\n/tmp/x.png"


def test_attachments_of_every_kind():
    png = Attachment("image", "image/png", data=b"\x89PNG", detail="high")
    url_image = Attachment("image", "image/jpeg", url="https://x.test/cat.jpg")
    video = Attachment("video", "video/mp4", data=b"\x00\x00\x00\x18ftyp")
    audio = Attachment("audio", "audio/mpeg", data=b"ID3")
    pdf = Attachment("document", "application/pdf", data=b"%PDF-1.7", filename="paper.pdf")
    note = Attachment("text", "text/plain", data="notes: ✓".encode())
    native = {"type": "file", "file": {"file_id": "file-1"}}
    parts = body([Message.user(["look", png, url_image, video, audio, pdf, note, native])])["messages"][0]["content"]
    b64 = base64.b64encode
    assert parts == [
        {"type": "text", "text": "look"},
        {
            "type": "image_url",
            "image_url": {"url": "data:image/png;base64," + b64(b"\x89PNG").decode(), "detail": "high"},
        },
        {"type": "image_url", "image_url": {"url": "https://x.test/cat.jpg"}},
        {"type": "image_url", "image_url": {"url": "data:video/mp4;base64," + b64(b"\x00\x00\x00\x18ftyp").decode()}},
        {"type": "input_audio", "input_audio": {"data": b64(b"ID3").decode(), "format": "mp3"}},
        {"type": "file", "file": {"filename": "paper.pdf", "file_data": "data:application/pdf;base64,JVBERi0xLjc="}},
        {"type": "text", "text": "notes: ✓"},
        native,
    ]


def test_document_without_filename_gets_one():
    pdf = Attachment("document", "application/pdf", data=b"%PDF")
    part = body([Message.user([pdf])])["messages"][0]["content"][0]
    assert part["file"]["filename"] == "document.pdf"


def test_audio_by_url_is_unsupported():
    audio = Attachment("audio", "audio/wav", url="https://x.test/a.wav")
    with pytest.raises(UnsupportedError, match="audio"):
        body([Message.user([audio])])


def test_a_document_url_is_refused_naming_the_protocols_that_take_one():
    pdf = Attachment("document", "application/pdf", url="https://x.test/paper.pdf")
    with pytest.raises(UnsupportedError, match="not a URL") as caught:
        body([Message.user(["summarize", pdf])])
    message = str(caught.value)
    assert "https://x.test/paper.pdf" in message and "attach its bytes" in message
    named = [p for p in ("messages", "responses", "gemini") if p in message]
    assert named == ["messages", "responses", "gemini"]
    for protocol in named:  # each protocol it names does send the URL
        spec = CallSpec(messages=[Message.user([pdf])], endpoint_path="x")
        assert "https://x.test/paper.pdf" in json.dumps(get_adapter(protocol).build_request(spec).json)
    inline = Attachment("document", "application/pdf", url="data:application/pdf;base64,JVBERi0xLjc=")
    part = body([Message.user([inline])])["messages"][0]["content"][0]
    assert part["file"]["file_data"] == "data:application/pdf;base64,JVBERi0xLjc="


def test_a_utf16_text_attachment_arrives_as_text():
    note = Attachment("text", "text/plain", data="notes: ✓ café".encode("utf-16"))
    part = body([Message.user([note])])["messages"][0]["content"][0]
    assert part == {"type": "text", "text": "notes: ✓ café"}


def test_a_part_of_unknown_type_is_refused():
    with pytest.raises(TypeError):
        body([Message.user([3.5])])  # type: ignore[list-item]


def test_tools_in_every_shape():
    def get_weather(city: str) -> str:
        """Current weather."""
        return "sunny"

    tools = [
        Tool("lookup", "Look a word up", {"type": "object", "properties": {"w": {"type": "string"}}}, strict=True),
        get_weather,
        {"type": "function", "function": {"name": "f", "description": "d", "parameters": {"type": "object"}}},
        {"name": "g", "description": "anthropic shape", "input_schema": {"type": "object"}},
        {"type": "web_search"},
    ]
    sent = body(tools=tools)["tools"]
    assert sent[0] == {
        "type": "function",
        "function": {
            "name": "lookup",
            "description": "Look a word up",
            "parameters": {"type": "object", "properties": {"w": {"type": "string"}}},
            "strict": True,
        },
    }
    assert sent[1]["function"]["name"] == "get_weather"
    assert sent[1]["function"]["parameters"]["required"] == ["city"]
    assert sent[2] == {
        "type": "function",
        "function": {"name": "f", "description": "d", "parameters": {"type": "object"}},
    }
    assert sent[3]["function"] == {"name": "g", "description": "anthropic shape", "parameters": {"type": "object"}}
    assert sent[4] == {"type": "web_search"}


def test_sampling_params_map_one_to_one():
    params = {
        "temperature": 0.2,
        "top_p": 0.9,
        "max_tokens": 50,
        "stop": ["\n"],
        "n": 2,
        "logprobs": True,
        "top_logprobs": 3,
    }
    assert {k: v for k, v in body(params=params).items() if k != "messages"} == params
    assert body(params={"stop": "END"})["stop"] == "END"


def test_top_logprobs_turns_logprobs_on():
    sent = body(params={"top_logprobs": 2})
    assert (sent["logprobs"], sent["top_logprobs"]) == (True, 2)


@pytest.mark.parametrize(
    ("reasoning", "expected"),
    [
        ("low", {"reasoning_effort": "low"}),
        ("medium", {"reasoning_effort": "medium"}),
        ("High", {"reasoning_effort": "high"}),
        ("max", {"reasoning_effort": "max"}),
        (2000, {"thinking": {"type": "enabled", "budget_tokens": 2000}}),
        ("4000", {"thinking": {"type": "enabled", "budget_tokens": 4000}}),
        (True, {"thinking": {"type": "enabled"}}),
        ({"type": "disabled"}, {"thinking": {"type": "disabled"}}),
        (None, {}),
        (False, {}),
        (0, {}),
    ],
)
def test_reasoning(reasoning, expected):
    sent = body(params={"reasoning": reasoning})
    assert {k: v for k, v in sent.items() if k != "messages"} == expected


def test_unknown_reasoning_effort_is_refused():
    with pytest.raises(UnsupportedError, match="reasoning"):
        body(params={"reasoning": "extreme"})


def test_json_mode_and_schemas():
    assert body(params={"json": True})["response_format"] == {"type": "json_object"}
    assert "response_format" not in body(params={"json": False})
    schema = {"type": "object", "properties": {"x": {"type": "integer"}}}
    assert body(params={"schema": schema})["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "reply", "schema": schema, "strict": False},
    }
    wrapped = {"name": "point", "schema": schema, "strict": True}
    assert body(params={"schema": wrapped})["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "point", "schema": schema, "strict": True},
    }
    with pytest.raises(UnsupportedError):
        body(params={"schema": "not a schema"})


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        ("auto", "auto"),
        ("none", "none"),
        ("required", "required"),
        ("get_weather", {"type": "function", "function": {"name": "get_weather"}}),
        ({"type": "function", "function": {"name": "x"}}, {"type": "function", "function": {"name": "x"}}),
    ],
)
def test_tool_choice(choice, expected):
    assert body(params={"tool_choice": choice})["tool_choice"] == expected


def test_passthrough_params_come_last_and_win():
    sent = body(
        params={"json": True, "response_format": {"type": "text"}, "frequency_penalty": 0.5, "user": "u1", "seed": None}
    )
    assert sent["response_format"] == {"type": "text"}
    assert (sent["frequency_penalty"], sent["user"]) == (0.5, "u1")
    assert "seed" not in sent
    assert list(sent)[-2:] == ["frequency_penalty", "user"]


# ------------------------------------------------------------------------------ replies

DEEPSEEK_REPLY = {
    "id": "chatcmpl-lHhTva9flc1dlUBqu4pPADmq",
    "choices": [
        {
            "index": 0,
            "message": {
                "role": "assistant",
                "content": "Hello! How can I help you today?",
                "reasoning_content": "The user said Hi.",
            },
            "finish_reason": "stop",
            "native_finish_reason": "stop",
        }
    ],
    "created": 1780299859,
    "model": "MaaS_Deepseek_V4_pro_20260424",
    "object": "chat.completion",
    "usage": {
        "prompt_tokens": 10,
        "completion_tokens": 68,
        "total_tokens": 78,
        "completion_tokens_details": {"reasoning_tokens": 58},
        "prompt_tokens_details": {"cached_tokens": 0},
        "prompt_cache_hit_tokens": 6,
        "prompt_cache_miss_tokens": 4,
    },
}


def test_deepseek_reply_with_reasoning_and_usage():
    reply = chat.parse_reply(DEEPSEEK_REPLY)
    assert (reply.protocol, reply.id, reply.model) == (
        "chat",
        "chatcmpl-lHhTva9flc1dlUBqu4pPADmq",
        DEEPSEEK_REPLY["model"],
    )
    assert reply.text == "Hello! How can I help you today?"
    assert reply.reasoning == "The user said Hi."
    assert (reply.finish_reason, reply.native_finish_reason) == ("stop", "stop")
    assert reply.usage.to_dict() == {"input": 10, "output": 68, "reasoning": 58, "cached": 6, "total": 78}
    assert reply.usage.raw is DEEPSEEK_REPLY["usage"]
    assert reply.raw is DEEPSEEK_REPLY
    assert reply.logprobs is None


def test_openai_usage_and_computed_total():
    usage = chat_usage({"prompt_tokens": 20, "completion_tokens": 5, "prompt_tokens_details": {"cached_tokens": 16}})
    assert usage.to_dict() == {"input": 20, "output": 5, "reasoning": None, "cached": 16, "total": 25}


def test_the_gateway_messages_quirk():
    data = {
        "choices": [
            {
                "finish_reason": "stop",
                "index": 0,
                "logprobs": None,
                "messages": [{"role": "assistant", "content": "I'm doing well, thank you for asking."}],
            }
        ],
        "created": 1632345678,
        "model": "gpt-4-turbo",
        "object": None,
        "system_fingerprint": None,
        "usage": {"completion_tokens": 100, "prompt_tokens": 20, "total_tokens": 120},
    }
    reply = chat.parse_reply(data)
    assert reply.text == "I'm doing well, thank you for asking."
    assert reply.id is None
    assert reply.usage.to_dict() == {"input": 20, "output": 100, "reasoning": None, "cached": None, "total": 120}


def test_tool_calls_with_null_content_and_missing_usage():
    data = {
        "id": "x",
        "model": "m",
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": None,
                    "function_call": None,
                    "tool_calls": [
                        {"id": "call_a", "type": "function", "function": {"name": "f", "arguments": '{"q": "x"}'}},
                        {"id": "call_b", "type": "function", "function": {"name": "g", "arguments": "not json"}},
                        {"id": "call_c", "type": "function", "function": {"name": "h", "arguments": ""}},
                    ],
                },
                "finish_reason": "tool_calls",
                "unknown_field": 1,
            }
        ],
    }
    reply = chat.parse_reply(data)
    assert reply.text == ""
    assert reply.finish_reason == "tool_calls"
    assert [(c.id, c.name, c.arguments, c.raw_arguments) for c in reply.tool_calls] == [
        ("call_a", "f", {"q": "x"}, '{"q": "x"}'),
        ("call_b", "g", "not json", "not json"),
        ("call_c", "h", {}, ""),
    ]
    assert reply.usage.to_dict() == {"input": None, "output": None, "reasoning": None, "cached": None, "total": None}
    assert reply.usage.raw is None


def test_legacy_function_call():
    data = {"choices": [{"message": {"content": None, "function_call": {"name": "f", "arguments": "{}"}},
                         "finish_reason": "function_call"}]}  # fmt: skip
    reply = chat.parse_reply(data)
    assert [(c.id, c.name, c.arguments) for c in reply.tool_calls] == [("call_0", "f", {})]
    assert reply.finish_reason == "tool_calls"


def test_several_choices():
    data = {
        "choices": [
            {"index": 0, "message": {"content": "red"}, "finish_reason": "stop"},
            {"index": 1, "message": {"content": "blue"}, "finish_reason": "length"},
        ]
    }
    reply = chat.parse_reply(data)
    assert [(c.index, c.text, c.finish_reason) for c in reply.choices] == [(0, "red", "stop"), (1, "blue", "length")]


def test_logprobs():
    data = {
        "choices": [
            {
                "index": 0,
                "message": {"content": "Hi!"},
                "finish_reason": "stop",
                "logprobs": {
                    "content": [
                        {"token": "Hi", "logprob": -0.1, "bytes": [72, 105],
                         "top_logprobs": [{"token": "Hi", "logprob": -0.1}, {"token": "Hello", "logprob": -2.5}]},
                        {"token": "!", "logprob": -0.01, "bytes": [33], "top_logprobs": []},
                    ],
                    "refusal": None,
                },
            }
        ]
    }  # fmt: skip
    lp = chat.parse_reply(data).logprobs
    assert [(t.token, t.logprob) for t in lp] == [("Hi", -0.1), ("!", -0.01)]
    assert [(t.token, t.logprob) for t in lp[0].top] == [("Hi", -0.1), ("Hello", -2.5)]
    assert lp[1].top == ()


@pytest.mark.parametrize(
    ("native", "normalized"),
    [
        ("stop", "stop"),
        ("length", "length"),
        ("tool_calls", "tool_calls"),
        ("function_call", "tool_calls"),
        ("content_filter", "content_filter"),
        ("insufficient_system_resource", "error"),
        ("something_new", "other"),
        (None, None),
    ],
)
def test_finish_reasons(native, normalized):
    reply = chat.parse_reply({"choices": [{"message": {"content": "x"}, "finish_reason": native}]})
    assert (reply.finish_reason, reply.native_finish_reason) == (normalized, native)


def test_content_as_a_list_of_parts():
    data = {"choices": [{"message": {"content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]}}]}
    assert chat.parse_reply(data).text == "ab"


@pytest.mark.parametrize(
    ("data", "match"),
    [
        ([1, 2], "JSON object"),
        ("oops", "JSON object"),
        ({"error": {"message": "model overloaded", "code": "busy"}}, "model overloaded"),
        ({"id": "x"}, "choices"),
    ],
)
def test_malformed_replies(data, match):
    with pytest.raises(MalformedReplyError, match=match):
        chat.parse_reply(data)


def test_reply_to_message_round_trip():
    data = {
        "choices": [
            {
                "message": {
                    "content": None,
                    "reasoning_content": "need the tool",
                    "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": '{"a":1}'}}],
                },
                "finish_reason": "tool_calls",
            }
        ]
    }
    turn = chat.parse_reply(data).to_message()
    sent = body([Message.user("go"), turn])["messages"][1]
    assert sent == {
        "role": "assistant",
        "content": None,
        "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": '{"a":1}'}}],
        "reasoning_content": "need the tool",
    }


# ------------------------------------------------------------------------------ streams


def test_text_stream_with_usage():
    usage = {"prompt_tokens": 9, "completion_tokens": 3, "total_tokens": 12}
    chunks = [
        chunk({"role": "assistant", "content": ""}),
        chunk({"content": "Hel"}),
        chunk({"content": "lo"}),
        chunk({}, finish="stop"),
        {"id": "chatcmpl-1", "object": "chat.completion.chunk", "model": "gpt-4o", "choices": [], "usage": usage},
    ]
    parser, events = feed_all(sse(*chunks, "[DONE]"))
    assert events[:2] == [TextDelta("Hel"), TextDelta("lo")]
    assert isinstance(events[2], UsageEvent)
    assert events[2].usage.to_dict() == {"input": 9, "output": 3, "reasoning": None, "cached": None, "total": 12}
    assert parser.done
    reply = parser.finish()
    assert (reply.text, reply.finish_reason, reply.id, reply.model, reply.incomplete) == (
        "Hello",
        "stop",
        "chatcmpl-1",
        "gpt-4o",
        False,
    )
    assert reply.usage.raw == usage
    assert isinstance(reply.raw, RawChunks)
    assert reply.raw == chunks
    assert len(reply.raw) == 5
    assert reply.raw[1]["choices"][0]["delta"] == {"content": "Hel"}
    assert list(reply.raw) == chunks


def test_usage_null_on_every_chunk_is_ignored():
    parser, events = feed_all(sse(chunk({"content": "a"}, usage=None), chunk({}, finish="stop", usage=None)))
    assert events == [TextDelta("a")]
    assert parser.finish().usage.input is None


def test_content_with_finish_reason_in_one_chunk():
    parser, events = feed_all(sse(chunk({"content": "all"}, finish="length"), "[DONE]"))
    assert events == [TextDelta("all")]
    assert parser.finish().finish_reason == "length"


def test_deepseek_reasoning_stream():
    chunks = [
        chunk({"role": "assistant", "content": None, "reasoning_content": ""}),
        chunk({"content": None, "reasoning_content": "Let me "}),
        chunk({"content": None, "reasoning_content": "think."}),
        chunk({"content": "42", "reasoning_content": None}),
        chunk({"content": "", "reasoning_content": None}, finish="stop",
              usage={"prompt_tokens": 5, "completion_tokens": 20, "total_tokens": 25,
                     "completion_tokens_details": {"reasoning_tokens": 15}, "prompt_cache_hit_tokens": 0}),
    ]  # fmt: skip
    parser, events = feed_all(sse(*chunks, "[DONE]"))
    assert events[:3] == [ReasoningDelta("Let me "), ReasoningDelta("think."), TextDelta("42")]
    reply = parser.finish()
    assert (reply.reasoning, reply.text) == ("Let me think.", "42")
    assert reply.usage.to_dict() == {"input": 5, "output": 20, "reasoning": 15, "cached": 0, "total": 25}


def test_reasoning_under_the_other_common_name():
    _, events = feed_all(sse(chunk({"reasoning": "hmm"})))
    assert events == [ReasoningDelta("hmm")]


def test_tool_call_fragments_are_assembled_per_call():
    def tc(index, id=None, name=None, args=""):
        frag = {"index": index, "function": {"arguments": args}}
        if id:
            frag.update(id=id, type="function")
            frag["function"]["name"] = name
        return chunk({"tool_calls": [frag]})

    chunks = [
        chunk({"role": "assistant", "content": None}),
        tc(0, "call_a", "get_weather", ""),
        tc(0, args='{"ci'),
        tc(1, "call_b", "get_time", ""),
        tc(0, args='ty": "Oslo"}'),
        tc(1, args='{"tz": "CET"}'),
        chunk({}, finish="tool_calls"),
    ]
    parser, events = feed_all(sse(*chunks, "[DONE]"))
    assert events[0] == ToolCallDelta(0, "call_a", "get_weather", "", 0)
    assert events[1] == ToolCallDelta(0, None, None, '{"ci', 0)
    reply = parser.finish()
    assert reply.finish_reason == "tool_calls"
    assert [(c.id, c.name, c.arguments, c.raw_arguments) for c in reply.tool_calls] == [
        ("call_a", "get_weather", {"city": "Oslo"}, '{"city": "Oslo"}'),
        ("call_b", "get_time", {"tz": "CET"}, '{"tz": "CET"}'),
    ]


def test_tool_calls_without_index():
    frag = {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": '{"a": 1}'}}
    frag2 = {"id": "call_2", "type": "function", "function": {"name": "g", "arguments": "{}"}}
    parser, _ = feed_all(sse(chunk({"tool_calls": [frag, frag2]}), chunk({}, finish="tool_calls"), "[DONE]"))
    assert [(c.id, c.name, c.arguments) for c in parser.finish().tool_calls] == [
        ("call_1", "f", {"a": 1}),
        ("call_2", "g", {}),
    ]


def test_parallel_calls_reusing_index_zero_are_kept_apart():
    frag = {"index": 0, "id": "call_1", "function": {"name": "f", "arguments": "{}"}}
    frag2 = {"index": 0, "id": "call_2", "function": {"name": "g", "arguments": "{}"}}
    parser, _ = feed_all(sse(chunk({"tool_calls": [frag]}), chunk({"tool_calls": [frag2]}), "[DONE]"))
    assert [c.id for c in parser.finish().tool_calls] == ["call_1", "call_2"]


def test_several_choices_interleaved():
    chunks = [
        chunk({"role": "assistant", "content": ""}, index=0),
        chunk({"role": "assistant", "content": ""}, index=1),
        chunk({"content": "re"}, index=0),
        chunk({"content": "bl"}, index=1),
        chunk({"content": "d"}, index=0),
        chunk({"content": "ue"}, index=1),
        chunk({}, index=1, finish="length"),
        chunk({}, index=0, finish="stop"),
    ]
    parser, events = feed_all(sse(*chunks, "[DONE]"))
    assert events[0] == TextDelta("re", 0)
    assert events[1] == TextDelta("bl", 1)
    reply = parser.finish()
    assert [(c.index, c.text, c.finish_reason) for c in reply.choices] == [(0, "red", "stop"), (1, "blue", "length")]


def test_stream_logprobs():
    lp = {"content": [{"token": "Hi", "logprob": -0.5, "top_logprobs": [{"token": "Hi", "logprob": -0.5}]}]}
    c = chunk({"content": "Hi"})
    c["choices"][0]["logprobs"] = lp
    parser, events = feed_all(sse(c, "[DONE]"))
    assert events == [TextDelta("Hi")]
    logprobs = parser.finish().logprobs
    assert [(t.token, t.logprob, len(t.top)) for t in logprobs] == [("Hi", -0.5, 1)]


def test_error_in_mid_stream_keeps_the_partial_text():
    events = sse(chunk({"content": "partial "}), chunk({"content": "answer"}),
                 {"error": {"message": "upstream timed out", "type": "server_error", "code": "timeout"}})  # fmt: skip
    parser = chat.stream_parser()
    parser.feed(events[0])
    parser.feed(events[1])
    with pytest.raises(StreamError) as info:
        parser.feed(events[2])
    err = info.value
    assert err.message == "upstream timed out"
    assert err.code == "timeout"
    assert err.partial.text == "partial answer"
    assert err.partial.incomplete is True
    assert err.partial.raw[-1]["error"]["code"] == "timeout"


def test_error_with_an_empty_choices_list():
    parser = chat.stream_parser()
    with pytest.raises(StreamError, match="boom"):
        parser.feed(ServerSentEvent(json.dumps({"choices": [], "error": {"message": "boom"}})))


def test_missing_done_marker_means_incomplete():
    parser, _ = feed_all(sse(chunk({"content": "cut"})))
    assert not parser.done
    reply = parser.finish()
    assert (reply.text, reply.incomplete) == ("cut", True)


def test_empty_data_and_filter_chunks_are_ignored():
    filters = {"choices": [], "prompt_filter_results": [{"prompt_index": 0}], "id": "", "model": ""}
    parser, events = feed_all(
        [ServerSentEvent(""), *sse(filters, chunk({"content": "x"})), ServerSentEvent(" [DONE] \n")]
    )
    assert events == [TextDelta("x")]
    assert parser.done
    assert parser.finish().id == "chatcmpl-1"


def test_non_json_data_is_malformed():
    parser = chat.stream_parser()
    parser.feed(ServerSentEvent(json.dumps(chunk({"content": "so far"}))))
    with pytest.raises(MalformedReplyError) as info:
        parser.feed(ServerSentEvent("<html>502</html>"))
    assert info.value.partial.text == "so far"
    with pytest.raises(MalformedReplyError):
        chat.stream_parser().feed(ServerSentEvent("[1, 2]"))


def test_nothing_streamed():
    reply = chat.stream_parser().finish()
    assert (reply.choices, reply.text, reply.incomplete, len(reply.raw)) == ([], "", True, 0)


def test_odd_chunk_shapes_are_tolerated():
    odd = [
        ServerSentEvent(' {"choices": [{"index": 0, "delta": {"content": "a"}}]}\r'),  # whitespace around the JSON
        *sse(
            {"choices": None, "usage": {"prompt_tokens": 1, "completion_tokens": 1}},
            {"choices": ["not a choice"]},
            {"choices": [{"index": 0, "delta": "not a delta", "logprobs": "n/a"}]},
            {"choices": [{"index": 0, "delta": {"content": ["not", "text"], "tool_calls": ["x"]}}]},
            chunk({"content": "b"}),
        ),
    ]
    parser, events = feed_all(odd)
    assert [e.text for e in events if isinstance(e, TextDelta)] == ["a", "b"]
    reply = parser.finish()
    assert (reply.text, reply.usage.total, len(reply.raw)) == ("ab", 2, 6)


def test_a_refusal_is_the_text_and_a_content_filter_finish() -> None:
    from cloudsway_nb.protocols.chat import ChatAdapter

    reply = ChatAdapter().parse_reply({"choices": [{"index": 0, "finish_reason": "stop", "message": {
        "role": "assistant", "content": None, "refusal": "I can't help with that."}}]})
    assert (reply.text, reply.finish_reason, reply.native_finish_reason) == (
        "I can't help with that.", "content_filter", "stop")


def test_reasoning_efforts_follow_the_model_behind_a_chat_endpoint() -> None:
    """DeepSeek takes only high and max (003); Claude and Gemini behind chat take a budget (000)."""
    from cloudsway_nb.protocols.base import CallSpec as Spec

    def body(model: str | None, effort: str) -> dict:
        return ChatAdapter().build_request(Spec([Message.user("hi")], "p", model=model,
                                                params={"reasoning": effort})).json

    assert body("MaaS_Deepseek_V4_pro_20260424", "low") | {} == {
        "model": "MaaS_Deepseek_V4_pro_20260424", "messages": [{"role": "user", "content": "hi"}],
        "thinking": {"type": "enabled"}, "reasoning_effort": "high"}
    assert body("deepseek-reasoner", "max")["reasoning_effort"] == "max"
    assert body("claude-3-7-sonnet-20250219", "medium")["thinking"] == {"type": "enabled", "budget_tokens": 4096}
    assert "reasoning_effort" not in body("gemini-2.5-pro", "low")
    assert body("gpt-5", "minimal")["reasoning_effort"] == "minimal" and "thinking" not in body("gpt-5", "low")


def test_a_system_prompt_may_be_text_blocks_with_cache_control() -> None:
    from cloudsway_nb.protocols.base import CallSpec as Spec
    from cloudsway_nb.protocols.messages import MessagesAdapter

    blocks = [{"type": "text", "text": "You are terse.", "cache_control": {"type": "ephemeral"}}]
    sent = MessagesAdapter().build_request(Spec([Message.user("hi")], "p", system=blocks)).json
    assert sent["system"] == blocks  # as given: cache_control kept
    assert ChatAdapter().build_request(Spec([Message.user("hi")], "p", system=blocks)).json["messages"][0] == {
        "role": "system", "content": blocks}
