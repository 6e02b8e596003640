"""Tests for cloudsway_nb.protocols.responses (the OpenAI Responses API).

Fixtures: the JSON bodies marked DOC_* are copied from the gateway's page
(api-docs/002-responses-api.txt) into tests/fixtures/responses/doc_*.json; the SSE sequences are
written by hand from PROTOCOLS.md and the event shapes of openai-python's `types/responses/*_event.py`.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from recorded import load_json

import cloudsway_nb.protocols as protocols_pkg
from cloudsway_nb.errors import MalformedReplyError, StreamError, UnsupportedError, UsageError
from cloudsway_nb.protocols.base import CallSpec, HttpRequest, RawEvents, ServerSentEvent
from cloudsway_nb.protocols.responses import TERMINAL_STATUSES, ResponsesAdapter
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

# ---------------------------------------------------------------------------------------------
# fixtures from the gateway's documentation (the first four are one function-calling exchange)
# ---------------------------------------------------------------------------------------------

DOC_TOOL_REQUEST = load_json("responses/doc_tool_request.json")
DOC_TOOL_RESPONSE = load_json("responses/doc_tool_response.json")
DOC_TOOL_SECOND_REQUEST = load_json("responses/doc_tool_second_request.json")
DOC_TOOL_SECOND_RESPONSE = load_json("responses/doc_tool_second_response.json")
DOC_THINKING_RESPONSE = load_json("responses/doc_thinking_response.json")
DOC_MULTITURN_RESPONSE = load_json("responses/doc_multiturn_response.json")
DOC_PREVIOUS_ID_REQUEST = load_json("responses/doc_previous_id_request.json")
DOC_QUEUED_RESPONSE = load_json("responses/doc_queued_response.json")
DOC_CUSTOM_TOOL_REQUEST = load_json("responses/doc_custom_tool_request.json")

# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------

ADAPTER = ResponsesAdapter()
WEATHER_TOOL = Tool(
    name="get_current_weather",
    description="Get the current weather in a given location",
    parameters=DOC_TOOL_REQUEST["tools"][0]["parameters"],
)
PNG = b"\x89PNG\r\n\x1a\nfake"
PDF = b"%PDF-1.7 fake"


def build(*messages: Message | str, **kw: Any) -> HttpRequest:
    msgs = [Message.user(m) if isinstance(m, str) else m for m in messages]
    params = kw.pop("params", {})
    return ADAPTER.build_request(
        CallSpec(messages=msgs, endpoint_path=kw.pop("endpoint_path", "o3"), params=params, **kw)
    )


def body(*messages: Message | str, **kw: Any) -> dict[str, Any]:
    return build(*messages, **kw).json


def sse_stream(*specs: tuple[str, dict[str, Any]]) -> list[ServerSentEvent]:
    """SSE events `event: TYPE` + `data: {"type": TYPE, "sequence_number": N, ...}`."""
    return [
        ServerSentEvent(data=json.dumps({"type": kind, "sequence_number": n, **fields}), event=kind)
        for n, (kind, fields) in enumerate(specs)
    ]


def run(events: list[ServerSentEvent]) -> tuple[list[Any], Any]:
    parser = ADAPTER.stream_parser()
    out: list[Any] = []
    for e in events:
        out.extend(parser.feed(e))
    return out, parser


def texts(events: list[Any], kind: type) -> str:
    return "".join(e.text for e in events if isinstance(e, kind))


@pytest.fixture
def carriers(monkeypatch: pytest.MonkeyPatch) -> None:
    """check_attachment names the protocols that can carry a kind; stub that lookup so these
    tests do not depend on the other adapters."""
    table = {"audio": ["chat", "gemini"], "video": ["chat", "gemini"]}
    monkeypatch.setattr(protocols_pkg, "protocols_carrying", lambda kind: table.get(kind, []))


def response_obj(status: str = "in_progress", output: list[Any] | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "id": "resp_s1",
        "object": "response",
        "model": "MaaS-o3-mini-2025-01-31",
        "status": status,
        "output": output or [],
        "usage": None,
        "error": None,
        "incomplete_details": None,
        **extra,
    }


STREAM_USAGE = {
    "input_tokens": 12,
    "input_tokens_details": {"cached_tokens": 0},
    "output_tokens": 93,
    "output_tokens_details": {"reasoning_tokens": 64},
    "total_tokens": 105,
}
SUMMARY_1 = "**Simplifying an expression**\n\nThe user asks for 1 + 2 + n."
SUMMARY_2 = "n is unknown, so the answer is 3 + n."
REASONING_ITEM = {
    "id": "rs_1",
    "type": "reasoning",
    "summary": [{"type": "summary_text", "text": SUMMARY_1}, {"type": "summary_text", "text": SUMMARY_2}],
}
ANSWER = "1 + 2 + n = 3 + n"
MESSAGE_ITEM = {
    "id": "msg_1",
    "type": "message",
    "status": "completed",
    "role": "assistant",
    "content": [{"type": "output_text", "annotations": [], "text": ANSWER}],
}


def reasoning_text_events(completed: bool = True) -> list[ServerSentEvent]:
    """The stream of the doc's '1+2+n=?' call with reasoning summary: two summary parts, then text."""
    specs: list[tuple[str, dict[str, Any]]] = [
        ("response.created", {"response": response_obj()}),
        ("response.in_progress", {"response": response_obj()}),
        ("response.output_item.added", {"output_index": 0, "item": {"id": "rs_1", "type": "reasoning", "summary": []}}),
        (
            "response.reasoning_summary_part.added",
            {"item_id": "rs_1", "output_index": 0, "summary_index": 0, "part": {"type": "summary_text", "text": ""}},
        ),
        (
            "response.reasoning_summary_text.delta",
            {"item_id": "rs_1", "output_index": 0, "summary_index": 0, "delta": SUMMARY_1[:20]},
        ),
        (
            "response.reasoning_summary_text.delta",
            {"item_id": "rs_1", "output_index": 0, "summary_index": 0, "delta": SUMMARY_1[20:]},
        ),
        (
            "response.reasoning_summary_text.done",
            {"item_id": "rs_1", "output_index": 0, "summary_index": 0, "text": SUMMARY_1},
        ),
        (
            "response.reasoning_summary_part.done",
            {
                "item_id": "rs_1",
                "output_index": 0,
                "summary_index": 0,
                "part": {"type": "summary_text", "text": SUMMARY_1},
            },
        ),
        (
            "response.reasoning_summary_part.added",
            {"item_id": "rs_1", "output_index": 0, "summary_index": 1, "part": {"type": "summary_text", "text": ""}},
        ),
        (
            "response.reasoning_summary_text.delta",
            {"item_id": "rs_1", "output_index": 0, "summary_index": 1, "delta": SUMMARY_2},
        ),
        (
            "response.reasoning_summary_text.done",
            {"item_id": "rs_1", "output_index": 0, "summary_index": 1, "text": SUMMARY_2},
        ),
        ("response.output_item.done", {"output_index": 0, "item": REASONING_ITEM}),
        (
            "response.output_item.added",
            {
                "output_index": 1,
                "item": {"id": "msg_1", "type": "message", "status": "in_progress", "role": "assistant", "content": []},
            },
        ),
        (
            "response.content_part.added",
            {
                "item_id": "msg_1",
                "output_index": 1,
                "content_index": 0,
                "part": {"type": "output_text", "text": "", "annotations": []},
            },
        ),
        (
            "response.output_text.delta",
            {"item_id": "msg_1", "output_index": 1, "content_index": 0, "delta": "1 + 2 + n", "logprobs": []},
        ),
        (
            "response.output_text.delta",
            {"item_id": "msg_1", "output_index": 1, "content_index": 0, "delta": " = 3 + n", "logprobs": []},
        ),
        (
            "response.output_text.done",
            {"item_id": "msg_1", "output_index": 1, "content_index": 0, "text": ANSWER, "logprobs": []},
        ),
        (
            "response.content_part.done",
            {
                "item_id": "msg_1",
                "output_index": 1,
                "content_index": 0,
                "part": {"type": "output_text", "text": ANSWER, "annotations": []},
            },
        ),
        ("response.output_item.done", {"output_index": 1, "item": MESSAGE_ITEM}),
    ]
    if completed:
        final = response_obj("completed", [REASONING_ITEM, MESSAGE_ITEM], usage=STREAM_USAGE)
        specs.append(("response.completed", {"response": final}))
    return sse_stream(*specs)


CALL_ID = "call_8KWaObBBaHuJsbGcgEQ6OWFK"
ARG_PIECES = ['{"location":', '"Boston, MA",', '"unit":"fahrenheit"}']
FC_ITEM = {
    "id": "fc_1",
    "type": "function_call",
    "status": "completed",
    "arguments": "".join(ARG_PIECES),
    "call_id": CALL_ID,
    "name": "get_current_weather",
}


def function_call_events(final_output: list[Any] | None = None, completed: bool = True) -> list[ServerSentEvent]:
    started = {**FC_ITEM, "status": "in_progress", "arguments": ""}
    specs: list[tuple[str, dict[str, Any]]] = [
        ("response.created", {"response": response_obj()}),
        ("response.output_item.added", {"output_index": 0, "item": {"id": "rs_2", "type": "reasoning", "summary": []}}),
        ("response.output_item.done", {"output_index": 0, "item": {"id": "rs_2", "type": "reasoning", "summary": []}}),
        ("response.output_item.added", {"output_index": 1, "item": started}),
    ]
    for piece in ARG_PIECES:
        specs.append(("response.function_call_arguments.delta", {"item_id": "fc_1", "output_index": 1, "delta": piece}))
    specs.append(
        (
            "response.function_call_arguments.done",
            {"item_id": "fc_1", "output_index": 1, "arguments": FC_ITEM["arguments"]},
        )
    )
    if completed:
        specs.append(("response.output_item.done", {"output_index": 1, "item": FC_ITEM}))
        output = [{"id": "rs_2", "type": "reasoning", "summary": []}, FC_ITEM] if final_output is None else final_output
        specs.append(("response.completed", {"response": response_obj("completed", output, usage=STREAM_USAGE)}))
    return sse_stream(*specs)


# ---------------------------------------------------------------------------------------------
# requests
# ---------------------------------------------------------------------------------------------


def test_single_user_text_is_sent_as_a_string_input() -> None:
    req = build("1+2+n=?", model="gpt-o3-pro-2025-06-10", stream=True, params={"reasoning": "high"})
    assert req.method == "POST"
    assert req.path == "/v1/ai/o3/responses"
    assert req.stream is True
    # the doc's streaming request, with summary "auto"
    assert req.json == {
        "model": "gpt-o3-pro-2025-06-10",
        "input": "1+2+n=?",
        "stream": True,
        "reasoning": {"effort": "high", "summary": "auto"},
    }
    assert "stream_options" not in req.json


def test_endpoint_path_with_slashes_is_not_quoted_and_model_is_optional() -> None:
    req = build("hi", endpoint_path="openai/gpt-5/v2")
    assert req.path == "/v1/ai/openai/gpt-5/v2/responses"
    assert req.json == {"input": "hi"}
    assert req.stream is False
    assert "stream" not in req.json


def test_system_goes_to_instructions_and_input_becomes_a_list() -> None:
    b = body(
        Message.system("be brief"),
        Message("developer", "no emoji"),
        "hi",
        system="you are a calculator",
    )
    assert b["instructions"] == "you are a calculator\n\nbe brief\n\nno emoji"
    assert b["input"] == [{"role": "user", "content": [{"type": "input_text", "text": "hi"}]}]


def test_multi_turn_text_conversation() -> None:
    b = body("1+1等于多少", Message.assistant("1+1等于2。"), "继续加1等于多少")
    assert b["input"] == [
        {"role": "user", "content": [{"type": "input_text", "text": "1+1等于多少"}]},
        {"role": "assistant", "content": [{"type": "output_text", "text": "1+1等于2。"}]},
        {"role": "user", "content": [{"type": "input_text", "text": "继续加1等于多少"}]},
    ]


def test_previous_response_id_passes_through_verbatim() -> None:
    doc = DOC_PREVIOUS_ID_REQUEST
    b = body(
        doc["input"],
        model=doc["model"],
        params={"previous_response_id": doc["previous_response_id"], "reasoning": doc["reasoning"]},
    )
    assert b == doc  # a reasoning dict is sent verbatim


def test_background_adds_store_unless_given() -> None:
    b = body("1+2+n=?", stream=True, params={"background": True})
    assert b["background"] is True and b["store"] is True and b["stream"] is True
    b = body("1+2+n=?", params={"background": True, "store": False})
    assert b["store"] is False
    assert "store" not in body("x", params={"background": False})


def test_image_attachments_data_and_url() -> None:
    data_img = Attachment(kind="image", mime_type="image/png", data=PNG, detail="high")
    url = "https://upload.wikimedia.org/wikipedia/commons/thumb/d/dd/boardwalk.jpg"
    url_img = Attachment(kind="image", mime_type="image/jpeg", url=url)
    b = body(Message.user(["给我描述图里内容", data_img, url_img]))
    assert b["input"] == [
        {
            "role": "user",
            "content": [
                {"type": "input_text", "text": "给我描述图里内容"},
                {"type": "input_image", "image_url": data_img.data_url(), "detail": "high"},
                {"type": "input_image", "image_url": url},
            ],
        }
    ]
    assert b["input"][0]["content"][1]["image_url"].startswith("data:image/png;base64,")


def test_document_attachments_become_input_files() -> None:
    pdf = Attachment(kind="document", mime_type="application/pdf", data=PDF, filename="report.pdf")
    unnamed = Attachment(kind="document", mime_type="application/pdf", data=PDF)
    by_url = Attachment(kind="document", mime_type="application/pdf", url="https://x.test/a.pdf")
    parts = body(Message.user([pdf, unnamed, by_url]))["input"][0]["content"]
    assert parts[0] == {"type": "input_file", "filename": "report.pdf", "file_data": pdf.data_url()}
    assert parts[1] == {"type": "input_file", "filename": "document.pdf", "file_data": unnamed.data_url()}
    assert parts[2] == {"type": "input_file", "file_url": "https://x.test/a.pdf"}


def test_text_attachment_is_inlined_and_dict_parts_pass_verbatim() -> None:
    note = Attachment(kind="text", mime_type="text/plain", data="notes: ☃".encode())
    native = {"type": "input_image", "file_id": "file-123", "detail": "low"}
    parts = body(Message.user(["read:", note, native]))["input"][0]["content"]
    assert parts == [
        {"type": "input_text", "text": "read:"},
        {"type": "input_text", "text": "notes: ☃"},
        native,
    ]


@pytest.mark.parametrize("kind,mime", [("audio", "audio/mpeg"), ("video", "video/mp4")])
def test_audio_and_video_are_unsupported(carriers: None, kind: str, mime: str) -> None:
    att = Attachment(kind=kind, mime_type=mime, data=b"xx")  # type: ignore[arg-type]
    with pytest.raises(UnsupportedError) as info:
        body(Message.user(["listen", att]))
    assert f"responses protocol cannot carry {kind}" in str(info.value)
    assert "chat, gemini" in str(info.value)


def test_tools_are_rendered_flat_and_builtins_pass_verbatim() -> None:
    def lookup(city: str) -> str:
        """Find a city."""
        return city

    chat_style = {"type": "function", "function": {"name": "f", "description": "d", "parameters": {"type": "object"}}}
    strict_tool = Tool(name="g", parameters={"type": "object", "properties": {}}, strict=True)
    b = body(
        "hi",
        tools=[WEATHER_TOOL, lookup, chat_style, DOC_TOOL_REQUEST["tools"][0], strict_tool, {"type": "web_search"}],
    )
    tools = b["tools"]
    assert tools[0] == DOC_TOOL_REQUEST["tools"][0]
    assert tools[1] == {
        "type": "function",
        "name": "lookup",
        "description": "Find a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    }
    assert tools[2] == {"type": "function", "name": "f", "description": "d", "parameters": {"type": "object"}}
    assert tools[3] == DOC_TOOL_REQUEST["tools"][0]
    assert tools[4]["strict"] is True
    assert tools[5] == {"type": "web_search"}


def test_doc_tool_call_first_request() -> None:
    doc = DOC_TOOL_REQUEST
    b = body(doc["input"], model=doc["model"], tools=[WEATHER_TOOL], params={"tool_choice": "auto"})
    assert b == doc


def test_tool_call_round_trip_resends_native_items_verbatim() -> None:
    """The doc's second request: user turn, the reply's reasoning + function_call items, the output."""
    first = ADAPTER.parse_reply(copy.deepcopy(DOC_TOOL_RESPONSE))
    call = first.tool_calls[0]
    doc = DOC_TOOL_SECOND_REQUEST
    b = body(
        doc["input"][0]["content"],
        first.to_message(),
        Message.tool_result(call, "68"),
        model=doc["model"],
        tools=[WEATHER_TOOL],
    )
    assert b["model"] == doc["model"]
    assert b["tools"] == doc["tools"]
    user, reasoning, function_call, output = b["input"]
    assert user == {"role": "user", "content": [{"type": "input_text", "text": doc["input"][0]["content"]}]}
    assert reasoning == doc["input"][1]
    # verbatim: the server's item, which also carries "status"
    assert function_call == DOC_TOOL_RESPONSE["output"][1]
    assert {k: v for k, v in function_call.items() if k != "status"} == doc["input"][2]
    assert output == doc["input"][3]


def test_tool_call_round_trip_without_native_items() -> None:
    call = ToolCall(id=CALL_ID, name="get_current_weather", arguments={"location": "Boston, MA", "unit": "fahrenheit"})
    with_raw = ToolCall(id="call_2", name="noop", arguments={}, raw_arguments="{}")
    assistant = Message("assistant", "Let me check.", tool_calls=[call, with_raw], reasoning="thinking...")
    items = body("weather?", assistant, Message.tool_result(call, {"temp": 68}))["input"]
    assert items[1] == {"role": "assistant", "content": [{"type": "output_text", "text": "Let me check."}]}
    assert items[2] == {
        "type": "function_call",
        "call_id": CALL_ID,
        "name": "get_current_weather",
        "arguments": '{"location": "Boston, MA", "unit": "fahrenheit"}',
    }
    assert items[3]["arguments"] == "{}"
    assert items[4] == {"type": "function_call_output", "call_id": CALL_ID, "output": '{"temp": 68}'}


def test_native_items_of_another_protocol_are_ignored() -> None:
    m = Message("assistant", "hello", native=[{"type": "thinking", "thinking": "x"}], native_protocol="messages")
    assert body("hi", m, "again")["input"][1] == {
        "role": "assistant",
        "content": [{"type": "output_text", "text": "hello"}],
    }


def test_tool_result_needs_a_call_id_and_roles_are_checked() -> None:
    with pytest.raises(UsageError, match="tool_call_id"):
        body("hi", Message("tool", "68"))
    with pytest.raises(UsageError, match="role 'robot'"):
        body("hi", Message("robot", "beep"))


def test_common_params_mapping() -> None:
    b = body(
        "hi",
        params={
            "temperature": 0.2,
            "top_p": 0.9,
            "max_tokens": 300,
            "n": 1,
            "logprobs": True,
            "top_logprobs": 3,
            "json": True,
            "tool_choice": "required",
        },
    )
    assert b == {
        "input": "hi",
        "temperature": 0.2,
        "top_p": 0.9,
        "max_output_tokens": 300,
        "include": ["message.output_text.logprobs"],
        "top_logprobs": 3,
        "text": {"format": {"type": "json_object"}},
        "tool_choice": "required",
    }
    assert "include" not in body("hi", params={"logprobs": False})


@pytest.mark.parametrize(
    "value,effort",
    [
        ("low", "low"),
        ("medium", "medium"),
        ("high", "high"),
        ("max", "high"),
        ("HIGH", "high"),
        ("minimal", "minimal"),
        (1024, "low"),
        (2048, "low"),
        (2049, "medium"),
        (8192, "medium"),
        (8193, "high"),
        ("4000", "medium"),
    ],
)
def test_reasoning_effort_and_budget(value: Any, effort: str) -> None:
    assert body("x", params={"reasoning": value})["reasoning"] == {"effort": effort, "summary": "auto"}


@pytest.mark.parametrize("value", [None, False, 0])
def test_reasoning_off(value: Any) -> None:
    assert "reasoning" not in body("x", params={"reasoning": value})


@pytest.mark.parametrize("value", ["extreme", True, 1.5])
def test_reasoning_bad_values(value: Any) -> None:
    with pytest.raises(UnsupportedError):
        body("x", params={"reasoning": value})


def test_stop_and_n_are_unsupported() -> None:
    with pytest.raises(UnsupportedError, match="stop"):
        body("x", params={"stop": ["\n"]})
    with pytest.raises(UnsupportedError, match="n=2"):
        body("x", params={"n": 2})


def test_schema_formats() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]}
    assert body("x", params={"schema": schema})["text"] == {
        "format": {"type": "json_schema", "name": "reply", "schema": schema, "strict": False}
    }
    wrapped = {"name": "answer", "schema": schema, "strict": True, "description": "the answer"}
    assert body("x", params={"schema": wrapped, "json": True})["text"] == {
        "format": {
            "type": "json_schema",
            "name": "answer",
            "schema": schema,
            "strict": True,
            "description": "the answer",
        }
    }
    # a JSON schema that merely has a property named "schema" is not a wrapper
    odd = {"type": "object", "properties": {"schema": {"type": "string"}}, "schema": {"x": 1}}
    assert body("x", params={"schema": odd})["text"]["format"]["schema"] == odd
    with pytest.raises(UnsupportedError):
        body("x", params={"schema": "not a dict"})


def test_json_dict_is_verbatim() -> None:
    assert body("x", params={"json": {"type": "json_object"}})["text"] == {"format": {"type": "json_object"}}
    text = {"format": {"type": "text"}, "verbosity": "low"}
    assert body("x", params={"json": text})["text"] == text


def test_tool_choice_variants() -> None:
    assert body("x", params={"tool_choice": "none"})["tool_choice"] == "none"
    assert body("x", params={"tool_choice": "get_current_weather"})["tool_choice"] == {
        "type": "function",
        "name": "get_current_weather",
    }
    doc = DOC_CUSTOM_TOOL_REQUEST
    b = body(
        doc["input"],
        model=doc["model"],
        tools=[WEATHER_TOOL],
        params={"background": True, "tool_choice": doc["tool_choice"], "store": None},
    )
    assert b.pop("store") is True
    assert b == doc


def test_passthrough_params_come_last_and_override() -> None:
    b = body(
        "x",
        params={
            "max_tokens": 10,
            "max_output_tokens": 20,
            "metadata": {"k": "v"},
            "text": {"verbosity": "low"},
            "json": True,
        },
    )
    assert b["max_output_tokens"] == 20
    assert b["metadata"] == {"k": "v"}
    assert b["text"] == {"verbosity": "low"}


def test_build_retrieve_and_cancel() -> None:
    rid = "resp_689329c4e7e0819096e0c35b597fabe00aecb4e10eaeff14"
    get = ADAPTER.build_retrieve("gpt/o3", rid)
    assert (get.method, get.path, get.params, get.stream, get.json) == (
        "GET",
        f"/v1/ai/gpt/o3/responses/{rid}",
        {"stream": "false", "api-version": "preview"},
        False,
        None,
    )
    resume = ADAPTER.build_retrieve("gpt/o3", rid, stream=True, starting_after=41)
    assert resume.params == {"stream": "true", "api-version": "preview", "starting_after": "41"}
    assert resume.stream is True
    assert ADAPTER.build_retrieve("o3", rid, stream=True).params == {"stream": "true", "api-version": "preview"}
    cancel = ADAPTER.build_cancel("gpt/o3", rid)
    assert (cancel.method, cancel.path, cancel.params) == ("POST", f"/v1/ai/gpt/o3/responses/{rid}/cancel", {})


def test_terminal_statuses() -> None:
    assert TERMINAL_STATUSES == ("completed", "failed", "cancelled", "incomplete")
    assert ResponsesAdapter.TERMINAL_STATUSES == TERMINAL_STATUSES
    assert ADAPTER.name == "responses"
    assert set(ADAPTER.media_kinds) == {"image", "document", "text"}


def test_get_adapter_returns_it() -> None:
    assert type(protocols_pkg.get_adapter("responses")) is ResponsesAdapter


# ---------------------------------------------------------------------------------------------
# replies
# ---------------------------------------------------------------------------------------------


def test_parse_doc_tool_call_response() -> None:
    data = copy.deepcopy(DOC_TOOL_RESPONSE)
    r = ADAPTER.parse_reply(data)
    assert (r.protocol, r.id, r.model, r.status) == ("responses", data["id"], "MaaS-o3-mini-2025-01-31", "completed")
    assert r.raw is data
    assert r.text == "" and r.reasoning == ""  # reasoning item with summary: []
    assert r.tool_calls == [
        ToolCall(
            id=CALL_ID,
            name="get_current_weather",
            arguments={"location": "Boston, MA", "unit": "fahrenheit"},
            raw_arguments='{"location":"Boston, MA","unit":"fahrenheit"}',
        )
    ]
    assert (r.finish_reason, r.native_finish_reason) == ("tool_calls", "completed")
    assert r.usage.to_dict() == {"input": 77, "output": 28, "reasoning": 0, "cached": 0, "total": 105}
    assert r.usage.raw == data["usage"]
    assert r.choices[0].native == data["output"]
    assert r.logprobs is None


def test_parse_doc_second_response() -> None:
    r = ADAPTER.parse_reply(copy.deepcopy(DOC_TOOL_SECOND_RESPONSE))
    assert r.text == "The current temperature in Boston is 68 °F."
    assert r.finish_reason == "stop"
    assert r.tool_calls == []
    assert r.usage.input == 180 and r.usage.total == 195


def test_parse_doc_thinking_response() -> None:
    r = ADAPTER.parse_reply(copy.deepcopy(DOC_THINKING_RESPONSE))  # output_text: null is tolerated
    assert r.text == "Without knowing the value of n, the sum remains symbolic:\n\n1 + 2 + n = 3 + n"
    assert r.reasoning.startswith("**Simplifying an expression**\n\nI see the user")
    assert r.usage.to_dict() == {"input": 12, "output": 93, "reasoning": 64, "cached": 0, "total": 105}
    assert [i["type"] for i in r.choices[0].native] == ["reasoning", "message"]


def test_parse_doc_multiturn_response() -> None:
    r = ADAPTER.parse_reply(copy.deepcopy(DOC_MULTITURN_RESPONSE))
    assert (r.text, r.reasoning, r.finish_reason) == ("1+1等于2。", "", "stop")


def test_parse_doc_queued_background_response() -> None:
    r = ADAPTER.parse_reply(copy.deepcopy(DOC_QUEUED_RESPONSE))  # usage: null, tools: null, output: []
    assert r.status == "queued"
    assert r.finish_reason is None and r.native_finish_reason is None
    assert r.text == "" and r.tool_calls == [] and r.choices[0].native == []
    assert r.usage.to_dict() == {"input": None, "output": None, "reasoning": None, "cached": None, "total": None}
    assert r.usage.raw is None
    in_progress = ADAPTER.parse_reply({**DOC_QUEUED_RESPONSE, "status": "in_progress"})
    assert in_progress.finish_reason is None


@pytest.mark.parametrize(
    "status,details,finish,native",
    [
        ("incomplete", {"reason": "max_output_tokens"}, "length", "max_output_tokens"),
        ("incomplete", {"reason": "content_filter"}, "content_filter", "content_filter"),
        ("incomplete", None, "other", "incomplete"),
        ("failed", None, "error", "failed"),
        ("cancelled", None, "cancelled", "cancelled"),
    ],
)
def test_finish_reasons(status: str, details: Any, finish: str, native: str) -> None:
    data = {**copy.deepcopy(DOC_TOOL_SECOND_RESPONSE), "status": status, "incomplete_details": details}
    if status == "failed":
        data["error"] = {"code": "server_error", "message": "boom"}
    r = ADAPTER.parse_reply(data)
    assert (r.finish_reason, r.native_finish_reason, r.status) == (finish, native, status)


def test_multiple_summaries_reasoning_text_and_refusal() -> None:
    data = response_obj(
        "completed",
        [
            REASONING_ITEM,
            {"type": "reasoning", "id": "rs_x", "summary": [], "content": [{"type": "reasoning_text", "text": "raw"}]},
            {"type": "message", "role": "assistant", "content": [{"type": "refusal", "refusal": "I can't help."}]},
        ],
    )
    r = ADAPTER.parse_reply(data)
    assert r.reasoning == f"{SUMMARY_1}\n\n{SUMMARY_2}"  # summaries win over raw reasoning text
    assert r.text == "I can't help."
    only_raw = response_obj("completed", [data["output"][1]])
    assert ADAPTER.parse_reply(only_raw).reasoning == "raw"


def test_logprobs_are_parsed() -> None:
    part = {
        "type": "output_text",
        "text": "Hi!",
        "annotations": [],
        "logprobs": [
            {
                "token": "Hi",
                "logprob": -0.1,
                "bytes": [72, 105],
                "top_logprobs": [
                    {"token": "Hi", "logprob": -0.1, "bytes": [72, 105]},
                    {"token": "Hello", "logprob": -2.5, "bytes": []},
                ],
            },
            {"token": "!", "logprob": -0.01, "bytes": [33], "top_logprobs": []},
        ],
    }
    r = ADAPTER.parse_reply(response_obj("completed", [{"type": "message", "role": "assistant", "content": [part]}]))
    assert [(t.token, t.logprob) for t in r.logprobs] == [("Hi", -0.1), ("!", -0.01)]
    assert [(t.token, t.logprob) for t in r.logprobs[0].top] == [("Hi", -0.1), ("Hello", -2.5)]
    assert r.logprobs[1].top == ()


def test_quirks_are_tolerated() -> None:
    data = {
        "id": "resp_q",
        "status": "completed",
        "brand_new_field": {"x": 1},
        "output": [
            {"type": "message", "role": "assistant", "content": None},
            {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": None}, "junk"]},
            {"type": "message", "role": "assistant", "content": "plain string content"},
            {"type": "web_search_call", "id": "ws_1", "status": "completed"},
            {"type": "function_call", "call_id": "c1", "name": "f", "arguments": {"already": "parsed"}},
            {"type": "function_call", "id": "fc_2", "name": "g", "arguments": "not json"},
            "not an item",
        ],
    }
    r = ADAPTER.parse_reply(data)
    assert r.text == "plain string content"
    assert r.usage.to_dict()["input"] is None
    assert r.tool_calls[0].arguments == {"already": "parsed"}
    assert r.tool_calls[0].raw_arguments == '{"already": "parsed"}'
    assert (r.tool_calls[1].id, r.tool_calls[1].arguments) == ("fc_2", "not json")
    assert r.finish_reason == "tool_calls"
    # output_text convenience field when the items carry no text; output: null; status missing
    r = ADAPTER.parse_reply({"id": "resp_t", "output": None, "output_text": "from the field"})
    assert r.text == "from the field"
    assert r.finish_reason is None
    r = ADAPTER.parse_reply({"id": "resp_u", "output": [MESSAGE_ITEM]})
    assert (r.status, r.finish_reason) == (None, "stop")


@pytest.mark.parametrize(
    "data,match",
    [
        ([1, 2], "JSON object"),
        ("text", "JSON object"),
        ({"error": {"message": "Invalid key", "type": "invalid_request_error", "code": "bad_key"}}, "Invalid key"),
        ({"hello": "world"}, "not a response"),
        ({"status": "completed", "output": {"oops": 1}}, "must be a list"),
    ],
)
def test_malformed_replies(data: Any, match: str) -> None:
    with pytest.raises(MalformedReplyError, match=match):
        ADAPTER.parse_reply(data)


def test_failed_response_is_a_reply_not_an_exception() -> None:
    data = response_obj("failed", error={"code": "server_error", "message": "The model crashed"})
    r = ADAPTER.parse_reply(data)
    assert r.finish_reason == "error" and r.status == "failed"


def test_chat_style_usage_keys_are_accepted() -> None:
    usage = {"prompt_tokens": 5, "completion_tokens": 7, "prompt_tokens_details": {"cached_tokens": 2}}
    r = ADAPTER.parse_reply(response_obj("completed", [MESSAGE_ITEM], usage=usage))
    assert r.usage.to_dict() == {"input": 5, "output": 7, "reasoning": None, "cached": 2, "total": 12}


# ---------------------------------------------------------------------------------------------
# streams
# ---------------------------------------------------------------------------------------------


def test_stream_reasoning_and_text() -> None:
    sse = reasoning_text_events()
    events, parser = run(sse)
    assert parser.done is True
    assert texts(events, TextDelta) == ANSWER
    assert [e.text for e in events if isinstance(e, TextDelta)] == ["1 + 2 + n", " = 3 + n"]
    # the separator between summary parts is streamed too, so the live text equals the final one
    assert texts(events, ReasoningDelta) == f"{SUMMARY_1}\n\n{SUMMARY_2}"
    usage_events = [e for e in events if isinstance(e, UsageEvent)]
    assert len(usage_events) == 1 and usage_events[0].usage.reasoning == 64
    r = parser.finish()
    assert (r.text, r.reasoning) == (ANSWER, f"{SUMMARY_1}\n\n{SUMMARY_2}")
    assert (r.id, r.model, r.status, r.finish_reason, r.incomplete) == (
        "resp_s1",
        "MaaS-o3-mini-2025-01-31",
        "completed",
        "stop",
        False,
    )
    assert r.usage.to_dict() == {"input": 12, "output": 93, "reasoning": 64, "cached": 0, "total": 105}
    assert r.raw == [json.loads(e.data) for e in sse]
    assert r.choices[0].native == [REASONING_ITEM, MESSAGE_ITEM]
    assert parser.sequence_number == len(sse) - 1
    assert parser.response_id == "resp_s1"


def test_stream_final_reply_prefers_the_completed_response_object() -> None:
    sse = reasoning_text_events(completed=False)
    final = response_obj(
        "completed",
        [REASONING_ITEM, {**MESSAGE_ITEM, "content": [{"type": "output_text", "text": "authoritative"}]}],
        usage=STREAM_USAGE,
    )
    sse += sse_stream(("response.completed", {"response": final}))
    _, parser = run(sse)
    r = parser.finish()
    assert r.text == "authoritative"
    # raw is the stream's events, decoded on access (RawEvents, a read-only sequence), not a list
    assert isinstance(r.raw, RawEvents) and r.raw[-1]["response"] == final


def test_stream_function_call_fragments() -> None:
    events, parser = run(function_call_events())
    calls = [e for e in events if isinstance(e, ToolCallDelta)]
    assert calls[0] == ToolCallDelta(call_index=0, id=CALL_ID, name="get_current_weather", arguments="")
    assert [c.arguments for c in calls[1:]] == ARG_PIECES
    assert all(c.call_index == 0 and c.id is None for c in calls[1:])
    r = parser.finish()
    assert r.tool_calls == [
        ToolCall(CALL_ID, "get_current_weather", {"location": "Boston, MA", "unit": "fahrenheit"}, FC_ITEM["arguments"])
    ]
    assert r.finish_reason == "tool_calls"
    # the native items go back verbatim on the next turn
    nxt = body("weather?", r.to_message(), Message.tool_result(r.tool_calls[0], "68"))["input"]
    assert nxt[1:] == [
        {"id": "rs_2", "type": "reasoning", "summary": []},
        FC_ITEM,
        {"type": "function_call_output", "call_id": CALL_ID, "output": "68"},
    ]


def test_stream_completed_with_empty_output_falls_back_to_assembled_items() -> None:
    _, parser = run(function_call_events(final_output=[]))
    r = parser.finish()
    assert r.tool_calls[0].arguments == {"location": "Boston, MA", "unit": "fahrenheit"}
    assert r.usage.total == 105 and r.status == "completed" and not r.incomplete


def test_stream_two_parallel_calls_interleaved() -> None:
    a = {"id": "fc_a", "type": "function_call", "call_id": "call_a", "name": "f", "arguments": ""}
    b = {"id": "fc_b", "type": "function_call", "call_id": "call_b", "name": "g", "arguments": ""}
    sse = sse_stream(
        ("response.output_item.added", {"output_index": 0, "item": a}),
        ("response.output_item.added", {"output_index": 1, "item": b}),
        ("response.function_call_arguments.delta", {"item_id": "fc_b", "output_index": 1, "delta": '{"y":'}),
        ("response.function_call_arguments.delta", {"item_id": "fc_a", "output_index": 0, "delta": '{"x":'}),
        ("response.function_call_arguments.delta", {"item_id": "fc_a", "delta": "1}"}),  # no output_index
        ("response.function_call_arguments.delta", {"item_id": "fc_b", "output_index": 1, "delta": "2}"}),
    )
    events, parser = run(sse)
    assert [(e.call_index, e.arguments) for e in events] == [
        (0, ""),
        (1, ""),
        (1, '{"y":'),
        (0, '{"x":'),
        (0, "1}"),
        (1, "2}"),
    ]
    r = parser.finish()
    assert r.incomplete is True
    assert [(c.id, c.name, c.arguments) for c in r.tool_calls] == [("call_a", "f", {"x": 1}), ("call_b", "g", {"y": 2})]


def test_stream_without_terminal_event_is_incomplete() -> None:
    events, parser = run(reasoning_text_events(completed=False)[:-4])  # cut inside the text
    assert parser.done is False
    r = parser.finish()
    assert r.incomplete is True
    assert r.text == "1 + 2 + n" == texts(events, TextDelta)
    assert r.reasoning == f"{SUMMARY_1}\n\n{SUMMARY_2}"
    assert r.status == "in_progress" and r.finish_reason is None
    assert r.usage.input is None


def test_stream_text_of_an_unfinished_item_is_assembled() -> None:
    sse = sse_stream(
        ("response.created", {"response": response_obj()}),
        ("response.output_item.added", {"output_index": 0, "item": {"id": "msg_9", "type": "message", "content": []}}),
        ("response.output_text.delta", {"item_id": "msg_9", "output_index": 0, "content_index": 0, "delta": "Hel"}),
        ("response.output_text.delta", {"item_id": "msg_9", "output_index": 0, "content_index": 0, "delta": "lo"}),
    )
    _, parser = run(sse)
    r = parser.finish()
    assert (r.text, r.incomplete, r.id) == ("Hello", True, "resp_s1")
    assert r.choices[0].native == [
        {"id": "msg_9", "type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Hello"}]}
    ]


def test_stream_error_event_keeps_partial_text() -> None:
    sse = reasoning_text_events(completed=False)[:-4]
    sse += sse_stream(("error", {"code": "rate_limit_exceeded", "message": "Too many tokens", "param": None}))
    parser = ADAPTER.stream_parser()
    got: list[Any] = []
    with pytest.raises(StreamError) as info:
        for e in sse:
            got.extend(parser.feed(e))
    err = info.value
    assert err.code == "rate_limit_exceeded"
    assert "Too many tokens" in str(err)
    assert err.partial is not None and err.partial.incomplete is True
    assert err.partial.text == "1 + 2 + n" == texts(got, TextDelta)
    assert err.partial.finish_reason == "error"
    assert err.partial.raw[-1]["type"] == "error"


def test_stream_nested_error_event_and_gateway_error_chunk() -> None:
    with pytest.raises(StreamError) as info:
        run(sse_stream(("error", {"error": {"type": "server_error", "message": "upstream died"}})))
    assert info.value.code == "server_error" and "upstream died" in info.value.message
    with pytest.raises(StreamError) as info:
        run([ServerSentEvent(data=json.dumps({"error": {"message": "quota", "code": "429"}}))])
    assert info.value.code == "429" and info.value.partial.incomplete


def test_stream_response_failed_raises_with_partial() -> None:
    sse = reasoning_text_events(completed=False)[:-4]
    failed = response_obj("failed", error={"code": "server_error", "message": "The model failed"})
    sse += sse_stream(("response.failed", {"response": failed}))
    parser = ADAPTER.stream_parser()
    with pytest.raises(StreamError) as info:
        for e in sse:
            parser.feed(e)
    assert parser.done is True
    err = info.value
    assert err.code == "server_error" and err.message == "The model failed"
    assert err.partial.incomplete is True
    assert err.partial.text == "1 + 2 + n"  # the final object had no output: the assembled text is kept
    assert err.partial.status == "failed" and err.partial.finish_reason == "error"


def test_stream_response_incomplete_is_a_normal_end() -> None:
    sse = sse_stream(
        ("response.created", {"response": response_obj()}),
        ("response.output_text.delta", {"item_id": "msg_1", "output_index": 0, "content_index": 0, "delta": "Once"}),
        (
            "response.incomplete",
            {
                "response": response_obj(
                    "incomplete",
                    [{"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Once"}]}],
                    incomplete_details={"reason": "max_output_tokens"},
                    usage={"input_tokens": 3, "output_tokens": 16, "total_tokens": 19},
                )
            },
        ),
    )
    events, parser = run(sse)
    assert parser.done is True
    r = parser.finish()
    assert (r.text, r.finish_reason, r.native_finish_reason, r.incomplete) == (
        "Once",
        "length",
        "max_output_tokens",
        False,
    )
    assert isinstance(events[-1], UsageEvent) and events[-1].usage.total == 19


def test_stream_ignores_noise() -> None:
    noise = [
        ServerSentEvent(data=""),
        ServerSentEvent(data="[DONE]"),
        ServerSentEvent(data=json.dumps({"type": "keepalive"}), event="keepalive"),
        ServerSentEvent(data=json.dumps({"type": "response.output_text.annotation.added", "annotation": {}})),
        ServerSentEvent(data=json.dumps([1, 2])),
        ServerSentEvent(data=json.dumps({"type": "response.content_part.added", "output_index": 0, "part": {}})),
    ]
    events, parser = run(noise)
    assert events == [] and parser.done is False
    assert len(parser.finish().raw) == 4  # the decoded JSON events are kept


def test_stream_event_type_from_the_event_line_when_data_lacks_it() -> None:
    sse = ServerSentEvent(
        data=json.dumps({"output_index": 0, "content_index": 0, "delta": "hi"}), event="response.output_text.delta"
    )
    events, _ = run([sse])
    assert events == [TextDelta("hi")]


def test_stream_done_events_without_deltas_still_give_the_text() -> None:
    sse = sse_stream(
        ("response.output_item.added", {"output_index": 0, "item": {"id": "rs", "type": "reasoning", "summary": []}}),
        (
            "response.reasoning_summary_text.done",
            {"item_id": "rs", "output_index": 0, "summary_index": 0, "text": "think"},
        ),
        ("response.output_item.added", {"output_index": 1, "item": {"id": "m", "type": "message", "content": []}}),
        ("response.output_text.done", {"item_id": "m", "output_index": 1, "content_index": 0, "text": "whole"}),
        (
            "response.content_part.done",
            {"item_id": "m", "output_index": 1, "content_index": 0, "part": {"type": "output_text", "text": "whole"}},
        ),
        ("response.output_item.added", {"output_index": 2, "item": {**FC_ITEM, "arguments": ""}}),
        ("response.function_call_arguments.done", {"item_id": "fc_1", "output_index": 2, "arguments": '{"a":1}'}),
    )
    events, parser = run(sse)
    assert texts(events, TextDelta) == "whole"  # not twice
    assert texts(events, ReasoningDelta) == "think"
    assert [e.arguments for e in events if isinstance(e, ToolCallDelta)] == ["", '{"a":1}']
    r = parser.finish()
    assert (r.text, r.reasoning, r.tool_calls[0].arguments) == ("whole", "think", {"a": 1})


def test_stream_refusal_and_raw_reasoning_text_and_logprobs() -> None:
    lp = {"token": "No", "logprob": -0.2, "top_logprobs": [{"token": "No", "logprob": -0.2}]}
    sse = sse_stream(
        ("response.reasoning_text.delta", {"item_id": "rs", "output_index": 0, "content_index": 0, "delta": "a"}),
        ("response.reasoning_text.delta", {"item_id": "rs", "output_index": 0, "content_index": 0, "delta": "b"}),
        ("response.output_item.added", {"output_index": 1, "item": {"id": "m", "type": "message", "content": []}}),
        (
            "response.output_text.delta",
            {"item_id": "m", "output_index": 1, "content_index": 0, "delta": "No", "logprobs": [lp]},
        ),
        ("response.refusal.delta", {"item_id": "m", "output_index": 1, "content_index": 1, "delta": " way."}),
    )
    events, parser = run(sse)
    assert texts(events, ReasoningDelta) == "ab"
    assert texts(events, TextDelta) == "No way."
    r = parser.finish()
    assert (r.reasoning, r.text) == ("ab", "No way.")
    assert [(t.token, t.logprob, len(t.top)) for t in r.logprobs] == [("No", -0.2, 1)]


def test_stream_resumed_after_a_sequence_number_has_only_deltas() -> None:
    """GET ...?stream=true&starting_after=N replays from the middle: no output_item.added."""
    sse = sse_stream(
        ("response.function_call_arguments.delta", {"item_id": "fc_1", "output_index": 3, "delta": '{"a":'}),
        ("response.function_call_arguments.delta", {"item_id": "fc_1", "output_index": 3, "delta": "2}"}),
        ("response.output_item.done", {"output_index": 3, "item": {**FC_ITEM, "arguments": '{"a":2}'}}),
    )
    events, parser = run(sse)
    assert [(e.call_index, e.arguments) for e in events] == [(0, '{"a":'), (0, "2}")]
    r = parser.finish()
    assert (r.tool_calls[0].id, r.tool_calls[0].arguments) == (CALL_ID, {"a": 2})


def test_stream_non_json_data_is_malformed() -> None:
    parser = ADAPTER.stream_parser()
    parser.feed(sse_stream(("response.output_text.delta", {"output_index": 0, "delta": "so far"}))[0])
    with pytest.raises(MalformedReplyError) as info:
        parser.feed(ServerSentEvent(data="<html>502 Bad Gateway</html>"))
    assert info.value.partial.text == "so far" and info.value.partial.incomplete


def test_each_stream_parser_is_fresh() -> None:
    p1, p2 = ADAPTER.stream_parser(), ADAPTER.stream_parser()
    p1.feed(sse_stream(("response.output_text.delta", {"output_index": 0, "delta": "x"}))[0])
    assert p2.finish().text == "" and p1.finish().text == "x"


def test_stream_items_that_only_arrive_whole_are_still_emitted() -> None:
    sse = sse_stream(
        ("response.output_item.added", {"output_index": 0, "item": {"id": "rs_1", "type": "reasoning", "summary": []}}),
        ("response.output_item.done", {"output_index": 0, "item": REASONING_ITEM}),
        ("response.output_item.done", {"output_index": 1, "item": MESSAGE_ITEM}),
    )
    events, parser = run(sse)
    assert texts(events, ReasoningDelta) == f"{SUMMARY_1}\n\n{SUMMARY_2}"
    assert texts(events, TextDelta) == ANSWER
    r = parser.finish()
    assert (r.reasoning, r.text, r.incomplete) == (f"{SUMMARY_1}\n\n{SUMMARY_2}", ANSWER, True)
