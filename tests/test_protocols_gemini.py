"""GeminiAdapter (generateContent): request bodies, replies and `?alt=sse` streams from hand-written fixtures."""

from __future__ import annotations

import json
from typing import Any

import pytest
from recorded import load_json

from cloudsway_nb.errors import MalformedReplyError, StreamError, UnsupportedError, UsageError
from cloudsway_nb.protocols import get_adapter
from cloudsway_nb.protocols.base import CallSpec, ServerSentEvent
from cloudsway_nb.protocols.gemini import GeminiAdapter, camel_case
from cloudsway_nb.types import (
    Attachment,
    Message,
    ReasoningDelta,
    TextDelta,
    TokenLogprob,
    Tool,
    ToolCall,
    ToolCallDelta,
    TopLogprob,
    Usage,
    UsageEvent,
)

ADAPTER = GeminiAdapter()
PNG = b"\x89PNG\r\n\x1a\nfake"


def build(messages: list[Message] | None = None, **kw: Any) -> dict[str, Any]:
    spec = CallSpec(messages=messages or [Message.user("hi")], endpoint_path="ge/flash", **kw)
    return ADAPTER.build_request(spec).json


def chunk(data: dict[str, Any]) -> ServerSentEvent:
    return ServerSentEvent(data=json.dumps(data))


# ---------------------------------------------------------------------------------------------
# requests
# ---------------------------------------------------------------------------------------------


def test_registered_under_its_name() -> None:
    assert isinstance(get_adapter("gemini"), GeminiAdapter)
    assert set(ADAPTER.media_kinds) >= {"image", "audio", "video", "document"}


def test_minimal_request_never_sends_the_model() -> None:
    spec = CallSpec(messages=[Message.user("hi")], endpoint_path="team/gemini-flash", model="gemini-2.5-flash")
    req = ADAPTER.build_request(spec)
    assert (req.method, req.path, req.params, req.stream) == (
        "POST",
        "/v1/ai/team/gemini-flash/generateContent",
        {},
        False,
    )
    assert req.json == {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}


def test_stream_request_uses_sse_endpoint() -> None:
    req = ADAPTER.build_request(CallSpec(messages=[Message.user("hi")], endpoint_path="ge/flash", stream=True))
    assert req.path == "/v1/ai/ge/flash/streamGenerateContent"
    assert req.params == {"alt": "sse"}
    assert req.stream is True
    assert "stream" not in req.json


def test_system_instruction_and_roles() -> None:
    body = build(
        [Message.system("be brief"), Message.user("hi"), Message.assistant("hello"), Message.user("bye")],
        system="You are a poet",
    )
    assert body["systemInstruction"] == {"parts": [{"text": "You are a poet\n\nbe brief"}]}
    assert body["contents"] == [
        {"role": "user", "parts": [{"text": "hi"}]},
        {"role": "model", "parts": [{"text": "hello"}]},
        {"role": "user", "parts": [{"text": "bye"}]},
    ]


def test_function_call_round_trip_turns() -> None:
    calls = [
        ToolCall(id="call_0_get_weather", name="get_weather", arguments={"city": "Oslo"}),
        ToolCall(id="call_1_get_time", name="get_time", arguments={}, raw_arguments="{}"),
    ]
    body = build(
        [
            Message.user("weather and time in Oslo?"),
            Message.assistant("", calls),
            Message.tool_result(calls[0], {"temp": 3, "sky": "snow"}),
            Message("tool", "12:00", tool_call_id="call_1_get_time"),  # name found from the call
            Message.user("thanks"),
        ]
    )
    assert body["contents"] == [
        {"role": "user", "parts": [{"text": "weather and time in Oslo?"}]},
        {
            "role": "model",
            "parts": [
                {"functionCall": {"name": "get_weather", "args": {"city": "Oslo"}}},
                {"functionCall": {"name": "get_time", "args": {}}},
            ],
        },
        {
            "role": "user",
            "parts": [
                {"functionResponse": {"name": "get_weather", "response": {"result": {"temp": 3, "sky": "snow"}}}},
                {"functionResponse": {"name": "get_time", "response": {"result": "12:00"}}},
            ],
        },
        {"role": "user", "parts": [{"text": "thanks"}]},
    ]


def test_tool_result_name_from_synthetic_id_and_missing_name() -> None:
    body = build([Message.user("x"), Message("tool", '"ok"', tool_call_id="call_3_lookup")])
    assert body["contents"][1]["parts"] == [{"functionResponse": {"name": "lookup", "response": {"result": "ok"}}}]
    with pytest.raises(UsageError, match="name"):
        build([Message.user("x"), Message("tool", "ok", tool_call_id="toolu_unknown")])


def test_native_parts_are_sent_back_verbatim_with_server_ids() -> None:
    native = [
        {"text": "Thinking about weather", "thought": True},
        {
            "functionCall": {"id": "fc_abc", "name": "get_weather", "args": {"city": "Oslo"}},
            "thoughtSignature": "CiQBVKhc7sig==",
        },
    ]
    turn = Message(
        "assistant",
        "",
        tool_calls=[ToolCall(id="fc_abc", name="get_weather", arguments={"city": "Oslo"})],
        native=native,
        native_protocol="gemini",
    )
    body = build([Message.user("weather?"), turn, Message("tool", "3C", tool_call_id="fc_abc")])
    assert body["contents"][1] == {"role": "model", "parts": native}
    assert body["contents"][2]["parts"] == [
        {"functionResponse": {"id": "fc_abc", "name": "get_weather", "response": {"result": "3C"}}}
    ]


def test_native_of_another_protocol_is_not_used() -> None:
    turn = Message("assistant", "hi", native=[{"type": "text", "text": "hi"}], native_protocol="messages")
    assert build([Message.user("x"), turn])["contents"][1] == {"role": "model", "parts": [{"text": "hi"}]}


def test_reply_to_message_round_trip_keeps_thought_signature() -> None:
    reply = ADAPTER.parse_reply(FUNCTION_CALL_REPLY)
    body = build([Message.user("weather?"), reply.to_message(), Message.tool_result(reply.tool_calls[0], "3C")])
    assert body["contents"][1]["parts"] == FUNCTION_CALL_REPLY["candidates"][0]["content"]["parts"]
    assert body["contents"][2]["parts"] == [{"functionResponse": {"name": "get_weather", "response": {"result": "3C"}}}]


# attachments ----------------------------------------------------------------------------------


def test_every_media_kind_inline_or_by_uri() -> None:
    png = Attachment(kind="image", mime_type="image/png", data=PNG)
    mp3 = Attachment(kind="audio", mime_type="audio/mpeg", data=b"ID3")
    mp4 = Attachment(kind="video", mime_type="video/mp4", url="gs://bucket/clip.mp4")
    pdf = Attachment(kind="document", mime_type="application/pdf", data=b"%PDF")
    data_url = Attachment(kind="image", mime_type="image/webp", url="data:image/webp;base64,UklGRg==")
    note = Attachment(kind="text", mime_type="text/plain", data=b"some notes")
    native = {"fileData": {"mimeType": "application/pdf", "fileUri": "files/abc"}}
    parts = build([Message.user(["describe", png, mp3, mp4, pdf, data_url, note, native])])["contents"][0]["parts"]
    assert parts == [
        {"text": "describe"},
        {"inlineData": {"mimeType": "image/png", "data": png.base64()}},
        {"inlineData": {"mimeType": "audio/mpeg", "data": mp3.base64()}},
        {"fileData": {"mimeType": "video/mp4", "fileUri": "gs://bucket/clip.mp4"}},
        {"inlineData": {"mimeType": "application/pdf", "data": pdf.base64()}},
        {"inlineData": {"mimeType": "image/webp", "data": "UklGRg=="}},
        {"text": "some notes"},
        native,
    ]


def test_bad_part_type_is_a_usage_error() -> None:
    with pytest.raises(UsageError):
        build([Message.user([3.14])])  # type: ignore[list-item]


# tools ---------------------------------------------------------------------------------------


def test_tools_become_one_function_declarations_entry() -> None:
    def get_weather(city: str, days: int = 1) -> str:
        """Weather forecast for a city."""
        return "sunny"

    anthropic_style = {
        "name": "lookup",
        "description": "Look up",
        "input_schema": {"type": "object", "properties": {"q": {"type": "string"}}},
    }
    body = build(
        tools=[
            get_weather,
            Tool(name="now", description="Current time"),
            anthropic_style,
            {"googleSearch": {}},
            {"type": "web_search"},
        ]
    )
    assert body["tools"] == [
        {
            "functionDeclarations": [
                {
                    "name": "get_weather",
                    "description": "Weather forecast for a city.",
                    "parameters": {
                        "type": "object",
                        "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
                        "required": ["city"],
                    },
                },
                {"name": "now", "description": "Current time"},  # no empty OBJECT schema: Gemini rejects it
                {"name": "lookup", "description": "Look up", "parameters": anthropic_style["input_schema"]},
            ]
        },
        {"googleSearch": {}},
        {"type": "web_search"},
    ]


def test_no_tools_key_without_tools() -> None:
    assert "tools" not in build()


@pytest.mark.parametrize(
    ("choice", "config"),
    [
        ("auto", {"functionCallingConfig": {"mode": "AUTO"}}),
        ("none", {"functionCallingConfig": {"mode": "NONE"}}),
        ("required", {"functionCallingConfig": {"mode": "ANY"}}),
        ("get_weather", {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["get_weather"]}}),
        (
            {"type": "function", "function": {"name": "f"}},
            {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["f"]}},
        ),
        ({"functionCallingConfig": {"mode": "VALIDATED"}}, {"functionCallingConfig": {"mode": "VALIDATED"}}),
    ],
)
def test_tool_choice_is_a_top_level_tool_config(choice: Any, config: dict[str, Any]) -> None:
    body = build(params={"tool_choice": choice})
    assert body["toolConfig"] == config
    assert "toolConfig" not in body.get("generationConfig", {})


# common params ---------------------------------------------------------------------------------


def test_generation_config_mapping() -> None:
    body = build(params={"temperature": 0.8, "top_p": 0.9, "max_tokens": 3000, "stop": "history", "n": 2})
    assert body["generationConfig"] == {
        "temperature": 0.8,
        "topP": 0.9,
        "maxOutputTokens": 3000,
        "stopSequences": ["history"],
        "candidateCount": 2,
    }
    assert build(params={"stop": ["a", "b"]})["generationConfig"] == {"stopSequences": ["a", "b"]}


def test_no_generation_config_when_nothing_is_set() -> None:
    assert "generationConfig" not in build()


@pytest.mark.parametrize(
    ("reasoning", "thinking"),
    [
        ("low", {"includeThoughts": True, "thinkingBudget": 1024}),
        ("medium", {"includeThoughts": True, "thinkingBudget": 4096}),
        ("high", {"includeThoughts": True, "thinkingBudget": 16384}),
        ("max", {"includeThoughts": True, "thinkingBudget": -1}),
        (2048, {"includeThoughts": True, "thinkingBudget": 2048}),
        (0, {"thinkingBudget": 0}),
        ({"thinkingLevel": "high"}, {"thinkingLevel": "high"}),
    ],
)
def test_reasoning_becomes_thinking_config(reasoning: Any, thinking: dict[str, Any]) -> None:
    assert build(params={"reasoning": reasoning})["generationConfig"]["thinkingConfig"] == thinking


@pytest.mark.parametrize("off", [None, False])
def test_reasoning_off_is_omitted(off: Any) -> None:
    assert "generationConfig" not in build(params={"reasoning": off})


def test_unknown_effort_is_unsupported() -> None:
    with pytest.raises(UnsupportedError):
        build(params={"reasoning": "extreme"})


def test_logprobs_json_and_schema() -> None:
    assert build(params={"logprobs": True, "top_logprobs": 3})["generationConfig"] == {
        "responseLogprobs": True,
        "logprobs": 3,
    }
    assert build(params={"json": True})["generationConfig"] == {"responseMimeType": "application/json"}
    schema = {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}
    for given in (schema, {"name": "person", "schema": schema, "strict": True}):
        assert build(params={"schema": given})["generationConfig"] == {
            "responseMimeType": "application/json",
            "responseJsonSchema": schema,
        }


def test_passthrough_goes_to_generation_config_or_top_level() -> None:
    safety = [{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_NONE"}]
    body = build(
        params={
            "max_tokens": 100,
            "topK": 20,
            "candidate_count": 2,
            "response_mime_type": "text/x.enum",
            "seed": 7,
            "presencePenalty": 0.5,
            "maxOutputTokens": 200,  # overrides the mapped max_tokens
            "thinking_config": {"thinking_budget": 0},
            "safetySettings": safety,
            "tool_config": {"functionCallingConfig": {"mode": "AUTO"}},
            "cachedContent": "cachedContents/abc",
            "labels": {"team": "a"},
        }
    )
    assert body["generationConfig"] == {
        "maxOutputTokens": 200,
        "topK": 20,
        "candidateCount": 2,
        "responseMimeType": "text/x.enum",
        "seed": 7,
        "presencePenalty": 0.5,
        "thinkingConfig": {"thinking_budget": 0},
    }
    assert body["safetySettings"] == safety
    assert body["toolConfig"] == {"functionCallingConfig": {"mode": "AUTO"}}
    assert body["cachedContent"] == "cachedContents/abc"
    assert body["labels"] == {"team": "a"}
    assert "topK" not in body and "seed" not in body


def test_generation_config_dict_passthrough_merges() -> None:
    body = build(params={"temperature": 0.1, "generationConfig": {"top_k": 5, "temperature": 0.4}})
    assert body["generationConfig"] == {"temperature": 0.4, "topK": 5}


def test_camel_case() -> None:
    assert camel_case("max_output_tokens") == "maxOutputTokens"
    assert camel_case("topK") == "topK"


# ---------------------------------------------------------------------------------------------
# replies
# ---------------------------------------------------------------------------------------------

TEXT_REPLY: dict[str, Any] = {
    "candidates": [
        {
            "content": {
                "role": "model",
                "parts": [
                    {"text": "**Counting** I add the numbers.", "thought": True},
                    {"text": "The sum is 15.", "thoughtSignature": "CiQBVKhc7s=="},
                ],
            },
            "finishReason": "STOP",
            "avgLogprobs": -0.12,
        }
    ],
    "usageMetadata": {
        "promptTokenCount": 10,
        "candidatesTokenCount": 20,
        "thoughtsTokenCount": 30,
        "cachedContentTokenCount": 4,
        "totalTokenCount": 60,
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 10}],
    },
    "modelVersion": "gemini-2.5-flash",
    "responseId": "resp_9a8b",
}

FUNCTION_CALL_REPLY: dict[str, Any] = {
    "candidates": [
        {
            "content": {
                "role": "model",
                "parts": [
                    {
                        "functionCall": {"name": "get_weather", "args": {"city": "Oslo"}},
                        "thoughtSignature": "CiQBsig==",
                    },
                    {"functionCall": {"name": "get_time", "args": {"tz": "CET"}}},
                    {"functionCall": {"id": "fc_7", "name": "lookup"}},
                ],
            },
            "finishReason": "STOP",
            "index": 0,
        }
    ],
    "usageMetadata": {"promptTokenCount": 50, "candidatesTokenCount": 12, "totalTokenCount": 62},
    "modelVersion": "gemini-2.5-pro",
}


def test_parse_text_reply_with_thoughts() -> None:
    reply = ADAPTER.parse_reply(TEXT_REPLY)
    assert reply.protocol == "gemini"
    assert (reply.model, reply.id) == ("gemini-2.5-flash", "resp_9a8b")
    assert reply.text == "The sum is 15."
    assert reply.reasoning == "**Counting** I add the numbers."
    assert (reply.finish_reason, reply.native_finish_reason) == ("stop", "STOP")
    assert reply.choices[0].native == TEXT_REPLY["candidates"][0]["content"]["parts"]
    assert reply.raw is TEXT_REPLY


def test_usage_normalized_with_raw_kept() -> None:
    usage = ADAPTER.parse_reply(TEXT_REPLY).usage
    assert usage.to_dict() == {"input": 10, "output": 50, "reasoning": 30, "cached": 4, "total": 60}
    assert usage.raw == TEXT_REPLY["usageMetadata"]
    plain = ADAPTER.parse_reply(FUNCTION_CALL_REPLY).usage
    # counts Gemini's JSON leaves out are zero, as the other protocols report them (issue 11, point 19)
    assert plain.to_dict() == {"input": 50, "output": 12, "reasoning": 0, "cached": 0, "total": 62}


def test_missing_usage_is_all_unknown() -> None:
    reply = ADAPTER.parse_reply({"candidates": [{"content": {"parts": [{"text": "hi"}]}, "finishReason": "STOP"}]})
    assert reply.usage == Usage()
    assert reply.usage.total is None


def test_function_calls_get_deterministic_ids() -> None:
    reply = ADAPTER.parse_reply(FUNCTION_CALL_REPLY)
    assert (reply.finish_reason, reply.native_finish_reason) == ("tool_calls", "STOP")
    assert [(c.id, c.name, c.arguments) for c in reply.tool_calls] == [
        ("call_0_get_weather", "get_weather", {"city": "Oslo"}),
        ("call_1_get_time", "get_time", {"tz": "CET"}),
        ("fc_7", "lookup", {}),
    ]
    assert json.loads(reply.tool_calls[1].raw_arguments or "") == {"tz": "CET"}
    assert reply.text == ""
    # parsing again gives the same ids
    assert [c.id for c in ADAPTER.parse_reply(FUNCTION_CALL_REPLY).tool_calls] == [c.id for c in reply.tool_calls]


def test_several_candidates() -> None:
    data = {
        "candidates": [
            {"content": {"role": "model", "parts": [{"text": "Red"}]}, "finishReason": "STOP"},  # index 0 omitted
            {"content": {"role": "model", "parts": [{"text": "Blue"}]}, "finishReason": "MAX_TOKENS", "index": 1},
        ],
        "usageMetadata": {"promptTokenCount": 5, "candidatesTokenCount": 4, "totalTokenCount": 9},
    }
    reply = ADAPTER.parse_reply(data)
    assert [(c.index, c.text, c.finish_reason) for c in reply.choices] == [(0, "Red", "stop"), (1, "Blue", "length")]


def test_blocked_prompt() -> None:
    data = {
        "promptFeedback": {
            "blockReason": "SAFETY",
            "safetyRatings": [{"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH"}],
        },
        "usageMetadata": {"promptTokenCount": 8, "totalTokenCount": 8},
    }
    reply = ADAPTER.parse_reply(data)
    assert len(reply.choices) == 1
    assert (reply.finish_reason, reply.native_finish_reason, reply.text) == ("content_filter", "SAFETY", "")
    assert (reply.usage.input, reply.usage.output, reply.usage.total) == (8, None, 8)


@pytest.mark.parametrize(
    ("native", "normalized"),
    [
        ("STOP", "stop"),
        ("MAX_TOKENS", "length"),
        ("SAFETY", "content_filter"),
        ("RECITATION", "content_filter"),
        ("BLOCKLIST", "content_filter"),
        ("PROHIBITED_CONTENT", "content_filter"),
        ("SPII", "content_filter"),
        ("IMAGE_SAFETY", "content_filter"),
        ("MALFORMED_FUNCTION_CALL", "other"),
        ("LANGUAGE", "other"),
        ("OTHER", "other"),
        ("FINISH_REASON_UNSPECIFIED", "other"),
        (None, None),
    ],
)
def test_finish_reasons(native: str | None, normalized: str | None) -> None:
    candidate: dict[str, Any] = {"index": 0}  # a filtered candidate may come without content
    if native:
        candidate["finishReason"] = native
    reply = ADAPTER.parse_reply({"candidates": [candidate]})
    assert (reply.finish_reason, reply.native_finish_reason, reply.text) == (normalized, native, "")


def test_logprobs() -> None:
    data = {
        "candidates": [
            {
                "content": {"role": "model", "parts": [{"text": "Yes."}]},
                "finishReason": "STOP",
                "logprobsResult": {
                    "topCandidates": [
                        {
                            "candidates": [
                                {"token": "Yes", "logProbability": -0.01},
                                {"token": "No", "logProbability": -4.6},
                            ]
                        },
                        {"candidates": [{"token": "."}]},  # logProbability 0 is left out by proto3 JSON
                    ],
                    "chosenCandidates": [{"token": "Yes", "logProbability": -0.01}, {"token": "."}],
                },
            }
        ]
    }
    assert ADAPTER.parse_reply(data).logprobs == [
        TokenLogprob("Yes", -0.01, (TopLogprob("Yes", -0.01), TopLogprob("No", -4.6))),
        TokenLogprob(".", 0.0, (TopLogprob(".", 0.0),)),
    ]
    assert ADAPTER.parse_reply(TEXT_REPLY).logprobs is None


def test_snake_case_reply_is_tolerated() -> None:
    data = {
        "candidates": [
            {
                "content": {
                    "role": "model",
                    "parts": [
                        {"text": "plan", "thought": True, "thought_signature": "c2ln"},
                        {"function_call": {"name": "f", "args": {"x": 1}}},
                        {"inline_data": {"mime_type": "image/png", "data": "AAAA"}},
                    ],
                },
                "finish_reason": "STOP",
            }
        ],
        "usage_metadata": {
            "prompt_token_count": 3,
            "candidates_token_count": 4,
            "thoughts_token_count": 2,
            "total_token_count": 9,
        },
        "model_version": "gemini-x",
        "response_id": "r1",
    }
    reply = ADAPTER.parse_reply(data)
    assert reply.reasoning == "plan"
    assert [(c.id, c.arguments) for c in reply.tool_calls] == [("call_0_f", {"x": 1})]
    assert reply.finish_reason == "tool_calls"
    assert reply.usage.to_dict() == {"input": 3, "output": 6, "reasoning": 2, "cached": 0, "total": 9}
    assert (reply.model, reply.id) == ("gemini-x", "r1")


@pytest.mark.parametrize(
    "data",
    [
        "text",
        [1, 2],
        load_json("gemini/api_key_error.json"),
        {"choices": []},
        {"candidates": "nope"},
    ],
)
def test_malformed_replies(data: Any) -> None:
    with pytest.raises(MalformedReplyError):
        ADAPTER.parse_reply(data)


def test_error_body_keeps_message_and_status() -> None:
    with pytest.raises(MalformedReplyError, match="API key not valid") as info:
        ADAPTER.parse_reply(load_json("gemini/api_key_error.json"))
    assert info.value.code == "INVALID_ARGUMENT"


def test_a_json_array_of_chunks_is_assembled() -> None:
    reply = ADAPTER.parse_reply([c for c in TEXT_CHUNKS])
    assert reply.text == "Once upon a time."
    assert reply.incomplete is False


# ---------------------------------------------------------------------------------------------
# streams
# ---------------------------------------------------------------------------------------------

TEXT_CHUNKS: list[dict[str, Any]] = [
    {
        "candidates": [{"content": {"role": "model", "parts": [{"text": "Once"}]}, "index": 0}],
        "usageMetadata": {"promptTokenCount": 7, "candidatesTokenCount": 1, "totalTokenCount": 8},
        "modelVersion": "gemini-2.5-flash",
        "responseId": "r_stream",
    },
    {
        "candidates": [{"content": {"role": "model", "parts": [{"text": " upon a"}]}, "index": 0}],
        "usageMetadata": {"promptTokenCount": 7, "candidatesTokenCount": 3, "totalTokenCount": 10},
        "modelVersion": "gemini-2.5-flash",
        "responseId": "r_stream",
    },
    {
        "candidates": [
            {"content": {"role": "model", "parts": [{"text": " time."}]}, "finishReason": "STOP", "index": 0}
        ],
        "usageMetadata": {"promptTokenCount": 7, "candidatesTokenCount": 5, "totalTokenCount": 12},
        "modelVersion": "gemini-2.5-flash",
        "responseId": "r_stream",
    },
]


def run(chunks: list[dict[str, Any]]) -> tuple[Any, list[Any]]:
    parser = ADAPTER.stream_parser()
    out: list[Any] = []
    for c in chunks:
        out.extend(parser.feed(chunk(c)))
    return parser, out


def test_text_stream_with_cumulative_usage() -> None:
    parser, events = run(TEXT_CHUNKS)
    assert [e.text for e in events if isinstance(e, TextDelta)] == ["Once", " upon a", " time."]
    assert [e.usage.output for e in events if isinstance(e, UsageEvent)] == [1, 3, 5]
    assert parser.done is True
    reply = parser.finish()
    assert reply.text == "Once upon a time."
    assert (reply.finish_reason, reply.incomplete) == ("stop", False)
    assert reply.usage.to_dict() == {"input": 7, "output": 5, "reasoning": 0, "cached": 0, "total": 12}
    assert reply.usage.raw == TEXT_CHUNKS[-1]["usageMetadata"]
    assert (reply.model, reply.id, reply.protocol) == ("gemini-2.5-flash", "r_stream", "gemini")
    assert reply.raw == TEXT_CHUNKS
    assert reply.choices[0].native == [{"text": "Once upon a time."}]


def test_blank_data_and_crlf_framed_json_are_fine() -> None:
    parser = ADAPTER.stream_parser()
    assert parser.feed(ServerSentEvent(data="")) == []
    assert parser.feed(ServerSentEvent(data="\r\n")) == []
    events = parser.feed(ServerSentEvent(data=json.dumps(TEXT_CHUNKS[0]) + "\r"))
    assert isinstance(events[0], TextDelta)


def test_thought_stream_keeps_signature_in_native_parts() -> None:
    chunks = [
        {"candidates": [{"content": {"role": "model", "parts": [{"text": "Let me ", "thought": True}]}}]},
        {"candidates": [{"content": {"role": "model", "parts": [{"text": "think.", "thought": True}]}}]},
        {"candidates": [{"content": {"role": "model", "parts": [{"text": "Answer: "}]}}]},
        {"candidates": [{"content": {"role": "model", "parts": [{"text": "42"}]}}]},
        {
            "candidates": [
                {
                    "content": {"role": "model", "parts": [{"text": "", "thoughtSignature": "c2lnbmF0dXJl"}]},
                    "finishReason": "STOP",
                }
            ],
            "usageMetadata": {
                "promptTokenCount": 4,
                "candidatesTokenCount": 3,
                "thoughtsTokenCount": 9,
                "totalTokenCount": 16,
            },
        },
    ]
    parser, events = run(chunks)
    assert [e.text for e in events if isinstance(e, ReasoningDelta)] == ["Let me ", "think."]
    assert [e.text for e in events if isinstance(e, TextDelta)] == ["Answer: ", "42"]
    reply = parser.finish()
    assert (reply.reasoning, reply.text) == ("Let me think.", "Answer: 42")
    assert reply.choices[0].native == [
        {"text": "Let me think.", "thought": True},
        {"text": "Answer: 42", "thoughtSignature": "c2lnbmF0dXJl"},
    ]
    assert reply.usage.to_dict() == {"input": 4, "output": 12, "reasoning": 9, "cached": 0, "total": 16}


def test_function_call_stream() -> None:
    chunks = [
        {
            "candidates": [
                {
                    "content": {
                        "role": "model",
                        "parts": [
                            {
                                "functionCall": {"name": "get_weather", "args": {"city": "Oslo"}},
                                "thoughtSignature": "c2ln",
                            }
                        ],
                    }
                }
            ]
        },
        {
            "candidates": [
                {
                    "content": {"role": "model", "parts": [{"functionCall": {"name": "get_time", "args": {}}}]},
                    "finishReason": "STOP",
                }
            ]
        },
    ]
    parser, events = run(chunks)
    assert [e for e in events if isinstance(e, ToolCallDelta)] == [
        ToolCallDelta(0, id="call_0_get_weather", name="get_weather", arguments='{"city": "Oslo"}', index=0),
        ToolCallDelta(1, id="call_1_get_time", name="get_time", arguments="{}", index=0),
    ]
    reply = parser.finish()
    assert reply.finish_reason == "tool_calls"
    assert [(c.id, c.arguments) for c in reply.tool_calls] == [
        ("call_0_get_weather", {"city": "Oslo"}),
        ("call_1_get_time", {}),
    ]
    assert reply.choices[0].native == [
        {"functionCall": {"name": "get_weather", "args": {"city": "Oslo"}}, "thoughtSignature": "c2ln"},
        {"functionCall": {"name": "get_time", "args": {}}},
    ]


def test_several_candidates_interleaved() -> None:
    chunks = [
        {
            "candidates": [
                {"content": {"role": "model", "parts": [{"text": "Ro"}]}},
                {"content": {"role": "model", "parts": [{"text": "Vio"}]}, "index": 1},
            ]
        },
        {"candidates": [{"content": {"role": "model", "parts": [{"text": "ses"}]}, "finishReason": "STOP"}]},
        {"candidates": [{"content": {"role": "model", "parts": [{"text": "lets"}]}, "index": 1}]},
    ]
    parser, events = run(chunks)
    assert [(e.index, e.text) for e in events if isinstance(e, TextDelta)] == [
        (0, "Ro"),
        (1, "Vio"),
        (0, "ses"),
        (1, "lets"),
    ]
    assert parser.done is False  # candidate 1 has not finished
    parser.feed(
        chunk(
            {
                "candidates": [
                    {"content": {"role": "model", "parts": [{"text": "."}]}, "index": 1, "finishReason": "MAX_TOKENS"}
                ]
            }
        )
    )
    assert parser.done is True
    reply = parser.finish()
    assert [(c.index, c.text, c.finish_reason) for c in reply.choices] == [
        (0, "Roses", "stop"),
        (1, "Violets.", "length"),
    ]


def test_error_chunk_mid_stream_keeps_partial_text() -> None:
    parser = ADAPTER.stream_parser()
    parser.feed(chunk(TEXT_CHUNKS[0]))
    parser.feed(chunk(TEXT_CHUNKS[1]))
    with pytest.raises(StreamError) as info:
        parser.feed(chunk({"error": {"code": 503, "message": "The model is overloaded.", "status": "UNAVAILABLE"}}))
    assert info.value.message == "The model is overloaded."
    assert info.value.code == "UNAVAILABLE"
    partial = info.value.partial
    assert partial is not None
    assert (partial.text, partial.incomplete) == ("Once upon a", True)
    assert partial.usage.output == 3


def test_missing_finish_reason_is_incomplete() -> None:
    parser, _ = run(TEXT_CHUNKS[:2])
    assert parser.done is False
    reply = parser.finish()
    assert (reply.text, reply.incomplete, reply.finish_reason) == ("Once upon a", True, None)


def test_blocked_prompt_stream() -> None:
    parser, events = run(
        [
            {
                "promptFeedback": {"blockReason": "PROHIBITED_CONTENT"},
                "usageMetadata": {"promptTokenCount": 5, "totalTokenCount": 5},
            }
        ]
    )
    assert parser.done is True
    assert [type(e) for e in events] == [UsageEvent]
    reply = parser.finish()
    assert (reply.finish_reason, reply.native_finish_reason, reply.incomplete) == (
        "content_filter",
        "PROHIBITED_CONTENT",
        False,
    )


def test_usage_only_trailing_chunk_keeps_done() -> None:
    trailing = {"usageMetadata": {"promptTokenCount": 7, "candidatesTokenCount": 6, "totalTokenCount": 13}}
    parser, _ = run([*TEXT_CHUNKS, trailing])
    reply = parser.finish()
    assert (reply.incomplete, reply.usage.total, reply.text) == (False, 13, "Once upon a time.")


def test_non_json_chunk_is_malformed() -> None:
    with pytest.raises(MalformedReplyError):
        ADAPTER.stream_parser().feed(ServerSentEvent(data="<html>bad gateway</html>"))


def _piece(text: Any, index: Any = 0, **candidate: Any) -> dict[str, Any]:
    """A chunk of one candidate with one part, `text` (a dict: the part itself), and usage."""
    part = text if isinstance(text, dict) else {"text": text}
    body: dict[str, Any] = {"content": {"role": "model", "parts": [part]}, **candidate}
    if index is not None:
        body["index"] = index
    return {"candidates": [body], "usageMetadata": {"promptTokenCount": 2, "totalTokenCount": 2},
            "modelVersion": "gemini-2.5-flash", "responseId": "r1"}


FAST_PATH_STREAMS: dict[str, list[dict[str, Any]]] = {
    "plain": [_piece("a"), _piece("b"), _piece(""), _piece("c", finishReason="STOP")],
    "no index": [_piece("a", None), _piece("b", None), _piece("c", None, finishReason="STOP")],
    "null index": [{**_piece("a"), "candidates": [{"content": {"parts": [{"text": t}]}, "index": None}]}
                   for t in "abc"],
    "finish mid-way": [_piece("a"), _piece("b", finishReason="STOP"), _piece("c")],
    "thoughts then text": [_piece({"text": "t1", "thought": True}), _piece({"text": "t2", "thought": True}),
                           _piece({"text": "", "thoughtSignature": "sig"}), _piece("a"), _piece("b")],
    "text closed by a signature": [_piece("a"), _piece({"text": "b", "thoughtSignature": "s"}), _piece("c")],
    "a call between texts": [_piece("a"), _piece({"functionCall": {"name": "f", "args": {"x": 1}}}), _piece("b")],
    "two candidates": [_piece("a"), _piece("x", 1), _piece("b"), _piece("y", 1, finishReason="STOP"),
                       _piece("c", finishReason="STOP")],
    "extra keys": [_piece("a"), {**_piece("b"), "promptFeedback": {"blockReason": "SAFETY"}},
                   {**_piece("c"), "usage_metadata": {"promptTokenCount": 9}}, _piece("d", safetyRatings=[])],
    "snake case": [_piece("a"), {"candidates": [{"content": {"parts": [{"text": "b"}]}, "index": 0}],
                                 "usage_metadata": {"prompt_token_count": 3}, "model_version": "m2"}],
    "without usage or model": [_piece("a"), {"candidates": [{"content": {"parts": [{"text": "b"}]}, "index": 0}]},
                               {**_piece("c"), "modelVersion": "", "responseId": None}],
    "logprobs": [_piece("a"), _piece("b", logprobsResult={"chosenCandidates": [{"token": "b", "logProbability": -1}]})],
    "two parts": [_piece("a"), {"candidates": [{"content": {"parts": [{"text": "b"}, {"text": "c"}]}, "index": 0}]}],
}


@pytest.mark.parametrize("name", list(FAST_PATH_STREAMS))
def test_the_sse_hot_path_does_what_the_general_one_does(name: str) -> None:
    # feed_chunk (a decoded chunk) always takes the general path; feed (an SSE event) may take the hot one
    chunks = FAST_PATH_STREAMS[name]
    fast, general = ADAPTER.stream_parser(), ADAPTER.stream_parser()
    for c in chunks:
        assert fast.feed(chunk(c)) == general.feed_chunk(c)
        assert fast.done == general.done
    a, b = fast.finish(), general.finish()
    assert a.choices == b.choices and a.usage == b.usage and a.usage.raw == b.usage.raw
    assert (a.model, a.id, a.incomplete, a.raw) == (b.model, b.id, b.incomplete, b.raw)
