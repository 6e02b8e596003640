"""The gateway's own example requests (its API pages, shared/api-docs 000-003) succeed against the
emulator exactly as the pages show them, and the replies have the shape the pages show."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

BEARER = {"Authorization": "Bearer test-key"}
CHAT = "/v1/ai/{ep}/chat/completions"
RESPONSES = "/v1/ai/{ep}/responses"
MESSAGES = "/{ep}/v1/messages"
GENERATE = "/v1/ai/{ep}/generateContent"

WEATHER_TOOL = {
    "type": "function",
    "name": "get_current_weather",
    "description": "Get the current weather in a given location",
    "parameters": {
        "type": "object",
        "properties": {
            "location": {"type": "string", "description": "The city and state, e.g. San Francisco, CA"},
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
        },
        "required": ["location", "unit"],
    },
}

# (id, path, body): every request body of the pages, verbatim
EXAMPLES: list[tuple[str, str, dict[str, Any]]] = [
    ("000-chat", CHAT, {"model": "gpt-4", "messages": [{"role": "user", "content": "hello"}]}),
    ("000-chat-stream", CHAT, {"model": "gpt-4", "messages": [{"role": "user", "content": "hello"}], "stream": True}),
    (
        "000-chat-sdk",
        CHAT,
        {
            "model": "",
            "messages": [{"role": "user", "content": "what's 1+1? Answer in one word."}],
            "temperature": 0.7,
            "max_tokens": 800,
            "top_p": 0.95,
        },
    ),
    (
        "000-image",
        CHAT,
        {
            "messages": [
                {
                    "role": "system",
                    "content": "Assume you are a food expert. You need to analyze the ingredients and calories from "
                    "the provided image and return the result in JSON format",
                },
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "Analyze this"},
                        {
                            "type": "image_url",
                            "image_url": {
                                "url": "https://encrypted-tbn0.gstatic.com/images?q=tbn:ANd9GcSqbvh1y4Kc3bOG60cNFQ1HRI"
                                "YeMyg5hYhKNQ&s"
                            },
                        },
                    ],
                },
            ],
            "stream": False,
            "stream_options": {"include_usage": True},
        },
    ),
    (
        "000-video",
        CHAT,
        {
            "stream": True,
            "messages": [
                {"role": "system", "content": "You are an intelligent assistant"},
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "Translate this video to text"},
                        {
                            "type": "image_url",
                            "image_url": {"url": "https://xxx.mp4 or similar data:video/mp4;base64,xxx base64 format"},
                        },
                    ],
                },
            ],
        },
    ),
    (
        "000-audio",
        CHAT,
        {
            "stream": True,
            "messages": [
                {"role": "system", "content": "Convert speech to text"},
                {
                    "role": "user",
                    "content": [
                        {
                            "type": "input_audio",
                            "input_audio": {
                                "data": "audio base64, without prefix like data:audio/mp3;base64",
                                "format": "mp3",
                            },
                        }
                    ],
                },
            ],
        },
    ),
    (
        "000-gp-developer",
        CHAT,
        {
            "messages": [
                {"role": "developer", "content": "Talk like a pirate."},
                {"role": "user", "content": "Are semicolons optional in JavaScript?"},
            ]
        },
    ),
    (
        "000-gp-sdk",
        CHAT,
        {
            "model": "gpt5-pro",
            "messages": [
                {"role": "user", "content": "How much gold would it take to coat the Statue of Liberty in a 1mm layer?"}
            ],
        },
    ),
    (
        "000-cl-chat-thinking",
        CHAT,
        {
            "model": "claude-3-7-sonnet-20250219",
            "max_tokens": 2048,
            "stream": False,
            "messages": [{"role": "user", "content": "Prove the Pythagorean theorem"}],
            "thinking": {"type": "enabled", "budget_tokens": 2000},
        },
    ),
    (
        "000-cl-sdk",
        CHAT,
        {
            "model": "modelName",
            "messages": [{"role": "user", "content": "hi"}],
            "stream": False,
            "thinking": {"type": "enabled", "budget_tokens": 2000},
        },
    ),
    (
        "000-cl-native-stream",
        MESSAGES,
        {
            "model": "xxx",
            "max_tokens": 4096,
            "system": "You are an expert",
            "messages": [{"role": "user", "content": "Write me a 300-word essay"}],
            "stream": True,
            "thinking": {"type": "enabled", "budget_tokens": 4000},
        },
    ),
    (
        "000-cl-native",
        MESSAGES,
        {
            "max_tokens": 5000,
            "stream": False,
            "system": [{"type": "text", "text": "You are an AI assistant tasked with analyzing literary works"}],
            "messages": [{"role": "user", "content": "Analyze the major themes in Pride and Prejudice."}],
        },
    ),
    (
        "000-ge-chat-stream",
        CHAT,
        {
            "max_tokens": 2048,
            "stream": True,
            "messages": [{"role": "user", "content": "What is 1+1"}],
            "thinking": {"type": "enabled", "budget_tokens": 2000},
        },
    ),
    (
        "000-ge-chat-thinking",
        CHAT,
        {
            "model": "MaaS_2.5_Flash",
            "messages": [{"role": "user", "content": "1 + 2 + 3 + ... + 5 = ?"}],
            "max_tokens": 4096,
            "stream": False,
            "thinking": {"type": "enabled", "budget_tokens": 1024},
        },
    ),
    ("000-ge-sdk", CHAT, {"messages": [{"role": "user", "content": "Who are you"}], "model": ""}),
    (
        "000-ge-native",
        GENERATE,
        {
            "systemInstruction": {"parts": [{"text": "You are a helpful AI assistant"}]},
            "contents": [{"role": "user", "parts": [{"text": "Write a 150-word fable"}]}],
            "generationConfig": {
                "temperature": 0.8,
                "topP": 0.9,
                "topK": 20,
                "maxOutputTokens": 3000,
                "candidateCount": 1,
                "stopSequences": ["history"],
                "thinkingConfig": {"includeThoughts": True, "thinkingBudget": 0},
            },
            "safetySettings": [
                {"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_NONE"},
                {"category": "HARM_CATEGORY_HATE_SPEECH", "threshold": "BLOCK_NONE"},
                {"category": "HARM_CATEGORY_SEXUALLY_EXPLICIT", "threshold": "BLOCK_NONE"},
                {"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "threshold": "BLOCK_NONE"},
            ],
        },
    ),
    (
        "001-chat-string-messages",
        CHAT,
        {
            "messages": '[{"role": "system", "content": "You are a helpful assistant."},'
            '{"role": "user", "content": "Hello!"}]',
            "model": "cotomi-fast-v2.0",
            "frequency_penalty": 0,
            "logit_bias": None,
            "max_tokens": None,
            "n": 1,
            "presence_penalty": 0,
            "stop": None,
            "stream": False,
            "temperature": 1,
            "top_p": 1,
            "user": None,
        },
    ),
    (
        "001-embeddings",
        "/v1/ai/{ep}/embeddings",
        {
            "input": "The quick brown fox jumped over the lazy dog",
            "model": "multilingual-e5-large",
            "encoding_format": "float",
            "user": "user-1234",
        },
    ),
    (
        "002-stream-reasoning",
        RESPONSES,
        {
            "input": "1+2+n=?",
            "model": "gpt-o3-pro-2025-06-10",
            "stream": True,
            "reasoning": {"effort": "high", "summary": "auto"},
        },
    ),
    (
        "002-tool-call",
        RESPONSES,
        {
            "model": "MaaS-o3-mini-2025-01-31",
            "input": "What is the weather like in Boston today?",
            "tools": [WEATHER_TOOL],
            "tool_choice": "auto",
        },
    ),
    (
        "002-tool-result",
        RESPONSES,
        {
            "model": "MaaS-o3-mini-2025-01-31",
            "input": [
                {"role": "user", "content": "What is the weather like in Boston today?"},
                {"id": "rs_6890612fc9448190be00d13682364ca30718351d629a7990", "type": "reasoning", "summary": []},
                {
                    "id": "fc_6890612fcb44819086adeb804dbd6dbf0718351d629a7990",
                    "type": "function_call",
                    "call_id": "call_8KWaObBBaHuJsbGcgEQ6OWFK",
                    "name": "get_current_weather",
                    "arguments": '{"location":"Boston, MA","unit":"fahrenheit"}',
                },
                {"type": "function_call_output", "call_id": "call_8KWaObBBaHuJsbGcgEQ6OWFK", "output": "68"},
            ],
            "tools": [WEATHER_TOOL],
        },
    ),
    (
        "002-thinking",
        RESPONSES,
        {
            "input": "1+2+n=?",
            "model": "MaaS-o3-mini-2025-01-31",
            "reasoning": {"effort": "high", "summary": "detailed"},
        },
    ),
    (
        "002-image-url",
        RESPONSES,
        {
            "model": "MaaS-o3-mini-2025-01-31",
            "input": [
                {
                    "role": "user",
                    "content": [
                        {"type": "input_text", "text": "给我描述图里内容"},
                        {
                            "type": "input_image",
                            "image_url": "https://upload.wikimedia.org/wikipedia/commons/thumb/d/dd/Gfp-wisconsin-madison"
                            "-the-nature-boardwalk.jpg/2560px-Gfp-wisconsin-madison-the-nature-boardwalk.jpg",
                        },
                    ],
                }
            ],
        },
    ),
    (
        "002-image-base64",
        RESPONSES,
        {
            "model": "MaaS-o3-mini-2025-01-31",
            "input": [
                {
                    "role": "user",
                    "content": [
                        {"type": "input_text", "text": "给我描述图里内容"},
                        {"type": "input_image", "image_url": "data:image/png;base64,iVBORwxxxx"},
                    ],
                }
            ],
        },
    ),
    (
        "002-background-stream",
        RESPONSES,
        {
            "input": "1+2+n=?",
            "background": True,
            "model": "MaaS-o3-mini-2025-01-31",
            "stream": True,
            "reasoning": {"effort": "high", "summary": "detailed"},
        },
    ),
    (
        "002-custom-tool-background",
        RESPONSES,
        {
            "model": "MaaS-o3-mini-2025-01-31",
            "input": "What is the weather like in Boston today?",
            "background": True,
            "tools": [WEATHER_TOOL],
            "tool_choice": {
                "type": "allowed_tools",
                "mode": "auto",
                "tools": [{"type": "function", "name": "get_current_weather"}],
            },
        },
    ),
    (
        "003-deepseek",
        CHAT,
        {
            "messages": [
                {"content": "You are a helpful assistant", "role": "system"},
                {"content": "Hi", "role": "user"},
            ],
            "model": "MaaS_Deepseek_V4_pro_20260424",
            "thinking": {"type": "enabled"},
            "reasoning_effort": "high",
            "max_tokens": 4096,
            "response_format": {"type": "text"},
            "stop": None,
            "stream": False,
            "stream_options": None,
            "temperature": 1,
            "top_p": 1,
            "tools": None,
            "tool_choice": "none",
            "logprobs": False,
            "top_logprobs": None,
        },
    ),
]


@pytest.fixture
def client(emulator_url: str) -> httpx.Client:
    with httpx.Client(base_url=emulator_url, headers=BEARER, timeout=10) as c:
        yield c


@pytest.mark.parametrize(("path", "body"), [e[1:] for e in EXAMPLES], ids=[e[0] for e in EXAMPLES])
def test_every_example_request_of_the_gateway_docs_succeeds(client: httpx.Client, path: str, body: dict) -> None:
    reply = client.post(path.format(ep="MaaS-doc"), json=body)
    assert reply.status_code == 200, reply.text
    if body.get("stream"):
        assert reply.headers["content-type"].startswith("text/event-stream")
        assert "event: error" not in reply.text and 'data: {"error"' not in reply.text
        assert "response.failed" not in reply.text
    else:
        assert "error" not in reply.json() or reply.json()["error"] is None


def test_stream_false_with_stream_options_is_a_plain_reply(client: httpx.Client) -> None:
    body = dict(next(e[2] for e in EXAMPLES if e[0] == "000-image"))
    reply = client.post(CHAT.format(ep="MaaS-4o"), json=body).json()
    assert reply["object"] == "chat.completion"
    assert reply["choices"][0]["finish_reason"] == "stop" and reply["usage"]["total_tokens"] > 0


def test_gemini_thinking_budget_zero_means_no_thinking(client: httpx.Client) -> None:
    body = next(e[2] for e in EXAMPLES if e[0] == "000-ge-native")
    reply = client.post(GENERATE.format(ep="MaaS-ge"), json=body).json()
    parts = reply["candidates"][0]["content"]["parts"]
    assert not any(p.get("thought") for p in parts) and not any("thoughtSignature" in p for p in parts)
    assert "thoughtsTokenCount" not in reply["usageMetadata"]
    thinking = json.loads(json.dumps(body))
    thinking["generationConfig"]["thinkingConfig"]["thinkingBudget"] = 512  # a budget: thoughts again
    reply = client.post(GENERATE.format(ep="MaaS-ge"), json=thinking).json()
    assert reply["candidates"][0]["content"]["parts"][0]["thought"] is True
    assert reply["usageMetadata"]["thoughtsTokenCount"] > 0


def test_deepseek_replies_carry_the_native_finish_reason(client: httpx.Client) -> None:
    body = next(e[2] for e in EXAMPLES if e[0] == "003-deepseek")
    reply = client.post(CHAT.format(ep="MaaS-ds"), json=body).json()
    choice = reply["choices"][0]
    assert choice["finish_reason"] == "stop" and choice["native_finish_reason"] == "stop"
    assert choice["message"]["reasoning_content"]
    usage = reply["usage"]
    assert usage["prompt_cache_hit_tokens"] + usage["prompt_cache_miss_tokens"] == usage["prompt_tokens"]
    assert usage["completion_tokens_details"]["reasoning_tokens"] > 0
    streamed = client.post(CHAT.format(ep="MaaS-ds"), json={**body, "stream": True}).text
    finals = [json.loads(line[6:]) for line in streamed.splitlines() if '"finish_reason":"stop"' in line]
    assert [c["choices"][0]["native_finish_reason"] for c in finals] == ["stop"]
    other = client.post(CHAT.format(ep="MaaS-4o"), json={"messages": [{"role": "user", "content": "Hi"}]}).json()
    assert "native_finish_reason" not in other["choices"][0]  # an OpenAI model's reply has no such field


def test_the_multi_turn_example_continues_with_previous_response_id(client: httpx.Client) -> None:
    first = client.post(
        RESPONSES.format(ep="MaaS-o3"),
        json={
            "input": "1+1等于多少",
            "model": "MaaS-o3-mini-2025-01-31",
            "reasoning": {"effort": "high", "summary": "detailed"},
        },
    ).json()
    second = client.post(
        RESPONSES.format(ep="MaaS-o3"),
        json={
            "input": "继续加1等于多少",
            "model": "MaaS-o3-mini-2025-01-31",
            "previous_response_id": first["id"],
            "reasoning": {"effort": "high", "summary": "detailed"},
        },
    )
    assert second.status_code == 200 and second.json()["previous_response_id"] == first["id"]
    for query in ("?stream=false&api-version=preview", "?stream=false"):
        got = client.get(RESPONSES.format(ep="MaaS-o3") + "/" + first["id"] + query)
        assert got.status_code == 200 and got.json()["id"] == first["id"]
