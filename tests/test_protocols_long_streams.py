"""Every protocol's stream parser on long streams: what it keeps, and what `Reply.raw` holds.

A parser must keep pieces (joined once at `finish`) and the events' JSON text (decoded only when
`Reply.raw` is read), never one decoded dict per event: those stay alive while the stream runs
and the garbage collector rescans them all, over and over. The tests count the containers a
parser holds (no timing): the number must not grow with the length of the stream.
"""

from __future__ import annotations

import gc
import json
from typing import Any

import pytest

from cloudsway_nb.protocols import get_adapter
from cloudsway_nb.protocols.base import RawEvents, ServerSentEvent, StreamParser
from cloudsway_nb.types import TextDelta, UsageEvent

PIECES = ["Hel", "lo", ",", " w", "örld", " 😀", "\n", " \"quoted\"", "."]


def pieces(count: int) -> list[str]:
    return [PIECES[i % len(PIECES)] for i in range(count)]


def chat_stream(count: int) -> list[ServerSentEvent]:
    head = {"id": "c1", "object": "chat.completion.chunk", "model": "gpt-4o"}
    events = [{**head, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]}]
    events += [{**head, "choices": [{"index": 0, "delta": {"content": p}}]} for p in pieces(count)]
    events.append({**head, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    events.append({**head, "choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": count}})
    return [ServerSentEvent(json.dumps(e)) for e in events] + [ServerSentEvent("[DONE]")]


def responses_stream(count: int) -> list[ServerSentEvent]:
    text = "".join(pieces(count))
    item = {"id": "msg_1", "type": "message", "role": "assistant", "status": "in_progress", "content": []}
    part = {"type": "output_text", "text": text, "annotations": []}
    where = {"item_id": "msg_1", "output_index": 0, "content_index": 0}
    final = {
        "id": "resp_1",
        "object": "response",
        "status": "completed",
        "model": "gpt-4.1",
        "output": [{**item, "status": "completed", "content": [part]}],
        "usage": {"input_tokens": 3, "output_tokens": count, "total_tokens": count + 3},
    }
    events: list[dict[str, Any]] = [
        {"type": "response.created", "response": {**final, "status": "in_progress", "output": [], "usage": None}},
        {"type": "response.output_item.added", "output_index": 0, "item": item},
        {"type": "response.content_part.added", **where, "part": {**part, "text": ""}},
    ]
    events += [{"type": "response.output_text.delta", **where, "delta": p, "logprobs": []} for p in pieces(count)]
    events += [
        {"type": "response.output_text.done", **where, "text": text},
        {"type": "response.content_part.done", **where, "part": part},
        {"type": "response.output_item.done", "output_index": 0, "item": final["output"][0]},
        {"type": "response.completed", "response": final},
    ]
    return [
        ServerSentEvent(json.dumps({**e, "sequence_number": n}), event=e["type"]) for n, e in enumerate(events)
    ]


def messages_stream(count: int) -> list[ServerSentEvent]:
    message = {"id": "msg_1", "type": "message", "role": "assistant", "content": [], "model": "claude"}
    events: list[dict[str, Any]] = [
        {"type": "message_start", "message": {**message, "usage": {"input_tokens": 3, "output_tokens": 1}}},
        {"type": "content_block_start", "index": 0, "content_block": {"type": "thinking", "thinking": ""}},
        *(
            {"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta", "thinking": p}}
            for p in pieces(count)
        ),
        {"type": "content_block_delta", "index": 0, "delta": {"type": "signature_delta", "signature": "c2ln"}},
        {"type": "content_block_stop", "index": 0},
        {"type": "content_block_start", "index": 1, "content_block": {"type": "text", "text": ""}},
        {"type": "ping"},
        *(
            {"type": "content_block_delta", "index": 1, "delta": {"type": "text_delta", "text": p}}
            for p in pieces(count)
        ),
        {"type": "content_block_stop", "index": 1},
        {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": count}},
        {"type": "message_stop"},
    ]
    return [ServerSentEvent(json.dumps(e), event=e["type"]) for e in events]


def gemini_stream(count: int) -> list[ServerSentEvent]:
    """`count` thought pieces closed by a signature, then `count` text pieces, usage on every chunk."""
    chunks = []
    for n, (piece, thought) in enumerate([(p, True) for p in pieces(count)] + [(p, False) for p in pieces(count)]):
        part: dict[str, Any] = {"text": piece, "thought": True} if thought else {"text": piece}
        if n == count - 1:
            part["thoughtSignature"] = "c2ln"
        candidate: dict[str, Any] = {"content": {"role": "model", "parts": [part]}, "index": 0}
        if n == 2 * count - 1:
            candidate["finishReason"] = "STOP"
        usage = {"promptTokenCount": 3, "candidatesTokenCount": n + 1, "totalTokenCount": n + 4}
        chunks.append({"candidates": [candidate], "usageMetadata": usage, "modelVersion": "gemini-2.5-flash"})
    return [ServerSentEvent(json.dumps(c)) for c in chunks]


STREAMS = {"chat": chat_stream, "responses": responses_stream, "messages": messages_stream, "gemini": gemini_stream}


def held_containers(root: object) -> int:
    """The dicts, lists, tuples, sets and cloudsway_nb objects reachable from `root`."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        obj = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        for ref in gc.get_referents(obj):
            if isinstance(ref, (dict, list, tuple, set)) or type(ref).__module__.startswith("cloudsway_nb"):
                stack.append(ref)
    return len(seen)


def feed_all(protocol: str, sse: list[ServerSentEvent]) -> tuple[StreamParser, list[Any]]:
    parser = get_adapter(protocol).stream_parser()
    out: list[Any] = []
    for event in sse:
        out += parser.feed(event)
    return parser, out


@pytest.mark.parametrize("protocol", list(STREAMS))
def test_a_parser_holds_no_more_objects_for_a_longer_stream(protocol: str) -> None:
    short, _ = feed_all(protocol, STREAMS[protocol](20))
    long, _ = feed_all(protocol, STREAMS[protocol](2_000))
    # a decoded dict kept per event would make this thousands more
    assert held_containers(long) == held_containers(short)


@pytest.mark.parametrize("protocol", list(STREAMS))
def test_a_long_stream_is_assembled_and_raw_holds_every_event(protocol: str) -> None:
    count = 3_000
    sse = STREAMS[protocol](count)
    parser, events = feed_all(protocol, sse)
    text = "".join(pieces(count))
    assert "".join(e.text for e in events if type(e) is TextDelta) == text
    reply = parser.finish()
    assert (reply.text, reply.incomplete, parser.done) == (text, False, True)
    usages = [e.usage for e in events if type(e) is UsageEvent]
    assert usages and usages[-1].output == reply.usage.output
    # raw: every event, decoded when read, equal to the decoded events
    assert isinstance(reply.raw, RawEvents)
    expected = [json.loads(e.data) for e in sse if e.data != "[DONE]"]
    assert len(reply.raw) == len(expected)
    assert reply.raw == expected and list(reply.raw) == expected
    assert reply.raw[0] == expected[0] and reply.raw[-1] == expected[-1]
    assert json.loads(json.dumps(list(reply.raw))) == expected


@pytest.mark.parametrize("protocol", list(STREAMS))
def test_finishing_part_way_leaves_the_rest_of_the_stream_intact(protocol: str) -> None:
    # finish() is also called mid-stream (the partial reply of an error): it must not disturb what follows
    sse = STREAMS[protocol](50)
    parser = get_adapter(protocol).stream_parser()
    for n, event in enumerate(sse):
        parser.feed(event)
        if n % 7 == 0:
            partial = parser.finish()
            assert len(partial.raw) <= n + 1
    whole, _ = feed_all(protocol, sse)
    assert parser.finish().text == whole.finish().text == "".join(pieces(50))
    assert parser.finish().choices[0].native == whole.finish().choices[0].native
    assert parser.finish().raw == whole.finish().raw


def test_gemini_text_runs_become_one_part_each_identical_to_the_text() -> None:
    count = 5_000
    parser, _ = feed_all("gemini", gemini_stream(count))
    reply = parser.finish()
    text = "".join(pieces(count))
    assert reply.choices[0].native == [
        {"text": text, "thought": True, "thoughtSignature": "c2ln"},
        {"text": text},
    ]
    assert (reply.reasoning, reply.text) == (text, text)
    assert reply.choices[0].native == parser.finish().choices[0].native  # finishing twice: the same parts


def test_gemini_streamed_logprobs_are_all_kept() -> None:
    parser = get_adapter("gemini").stream_parser()
    for n in range(300):
        result = {"chosenCandidates": [{"token": str(n), "logProbability": -0.5}], "topCandidates": []}
        candidate = {"content": {"parts": [{"text": str(n)}]}, "logprobsResult": result, "index": 0}
        parser.feed(ServerSentEvent(json.dumps({"candidates": [candidate]})))
        if n == 10:
            partial = parser.finish()
    logprobs = parser.finish().logprobs
    assert logprobs is not None and [lp.token for lp in logprobs] == [str(n) for n in range(300)]
    assert partial.logprobs is not None and len(partial.logprobs) == 11  # an earlier reply is not changed later


def test_raw_events_decode_lazily_and_keep_events_that_came_decoded() -> None:
    raw = RawEvents(['{"a": 1}', {"b": 2}, "[1, 2]"])
    assert raw._decoded is None  # nothing decoded until read
    assert raw == [{"a": 1}, {"b": 2}, [1, 2]] and len(raw) == 3 and raw[1:] == [{"b": 2}, [1, 2]]
    assert raw == RawEvents(['{"a":1}', {"b": 2}, "[1,2]"])  # the same events, spelled differently
    assert raw != [{"a": 1}] and raw != "not a list"
    with pytest.raises(TypeError):
        hash(raw)
    assert repr(raw) == "[{'a': 1}, {'b': 2}, [1, 2]]"


def test_gemini_chunk_arrays_and_decoded_chunks_are_kept_in_raw() -> None:
    parser = get_adapter("gemini").stream_parser()
    first = {"candidates": [{"content": {"parts": [{"text": "a"}]}, "index": 0}]}
    second = {"candidates": [{"content": {"parts": [{"text": "b"}]}, "finishReason": "STOP", "index": 0}]}
    parser.feed(ServerSentEvent(json.dumps([first])))
    parser.feed_chunk(second)
    reply = parser.finish()
    assert (reply.text, reply.raw) == ("ab", [first, second])
