"""Logprobs on every protocol that has them: the raw wire (httpx) and the official SDKs' parsing.

One deterministic generator serves chat, responses and gemini, so the same prompt gets the same
tokens and values on each of them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import openai
import pytest
from emulator_samples import KEY
from google import genai
from google.genai import types

CHAT = "/v1/ai/gpt4o/chat/completions"
RESPONSES = "/v1/ai/o3/responses"
GEMINI = "/v1/ai/gemini/generateContent"
GEMINI_STREAM = "/v1/ai/gemini/streamGenerateContent?alt=sse"
INCLUDE = ["message.output_text.logprobs"]
PROMPT = "Say something"


@pytest.fixture
def client(emulator_url: str) -> httpx.Client:
    with httpx.Client(base_url=emulator_url, timeout=10) as c:
        yield c


def sse_json(text: str, sep: str = "\n\n") -> list[dict[str, Any]]:
    out = []
    for block in text.split(sep):
        for line in block.splitlines():
            if line.startswith("data: ") and line[6:] != "[DONE]":
                out.append(json.loads(line[6:]))
    return out


def chat_logprobs(client: httpx.Client, auth: dict, top: int) -> list[dict[str, Any]]:
    body = {"messages": [{"role": "user", "content": PROMPT}], "logprobs": True, "top_logprobs": top}
    return client.post(CHAT, headers=auth, json=body).json()["choices"][0]["logprobs"]["content"]


# ---------------------------------------------------------------- responses, raw wire


def test_responses_output_text_logprobs(client: httpx.Client, auth: dict) -> None:
    body = {"input": PROMPT, "include": INCLUDE, "top_logprobs": 2}
    r = client.post(RESPONSES, headers=auth, json=body).json()
    assert r["top_logprobs"] == 2
    part = r["output"][0]["content"][0]
    logprobs = part["logprobs"]
    assert "".join(lp["token"] for lp in logprobs) == part["text"] == "You said: Say something."
    for lp in logprobs:
        assert set(lp) == {"token", "logprob", "bytes", "top_logprobs"}
        assert lp["bytes"] == list(lp["token"].encode()) and lp["logprob"] < 0
        assert len(lp["top_logprobs"]) == 2
        assert all(set(t) == {"token", "logprob", "bytes"} for t in lp["top_logprobs"])
        assert lp["top_logprobs"][0]["token"] == lp["token"]
        assert lp["top_logprobs"][0]["logprob"] >= lp["top_logprobs"][1]["logprob"]
    # the same generator as chat completions: same tokens, same values
    assert logprobs == chat_logprobs(client, auth, 2)
    # deterministic
    assert client.post(RESPONSES, headers=auth, json=body).json()["output"][0]["content"][0] == part


def test_responses_logprobs_need_include_or_top_logprobs(client: httpx.Client, auth: dict) -> None:
    plain = client.post(RESPONSES, headers=auth, json={"input": PROMPT}).json()
    assert plain["output"][0]["content"][0]["logprobs"] == [] and plain["top_logprobs"] == 0
    only_include = client.post(RESPONSES, headers=auth, json={"input": PROMPT, "include": INCLUDE}).json()
    logprobs = only_include["output"][0]["content"][0]["logprobs"]
    assert logprobs and all(lp["top_logprobs"] == [] for lp in logprobs)
    only_top = client.post(RESPONSES, headers=auth, json={"input": PROMPT, "top_logprobs": 3}).json()
    assert all(len(lp["top_logprobs"]) == 3 for lp in only_top["output"][0]["content"][0]["logprobs"])
    bad = client.post(RESPONSES, headers=auth, json={"input": PROMPT, "top_logprobs": 21})
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "top_logprobs"


def test_responses_stream_deltas_carry_logprobs(client: httpx.Client, auth: dict) -> None:
    body = {"input": PROMPT, "include": INCLUDE, "top_logprobs": 2, "stream": True}
    events = sse_json(client.post(RESPONSES, headers=auth, json=body).text)
    deltas = [e for e in events if e["type"] == "response.output_text.delta"]
    assert deltas and all(len(e["logprobs"]) == 1 for e in deltas)
    for e in deltas:
        (lp,) = e["logprobs"]
        assert lp["token"] == e["delta"] and set(lp) == {"token", "logprob", "top_logprobs"}
        assert [set(t) for t in lp["top_logprobs"]] == [{"token", "logprob"}] * 2
    done = next(e for e in events if e["type"] == "response.output_text.done")
    assert done["logprobs"] == [lp for e in deltas for lp in e["logprobs"]]
    final = next(e for e in events if e["type"] == "response.completed")["response"]
    whole = final["output"][0]["content"][0]["logprobs"]
    assert [(lp["token"], lp["logprob"]) for lp in whole] == [(lp["token"], lp["logprob"]) for lp in done["logprobs"]]
    part_done = next(e for e in events if e["type"] == "response.content_part.done")
    assert part_done["part"]["logprobs"] == whole


# ---------------------------------------------------------------- gemini, raw wire


def gemini_body(**config: Any) -> dict[str, Any]:
    return {"contents": [{"role": "user", "parts": [{"text": PROMPT}]}], "generationConfig": config}


def test_gemini_logprobs_result(client: httpx.Client, auth: dict) -> None:
    r = client.post(GEMINI, headers=auth, json=gemini_body(responseLogprobs=True, logprobs=2)).json()
    cand = r["candidates"][0]
    result = cand["logprobsResult"]
    chosen, tops = result["chosenCandidates"], result["topCandidates"]
    assert "".join(c["token"] for c in chosen) == cand["content"]["parts"][0]["text"]
    assert len(tops) == len(chosen) and all(len(t["candidates"]) == 2 for t in tops)
    for c, t in zip(chosen, tops, strict=True):
        assert set(c) == {"token", "tokenId", "logProbability"} and c["logProbability"] < 0
        assert t["candidates"][0] == c
    total = sum(c["logProbability"] for c in chosen)
    assert result["logProbabilitySum"] == pytest.approx(total)
    assert cand["avgLogprobs"] == pytest.approx(total / len(chosen))
    # the same values as chat completions
    chat = chat_logprobs(client, auth, 2)
    assert [(c["token"], c["logProbability"]) for c in chosen] == [(e["token"], e["logprob"]) for e in chat]
    # without responseLogprobs nothing is added
    plain = client.post(GEMINI, headers=auth, json=gemini_body()).json()["candidates"][0]
    assert "logprobsResult" not in plain and "avgLogprobs" not in plain
    bad = client.post(GEMINI, headers=auth, json=gemini_body(responseLogprobs=True, logprobs=99))
    assert bad.status_code == 400


def test_gemini_stream_logprobs_per_chunk(client: httpx.Client, auth: dict) -> None:
    body = gemini_body(responseLogprobs=True, logprobs=2, candidateCount=2)
    whole = client.post(GEMINI, headers=auth, json=body).json()
    chunks = sse_json(client.post(GEMINI_STREAM, headers=auth, json=body).text, "\r\n\r\n")
    for index in (0, 1):
        mine = [c["candidates"][0] for c in chunks if c["candidates"][0]["index"] == index]
        assert all(len(c["logprobsResult"]["chosenCandidates"]) == 1 for c in mine)
        for c in mine:
            assert c["logprobsResult"]["chosenCandidates"][0]["token"] == c["content"]["parts"][0]["text"]
            assert c["avgLogprobs"] == c["logprobsResult"]["chosenCandidates"][0]["logProbability"]
        streamed = [c["logprobsResult"]["chosenCandidates"][0] for c in mine]
        assert streamed == whole["candidates"][index]["logprobsResult"]["chosenCandidates"]


# ---------------------------------------------------------------- the official SDKs parse them


@pytest.fixture
def oai(emulator_url: str, closer: Callable[[Any], Any]) -> openai.OpenAI:
    return closer(openai.OpenAI(base_url=f"{emulator_url}/v1/ai/o3", api_key=KEY, max_retries=0))


@pytest.fixture
def gem(emulator_url: str, closer: Callable[[Any], Any]) -> genai.Client:
    return closer(
        genai.Client(
            api_key=KEY,
            http_options=types.HttpOptions(base_url=f"{emulator_url}/v1/ai/gemini", api_version="v1beta"),
        )
    )


def test_openai_sdk_parses_responses_logprobs(oai: openai.OpenAI) -> None:
    r = oai.responses.create(model="o3", input=PROMPT, include=INCLUDE, top_logprobs=2)
    part = r.output[0].content[0]
    assert part.type == "output_text" and r.top_logprobs == 2
    assert "".join(lp.token for lp in part.logprobs) == part.text == r.output_text
    assert all(len(lp.top_logprobs) == 2 and lp.bytes == list(lp.token.encode()) for lp in part.logprobs)


def test_openai_sdk_parses_streamed_responses_logprobs(oai: openai.OpenAI) -> None:
    with oai.responses.stream(model="o3", input=PROMPT, include=INCLUDE, top_logprobs=2) as s:
        deltas = [e for e in s if e.type == "response.output_text.delta"]
        final = s.get_final_response()
    assert all(e.logprobs[0].token == e.delta and len(e.logprobs[0].top_logprobs) == 2 for e in deltas)
    tokens = [lp.token for lp in final.output[0].content[0].logprobs]
    assert tokens == [e.delta for e in deltas] and "".join(tokens) == final.output_text


def test_genai_sdk_parses_gemini_logprobs(gem: genai.Client) -> None:
    config = types.GenerateContentConfig(response_logprobs=True, logprobs=2)
    response = gem.models.generate_content(model="gemini-2.5-flash", contents=PROMPT, config=config)
    cand = response.candidates[0]
    result = cand.logprobs_result
    assert "".join(c.token for c in result.chosen_candidates) == response.text
    assert all(len(t.candidates) == 2 for t in result.top_candidates)
    assert all(c.token_id is not None and c.log_probability < 0 for c in result.chosen_candidates)
    assert cand.avg_logprobs == pytest.approx(
        sum(c.log_probability for c in result.chosen_candidates) / len(result.chosen_candidates)
    )
    chunks = list(gem.models.generate_content_stream(model="gemini-2.5-flash", contents=PROMPT, config=config))
    streamed = [c for chunk in chunks for c in chunk.candidates[0].logprobs_result.chosen_candidates]
    assert streamed == result.chosen_candidates
    assert all(chunk.candidates[0].avg_logprobs is not None for chunk in chunks)
