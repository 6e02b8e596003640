"""A minimal, fast HTTP/1.1 server for the client benchmarks (127.0.0.1 only).

It answers `POST /v1/ai/bench/chat/completions`:

* with `"stream": true` in the JSON body: one long, pre-generated OpenAI chat-completions SSE
  stream (a role chunk, `--chunks` content chunks, a finish chunk, a usage chunk, `data: [DONE]`);
* otherwise: a tiny `chat.completion` JSON reply.

Every response is a pre-built bytes object (status line, headers and body) sent with one
`sendall`, so the server costs next to nothing per request and the numbers measure the clients.
Connections are kept alive (HTTP/1.1); each connection has its own thread.

Run it on its own (e.g. to profile a client against it):

    python benchmarks/_server.py --chunks 100000 --port 8765

It prints `PORT <n>` on stdout once it is listening (port 0 picks a free port), then serves
until killed. `bench_client.py` starts it as a subprocess, so that server and clients do not
share one interpreter lock.
"""

from __future__ import annotations

import argparse
import json
import random
import socket
import socketserver
import sys

ROUTE = "/v1/ai/bench/chat/completions"
BASE_PATH = "/v1/ai/bench"
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
    """The content pieces of the stream, deterministic for a given count and seed."""
    rng = random.Random(seed)
    return [rng.choice(_VOCAB) for _ in range(count)]


def expected_text(count: int, seed: int = 1234) -> str:
    """The full text a client must assemble from the stream."""
    return "".join(tokens(count, seed))


def _chunk(delta: str, finish: str = "null") -> bytes:
    return (
        f'data: {{"id":"{_ID}","object":"chat.completion.chunk","created":{_CREATED},"model":"{MODEL}",'
        f'"system_fingerprint":"{_FINGERPRINT}","choices":[{{"index":0,"delta":{delta},'
        f'"logprobs":null,"finish_reason":{finish}}}]}}\n\n'
    ).encode()


def stream_body(count: int, seed: int = 1234) -> bytes:
    """The SSE body: role chunk, `count` content chunks, finish chunk, usage chunk, [DONE]."""
    parts = [_chunk('{"role":"assistant","content":"","refusal":null}')]
    head = (
        f'data: {{"id":"{_ID}","object":"chat.completion.chunk","created":{_CREATED},"model":"{MODEL}",'
        f'"system_fingerprint":"{_FINGERPRINT}","choices":[{{"index":0,"delta":{{"content":'
    )
    tail = '},"logprobs":null,"finish_reason":null}]}\n\n'
    parts.extend(f"{head}{json.dumps(t, ensure_ascii=False)}{tail}".encode() for t in tokens(count, seed))
    parts.append(_chunk("{}", '"stop"'))
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
            f'"system_fingerprint":"{_FINGERPRINT}","choices":[],"usage":{json.dumps(usage, separators=(",", ":"))}}}'
            "\n\n"
        ).encode()
    )
    parts.append(b"data: [DONE]\n\n")
    return b"".join(parts)


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


def _response(status: str, content_type: str, body: bytes, chunked: bool) -> bytes:
    head = f"HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\nx-request-id: req_bench\r\n"
    if not chunked:
        return f"{head}content-length: {len(body)}\r\n\r\n".encode() + body
    size = 64 * 1024  # large chunks: the transfer coding should not dominate
    pieces = [f"{head}transfer-encoding: chunked\r\n\r\n".encode()]
    for i in range(0, len(body), size):
        piece = body[i : i + size]
        pieces += [b"%x\r\n" % len(piece), piece, b"\r\n"]
    pieces.append(b"0\r\n\r\n")
    return b"".join(pieces)


class _Handler(socketserver.StreamRequestHandler):
    disable_nagle_algorithm = True
    stream_response = b""
    small_response = b""
    not_found = _response("404 Not Found", "application/json", b'{"error":{"message":"not found"}}', False)

    def handle(self) -> None:
        rfile, sock = self.rfile, self.connection
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
            if method != b"POST" or target.split(b"?")[0].decode() != ROUTE:
                sock.sendall(self.not_found)
            else:
                stream = bool(body) and json.loads(body).get("stream") is True
                sock.sendall(self.stream_response if stream else self.small_response)
            if close:
                return

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
    request_queue_size = 64

    def __init__(self, port: int, chunks: int, *, chunked: bool = False, seed: int = 1234) -> None:
        handler = type(
            "Handler",
            (_Handler,),
            {
                "stream_response": _response("200 OK", "text/event-stream", stream_body(chunks, seed), chunked),
                "small_response": _response("200 OK", "application/json", small_body(), False),
            },
        )
        super().__init__(("127.0.0.1", port), handler)
        self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    @property
    def port(self) -> int:
        return self.server_address[1]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chunks", type=int, default=100_000, help="content chunks in the stream")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: a free one)")
    parser.add_argument("--chunked", action="store_true", help="send the stream with chunked transfer coding")
    parser.add_argument("--seed", type=int, default=1234)
    args = parser.parse_args(argv)
    server = BenchServer(args.port, args.chunks, chunked=args.chunked, seed=args.seed)
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
