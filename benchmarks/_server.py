"""A minimal, fast HTTP/1.1 server for the client benchmarks (127.0.0.1 only).

It serves a long, pre-generated stream in each of the four chat protocols, at any length, in
either of two deliveries, under one endpoint path `bench/{delivery}/{events}`:

| protocol  | route                                                        |
| --------- | ------------------------------------------------------------ |
| chat      | `POST /v1/ai/bench/{delivery}/{events}/chat/completions`      |
| responses | `POST /v1/ai/bench/{delivery}/{events}/responses`             |
| messages  | `POST /bench/{delivery}/{events}/v1/messages`                 |
| gemini    | `POST /v1/ai/bench/{delivery}/{events}/streamGenerateContent` |

`{events}` is the number of text events (the framing events of each protocol come on top) and
`{delivery}` is `large` (one body with `content-length`: a client reads it in large blocks) or
`per-event` (`transfer-encoding: chunked`, one chunk per SSE event: a client's every read returns
exactly one event, as on a real network where the model is slower than the wire). The chat,
responses and messages routes stream when the JSON body has `"stream": true`; any other chat
request (e.g. `POST /v1/ai/bench/chat/completions`) gets a tiny non-streamed `chat.completion`.
`GET /bench/stats` answers `{"connections": N}`: the TCP connections accepted so far (not
counting the ones that only asked for the stats).

Every response is a pre-built bytes object (status line, headers and body, built on first use
and cached) sent with one `sendall`, so the server costs next to nothing per request and the
numbers measure the clients. Connections are kept alive (HTTP/1.1); each has its own thread.

Run it on its own (e.g. to profile a client against it):

    python benchmarks/_server.py --port 8765

It prints `PORT <n>` on stdout once it is listening (port 0 picks a free port), then serves
until killed. `bench_client.py` starts it as a subprocess, so that server and clients do not
share one interpreter lock.
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import re
import socket
import socketserver
import sys
import threading
from collections.abc import Callable
from typing import ClassVar

PROTOCOLS = ("chat", "responses", "messages", "gemini")
DELIVERIES = ("large", "per-event")

ROUTE = "/v1/ai/bench/chat/completions"  # the small (non-streamed) chat route
BASE_PATH = "/v1/ai/bench"
STATS = "/bench/stats"
MODEL = "gpt-4o-2024-08-06"
SMALL_TEXT = "Hello! How can I help you today?"

_ID = "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT"
_CREATED = 1741569952
_FINGERPRINT = "fp_f9f4fb6dbf"

# a vocabulary of token-sized strings; a few are non-ASCII or carry JSON escapes, as real text does
_VOCAB = [
    " the", " of", " and", " to", " a", " in", " is", " that", " for", " it", " as", " with", " was",
    " on", " be", " by", " this", " are", " or", " from", " model", " stream", " token", " server",
    " client", " request", " latency", " throughput", " Python", " JSON", " event", " data",
    " chunk", " benchmark", ".", ",", ";", ":", "!", "?", "\n", "\n\n", " (", ")", " \"", "\"",
    " café", " naïve", " 東京", " 😀", " über", "-", "'s", " —", " 42", " 3.14", " {", "}",
]  # fmt: skip


def tokens(count: int, seed: int = 1234) -> list[str]:
    """The text pieces of a stream, deterministic for a given count and seed (the same in every protocol)."""
    rng = random.Random(seed)
    return [rng.choice(_VOCAB) for _ in range(count)]


def expected_text(count: int, seed: int = 1234) -> str:
    """The full text a client must assemble from a stream of `count` text events."""
    return "".join(tokens(count, seed))


def endpoint_path(delivery: str, events: int) -> str:
    """The endpointPath under which every protocol's stream of this shape is served."""
    return f"bench/{delivery}/{events}"


def route(protocol: str, delivery: str, events: int) -> str:
    """The URL path (no query) of a protocol's stream."""
    path = endpoint_path(delivery, events)
    return {
        "chat": f"/v1/ai/{path}/chat/completions",
        "responses": f"/v1/ai/{path}/responses",
        "messages": f"/{path}/v1/messages",
        "gemini": f"/v1/ai/{path}/streamGenerateContent",
    }[protocol]


def _dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


# ---------------------------------------------------------------------------------------------
# chat completions: a role chunk, the content chunks, a finish chunk, a usage chunk, [DONE]
# ---------------------------------------------------------------------------------------------


def _chat_chunk(delta: str, finish: str = "null") -> bytes:
    return (
        f'data: {{"id":"{_ID}","object":"chat.completion.chunk","created":{_CREATED},"model":"{MODEL}",'
        f'"system_fingerprint":"{_FINGERPRINT}","choices":[{{"index":0,"delta":{delta},'
        f'"logprobs":null,"finish_reason":{finish}}}]}}\n\n'
    ).encode()


def chat_events(count: int, seed: int = 1234) -> list[bytes]:
    """OpenAI chat-completions SSE events, each a realistic `chat.completion.chunk` (gpt-4o's shape)."""
    parts = [_chat_chunk('{"role":"assistant","content":"","refusal":null}')]
    head = (
        f'data: {{"id":"{_ID}","object":"chat.completion.chunk","created":{_CREATED},"model":"{MODEL}",'
        f'"system_fingerprint":"{_FINGERPRINT}","choices":[{{"index":0,"delta":{{"content":'
    )
    tail = '},"logprobs":null,"finish_reason":null}]}\n\n'
    parts.extend(f"{head}{json.dumps(t, ensure_ascii=False)}{tail}".encode() for t in tokens(count, seed))
    parts.append(_chat_chunk("{}", '"stop"'))
    usage = {
        "prompt_tokens": 9,
        "completion_tokens": count,
        "total_tokens": count + 9,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0},
    }
    parts.append(
        (
            f'data: {{"id":"{_ID}","object":"chat.completion.chunk","created":{_CREATED},"model":"{MODEL}",'
            f'"system_fingerprint":"{_FINGERPRINT}","choices":[],"usage":{_dumps(usage)}}}\n\n'
        ).encode()
    )
    parts.append(b"data: [DONE]\n\n")
    return parts


def stream_body(count: int, seed: int = 1234) -> bytes:
    """The chat SSE body (kept for scripts that used the chat-only server)."""
    return b"".join(chat_events(count, seed))


# ---------------------------------------------------------------------------------------------
# the Responses API: created, in_progress, item / part added, the text deltas, the done events
# (which repeat the whole text), completed
# ---------------------------------------------------------------------------------------------

_RESP_ID = "resp_67ccd2bed1ec8190b14f964abc0542670bb6a6b452d3795b"
_MSG_ID = "msg_67ccd2bf17f0819081ff3bb2cf6508e60bb6a6b452d3795b"
_RESP_MODEL = "gpt-4.1-2025-04-14"


def _sse(kind: str, data: dict[str, object]) -> bytes:
    return f"event: {kind}\ndata: {_dumps(data)}\n\n".encode()


def _response_object(status: str, output: list[object], usage: object) -> dict[str, object]:
    return {
        "id": _RESP_ID,
        "object": "response",
        "created_at": _CREATED,
        "status": status,
        "background": False,
        "error": None,
        "incomplete_details": None,
        "instructions": None,
        "max_output_tokens": None,
        "max_tool_calls": None,
        "model": _RESP_MODEL,
        "output": output,
        "parallel_tool_calls": True,
        "previous_response_id": None,
        "prompt_cache_key": None,
        "reasoning": {"effort": None, "summary": None},
        "safety_identifier": None,
        "service_tier": "default",
        "store": True,
        "temperature": 1.0,
        "text": {"format": {"type": "text"}, "verbosity": "medium"},
        "tool_choice": "auto",
        "tools": [],
        "top_logprobs": 0,
        "top_p": 1.0,
        "truncation": "disabled",
        "usage": usage,
        "user": None,
        "metadata": {},
    }


def responses_events(count: int, seed: int = 1234) -> list[bytes]:
    """Responses API SSE events (`event: TYPE` + data with `type` and `sequence_number`), as gpt-4.1 streams them."""
    pieces = tokens(count, seed)
    text = "".join(pieces)
    seq = itertools.count()
    where = {"item_id": _MSG_ID, "output_index": 0, "content_index": 0}
    part_empty = {"type": "output_text", "annotations": [], "logprobs": [], "text": ""}
    part_full = {"type": "output_text", "annotations": [], "logprobs": [], "text": text}
    item = {"id": _MSG_ID, "type": "message", "status": "in_progress", "content": [], "role": "assistant"}
    item_done = {**item, "status": "completed", "content": [part_full]}
    usage = {
        "input_tokens": 9,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": count,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": count + 9,
    }

    def event(kind: str, **fields: object) -> bytes:
        return _sse(kind, {"type": kind, "sequence_number": next(seq), **fields})

    out = [
        event("response.created", response=_response_object("in_progress", [], None)),
        event("response.in_progress", response=_response_object("in_progress", [], None)),
        event("response.output_item.added", output_index=0, item=item),
        event("response.content_part.added", **where, part=part_empty),
    ]
    rng = random.Random(seed + 1)
    letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    for piece in pieces:  # `obfuscation` pads every delta to a similar size (OpenAI sends it since 2025)
        pad = "".join(rng.choice(letters) for _ in range(max(1, 16 - len(piece))))
        out.append(event("response.output_text.delta", **where, delta=piece, logprobs=[], obfuscation=pad))
    out += [
        event("response.output_text.done", **where, text=text, logprobs=[]),
        event("response.content_part.done", **where, part=part_full),
        event("response.output_item.done", output_index=0, item=item_done),
        event("response.completed", response=_response_object("completed", [item_done], usage)),
    ]
    return out


# ---------------------------------------------------------------------------------------------
# Anthropic Messages: message_start, a text block (start, ping, deltas, stop), message_delta, stop
# ---------------------------------------------------------------------------------------------

_MSG_START = {
    "type": "message_start",
    "message": {
        "id": "msg_01XFDUDYJgAACzvnptvVoYEL",
        "type": "message",
        "role": "assistant",
        "content": [],
        "model": "claude-sonnet-4-5-20250929",
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {
            "input_tokens": 28,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
            "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0},
            "output_tokens": 1,
            "service_tier": "standard",
        },
    },
}


def messages_events(count: int, seed: int = 1234) -> list[bytes]:
    """Anthropic Messages SSE events (`event: NAME` + data), the shape of the anthropic SDK's recordings."""
    block = {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}
    out = [
        _sse("message_start", _MSG_START),
        _sse("content_block_start", block),
        b'event: ping\ndata: {"type": "ping"}\n\n',
    ]
    head = (
        'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":'
    )
    out.extend(f"{head}{json.dumps(t, ensure_ascii=False)}}}}}\n\n".encode() for t in tokens(count, seed))
    out += [
        _sse("content_block_stop", {"type": "content_block_stop", "index": 0}),
        _sse(
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                "usage": {
                    "input_tokens": 28,
                    "cache_creation_input_tokens": 0,
                    "cache_read_input_tokens": 0,
                    "output_tokens": count,
                },
            },
        ),
        _sse("message_stop", {"type": "message_stop"}),
    ]
    return out


# ---------------------------------------------------------------------------------------------
# Gemini streamGenerateContent?alt=sse: CRLF-framed chunks, each with the cumulative usageMetadata
# ---------------------------------------------------------------------------------------------


def gemini_events(count: int, seed: int = 1234) -> list[bytes]:
    """Gemini `?alt=sse` chunks as gemini-2.5-flash sends them (CRLF, usage on every chunk, STOP last)."""
    out = []
    pieces = tokens(count, seed)
    for i, piece in enumerate(pieces, 1):
        finish = ',"finishReason": "STOP"' if i == len(pieces) else ""
        out.append(
            (
                f'data: {{"candidates": [{{"content": {{"parts": [{{"text": {json.dumps(piece, ensure_ascii=False)}}}],'
                f'"role": "model"}}{finish},"index": 0}}],"usageMetadata": {{"promptTokenCount": 10,'
                f'"candidatesTokenCount": {i},"totalTokenCount": {10 + i},'
                f'"promptTokensDetails": [{{"modality": "TEXT","tokenCount": 10}}]}},'
                f'"modelVersion": "gemini-2.5-flash","responseId": "0J-HaJetAqv0jrEPwu-tsQ0"}}\r\n\r\n'
            ).encode()
        )
    return out


BUILDERS: dict[str, Callable[[int, int], list[bytes]]] = {
    "chat": chat_events,
    "responses": responses_events,
    "messages": messages_events,
    "gemini": gemini_events,
}


def small_body() -> bytes:
    """A tiny non-streamed chat.completion reply."""
    reply = {
        "id": _ID,
        "object": "chat.completion",
        "created": _CREATED,
        "model": MODEL,
        "system_fingerprint": _FINGERPRINT,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": SMALL_TEXT, "refusal": None},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 9, "completion_tokens": 9, "total_tokens": 18},
    }
    return json.dumps(reply, separators=(",", ":")).encode()


def response_bytes(status: str, content_type: str, events: list[bytes], delivery: str) -> bytes:
    """A whole HTTP response: one content-length body (`large`) or one chunk per event (`per-event`)."""
    head = f"HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\nx-request-id: req_bench\r\n"
    if delivery == "large":
        body = b"".join(events)
        return f"{head}content-length: {len(body)}\r\n\r\n".encode() + body
    pieces = [f"{head}transfer-encoding: chunked\r\n\r\n".encode()]
    for event in events:
        pieces += [b"%x\r\n" % len(event), event, b"\r\n"]
    pieces.append(b"0\r\n\r\n")
    return b"".join(pieces)


_STREAM_PATH = re.compile(
    r"^(?:/v1/ai/bench/(?P<d1>[a-z-]+)/(?P<n1>\d+)/(?P<op>chat/completions|responses|streamGenerateContent)"
    r"|/bench/(?P<d2>[a-z-]+)/(?P<n2>\d+)/v1/messages)$"
)
_PROTOCOL_OF = {"chat/completions": "chat", "responses": "responses", "streamGenerateContent": "gemini"}


class _Handler(socketserver.StreamRequestHandler):
    disable_nagle_algorithm = True
    small_response = b""
    not_found = response_bytes("404 Not Found", "application/json", [b'{"error":{"message":"not found"}}'], "large")
    seed = 1234
    # set per server (BenchServer makes a subclass): the built streams, and the connections counted
    cache: ClassVar[dict[tuple[str, str, int], bytes]] = {}
    lock = threading.Lock()
    counted: ClassVar[list[int]] = [0]

    def handle(self) -> None:
        rfile, sock = self.rfile, self.connection
        first = True
        while True:
            line = rfile.readline(65537)
            if not line:
                return
            if line in (b"\r\n", b"\n"):
                continue
            method, target, _ = line.split(b" ", 2)
            length, chunked, close = 0, False, False
            while True:
                header = rfile.readline(65537)
                if header in (b"\r\n", b"\n", b""):
                    break
                name, _, value = header.partition(b":")
                name, value = name.strip().lower(), value.strip().lower()
                if name == b"content-length":
                    length = int(value)
                elif name == b"transfer-encoding":
                    chunked = b"chunked" in value
                elif name == b"connection":
                    close = value == b"close"
            body = self._chunked_body() if chunked else rfile.read(length)
            path = target.split(b"?")[0].decode()
            if first:
                first = False
                if path != STATS:
                    with self.lock:
                        self.counted[0] += 1
            sock.sendall(self._answer(method, path, body))
            if close:
                return

    def _answer(self, method: bytes, path: str, body: bytes) -> bytes:
        if method == b"GET" and path == STATS:
            payload = json.dumps({"connections": self.counted[0]}).encode()
            return response_bytes("200 OK", "application/json", [payload], "large")
        if method != b"POST":
            return self.not_found
        if path == ROUTE:
            return self.small_response
        match = _STREAM_PATH.match(path)
        if match is None:
            return self.not_found
        op = match["op"]
        protocol = _PROTOCOL_OF[op] if op else "messages"
        delivery, events = (match["d1"], match["n1"]) if op else (match["d2"], match["n2"])
        if delivery not in DELIVERIES:
            return self.not_found
        if protocol != "gemini" and not (body and json.loads(body).get("stream") is True):
            return self.small_response if protocol == "chat" else self.not_found
        return self._stream(protocol, delivery, int(events))

    def _stream(self, protocol: str, delivery: str, events: int) -> bytes:
        key = (protocol, delivery, events)
        cached = self.cache.get(key)
        if cached is None:
            with self.lock:
                cached = self.cache.get(key)
                if cached is None:
                    built = BUILDERS[protocol](events, self.seed)
                    cached = self.cache[key] = response_bytes("200 OK", "text/event-stream", built, delivery)
        return cached

    def _chunked_body(self) -> bytes:
        parts = []
        while True:
            size = int(self.rfile.readline().split(b";")[0], 16)
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(parts)
            parts.append(self.rfile.read(size))
            self.rfile.readline()


class BenchServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, port: int, *, seed: int = 1234) -> None:
        handler = type(
            "Handler",
            (_Handler,),
            {
                "small_response": response_bytes("200 OK", "application/json", [small_body()], "large"),
                "seed": seed,
                "cache": {},
                "lock": threading.Lock(),
                "counted": [0],
            },
        )
        super().__init__(("127.0.0.1", port), handler)
        self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    @property
    def port(self) -> int:
        return self.server_address[1]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: a free one)")
    parser.add_argument("--seed", type=int, default=1234)
    args = parser.parse_args(argv)
    server = BenchServer(args.port, seed=args.seed)
    print(f"PORT {server.port}", flush=True)
    try:
        server.serve_forever(poll_interval=0.5)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    sys.exit(0)


if __name__ == "__main__":
    main()
