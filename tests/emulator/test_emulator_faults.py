"""Fault injection: status faults with retry hints, drops, error events, slow first byte, seeded chaos."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import anthropic
import httpx
import openai
import pytest
from emulator_samples import KEY

from cloudsway_nb.emulator.faults import FaultPlanner, parse_fault
from cloudsway_nb.emulator.testing import running_emulator

CHAT = "/v1/ai/gpt/chat/completions"
MESSAGES = "/claude/v1/messages"
GEMINI_SSE = "/v1/ai/gem/streamGenerateContent?alt=sse"
RESPONSES = "/v1/ai/o3/responses"
AUTH = {"Authorization": f"Bearer {KEY}"}
LONG = "Tell me a long story about the sea and the wind and the stars"
BODIES = {
    CHAT: {"messages": [{"role": "user", "content": LONG}], "stream": True},
    MESSAGES: {"max_tokens": 100, "stream": True, "messages": [{"role": "user", "content": LONG}]},
    GEMINI_SSE: {"contents": [{"parts": [{"text": LONG}]}]},
    RESPONSES: {"input": LONG, "stream": True},
}


@pytest.fixture
def client(emulator_url: str) -> httpx.Client:
    with httpx.Client(base_url=emulator_url, headers=AUTH, timeout=10) as c:
        yield c


def fault(kind: str, **extra: str) -> dict[str, str]:
    return {"x-emulator-fault": kind, **extra}


@pytest.mark.parametrize("path", [CHAT, MESSAGES, GEMINI_SSE, RESPONSES])
def test_429_has_retry_hints_in_every_protocol(client: httpx.Client, path: str) -> None:
    r = client.post(path, headers=fault("429:2"), json=BODIES[path])
    assert r.status_code == 429
    assert r.headers["retry-after"] == "2" and r.headers["retry-after-ms"] == "2000"
    body = r.json()
    if path == MESSAGES:
        assert body["error"]["type"] == "rate_limit_error"
    elif path == GEMINI_SSE:
        assert body["error"]["status"] == "RESOURCE_EXHAUSTED"
    else:
        assert body["error"]["code"] == "rate_limit_exceeded"


@pytest.mark.parametrize("spec, status", [("html", 502), ("html:503", 503)])
def test_html_fault_is_a_proxy_page_not_json(client: httpx.Client, spec: str, status: int) -> None:
    r = client.post(CHAT, headers=fault(spec), json=BODIES[CHAT])
    assert r.status_code == status and r.headers["content-type"] == "text/html"
    assert f"<title>{status} " in r.text and "x-request-id" not in r.headers


@pytest.mark.parametrize("status", ["500", "503", "529"])
def test_status_faults(client: httpx.Client, status: str) -> None:
    r = client.post(CHAT, headers=fault(status), json=BODIES[CHAT])
    assert r.status_code == int(status) and r.json()["error"]["type"] == "server_error"
    r = client.post(MESSAGES, headers=fault(status), json=BODIES[MESSAGES])
    assert r.json()["error"]["type"] == ("overloaded_error" if status == "529" else "api_error")


def test_sdk_retries_on_429_using_retry_after_then_succeeds(closer: Callable[[Any], Any]) -> None:
    # every second request fails: the SDK's retry gets the good one
    with running_emulator(fault="429:0.05", fault_rate=0.5, seed=3) as url:
        planner = FaultPlanner("429:0.05", 0.5, 3)
        sequence = [planner.decide({}) is not None for _ in range(6)]
        client = closer(openai.OpenAI(base_url=f"{url}/v1/ai/gpt", api_key=KEY, max_retries=5))
        done = [
            client.chat.completions.create(model="", messages=[{"role": "user", "content": "x"}])
            for _ in range(2)
        ]
        assert all(c.choices[0].message.content for c in done)
        assert any(sequence) and not all(sequence)


def test_drop_mid_stream_breaks_the_connection(client: httpx.Client) -> None:
    received = []
    with (
        pytest.raises(httpx.RemoteProtocolError),
        client.stream(
            "POST", CHAT, headers=fault("drop", **{"x-emulator-fault-after": "4"}), json=BODIES[CHAT]
        ) as r,
    ):
        for line in r.iter_lines():
            if line.startswith("data: "):
                received.append(line)
    assert len(received) == 5  # the role chunk and four tokens
    assert all("[DONE]" not in line for line in received)
    # the server is still healthy
    assert client.get("/health").status_code == 200


def test_drop_in_the_sdks_is_a_connection_error(emulator_url: str, closer: Callable[[Any], Any]) -> None:
    client = closer(openai.OpenAI(base_url=f"{emulator_url}/v1/ai/gpt", api_key=KEY, max_retries=0))
    stream = client.chat.completions.create(
        model="", messages=[{"role": "user", "content": LONG}], stream=True, extra_headers=fault("drop:3")
    )
    with pytest.raises(openai.APIConnectionError):
        list(stream)
    plain = closer(anthropic.Anthropic(base_url=f"{emulator_url}/claude", api_key=KEY, max_retries=0))
    with pytest.raises(anthropic.APIConnectionError):
        plain.messages.create(
            model="c", max_tokens=50, messages=[{"role": "user", "content": "x"}], extra_headers=fault("drop")
        )


def test_error_event_mid_stream_in_each_protocol(
    emulator_url: str, client: httpx.Client, closer: Callable[[Any], Any]
) -> None:
    chat = client.post(CHAT, headers=fault("error-event:2"), json=BODIES[CHAT]).text
    blocks = [b for b in chat.split("\n\n") if b]
    assert json.loads(blocks[-1][6:])["error"]["type"] == "server_error" and "[DONE]" not in chat
    messages = client.post(MESSAGES, headers=fault("error-event:2"), json=BODIES[MESSAGES]).text
    last = [b for b in messages.split("\n\n") if b][-1]
    assert last.startswith("event: error\n")
    assert json.loads(last.split("\n")[1][6:])["error"]["type"] == "overloaded_error"
    gemini = client.post(GEMINI_SSE, headers=fault("error-event:2"), json=BODIES[GEMINI_SSE]).text
    chunks = [json.loads(b[6:]) for b in gemini.split("\r\n\r\n") if b]
    assert len(chunks) == 3 and chunks[-1]["error"]["status"] == "INTERNAL"
    responses = client.post(RESPONSES, headers=fault("error-event:2"), json=BODIES[RESPONSES]).text
    events = [json.loads(b.split("\n")[1][6:]) for b in responses.split("\n\n") if b]
    assert events[-1]["type"] == "error" and events[-1]["code"] == "server_error"
    assert events[-1]["sequence_number"] == events[-2]["sequence_number"] + 1
    # the SDKs surface them as errors
    sdk = closer(openai.OpenAI(base_url=f"{emulator_url}/v1/ai/gpt", api_key=KEY, max_retries=0))
    with pytest.raises(openai.APIError, match="emulated fault"):
        list(
            sdk.chat.completions.create(
                model="",
                messages=[{"role": "user", "content": LONG}],
                stream=True,
                extra_headers=fault("error-event"),
            )
        )
    claude = closer(anthropic.Anthropic(base_url=f"{emulator_url}/claude", api_key=KEY, max_retries=0))
    with (
        pytest.raises(anthropic.APIStatusError),
        claude.messages.stream(
            model="c",
            max_tokens=50,
            messages=[{"role": "user", "content": LONG}],
            extra_headers=fault("error-event"),
        ) as stream,
    ):
        stream.get_final_message()


def test_error_event_without_streaming_is_a_500(client: httpx.Client) -> None:
    r = client.post(CHAT, headers=fault("error-event"), json={"messages": [{"role": "user", "content": "x"}]})
    assert r.status_code == 500


def test_slow_first_byte(client: httpx.Client) -> None:
    start = time.perf_counter()
    r = client.post(
        CHAT, headers=fault("slow-first-byte:300"), json={"messages": [{"role": "user", "content": "x"}]}
    )
    assert r.status_code == 200 and time.perf_counter() - start >= 0.3
    with pytest.raises(httpx.ReadTimeout):
        client.post(
            CHAT,
            headers=fault("slow-first-byte:1500"),
            json={"messages": [{"role": "user", "content": "x"}]},
            timeout=httpx.Timeout(10, read=0.2),
        )


def test_startup_fault_applies_to_every_request_but_not_health() -> None:
    with running_emulator(fault="503") as url, httpx.Client(base_url=url, headers=AUTH) as c:
        assert c.post(CHAT, json={"messages": [{"role": "user", "content": "x"}]}).status_code == 503
        assert c.get("/health").status_code == 200
        ok = c.post(CHAT, headers=fault("none"), json={"messages": [{"role": "user", "content": "x"}]})
        assert ok.status_code == 200


def test_random_faults_are_reproducible_with_a_seed() -> None:
    def run() -> list[int]:
        with (
            running_emulator(fault="429,500,503", fault_rate=0.4, seed=42) as url,
            httpx.Client(base_url=url) as c,
        ):
            body = {"messages": [{"role": "user", "content": "x"}]}
            return [c.post(CHAT, headers=AUTH, json=body).status_code for _ in range(20)]

    first, second = run(), run()
    assert first == second
    assert 200 in first and set(first) - {200}
    assert set(first) <= {200, 429, 500, 503}


def test_bad_fault_header_is_a_400(client: httpx.Client) -> None:
    r = client.post(CHAT, headers=fault("explode"), json={"messages": [{"role": "user", "content": "x"}]})
    assert r.status_code == 400 and "unknown fault kind" in r.json()["error"]["message"]
    with pytest.raises(ValueError, match="known kinds"):
        parse_fault("nope")
