"""The SSE decoder on the framings real servers send, fed in every possible chunking."""

from __future__ import annotations

import pytest

from cloudsway_nb.protocols.base import ServerSentEvent
from cloudsway_nb.sse import SSEDecoder, iter_sse


def decode_in_pieces(payload: bytes, size: int) -> list[ServerSentEvent]:
    decoder = SSEDecoder()
    events: list[ServerSentEvent] = []
    for start in range(0, len(payload), size):
        events += decoder.feed(payload[start : start + size])
    return events + decoder.flush()


STREAM = (
    "data: {\"a\": 1}\n\n"
    ": keep-alive comment\n\n"
    "event: content_block_delta\ndata: {\"t\": \"h\u00e9llo \u2603 \U0001f600\"}\n\n"
    "data: line one\ndata: line two\n\n"
    "id: 7\nretry: 1500\ndata: x\n\n"
    "data: [DONE]\n\n"
)
EXPECTED = [
    ServerSentEvent('{"a": 1}'),
    ServerSentEvent('{"t": "h\u00e9llo \u2603 \U0001f600"}', event="content_block_delta"),
    ServerSentEvent("line one\nline two"),
    ServerSentEvent("x", id="7", retry=1500),
    ServerSentEvent("[DONE]", id="7", retry=1500),
]


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 64, 10_000])
def test_every_line_ending_and_chunking_gives_the_same_events(newline: str, size: int) -> None:
    payload = STREAM.replace("\n", newline).encode("utf-8")
    assert decode_in_pieces(payload, size) == EXPECTED


def test_utf8_character_split_between_chunks() -> None:
    payload = "data: \U0001f600\u00e9\n\n".encode()
    decoder = SSEDecoder()
    events = []
    for byte in payload:
        events += decoder.feed(bytes([byte]))
    assert events == [ServerSentEvent("\U0001f600\u00e9")]


def test_crlf_split_exactly_between_cr_and_lf_is_one_line_end() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\r") == []
    assert decoder.feed(b"\n\r") == []
    assert decoder.feed(b"\ndata: b\r\n\r\n") == [ServerSentEvent("a"), ServerSentEvent("b")]


def test_event_name_resets_after_dispatch_and_empty_events_are_dropped() -> None:
    events = decode_in_pieces(b"event: ping\n\nevent: a\ndata: 1\n\ndata: 2\n\n", 4)
    assert events == [ServerSentEvent("1", event="a"), ServerSentEvent("2")]


def test_field_without_space_and_unknown_fields() -> None:
    events = decode_in_pieces(b"data:tight\nfoo: bar\nevent:e\n\n", 3)
    assert events == [ServerSentEvent("tight", event="e")]


def test_flush_dispatches_an_event_missing_its_blank_line() -> None:
    assert list(iter_sse([b"data: {\"x\":1}\n", b"data: more"])) == [ServerSentEvent('{"x":1}\nmore')]


def test_events_with_empty_data_are_dropped_but_empty_lines_inside_data_are_kept() -> None:
    assert decode_in_pieces(b"data:\n\n", 1) == []
    assert decode_in_pieces(b"data:\ndata:\n\n", 1) == [ServerSentEvent("\n")]


def test_a_bare_data_field_is_an_empty_data_line() -> None:
    assert decode_in_pieces(b"data: a\ndata\ndata: b\n\n", 2) == [ServerSentEvent("a\n\nb")]


def test_a_leading_byte_order_mark_is_dropped() -> None:
    bom = "\ufeff".encode()
    for size in (1, 2, 100):
        assert decode_in_pieces(bom + b"data: x\n\n", size) == [ServerSentEvent("x")]
    assert decode_in_pieces(b"data: \xef\xbb\xbfx\n\n", 100) == [ServerSentEvent("\ufeffx")]  # only at the start


def test_a_long_line_in_small_chunks_is_assembled() -> None:
    payload = "x" * 300_000
    events = decode_in_pieces(f"data: {payload}\n\n".encode(), 1024)
    assert events == [ServerSentEvent(payload)]


def test_gemini_style_crlf_framing() -> None:
    body = b'data: {"candidates": []}\r\n\r\ndata: {"candidates": [1]}\r\n\r\n'
    assert [e.data for e in decode_in_pieces(body, 9)] == ['{"candidates": []}', '{"candidates": [1]}']


@pytest.mark.parametrize("size", [1, 2, 3, 7, 10_000])
def test_mixed_line_endings_in_one_stream(size: int) -> None:
    # CRLF, LF and lone CR in one chunk: the CRLF-only fast path must not take it
    payload = b"data: a\r\ndata: b\n\nevent: e\rdata: c\r\n\r\rdata: d\r\n\n"
    expected = [ServerSentEvent("a\nb"), ServerSentEvent("c", event="e"), ServerSentEvent("d")]
    assert decode_in_pieces(payload, size) == expected


@pytest.mark.parametrize("size", [1, 4, 10_000])
def test_bytes_that_are_not_utf8_become_replacement_characters(size: int) -> None:
    payload = b"data: a\xffb\xc3\n\ndata: \xe2\x98\x83\n\n"  # a stray byte, a cut character, a whole one
    assert decode_in_pieces(payload, size) == [ServerSentEvent("a\ufffdb\ufffd"), ServerSentEvent("\u2603")]


def test_crlf_framing_with_an_event_begun_in_the_previous_chunk() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"event: x\r\ndata: a\r\n") == []
    assert decoder.feed(b"data: b\r\n\r\ndata: c\r\n\r\nda") == [
        ServerSentEvent("a\nb", event="x"),
        ServerSentEvent("c"),
    ]
    assert decoder.feed(b"ta: d\r\n\r\n") == [ServerSentEvent("d")]
    assert decoder.feed(b"id: 3\r\n\r\ndata: e\r\n\r\n: note\r\n\r\ndata:\r\n\r\n") == [ServerSentEvent("e", id="3")]


@pytest.mark.parametrize("size", [1, 3, 10_000])
def test_crlf_framing_with_lone_line_ends_inside_an_event(size: int) -> None:
    payload = b"data: a\ndata: b\rdata: c\r\n\r\ndata: d\r\n\r\n"
    assert decode_in_pieces(payload, size) == [ServerSentEvent("a\nb\nc"), ServerSentEvent("d")]


_LINES = ["data: {\"a\": 1}", "data: x", "data:", "data: ", "data:tight", "event: e", "id: 4", "retry: 10",
          ": comment", "", "data: \u00e9\u2603", "foo: bar"]
_ENDS = ["\r\n", "\r\n", "\r\n", "\n", "\r"]


@pytest.mark.parametrize("seed", range(40))
def test_any_stream_in_any_chunking_decodes_as_it_does_a_byte_at_a_time(seed: int) -> None:
    # a byte at a time, no chunk holds a whole CRLF CRLF `data: `: the general way is the reference
    import random

    rng = random.Random(seed)
    crlf = rng.random() < 0.7  # mostly Gemini-like CRLF framing, with now and then something else
    text = ""
    for _ in range(rng.randrange(1, 60)):
        line = rng.choice(_LINES[:2] if crlf and rng.random() < 0.8 else _LINES)
        end = "\r\n" if crlf and rng.random() < 0.9 else rng.choice(_ENDS)
        text += line + end + (end if rng.random() < 0.7 else "")
    payload = text.encode()
    reference = decode_in_pieces(payload, 1)
    for size in (2, 7, 10, 11, 33, rng.randrange(1, 200), len(payload) + 1):
        assert decode_in_pieces(payload, size) == reference, size
