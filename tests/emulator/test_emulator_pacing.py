"""Pacing: realistic by default for the bundled emulator, none for the test helpers; streamed and
non-streamed replies alike take as long as their tokens would. No test waits: the app's ``sleep``
is replaced by a recorder, so the delays asked for are checked, not timed."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest

from cloudsway_nb.demo import emulator_environment
from cloudsway_nb.emulator import EmulatorServer, create_app
from cloudsway_nb.emulator.cli import build_parser, options_from_args
from cloudsway_nb.emulator.options import PACING_ENV, EmulatorOptions
from cloudsway_nb.emulator.testing import running_emulator

AUTH = {"Authorization": "Bearer k", "x-api-key": "k"}
REALISTIC = (0.025, 0.3)  # (chunk_delay, first_token_delay)

CHAT = ("/v1/ai/gpt/chat/completions", {"messages": [{"role": "user", "content": "Pace me"}]})
MESSAGES = ("/claude/v1/messages", {"max_tokens": 100, "messages": [{"role": "user", "content": "Pace me"}]})
GEMINI = ("/v1/ai/gemini/generateContent", {"contents": [{"role": "user", "parts": [{"text": "Pace me"}]}]})
RESPONSES = ("/v1/ai/o3/responses", {"input": "Pace me"})


def delays(options: EmulatorOptions) -> tuple[float, float]:
    return options.chunk_delay, options.first_token_delay


# ---------------------------------------------------------------- who is paced by default


def test_the_bundled_server_is_paced_like_a_model_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(PACING_ENV, raising=False)
    assert delays(EmulatorServer().options) == REALISTIC
    assert delays(EmulatorServer(pacing="none").options) == (0.0, 0.0)
    assert delays(EmulatorServer(first_token_delay=0.1).options) == (0.025, 0.1)  # explicit beats the preset
    monkeypatch.setenv(PACING_ENV, "none")  # what the test suite sets for its own runs
    assert delays(EmulatorServer().options) == (0.0, 0.0)


def test_the_command_line_is_paced_like_a_model_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(PACING_ENV, raising=False)
    parse = build_parser().parse_args
    assert delays(options_from_args(parse([]))) == REALISTIC
    assert delays(options_from_args(parse(["--pacing", "none"]))) == (0.0, 0.0)
    both = ["--chunk-delay", "0.05", "--first-token-delay", "0.5"]
    assert delays(options_from_args(parse(both))) == (0.05, 0.5)
    with pytest.raises(SystemExit):
        parse(["--chunk-delay", "-1"])


def test_create_app_and_the_test_helpers_answer_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PACING_ENV, "realistic")
    assert delays(create_app().options) == (0.0, 0.0)
    with running_emulator() as url:
        assert httpx.get(url + "/health").json()["pacing"] == {"chunk_delay": 0.0, "first_token_delay": 0.0}
    with running_emulator(pacing="realistic") as url:  # a test may ask for pacing
        assert httpx.get(url + "/health").json()["pacing"] == {"chunk_delay": 0.025, "first_token_delay": 0.3}


def test_the_demo_emulator_is_paced_and_the_suite_can_turn_it_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(PACING_ENV, raising=False)
    with emulator_environment() as env:
        assert httpx.get(env["CLOUDSWAY_BASE_URL"] + "/health").json()["pacing"]["first_token_delay"] == 0.3
    with emulator_environment(pacing="none") as env:
        assert httpx.get(env["CLOUDSWAY_BASE_URL"] + "/health").json()["pacing"]["first_token_delay"] == 0.0


def test_an_unknown_pacing_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown pacing 'fast'; known: none, realistic"):
        create_app(pacing="fast")
    with pytest.raises(TypeError, match="unknown emulator option"):
        create_app(pace="none")


# ---------------------------------------------------------------- what a paced reply waits for


def _paced_app(**options: Any) -> tuple[Any, list[float]]:
    app = create_app(pacing="realistic", **options)
    waited: list[float] = []

    async def record(seconds: float) -> None:
        waited.append(round(seconds, 6))

    app.sleep = record
    return app, waited


def _post(app: Any, path: str, body: dict, headers: dict | None = None) -> httpx.Response:
    async def run() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://emu") as client:
            reply = await client.post(path, headers={**AUTH, **(headers or {})}, json=body)
            await reply.aread()
            return reply

    return asyncio.run(run())


def _output_tokens(path: str, reply: dict) -> int:
    if "chat/completions" in path:
        return reply["usage"]["completion_tokens"]
    if "generateContent" in path:
        return reply["usageMetadata"]["candidatesTokenCount"] + reply["usageMetadata"].get("thoughtsTokenCount", 0)
    return reply["usage"]["output_tokens"]


@pytest.mark.parametrize(
    ("path", "body"), [CHAT, MESSAGES, GEMINI, RESPONSES], ids=["chat", "messages", "gemini", "responses"]
)
def test_a_non_streamed_reply_takes_as_long_as_its_tokens(path: str, body: dict) -> None:
    app, waited = _paced_app()
    reply = _post(app, path, body)
    assert reply.status_code == 200
    tokens = _output_tokens(path, reply.json())
    assert tokens > 3
    assert waited == [round(0.3 + 0.025 * (tokens - 1), 6)]


def test_a_streamed_reply_waits_for_its_first_token_then_for_each_next_one() -> None:
    app, waited = _paced_app()
    path, body = CHAT
    text = _post(app, path, {**body, "stream": True}).text
    tokens = sum(1 for line in text.splitlines() if '"content":"' in line and '"content":""' not in line)
    assert waited == [0.3] + [0.025] * (tokens - 1)


def test_request_headers_still_override_the_pacing() -> None:
    app, waited = _paced_app()
    path, body = CHAT
    reply = _post(app, path, body, {"x-emulator-first-token-ms": "0", "x-emulator-chunk-delay-ms": "0"})
    assert reply.status_code == 200 and waited == []


def test_errors_and_background_replies_are_not_held_back() -> None:
    app, waited = _paced_app()
    assert _post(app, "/v1/ai/gpt/chat/completions", {"messages": []}).status_code == 400
    assert _post(app, RESPONSES[0], {"input": "x", "background": True}).json()["status"] == "queued"
    assert waited == []


def test_a_held_reply_is_dropped_when_the_client_leaves() -> None:
    app = create_app(pacing="realistic")
    forever = asyncio.Event()

    async def never(seconds: float) -> None:
        await forever.wait()

    app.sleep = never
    path, body = CHAT
    messages = [{"type": "http.request", "body": json.dumps(body).encode(), "more_body": False}]
    sent: list[dict] = []

    async def receive() -> dict:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": path,
        "query_string": b"",
        "headers": [(b"authorization", b"Bearer k"), (b"content-type", b"application/json")],
    }
    asyncio.run(asyncio.wait_for(app(scope, receive, send), 10))
    assert sent == []
