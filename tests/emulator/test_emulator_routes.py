"""Routes, auth, errors, framing and determinism, checked on the raw wire with httpx."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from emulator_samples import KEY

from cloudsway_nb.emulator import create_app
from cloudsway_nb.emulator.testing import running_emulator

CHAT = "/v1/ai/gpt4o/chat/completions"
RESPONSES = "/v1/ai/o3/responses"
MESSAGES = "/claude/v1/messages"
GEMINI = "/v1/ai/gemini/generateContent"
GEMINI_STREAM = "/v1/ai/gemini/streamGenerateContent?alt=sse"
EMBED = "/v1/ai/e5/embeddings"

USER = {"messages": [{"role": "user", "content": "Hello emulator"}]}


@pytest.fixture
def client(emulator_url: str) -> httpx.Client:
    with httpx.Client(base_url=emulator_url, timeout=10) as c:
        yield c


def sse_events(text: str, sep: str = "\n\n") -> list[str]:
    return [block for block in text.split(sep) if block.strip()]


# ---------------------------------------------------------------- in-process use


def test_app_works_in_process_through_an_httpx_transport() -> None:
    async def run() -> tuple[int, dict, dict]:
        transport = httpx.ASGITransport(app=create_app())
        async with httpx.AsyncClient(transport=transport, base_url="http://emu") as c:
            health = await c.get("/health")
            chat = await c.post(CHAT, headers={"Authorization": "Bearer x"}, json=USER)
            return health.status_code, health.json(), chat.json()

    status, health, chat = asyncio.run(run())
    assert status == 200
    assert health["status"] == "ok" and health["version"]
    assert chat["choices"][0]["message"]["content"] == "You said: Hello emulator."


def test_health_needs_no_key(client: httpx.Client) -> None:
    for path in ("/health", "/healthz", "/"):
        r = client.get(path)
        assert r.status_code == 200 and r.json()["status"] == "ok"
        assert r.headers["x-request-id"].startswith("req_")


# ---------------------------------------------------------------- each route


def test_chat_completion_shape(client: httpx.Client, auth: dict) -> None:
    r = client.post(CHAT, headers=auth, json=USER)
    assert r.status_code == 200
    body = r.json()
    assert body["object"] == "chat.completion" and body["id"].startswith("chatcmpl-")
    assert body["model"] == "gpt4o"
    choice = body["choices"][0]
    assert choice["finish_reason"] == "stop" and choice["message"]["role"] == "assistant"
    usage = body["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert r.headers["x-request-id"] and r.headers["request-id"]


def test_chat_accepts_messages_as_a_json_string(client: httpx.Client, auth: dict) -> None:
    r = client.post(CHAT, headers=auth, json={"messages": json.dumps(USER["messages"])})
    assert r.status_code == 200
    assert "Hello emulator" in r.json()["choices"][0]["message"]["content"]


def test_endpoint_path_may_have_several_segments(client: httpx.Client, auth: dict) -> None:
    r = client.post("/v1/ai/team/MaaS-xyz/chat/completions", headers=auth, json=USER)
    assert r.status_code == 200 and r.json()["model"] == "team/MaaS-xyz"


def test_same_request_same_reply(client: httpx.Client, auth: dict) -> None:
    a = client.post(CHAT, headers=auth, json=USER).json()
    b = client.post(CHAT, headers=auth, json=USER).json()
    assert a["id"] == b["id"] and a["choices"] == b["choices"] and a["usage"] == b["usage"]
    other = client.post(CHAT, headers=auth, json={"messages": [{"role": "user", "content": "Other"}]}).json()
    assert other["id"] != a["id"]


def test_responses_create_retrieve_delete(client: httpx.Client, auth: dict) -> None:
    created = client.post(RESPONSES, headers=auth, json={"input": "Sum 1+2", "model": "o3"}).json()
    assert created["object"] == "response" and created["status"] == "completed"
    assert created["output"][-1]["content"][0]["text"] == "You said: Sum 1+2."
    got = client.get(
        f"{RESPONSES}/{created['id']}", params={"stream": "false", "api-version": "preview"}, headers=auth
    )
    assert got.status_code == 200 and got.json()["output"] == created["output"]
    gone = client.delete(f"{RESPONSES}/{created['id']}", headers=auth)
    assert gone.json() == {"id": created["id"], "object": "response.deleted", "deleted": True}
    missing = client.get(f"{RESPONSES}/{created['id']}", headers=auth)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


def test_responses_stream_order_and_sequence_numbers(client: httpx.Client, auth: dict) -> None:
    body = {"input": "Hi", "stream": True, "reasoning": {"effort": "high", "summary": "auto"}}
    r = client.post(RESPONSES, headers=auth, json=body)
    events = []
    for block in sse_events(r.text):
        lines = block.split("\n")
        assert lines[0].startswith("event: ") and lines[1].startswith("data: ")
        data = json.loads(lines[1][6:])
        assert data["type"] == lines[0][7:]
        events.append(data)
    assert [e["sequence_number"] for e in events] == list(range(len(events)))
    kinds = [e["type"] for e in events]
    assert kinds[:2] == ["response.created", "response.in_progress"]
    assert kinds[-1] == "response.completed"
    assert "response.reasoning_summary_text.delta" in kinds
    text_kinds = [k for k in kinds if k.startswith(("response.content_part", "response.output_text"))]
    assert text_kinds[0] == "response.content_part.added" and text_kinds[-1] == "response.content_part.done"
    assert kinds.index("response.reasoning_summary_part.added") < kinds.index("response.output_text.delta")
    final = events[-1]["response"]
    assert final["usage"]["output_tokens_details"]["reasoning_tokens"] > 0


def test_responses_background_lifecycle_and_resume(auth: dict) -> None:
    with (
        running_emulator(background_queued=0.2, background_running=0.2) as url,
        httpx.Client(base_url=url) as c,
    ):
        created = c.post(RESPONSES, headers=auth, json={"input": "Slow job", "background": True}).json()
        assert created["status"] == "queued" and created["background"] is True and created["output"] == []
        seen = [created["status"]]
        for _ in range(100):
            status = c.get(f"{RESPONSES}/{created['id']}", headers=auth).json()["status"]
            if status != seen[-1]:
                seen.append(status)
            if status == "completed":
                break
            asyncio.run(asyncio.sleep(0.02))
        assert seen == ["queued", "in_progress", "completed"]
        resumed = c.get(
            f"{RESPONSES}/{created['id']}", params={"stream": "true", "starting_after": 3}, headers=auth
        )
        numbers = [json.loads(b.split("\n")[1][6:])["sequence_number"] for b in sse_events(resumed.text)]
        assert numbers[0] == 4 and numbers == list(range(4, 4 + len(numbers)))
        # cancel: only while not finished
        job = c.post(RESPONSES, headers=auth, json={"input": "Cancel me", "background": True}).json()
        cancelled = c.post(f"{RESPONSES}/{job['id']}/cancel", headers=auth).json()
        assert cancelled["status"] == "cancelled"
        assert c.get(f"{RESPONSES}/{job['id']}", headers=auth).json()["status"] == "cancelled"


def test_cancel_of_a_synchronous_response_is_a_400(client: httpx.Client, auth: dict) -> None:
    created = client.post(RESPONSES, headers=auth, json={"input": "quick"}).json()
    r = client.post(f"{RESPONSES}/{created['id']}/cancel", headers=auth)
    assert r.status_code == 400 and "background" in r.json()["error"]["message"]


def test_previous_response_id_continues(client: httpx.Client, auth: dict) -> None:
    first = client.post(RESPONSES, headers=auth, json={"input": "What is 1+1?"}).json()
    second = client.post(
        RESPONSES, headers=auth, json={"input": "Add one more", "previous_response_id": first["id"]}
    )
    text = second.json()["output"][-1]["content"][0]["text"]
    assert text.startswith(f"Continuing from {first['id']}.") and "Add one more" in text
    assert second.json()["usage"]["input_tokens"] > first["usage"]["input_tokens"]
    bad = client.post(RESPONSES, headers=auth, json={"input": "x", "previous_response_id": "resp_nope"})
    assert bad.status_code == 404 and bad.json()["error"]["param"] == "previous_response_id"


def test_anthropic_messages_shape_and_both_auth_headers(client: httpx.Client) -> None:
    body = {"max_tokens": 64, "messages": [{"role": "user", "content": "Hi Claude"}], "system": "Be terse."}
    for headers in ({"x-api-key": KEY}, {"Authorization": f"Bearer {KEY}"}):
        r = client.post(MESSAGES, headers=headers, json=body)
        assert r.status_code == 200
        msg = r.json()
        assert msg["type"] == "message" and msg["role"] == "assistant" and msg["stop_reason"] == "end_turn"
        assert msg["content"][0]["text"].startswith("You said: Hi Claude.")
        assert "Instructions noted: Be terse." in msg["content"][0]["text"]
        assert r.headers["request-id"]


def test_anthropic_stream_framing_with_ping(client: httpx.Client, auth: dict) -> None:
    body = {"max_tokens": 64, "stream": True, "messages": [{"role": "user", "content": "Hi"}]}
    text = client.post(MESSAGES, headers=auth, json=body).text
    names = [block.split("\n")[0] for block in sse_events(text)]
    assert names[0] == "event: message_start" and "event: ping" in names
    assert names[-2:] == ["event: message_delta", "event: message_stop"]
    for block in sse_events(text):
        name, data = block.split("\n")
        assert json.loads(data[6:])["type"] == name[7:]


def test_gemini_generate_and_sse_stream_with_crlf(client: httpx.Client, auth: dict) -> None:
    body = {"contents": [{"role": "user", "parts": [{"text": "Hi Gemini"}]}]}
    r = client.post(GEMINI, headers=auth, json=body)
    cand = r.json()["candidates"][0]
    assert cand["content"]["parts"][0]["text"] == "You said: Hi Gemini." and cand["finishReason"] == "STOP"
    stream = client.post(GEMINI_STREAM, headers=auth, json=body)
    assert stream.headers["content-type"].startswith("text/event-stream")
    raw = stream.text
    assert "\r\n\r\n" in raw and "[DONE]" not in raw
    chunks = [json.loads(b[6:]) for b in raw.split("\r\n\r\n") if b]
    assert (
        "".join(c["candidates"][0]["content"]["parts"][0]["text"] for c in chunks) == "You said: Hi Gemini."
    )
    counts = [c["usageMetadata"]["candidatesTokenCount"] for c in chunks]
    assert counts == sorted(counts) and counts[-1] == r.json()["usageMetadata"]["candidatesTokenCount"]
    assert chunks[-1]["candidates"][0]["finishReason"] == "STOP"


def test_gemini_stream_without_sse_is_a_json_array(client: httpx.Client, auth: dict) -> None:
    body = {"contents": [{"parts": [{"text": "Hi"}]}]}
    r = client.post("/v1/ai/gemini/streamGenerateContent", headers=auth, json=body)
    assert isinstance(r.json(), list) and r.json()[-1]["candidates"][0]["finishReason"] == "STOP"


def test_gemini_sdk_url_shape_snake_case_and_key_styles(client: httpx.Client) -> None:
    body = {
        "contents": [{"role": "user", "parts": [{"text": "snake"}]}],
        "generation_config": {"max_output_tokens": 3},
    }
    for path, headers, params in (
        ("/v1beta/models/gemini-2.5-flash:generateContent", {"x-goog-api-key": KEY}, {}),
        ("/v1/ai/gem/v1beta/models/gemini-2.5-flash:generateContent", {}, {"key": KEY}),
    ):
        r = client.post(path, headers=headers, params=params, json=body)
        assert r.status_code == 200, r.text
        cand = r.json()["candidates"][0]
        assert cand["finishReason"] == "MAX_TOKENS" and r.json()["modelVersion"] == "gemini-2.5-flash"
    count = client.post("/v1beta/models/g:countTokens", headers={"x-goog-api-key": KEY}, json=body).json()
    assert count["totalTokens"] == r.json()["usageMetadata"]["promptTokenCount"]


def test_embeddings_float_and_base64(client: httpx.Client, auth: dict) -> None:
    r = client.post(
        EMBED, headers=auth, json={"input": ["a cat", "a dog"], "encoding_format": "float"}
    ).json()
    assert [d["index"] for d in r["data"]] == [0, 1] and len(r["data"][0]["embedding"]) == 1024
    b = client.post(
        EMBED, headers=auth, json={"input": "a cat", "encoding_format": "base64", "dimensions": 8}
    ).json()
    assert isinstance(b["data"][0]["embedding"], str)
    assert client.post(EMBED, headers=auth, json={"input": ""}).status_code == 400


# ---------------------------------------------------------------- streaming details


def test_chat_stream_include_usage(client: httpx.Client, auth: dict) -> None:
    body = {**USER, "stream": True, "stream_options": {"include_usage": True}}
    blocks = sse_events(client.post(CHAT, headers=auth, json=body).text)
    assert blocks[-1] == "data: [DONE]"
    chunks = [json.loads(b[6:]) for b in blocks[:-1]]
    assert all(c["usage"] is None for c in chunks[:-1])
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["total_tokens"] > 0
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks[:-1])
    assert text == "You said: Hello emulator."
    plain = sse_events(client.post(CHAT, headers=auth, json={**USER, "stream": True}).text)
    assert all("usage" not in json.loads(b[6:]) for b in plain[:-1])


def test_chat_stream_n_choices_interleave(client: httpx.Client, auth: dict) -> None:
    blocks = sse_events(client.post(CHAT, headers=auth, json={**USER, "stream": True, "n": 2}).text)
    indexes = [json.loads(b[6:])["choices"][0]["index"] for b in blocks[:-1]]
    assert indexes[:4] == [0, 1, 0, 1]


def test_keepalive_comments_while_waiting_for_the_first_token(client: httpx.Client, auth: dict) -> None:
    headers = {**auth, "x-emulator-first-token-ms": "300", "x-emulator-keepalive-ms": "100"}
    text = client.post(CHAT, headers=headers, json={**USER, "stream": True}).text
    assert text.count(": keep-alive\n\n") >= 2
    text = client.post(MESSAGES, headers=headers, json={"max_tokens": 50, "stream": True, **USER}).text
    assert text.count("event: ping") >= 3


def test_chunk_delay_paces_the_stream(client: httpx.Client, auth: dict) -> None:
    import time

    start = time.perf_counter()
    client.post(CHAT, headers={**auth, "x-emulator-chunk-delay-ms": "20"}, json={**USER, "stream": True})
    assert time.perf_counter() - start >= 20 * 5 / 1000  # at least 6 tokens, 5 gaps


# ---------------------------------------------------------------- auth and errors


@pytest.mark.parametrize(
    ("path", "body", "check"),
    [
        (CHAT, USER, lambda b: b["error"]["type"] == "invalid_request_error" and "param" in b["error"]),
        (
            MESSAGES,
            {"max_tokens": 5, **USER},
            lambda b: (
                set(b) == {"type", "error"}
                and b["type"] == "error"
                and b["error"]["type"] == "authentication_error"
            ),
        ),
        (
            GEMINI,
            {"contents": []},
            lambda b: b["error"]["code"] == 401 and b["error"]["status"] == "UNAUTHENTICATED",
        ),
    ],
)
def test_missing_key_is_401_in_each_protocols_shape(
    client: httpx.Client, path: str, body: dict, check
) -> None:
    r = client.post(path, json=body)
    assert r.status_code == 401
    assert check(r.json())
    assert r.headers["x-request-id"]


def test_fixed_api_key_rejects_others() -> None:
    with running_emulator(api_key="right") as url, httpx.Client(base_url=url) as c:
        assert c.post(CHAT, headers={"Authorization": "Bearer wrong"}, json=USER).status_code == 401
        assert c.post(CHAT, headers={"Authorization": "Bearer right"}, json=USER).status_code == 200
        r = c.post(MESSAGES, headers={"x-api-key": "wrong"}, json={"max_tokens": 5, **USER})
        assert r.status_code == 401 and r.json()["error"]["message"] == "invalid x-api-key"


@pytest.mark.parametrize(
    ("path", "shape"),
    [(CHAT, "openai"), (MESSAGES, "anthropic"), (GEMINI, "gemini"), (RESPONSES, "openai"), (EMBED, "openai")],
)
def test_malformed_json_is_400(client: httpx.Client, auth: dict, path: str, shape: str) -> None:
    r = client.post(path, headers={**auth, "content-type": "application/json"}, content=b"{not json")
    assert r.status_code == 400
    body = r.json()
    if shape == "anthropic":
        assert body["type"] == "error" and body["error"]["type"] == "invalid_request_error"
    elif shape == "gemini":
        assert body["error"]["status"] == "INVALID_ARGUMENT"
    else:
        assert body["error"]["type"] == "invalid_request_error"


@pytest.mark.parametrize(
    ("path", "body", "needle"),
    [
        (MESSAGES, USER, "max_tokens: Field required"),
        (CHAT, {"model": "x"}, "Missing required parameter: 'messages'."),
        (RESPONSES, {"model": "x"}, "Missing required parameter: 'input'."),
        (GEMINI, {}, "contents is not specified"),
        (
            MESSAGES,
            {"max_tokens": 2000, "thinking": {"type": "enabled", "budget_tokens": 4000}, **USER},
            "max_tokens",
        ),
    ],
)
def test_missing_required_fields_are_400(
    client: httpx.Client, auth: dict, path: str, body: dict, needle: str
) -> None:
    r = client.post(path, headers=auth, json=body)
    assert r.status_code == 400
    assert needle in json.dumps(r.json())


def test_unknown_route_is_404_and_wrong_method_405(client: httpx.Client, auth: dict) -> None:
    r = client.post("/v1/ai/x/completions/legacy", headers=auth, json={})
    assert r.status_code == 404 and r.json()["error"]["message"].startswith("Invalid URL")
    r = client.post("/nothing/v2/messages", headers=auth, json={})
    assert r.status_code == 404
    assert client.get(CHAT, headers=auth).status_code == 405


def test_oversized_body_is_413() -> None:
    with running_emulator(max_body=1000) as url, httpx.Client(base_url=url) as c:
        big = {"messages": [{"role": "user", "content": "x" * 5000}]}
        r = c.post(CHAT, headers={"Authorization": "Bearer k"}, json=big)
        assert r.status_code == 413 and "too large" in r.json()["error"]["message"]
        r = c.post(MESSAGES, headers={"x-api-key": "k"}, json={"max_tokens": 5, **big})
        assert r.status_code == 413 and r.json()["error"]["type"] == "request_too_large"
        assert c.post(CHAT, headers={"Authorization": "Bearer k"}, json=USER).status_code == 200


def test_stream_stops_when_the_client_disconnects() -> None:
    async def run() -> list[dict]:
        app = create_app(chunk_delay=0.005)
        body = json.dumps(
            {"messages": [{"role": "user", "content": "a long enough prompt " * 5}], "stream": True}
        )
        pending = [{"type": "http.request", "body": body.encode(), "more_body": False}]
        disconnected = asyncio.Event()
        sent: list[dict] = []

        async def receive() -> dict:
            if pending:
                return pending.pop(0)
            await disconnected.wait()
            return {"type": "http.disconnect"}

        async def send(message: dict) -> None:
            sent.append(message)
            if len(sent) == 4:
                disconnected.set()

        scope = {
            "type": "http",
            "method": "POST",
            "path": CHAT,
            "query_string": b"",
            "headers": [(b"authorization", b"Bearer k"), (b"content-type", b"application/json")],
        }
        await asyncio.wait_for(app(scope, receive, send), timeout=5)
        return sent

    sent = asyncio.run(run())
    assert sent[0]["type"] == "http.response.start" and sent[0]["status"] == 200
    assert len(sent) < 10  # the reply has more than 30 chunks; generation stopped early
    assert all(m.get("more_body", True) for m in sent[1:])


def test_function_scoped_fixture_gives_a_fresh_emulator(cloudsway_emulator: str, emulator_url: str) -> None:
    assert cloudsway_emulator != emulator_url
    assert httpx.get(f"{cloudsway_emulator}/health").json()["status"] == "ok"


def test_cached_and_reasoning_tokens_agree_across_protocols(client: httpx.Client, auth: dict) -> None:
    text = "Summarise this long report. " + "The quarterly numbers went up again. " * 200
    chat = client.post(
        CHAT,
        headers=auth,
        json={"messages": [{"role": "user", "content": text}], "thinking": {"type": "enabled"}},
    ).json()
    responses = client.post(
        RESPONSES, headers=auth, json={"input": text, "reasoning": {"effort": "medium"}}
    ).json()
    claude = client.post(
        MESSAGES,
        headers=auth,
        json={
            "max_tokens": 4000,
            "thinking": {"type": "enabled", "budget_tokens": 2000},
            "messages": [{"role": "user", "content": text}],
        },
    ).json()
    gemini = client.post(
        GEMINI,
        headers=auth,
        json={
            "contents": [{"role": "user", "parts": [{"text": text}]}],
            "generationConfig": {"thinkingConfig": {"thinkingBudget": 2000}},
        },
    ).json()
    cached = chat["usage"]["prompt_tokens_details"]["cached_tokens"]
    assert cached > 0 and cached % 128 == 0
    assert cached == responses["usage"]["input_tokens_details"]["cached_tokens"]
    assert cached == claude["usage"]["cache_read_input_tokens"]
    assert cached == gemini["usageMetadata"]["cachedContentTokenCount"]
    inputs = chat["usage"]["prompt_tokens"]
    assert inputs == responses["usage"]["input_tokens"] == gemini["usageMetadata"]["promptTokenCount"]
    assert inputs == claude["usage"]["input_tokens"] + claude["usage"]["cache_read_input_tokens"]
    reasoning = chat["usage"]["completion_tokens_details"]["reasoning_tokens"]
    assert reasoning > 0
    assert reasoning == responses["usage"]["output_tokens_details"]["reasoning_tokens"]
    assert reasoning == gemini["usageMetadata"]["thoughtsTokenCount"]
    outputs = chat["usage"]["completion_tokens"]
    assert outputs == responses["usage"]["output_tokens"] == claude["usage"]["output_tokens"]
    assert (
        outputs
        == gemini["usageMetadata"]["candidatesTokenCount"] + gemini["usageMetadata"]["thoughtsTokenCount"]
    )


def test_chat_stream_logprobs_and_reasoning_deltas(client: httpx.Client, auth: dict) -> None:
    body = {**USER, "stream": True, "logprobs": True, "top_logprobs": 2, "reasoning_effort": "low"}
    chunks = [json.loads(b[6:]) for b in sse_events(client.post(CHAT, headers=auth, json=body).text)[:-1]]
    deltas = [c["choices"][0]["delta"] for c in chunks]
    reasoning = "".join(d.get("reasoning_content", "") for d in deltas)
    assert reasoning == "The user wrote: Hello emulator."
    with_logprobs = [c["choices"][0]["logprobs"] for c in chunks if c["choices"][0]["delta"].get("content")]
    assert with_logprobs and all(len(lp["content"][0]["top_logprobs"]) == 2 for lp in with_logprobs)


# ---------------------------------------------------------------- background streams follow the timeline


def _timed_events(response: httpx.Response, start: float) -> list[tuple[float, dict]]:
    """(seconds since ``start``, event) for every SSE data line, read as it arrives."""
    import time

    seen = []
    for line in response.iter_lines():
        if line.startswith("data: "):
            seen.append((time.monotonic() - start, json.loads(line[6:])))
    return seen


def test_streamed_get_of_a_queued_response_follows_its_timeline(auth: dict) -> None:
    import time

    with (
        running_emulator(background_queued=0.4, background_running=0.4) as url,
        httpx.Client(base_url=url, timeout=10) as c,
    ):
        start = time.monotonic()
        job = c.post(RESPONSES, headers=auth, json={"input": "Follow me", "background": True}).json()
        with c.stream("GET", f"{RESPONSES}/{job['id']}", params={"stream": "true"}, headers=auth) as r:
            events = _timed_events(r, start)
        kinds = [e["type"] for _, e in events]
        assert kinds[:3] == ["response.created", "response.queued", "response.in_progress"]
        assert kinds[-1] == "response.completed"
        assert [e["sequence_number"] for _, e in events] == list(range(len(events)))
        at = {e["type"]: t for t, e in events}
        assert at["response.queued"] < 0.3  # sent at once: it is the current state
        assert 0.35 <= at["response.in_progress"] < 0.75  # when a plain GET says in_progress
        assert at["response.completed"] >= 0.75  # not before the response is done
        assert events[-1][1]["response"]["output"][0]["content"][0]["text"] == "You said: Follow me."
        # a resumed stream skips what the client has seen, also while the response is running
        job2 = c.post(RESPONSES, headers=auth, json={"input": "Resume me", "background": True}).json()
        resumed = c.get(f"{RESPONSES}/{job2['id']}", params={"stream": "true", "starting_after": 2}, headers=auth)
        numbers = [json.loads(b.split("\n")[1][6:])["sequence_number"] for b in sse_events(resumed.text)]
        assert numbers[0] == 3 and numbers == list(range(3, 3 + len(numbers)))


def test_cancel_ends_open_streams_with_the_cancelled_state(auth: dict) -> None:
    import threading
    import time

    with (
        running_emulator(background_queued=5.0, background_running=5.0) as url,
        httpx.Client(base_url=url, timeout=10) as c,
    ):
        job = c.post(RESPONSES, headers=auth, json={"input": "Stop me", "background": True}).json()
        # a plain GET says queued, and the streamed GET must agree: no output, no completed
        assert c.get(f"{RESPONSES}/{job['id']}", headers=auth).json()["status"] == "queued"
        result: dict = {}

        def follow() -> None:
            with httpx.Client(base_url=url, timeout=10) as other:
                start = time.monotonic()
                with other.stream("GET", f"{RESPONSES}/{job['id']}", params={"stream": "true"}, headers=auth) as r:
                    result["events"] = _timed_events(r, start)
                result["took"] = time.monotonic() - start

        reader = threading.Thread(target=follow)
        reader.start()
        time.sleep(0.3)
        assert reader.is_alive()  # the stream waits for the response to make progress
        assert c.post(f"{RESPONSES}/{job['id']}/cancel", headers=auth).json()["status"] == "cancelled"
        reader.join(3)
        assert not reader.is_alive() and result["took"] < 1.5  # ended promptly after the cancel
        kinds = [e["type"] for _, e in result["events"]]
        assert kinds == ["response.created", "response.queued", "response.queued"]
        assert result["events"][-1][1]["response"]["status"] == "cancelled"
        assert [e["sequence_number"] for _, e in result["events"]] == [0, 1, 2]
        # a later streamed GET tells the same story at once, and honours starting_after
        again = c.get(f"{RESPONSES}/{job['id']}", params={"stream": "true"}, headers=auth)
        replay = [json.loads(b.split("\n")[1][6:]) for b in sse_events(again.text)]
        assert [e["type"] for e in replay] == kinds and replay[-1]["response"]["status"] == "cancelled"
        tail = c.get(f"{RESPONSES}/{job['id']}", params={"stream": "true", "starting_after": 1}, headers=auth)
        assert [json.loads(b.split("\n")[1][6:])["sequence_number"] for b in sse_events(tail.text)] == [2]


def test_cancel_while_in_progress_keeps_the_events_already_due(auth: dict) -> None:
    import time

    with (
        running_emulator(background_queued=0.05, background_running=5.0) as url,
        httpx.Client(base_url=url, timeout=10) as c,
    ):
        job = c.post(RESPONSES, headers=auth, json={"input": "Halfway", "background": True}).json()
        time.sleep(0.2)
        assert c.post(f"{RESPONSES}/{job['id']}/cancel", headers=auth).json()["status"] == "cancelled"
        text = c.get(f"{RESPONSES}/{job['id']}", params={"stream": "true"}, headers=auth).text
        events = [json.loads(b.split("\n")[1][6:]) for b in sse_events(text)]
        kinds = [e["type"] for e in events]
        assert kinds[:3] == ["response.created", "response.queued", "response.in_progress"]
        assert kinds[-1] == "response.in_progress" and events[-1]["response"]["status"] == "cancelled"
        assert "response.completed" not in kinds
        assert [e["sequence_number"] for e in events] == list(range(len(events)))
