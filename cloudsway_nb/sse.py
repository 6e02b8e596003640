"""An incremental decoder for server-sent events (the WHATWG event-stream format).

Feed it bytes as they arrive from the network, in chunks of any size; it returns the complete
events each chunk finished. It is right on CRLF / CR / LF line ends (also when a CRLF is split
between two chunks), multi-line `data:`, comments, `event:` / `id:` / `retry:` fields, and UTF-8
characters split across chunks. It knows nothing of `[DONE]`: that is the chat protocol's
business, handled by its adapter.

Example:
    >>> d = SSEDecoder()
    >>> d.feed(b"event: ping\\r\\ndata: {\\"a\\":") + d.feed(b" 1}\\r\\n\\r\\n")
    [ServerSentEvent(data='{"a": 1}', event='ping', id=None, retry=None)]
"""

from __future__ import annotations

import codecs
from collections.abc import Iterable, Iterator

from .protocols.base import ServerSentEvent

__all__ = ["SSEDecoder", "iter_sse"]


class SSEDecoder:
    """Bytes in, `ServerSentEvent`s out. Keeps state between `feed` calls; `flush` at the end."""

    __slots__ = ("_data", "_decoder", "_event", "_id", "_pending_cr", "_retry", "_started", "_tail")

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._tail: list[str] = []  # the pieces of an unfinished line (joined once it ends: no quadratic growth)
        self._pending_cr = False
        self._started = False  # a UTF-8 byte-order mark is dropped from the very start of the stream
        self._data: list[str] = []
        self._event: str | None = None
        self._id: str | None = None
        self._retry: int | None = None

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        """Decode a chunk; return the events it completed (often none, often several)."""
        return self._lines(self._decoder.decode(chunk))

    def flush(self) -> list[ServerSentEvent]:
        """End of stream: finish a last line and dispatch an event left without its blank line."""
        events = self._lines(self._decoder.decode(b"", final=True))
        if self._pending_cr:
            self._pending_cr = False
            events += self._lines("\n")
        if self._tail:
            events += self._lines("\n")
        if self._data:
            events += self._lines("\n")
        return events

    def _lines(self, text: str) -> list[ServerSentEvent]:
        if self._pending_cr:
            # a CR ended the previous chunk: it was a line end, and a LF right after belongs to it
            self._pending_cr = False
            text = "\n" + (text[1:] if text.startswith("\n") else text)
        if "\r" in text:
            if text.endswith("\r"):
                text = text[:-1]
                self._pending_cr = True
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        if not text:
            return []
        if not self._started:
            self._started = True
            if text.startswith("\ufeff"):
                text = text[1:]
        if "\n" not in text:
            self._tail.append(text)
            return []
        if self._tail:
            self._tail.append(text)
            text = "".join(self._tail)
        lines = text.split("\n")
        last = lines.pop()
        self._tail = [last] if last else []
        events: list[ServerSentEvent] = []
        data = self._data
        for line in lines:
            if not line:
                if data:
                    joined = "\n".join(data)
                    if joined:  # the standard drops an event whose data is empty
                        events.append(ServerSentEvent(joined, self._event, self._id, self._retry))
                    data.clear()
                self._event = None
                continue
            if line.startswith("data: "):  # one slice, not two: these lines are most of a stream
                data.append(line[6:])
                continue
            if line.startswith("data:"):
                data.append(line[5:])
                continue
            if line[0] == ":":
                continue  # a comment, e.g. a keep-alive
            name, sep, value = line.partition(":")
            if sep and value.startswith(" "):
                value = value[1:]
            if name == "data":  # a bare "data" line: an empty data line
                data.append(value)
            elif name == "event":
                self._event = value
            elif name == "id":
                if "\0" not in value:
                    self._id = value
            elif name == "retry" and value.isdigit():
                self._retry = int(value)
            # other field names are ignored, as the standard says
        return events


def iter_sse(chunks: Iterable[bytes]) -> Iterator[ServerSentEvent]:
    """Events from an iterable of byte chunks (e.g. `httpx.Response.iter_bytes()`)."""
    decoder = SSEDecoder()
    for chunk in chunks:
        yield from decoder.feed(chunk)
    yield from decoder.flush()
