"""The emulator reads the conversation: earlier turns are recalled (names, numbers, quoted facts,
tool results) the same way on chat, messages, gemini and responses (history sent back, or a
``previous_response_id`` chain); a conversation that asks nothing about them answers as before."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from cloudsway_nb.emulator.conversation import Prompt, ToolResult, Turn
from cloudsway_nb.emulator.generate import plan_reply
from cloudsway_nb.emulator.memory import recall, remember
from cloudsway_nb.emulator.tokenizer import count_tokens

BEARER = {"Authorization": "Bearer k"}

# (earlier user messages, question, what the reply must say)
CASES = [
    (["My name is Ada."], "What is my name?", "From earlier in this conversation: your name is Ada."),
    (["Hi, I'm Ada Lovelace."], "Who am I?", "your name is Ada Lovelace."),
    (["My favourite number is 42.", "Nice weather today."], "What is my favourite number?", "is 42."),
    (["The password is swordfish."], "What was the password?", "the password is swordfish."),
    (['Remember the phrase "blue llama".'], "What did I ask you to remember?", 'the phrase "blue llama"'),
    (["I have 3 cats and 2 dogs."], "What number did I give you?", 'you said "I have 3 cats and 2 dogs"'),
    (["My name is Ada.", "Actually, my name is Grace."], "What's my name?", "your name is Grace."),
    (["My dog's name is Rex. My name is Ada."], "What is my dog's name?", "your dog's name is Rex."),
    (["Hello there"], "What did I say earlier?", 'you said "Hello there"'),
    (["Hello there"], "Do you remember what I said?", 'you said "Hello there"'),
    ([], "What do you remember?", "This is the start of our conversation"),
    ([], "What is my name?", "You have not told me your name."),
]


def chat_body(earlier: list[str], question: str) -> dict[str, Any]:
    messages: list[dict[str, Any]] = []
    for text in earlier:
        messages += [{"role": "user", "content": text}, {"role": "assistant", "content": f"You said: {text}"}]
    return {"messages": [*messages, {"role": "user", "content": question}]}


def messages_body(earlier: list[str], question: str) -> dict[str, Any]:
    return {"max_tokens": 1024, **chat_body(earlier, question)}


def gemini_body(earlier: list[str], question: str) -> dict[str, Any]:
    contents = []
    for text in earlier:
        contents += [
            {"role": "user", "parts": [{"text": text}]},
            {"role": "model", "parts": [{"text": f"You said: {text}"}]},
        ]
    return {"contents": [*contents, {"role": "user", "parts": [{"text": question}]}]}


def chat_text(reply: dict) -> str:
    return reply["choices"][0]["message"]["content"]


def messages_text(reply: dict) -> str:
    return reply["content"][0]["text"]


def gemini_text(reply: dict) -> str:
    return reply["candidates"][0]["content"]["parts"][0]["text"]


PROTOCOLS = {
    "chat": ("/v1/ai/gpt/chat/completions", chat_body, chat_text),
    "messages": ("/claude/v1/messages", messages_body, messages_text),
    "gemini": ("/v1/ai/gemini/generateContent", gemini_body, gemini_text),
}


@pytest.fixture
def client(emulator_url: str) -> httpx.Client:
    with httpx.Client(base_url=emulator_url, headers=BEARER, timeout=10) as c:
        yield c


@pytest.mark.parametrize("protocol", sorted(PROTOCOLS))
@pytest.mark.parametrize(("earlier", "question", "expected"), CASES, ids=[c[1] + str(len(c[0])) for c in CASES])
def test_history_is_recalled_on_every_protocol(
    client: httpx.Client, protocol: str, earlier: list[str], question: str, expected: str
) -> None:
    path, body, text_of = PROTOCOLS[protocol]
    text = text_of(client.post(path, json=body(earlier, question)).json())
    assert text.startswith(f"You said: {question}") and expected in text


@pytest.mark.parametrize(("earlier", "question", "expected"), CASES, ids=[c[1] + str(len(c[0])) for c in CASES])
def test_a_previous_response_id_chain_is_recalled(
    client: httpx.Client, earlier: list[str], question: str, expected: str
) -> None:
    previous = None
    for text in earlier:
        body = {"input": text, **({"previous_response_id": previous} if previous else {})}
        previous = client.post("/v1/ai/o3/responses", json=body).json()["id"]
    body = {"input": question, **({"previous_response_id": previous} if previous else {})}
    reply = client.post("/v1/ai/o3/responses", json=body).json()
    assert expected in reply["output"][0]["content"][0]["text"]


def test_the_same_conversation_recalls_the_same_on_every_protocol(client: httpx.Client) -> None:
    earlier, question = ["My name is Ada.", "I live in Oslo."], "What did I tell you?"
    texts = {name: text_of(client.post(path, json=body(earlier, question)).json())
             for name, (path, body, text_of) in PROTOCOLS.items()}  # fmt: skip
    assert set(texts.values()) == {
        'You said: What did I tell you? From earlier in this conversation: your name is Ada; you said "I live in Oslo".'
    }


def test_tool_results_given_earlier_are_mentioned_when_asked_about(client: httpx.Client) -> None:
    messages = [
        {"role": "user", "content": "What is the weather in Oslo?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city":"Oslo"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "sunny, 21 C"},
        {"role": "assistant", "content": "The tool get_weather returned: sunny, 21 C."},
        {"role": "user", "content": "What did the weather tool return?"},
    ]
    text = chat_text(client.post("/v1/ai/gpt/chat/completions", json={"messages": messages}).json())
    assert "From earlier in this conversation: the tool get_weather returned: sunny, 21 C." in text
    messages[-1] = {"role": "user", "content": "Summarize our conversation."}
    text = chat_text(client.post("/v1/ai/gpt/chat/completions", json={"messages": messages}).json())
    assert "the tool get_weather returned: sunny, 21 C" in text


def test_a_conversation_that_asks_nothing_about_earlier_turns_answers_as_before(client: httpx.Client) -> None:
    for path, body, text_of in PROTOCOLS.values():
        for earlier, question in [(["My name is Ada."], "How are you?"), (["Plan a picnic."], "And if it rains?")]:
            assert text_of(client.post(path, json=body(earlier, question)).json()) == f"You said: {question}"


def test_facts_are_read_from_user_turns_only_and_in_the_second_person() -> None:
    turns = [
        Turn("system", "My name is System."),
        Turn("user", "I am Ada. My cat and I live in Oslo."),
        Turn("assistant", "My name is Bot."),
        Turn("tool", tool_results=[ToolResult("get_time", "14:05")]),
    ]
    assert [f.sentence for f in remember(turns)] == [
        "your name is Ada",
        "the tool get_time returned: 14:05",
    ]
    prompt = Prompt(turns=[*turns, Turn("user", "What did the time tool say?")])
    assert recall(prompt) == "From earlier in this conversation: the tool get_time returned: 14:05."
    plan = plan_reply(Prompt(turns=[Turn("user", "My name is Ada."), Turn("user", "What is my name?")]))
    assert "".join(plan.text_pieces) == plan.text and plan.text_tokens == count_tokens(plan.text)
    cut = plan_reply(Prompt(turns=[Turn("user", "My name is Ada."), Turn("user", "What is my name?")], max_tokens=12))
    assert cut.finish == "length" and cut.text_tokens == 12 and plan.text.startswith(cut.text)
