"""The anthropic-sdk-python repo's own recorded Messages streams (../shared/upstream-streams/anthropic),
parsed by our messages adapter and by the anthropic SDK itself, compared field by field.

The SDK side is the SDK end to end: its client reads the recorded body from a mock transport,
decodes the events with its own SSE decoder (skipping pings as it does) and accumulates them with
its beta MessageStream, the accumulator that knows every block in these recordings (the non-beta
one leaves compaction blocks empty and does not take the model a `fallback` block names).
Besides each whole recording, every recording cut after each of its events, and cut inside each
event's JSON, is compared too: a stream that ends early must keep what arrived, as the SDK's
snapshot does, and be marked incomplete. The recordings' cache counts are all 0 or absent, so one
test gives them distinct values to tell cache reads from writes.
"""

from __future__ import annotations

import importlib
import json
import warnings
from pathlib import Path
from typing import Any

import pytest

from cloudsway_nb.errors import MalformedReplyError
from cloudsway_nb.protocols import get_adapter
from cloudsway_nb.sse import SSEDecoder

FOLDER = Path(__file__).resolve().parents[2] / "shared" / "upstream-streams" / "anthropic"
RECORDINGS = sorted(FOLDER.glob("*.txt")) if FOLDER.is_dir() else []
anthropic = pytest.importorskip("anthropic")
jiter = pytest.importorskip("jiter")  # the SDK's partial-JSON parser (an anthropic dependency)

# Anthropic's stop reasons and what our Reply calls them (written out here, not read from the adapter)
FINISH = {
    None: None,
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
    "pause_turn": "other",
}

needs_recordings = pytest.mark.skipif(
    not RECORDINGS, reason="the upstream recordings (../shared/upstream-streams) are not here"
)


def events_of(body: bytes) -> list[bytes]:
    """The recording split into its events, each with the blank line that ends it (the last may lack it)."""
    text = body.replace(b"\r\n", b"\n")
    pieces = [p for p in text.split(b"\n\n") if p.strip()]
    return [p + b"\n\n" for p in pieces[:-1]] + [pieces[-1]]


def ours(body: bytes):
    parser, decoder = get_adapter("messages").stream_parser(), SSEDecoder()
    for event in [*decoder.feed(body), *decoder.flush()]:
        parser.feed(event)
    return parser.finish()


def _http_module() -> Any:
    """The HTTP library the installed SDK is built on (httpx, or httpx2 in recent versions)."""
    base = next(c for c in anthropic.DefaultHttpxClient.__mro__[1:] if c.__name__ == "Client")
    return importlib.import_module(base.__module__.partition(".")[0])


def theirs(body: bytes):
    """What the anthropic SDK's own streaming makes of the body: its final message."""
    http = _http_module()

    def answer(request: Any) -> Any:
        return http.Response(200, content=body, headers={"content-type": "text/event-stream"})

    client = anthropic.Anthropic(
        api_key="test",
        base_url="http://upstream.test",
        max_retries=0,
        http_client=http.Client(transport=http.MockTransport(answer)),
    )
    request = {"model": "claude", "max_tokens": 16, "messages": [{"role": "user", "content": "hi"}]}
    with warnings.catch_warnings():  # pydantic warns while the SDK builds blocks of types it lists late
        warnings.simplefilter("ignore")
        with client.beta.messages.stream(**request) as stream:
            return stream.get_final_message()


def compare(mine: Any, sdk: Any, *, complete: bool) -> None:
    assert (mine.id, mine.model) == (sdk.id, sdk.model)
    assert mine.incomplete is not complete
    blocks = [b.to_dict() for b in sdk.content]
    choice = mine.choices[0]
    assert choice.text == "".join(b["text"] for b in blocks if b["type"] == "text")
    thinking = [b for b in blocks if b["type"] == "thinking"]
    assert choice.reasoning == "\n\n".join(b["thinking"] for b in thinking if b["thinking"])
    # the blocks kept for the next turn (Message.native): thinking with its signature, tool input, compaction...
    native = mine.to_message().native
    assert [b["type"] for b in native] == [b["type"] for b in blocks]
    calls = iter(choice.tool_calls)
    for got, want in zip(native, blocks, strict=True):
        if want["type"] != "tool_use":
            assert got == want
            continue
        call = next(calls)
        assert (call.id, call.name) == (want["id"], want["name"]) == (got["id"], got["name"])
        if isinstance(call.arguments, dict):  # the input JSON arrived whole
            assert call.arguments == got["input"] == want["input"]
        else:
            # cut short: we keep all the text that arrived (the SDK keeps a partial parse of it), and send
            # an empty input back
            assert isinstance(call.arguments, str) and call.raw_arguments == call.arguments
            assert jiter.from_json(call.raw_arguments.encode(), partial_mode=True) == want["input"]
            assert got["input"] == {}
    assert next(calls, None) is None
    assert choice.native_finish_reason == sdk.stop_reason
    assert choice.finish_reason == FINISH[sdk.stop_reason]
    usage = sdk.usage
    parts = [usage.input_tokens, usage.cache_creation_input_tokens, usage.cache_read_input_tokens]
    assert mine.usage.input == sum(p or 0 for p in parts)  # our input counts cache writes and reads too
    assert mine.usage.output == usage.output_tokens
    assert mine.usage.cached == usage.cache_read_input_tokens
    details = usage.output_tokens_details
    assert mine.usage.reasoning == (details.thinking_tokens if details is not None else None)


@needs_recordings
@pytest.mark.parametrize("path", RECORDINGS, ids=lambda p: p.stem)
def test_every_recorded_anthropic_stream_reads_as_the_sdk_reads_it(path: Path) -> None:
    body = path.read_bytes()
    compare(ours(body), theirs(body), complete=True)


CUTS = [
    pytest.param(path, n, id=f"{path.stem}-{n}")
    for path in RECORDINGS
    for n in range(1, len(events_of(path.read_bytes())))
]


@needs_recordings
@pytest.mark.parametrize(("path", "n"), CUTS)
def test_a_recording_cut_after_any_event_keeps_what_arrived(path: Path, n: int) -> None:
    body = b"".join(events_of(path.read_bytes())[:n])
    compare(ours(body), theirs(body), complete=False)


@needs_recordings
@pytest.mark.parametrize(("path", "n"), CUTS)
def test_a_recording_cut_inside_an_event_is_malformed_and_keeps_what_came_before(path: Path, n: int) -> None:
    # the cut falls in the JSON of event n: the SDK's decoder drops the unfinished event (no blank line
    # ended it) and reads the rest; our decoder hands it on at the end, the parser finds it is not JSON
    # and raises, its `partial` being the reply of the events before (marked incomplete)
    events = events_of(path.read_bytes())
    start = events[n].index(b"data: ") + len(b"data: ")
    body = b"".join(events[:n]) + events[n][: start + (len(events[n].rstrip()) - start) // 2]
    with pytest.raises(MalformedReplyError) as info:
        ours(body)
    assert info.value.partial is not None
    compare(info.value.partial, theirs(body), complete=False)


ZERO_CACHE = b'"cache_creation_input_tokens":0,"cache_read_input_tokens":0'
WITH_CACHE = [p for p in RECORDINGS if ZERO_CACHE in p.read_bytes()]


@pytest.mark.skipif(not WITH_CACHE, reason="no recording with cache counts is here")
@pytest.mark.parametrize("path", WITH_CACHE, ids=lambda p: p.stem)
def test_cache_counts_read_as_the_sdk_reads_them(path: Path) -> None:
    # every recording's cache counts are 0 (or absent), which cannot tell cache reads from writes:
    # give each occurrence its own (message_start's, then message_delta's cumulative ones)
    pieces = path.read_bytes().split(ZERO_CACHE)
    body = pieces[0]
    for i, rest in enumerate(pieces[1:], 1):
        body += f'"cache_creation_input_tokens":{3 * i},"cache_read_input_tokens":{7 * i}'.encode() + rest
    mine, sdk = ours(body), theirs(body)
    compare(mine, sdk, complete=True)
    assert mine.usage.cached == 7 * (len(pieces) - 1)


@needs_recordings
def test_the_tool_input_cut_by_max_tokens_is_kept_as_it_arrived() -> None:
    path = FOLDER / "incomplete_partial_json_response.txt"
    if not path.is_file():
        pytest.skip(f"{path.name} is not here")
    body = path.read_bytes()
    reply = ours(body)
    # the stream itself ended properly (message_stop): the reply is complete, cut by the token limit
    assert (reply.incomplete, reply.finish_reason, reply.native_finish_reason) == (False, "length", "max_tokens")
    (call,) = reply.tool_calls
    pieces = [
        json.loads(line[6:])["delta"].get("partial_json", "")
        for line in body.decode().splitlines()
        if line.startswith("data: ") and "input_json_delta" in line
    ]
    assert call.raw_arguments == "".join(pieces)
    assert call.raw_arguments.endswith('\n"Filing taxes')  # the unfinished string the SDK's parse drops
    assert reply.text.startswith("I'll create a comprehensive tax guide")
