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
        # a codecs.BufferedIncrementalDecoder: its `buffer` holds the first bytes of a split character
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
        decoder = self._decoder
        if decoder.buffer:  # the first bytes of a character split by the previous chunk
            return self._lines(decoder.decode(chunk))
        try:  # most chunks decode in one C call, without the incremental decoder's Python frames
            text = chunk.decode()
        except UnicodeDecodeError:  # a character split at the chunk's end, or bytes to replace
            text = decoder.decode(chunk)
        return self._lines(text)

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
        if not self._started and text:
            self._started = True
            if text.startswith("\ufeff"):  # a byte-order mark is dropped from the very start of the stream
                text = text[1:]
        if self._pending_cr:  # a CR ended the previous chunk: put it back, before a LF that may complete it
            self._pending_cr = False
            text = "\r" + text
        if text.endswith("\r"):  # a line end, but perhaps the first half of a CRLF: wait for the next chunk
            text = text[:-1]
            self._pending_cr = True
        if "\r" in text:
            pieces = text.split("\r\n\r\ndata: ")
            if len(pieces) > 1:  # CRLF framing of `data: X` events (as Gemini sends them)
                return self._crlf_data(pieces)
            blocks = text.split("\r\n\r\n")
            if len(blocks) > 1:  # CRLF framing (as Gemini sends it): no copy of the text with plain LFs
                return self._crlf_blocks(blocks)
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        if "\n" not in text:
            if text:
                self._tail.append(text)
            return []
        if self._tail:  # the pieces of an unfinished line
            self._tail.append(text)
            text = "".join(self._tail)
        lines = text.split("\n")
        last = lines.pop()
        self._tail = [last] if last else []
        events: list[ServerSentEvent] = []
        self._process(lines, events)
        return events

    def _crlf_data(self, pieces: list[str]) -> list[ServerSentEvent]:
        """The text split at CRLF CRLF `data: `: each piece but the first and the last is, in the
        common shape, the data of an event of one `data: X` line, as it is (no slice to make).

        The first piece ends the event under way (or is a whole one); the last holds the last
        event and the start of the next. Those two, and from the first piece holding another line
        end on, the text goes the general way (`_crlf_blocks`), re-joined as it came."""
        first = pieces[0]
        if self._tail:  # the pieces of an unfinished line: they hold no line end
            first = "".join(self._tail) + first
            self._tail = []
        if (
            not self._data
            and self._event is None
            and first.startswith("data: ")
            and "\r" not in first
            and "\n" not in first
        ):
            events = [ServerSentEvent(first[6:], None, self._id, self._retry)] if len(first) > 6 else []
        else:
            events = self._crlf_blocks([first, ""])  # a whole event: its blank line came before `data: `
        append = events.append
        last_id, retry = self._id, self._retry
        last = pieces.pop()
        rest = iter(pieces)
        next(rest)  # the first piece, done
        for piece in rest:
            if "\r" in piece or "\n" in piece:  # an event of more lines, or another event after this one
                text = "\r\n\r\ndata: ".join([piece, *rest, last])
                return events + self._crlf_blocks(("data: " + text).split("\r\n\r\n"))
            if piece:  # the standard drops an event whose data is empty
                append(ServerSentEvent(piece, None, last_id, retry))
        return events + self._crlf_blocks(("data: " + last).split("\r\n\r\n"))

    def _crlf_blocks(self, blocks: list[str]) -> list[ServerSentEvent]:
        """The text split at CRLF CRLF: each block but the last is an event and the blank line
        that ended it; the last holds the lines of an event still arriving, then the start of a
        line (the tail). Any block may hold lone CRs or LFs among its CRLFs."""
        rest = blocks.pop()
        if self._tail:  # the pieces of an unfinished line: they hold no line end
            head = "".join(self._tail)
            self._tail = []
            if blocks:
                blocks[0] = head + blocks[0]
            else:
                rest = head + rest
        events: list[ServerSentEvent] = []
        append = events.append
        data = self._data
        # the state the common shape needs (no event half-way), as locals: only _process changes it
        plain = not data and self._event is None
        last_id, retry = self._id, self._retry
        for block in blocks:
            # the common shape, when no event is half-way: one `data: X` line
            if plain and block.startswith("data: ") and "\r" not in block and "\n" not in block:
                if len(block) > 6:  # the standard drops an event whose data is empty
                    append(ServerSentEvent(block[6:], None, last_id, retry))
                continue
            lines = block.replace("\r\n", "\n").replace("\r", "\n").split("\n")
            lines.append("")  # the blank line that ended the block
            self._process(lines, events)
            plain = not data and self._event is None
            last_id, retry = self._id, self._retry
        if rest:
            lines = rest.replace("\r\n", "\n").replace("\r", "\n").split("\n")
            last = lines.pop()
            if last:
                self._tail = [last]
            if lines:
                self._process(lines, events)
        return events

    def _process(self, lines: list[str], events: list[ServerSentEvent]) -> None:
        """Lines (line ends removed) of any shape, one by one, as the standard says."""
        data = self._data
        event = self._event  # a local while the loop runs
        for line in lines:
            if not line:
                if data:
                    joined = data[0] if len(data) == 1 else "\n".join(data)
                    if joined:  # the standard drops an event whose data is empty
                        events.append(ServerSentEvent(joined, event, self._id, self._retry))
                    data.clear()
                event = None
                continue
            if line.startswith("data: "):  # one slice, not two
                data.append(line[6:])
                continue
            if line.startswith("event: "):
                event = line[7:]
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
                event = value
            elif name == "id":
                if "\0" not in value:
                    self._id = value
            elif name == "retry" and value.isdigit():
                self._retry = int(value)
            # other field names are ignored, as the standard says
        self._event = event


def iter_sse(chunks: Iterable[bytes]) -> Iterator[ServerSentEvent]:
    """Events from an iterable of byte chunks (e.g. `httpx.Response.iter_bytes()`)."""
    decoder = SSEDecoder()
    for chunk in chunks:
        yield from decoder.feed(chunk)
    yield from decoder.flush()
