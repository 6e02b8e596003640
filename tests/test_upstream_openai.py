"""The openai-python repo's own recorded chat streams (../shared/upstream-streams/openai), parsed by
our chat adapter and by the openai SDK's stream accumulator, compared field by field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cloudsway_nb.protocols import get_adapter
from cloudsway_nb.sse import SSEDecoder

FOLDER = Path(__file__).resolve().parents[2] / "shared" / "upstream-streams" / "openai"
RECORDINGS = sorted(FOLDER.glob("*.bin")) if FOLDER.is_dir() else []
openai_streaming = pytest.importorskip("openai.lib.streaming.chat._completions")


def ours(body: bytes):
    parser, decoder = get_adapter("chat").stream_parser(), SSEDecoder()
    for event in [*decoder.feed(body), *decoder.flush()]:
        parser.feed(event)
    return parser.finish()


def theirs(body: bytes):
    from openai.types.chat import ChatCompletionChunk

    state = openai_streaming.ChatCompletionStreamState()
    for line in body.decode("utf-8").splitlines():
        if line.startswith("data: ") and line[6:].strip() != "[DONE]":
            state.handle_chunk(ChatCompletionChunk.model_validate(json.loads(line[6:])))
    return state.current_completion_snapshot  # what the SDK assembled (get_final_completion also parses JSON)


@pytest.mark.skipif(not RECORDINGS, reason="the upstream recordings (../shared/upstream-streams) are not here")
@pytest.mark.parametrize("path", RECORDINGS, ids=lambda p: p.name[:8])
def test_every_recorded_openai_stream_reads_as_the_sdk_reads_it(path: Path) -> None:
    body = path.read_bytes()
    mine, sdk = ours(body), theirs(body)
    assert mine.id == sdk.id and mine.model == sdk.model
    assert len(mine.choices) == len(sdk.choices)
    for got, want in zip(mine.choices, sdk.choices, strict=True):
        message = want.message
        refusal = message.refusal
        assert got.index == want.index
        assert got.text == (message.content or refusal or "")
        assert got.native_finish_reason == want.finish_reason
        expected = "content_filter" if refusal and not message.content else want.finish_reason
        assert got.finish_reason == expected
        assert [(c.id, c.name, c.arguments_json) for c in got.tool_calls] == [
            (c.id, c.function.name, c.function.arguments) for c in message.tool_calls or []]
        if want.logprobs is not None and want.logprobs.content:
            assert [t.token for t in got.logprobs] == [t.token for t in want.logprobs.content]
    usage = sdk.usage
    assert (mine.usage.input, mine.usage.output, mine.usage.total) == (
        usage.prompt_tokens, usage.completion_tokens, usage.total_tokens)
    details = usage.prompt_tokens_details
    assert mine.usage.cached == (details.cached_tokens if details is not None else None)


def test_the_gateways_native_finish_reason_is_kept() -> None:
    adapter = get_adapter("chat")
    choice = {"index": 0, "finish_reason": "stop", "native_finish_reason": "end_turn",
              "message": {"role": "assistant", "content": "x"}}
    reply = adapter.parse_reply({"id": "c", "choices": [choice]})
    assert (reply.finish_reason, reply.native_finish_reason) == ("stop", "end_turn")
    chunks = [{"id": "c", "choices": [{"index": 0, "delta": {"content": "x"}}]},
              {"id": "c", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop",
                                        "native_finish_reason": "end_turn"}]}]
    body = "".join(f"data: {json.dumps(c)}\n\n" for c in chunks).encode() + b"data: [DONE]\n\n"
    streamed = ours(body)
    assert (streamed.finish_reason, streamed.native_finish_reason) == ("stop", "end_turn")
