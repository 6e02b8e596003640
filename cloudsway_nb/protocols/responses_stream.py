"""The Responses API's event stream: `ResponsesStreamParser` (used by ResponsesAdapter.stream_parser).

Events are keyed by `output_index` (else `item_id`); each output item collects its text parts,
summaries and function-call arguments as pieces, joined at `finish` into the `output` items of a
response object that `parse_response` turns into the Reply. "done" events and finished items
repeat the full text: it is only used when no deltas came before it. `response.*` events that
carry the response object update id, model, status and usage; `response.failed` and `error`
events raise a StreamError whose `partial` is the reply so far.

Example:
    >>> from cloudsway_nb.protocols.base import ServerSentEvent
    >>> parser = ResponsesStreamParser()
    >>> parser.feed(ServerSentEvent(data='{"type": "response.output_text.delta", "output_index": 0, '
    ...     '"content_index": 0, "delta": "Hi", "sequence_number": 3}'))
    [TextDelta(text='Hi', index=0)]
    >>> reply = parser.finish()
    >>> reply.text, reply.incomplete, parser.sequence_number
    ('Hi', True, 3)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NoReturn

from ..errors import StreamError
from ..types import Event, ReasoningDelta, Reply, TextDelta, ToolCallDelta, UsageEvent
from .base import RawEvents, ServerSentEvent, StreamParser
from .responses_reply import parse_response, parse_usage

__all__ = ["ResponsesStreamParser"]

_FINAL_EVENTS = ("response.completed", "response.incomplete", "response.failed", "response.cancelled")


class _Item:
    """What has arrived for one output item (by output_index)."""

    __slots__ = ("args", "done", "item", "parts", "summaries")

    def __init__(self, item: dict[str, Any] | None = None) -> None:
        self.item: dict[str, Any] = item if item is not None else {}
        self.done = False
        self.parts: dict[Any, list[Any]] = {}  # content/summary key -> [pieces, logprobs]
        self.summaries: dict[int, list[str]] = {}
        self.args: list[str] | None = None


class ResponsesStreamParser(StreamParser):
    """Events of one streamed response -> TextDelta / ReasoningDelta / ToolCallDelta / UsageEvent.

    `response_id` and `sequence_number` (the last one seen) are kept so that a dropped stream can
    be resumed with `build_retrieve(..., stream=True, starting_after=parser.sequence_number)`.
    Text is kept as pieces joined at `finish`, and the events' JSON text for `Reply.raw` rather
    than the decoded events (see RawEvents).
    """

    protocol = "responses"

    def __init__(self) -> None:
        self.done = False
        self._raw: list[str] = []  # the events' JSON text (see RawEvents)
        self.response_id: str | None = None
        self.model: str | None = None
        self.status: str | None = None
        self.sequence_number: int | None = None
        self._items: dict[int, _Item] = {}
        self._by_item_id: dict[str, int] = {}
        self._calls: dict[int, int] = {}  # output_index -> call_index
        self._last_index = 0
        self._reasoning_seen = False
        self._final: dict[str, Any] | None = None
        self._usage: dict[str, Any] | None = None
        self._error: dict[str, Any] | None = None

    # -- feeding ----------------------------------------------------------------------------

    def feed(self, sse: ServerSentEvent) -> list[Event]:
        data = self.decode(sse)
        if data is None:
            return []
        self._raw.append(sse.data)
        if data.__class__ is not dict and not isinstance(data, dict):
            return []
        kind = data.get("type") or sse.event
        seq = data.get("sequence_number")
        if isinstance(seq, int):
            self.sequence_number = seq

        if kind == "response.output_text.delta":
            # the hot path, inline: a piece of a part already seen (else _part makes the item and the part)
            index = data.get("output_index")
            entry = self._items.get(index) if index.__class__ is int else None
            slot = None if entry is None else entry.parts.get(("text", data.get("content_index", 0)))
            if slot is None:
                slot = self._part(data, "content_index")
            delta = data.get("delta") or ""
            slot[0].append(delta)
            if data.get("logprobs"):
                slot[1].extend(data["logprobs"])
            return [TextDelta(delta)]
        try:
            handler = _HANDLERS.get(kind)
        except TypeError:  # an unhashable "type": _other_event fails on it as on any other non-str
            handler = None
        if handler is not None:
            return handler(self, data)
        return self._other_event(kind, data)

    # the other deltas (reasoning summary and function-call argument deltas go straight to _reason and _args)

    def _on_refusal_delta(self, data: dict[str, Any]) -> list[Event]:
        slot = self._part(data, "content_index", "refusal")
        slot[0].append(data.get("delta") or "")
        return [TextDelta(data.get("delta") or "")]

    def _on_reasoning_text_delta(self, data: dict[str, Any]) -> list[Event]:
        slot = self._part(data, "content_index", "reasoning_text")
        slot[0].append(data.get("delta") or "")
        return self._reasoning_event(data.get("delta") or "", first=len(slot[0]) == 1)

    # "done" events repeat the full text: only used when no deltas came before them

    def _on_text_done(self, data: dict[str, Any]) -> list[Event]:
        slot = self._part(data, "content_index")
        if not slot[0] and data.get("text"):
            slot[0].append(data["text"])
            return [TextDelta(data["text"])]
        return []

    def _on_content_part_done(self, data: dict[str, Any]) -> list[Event]:
        part = data.get("part") if isinstance(data.get("part"), dict) else {}
        ptype = part.get("type")
        if ptype in ("output_text", "refusal"):
            slot = self._part(data, "content_index", "text" if ptype == "output_text" else "refusal")
            text = part.get("text" if ptype == "output_text" else "refusal") or ""
            if not slot[0] and text:
                slot[0].append(text)
                return [TextDelta(text)]
        return []

    def _on_summary_done(self, data: dict[str, Any]) -> list[Event]:
        entry = self._entry(data)
        key = data.get("summary_index", 0)
        if not entry.summaries.get(key) and data.get("text"):
            return self._reason(data, data["text"])
        return []

    def _on_arguments_done(self, data: dict[str, Any]) -> list[Event]:
        index = self._index(data)
        entry = self._items.get(index)
        if (entry is None or not entry.args) and data.get("arguments"):
            return self._args(data, data["arguments"])
        return []

    # items, errors and the response object

    def _on_item_added(self, data: dict[str, Any]) -> list[Event]:
        return self._item_event(data, done=False)

    def _on_item_done(self, data: dict[str, Any]) -> list[Event]:
        return self._item_event(data, done=True)

    def _on_error(self, data: dict[str, Any]) -> NoReturn:
        err = data.get("error") if isinstance(data.get("error"), dict) else data
        self._fail(err, data, "the server reported an error in the stream")

    def _other_event(self, kind: Any, data: dict[str, Any]) -> list[Event]:
        """An event without a handler of its own: one carrying the response object, a gateway-style
        error chunk (no type), or one that adds nothing (content_part.added, summary_part.done,
        annotations, pings, unknown events)."""
        if kind is not None and kind.startswith("response.") and isinstance(data.get("response"), dict):
            return self._response_event(kind, data["response"])
        if kind is None and isinstance(data.get("error"), dict):
            self._fail(data["error"], data, "the server reported an error in the stream")
        return []

    def _fail(self, err: dict[str, Any], body: Any, message: str) -> NoReturn:
        """Raise the StreamError for `err`, with the reply so far (failed, incomplete) as `partial`."""
        self._error = err
        raise StreamError(
            err.get("message") or message,
            code=_code(err),
            body=body,
            partial=self._finish(incomplete=True),
        )

    # -- state --------------------------------------------------------------------------------

    def _index(self, data: dict[str, Any]) -> int:
        index = data.get("output_index")
        if isinstance(index, int):
            return index
        item_id = data.get("item_id")
        if item_id in self._by_item_id:
            return self._by_item_id[item_id]
        return self._last_index

    def _entry(self, data: dict[str, Any]) -> _Item:
        index = self._index(data)
        entry = self._items.get(index)
        if entry is None:
            entry = self._items[index] = _Item()
            item_id = data.get("item_id")
            if item_id:
                entry.item["id"] = item_id
                self._by_item_id[item_id] = index
            if index > self._last_index:
                self._last_index = index
        return entry

    def _part(self, data: dict[str, Any], index_key: str, kind: str = "text") -> list[Any]:
        entry = self._entry(data)
        key = (kind, data.get(index_key, 0))
        slot = entry.parts.get(key)
        if slot is None:
            slot = entry.parts[key] = [[], []]
        return slot

    def _reasoning_event(self, text: str, first: bool) -> list[Event]:
        events: list[Event] = []
        if first and self._reasoning_seen:
            events.append(ReasoningDelta("\n\n"))  # a new summary part: same separator as the Reply
        self._reasoning_seen = True
        events.append(ReasoningDelta(text))
        return events

    def _reason(self, data: dict[str, Any], text: str | None = None) -> list[Event]:
        """A piece of a reasoning summary: `text`, else the event's delta."""
        if text is None:
            text = data.get("delta") or ""
        entry = self._entry(data)
        key = data.get("summary_index", 0)
        pieces = entry.summaries.get(key)
        first = pieces is None or not pieces
        if pieces is None:
            pieces = entry.summaries[key] = []
        pieces.append(text)
        return self._reasoning_event(text, first)

    def _call_index(self, index: int) -> tuple[int, bool]:
        call_index = self._calls.get(index)
        if call_index is None:
            call_index = self._calls[index] = len(self._calls)
            return call_index, True
        return call_index, False

    def _args(self, data: dict[str, Any], text: str | None = None) -> list[Event]:
        """A piece of a function call's arguments: `text`, else the event's delta."""
        if text is None:
            text = data.get("delta") or ""
        entry = self._entry(data)
        index = self._index(data)
        if entry.args is None:
            entry.args = []
        entry.args.append(text)
        call_index, new = self._call_index(index)
        if new:  # arguments before output_item.added (a resumed stream): say what we know
            return [
                ToolCallDelta(call_index, id=entry.item.get("call_id"), name=entry.item.get("name"), arguments=text)
            ]
        return [ToolCallDelta(call_index, arguments=text)]

    def _item_event(self, data: dict[str, Any], done: bool) -> list[Event]:
        item = data.get("item")
        if not isinstance(item, dict):
            return []
        entry = self._entry(data)
        index = self._index(data)
        if item.get("id"):
            self._by_item_id[item["id"]] = index
        entry.item = item
        entry.done = done
        kind = item.get("type")
        if kind != "function_call":
            return self._unstreamed(entry, item) if done else []
        call_index, new = self._call_index(index)
        if new:
            args = item.get("arguments") or ""
            if args:
                entry.args = [args]
            return [ToolCallDelta(call_index, id=item.get("call_id"), name=item.get("name"), arguments=args)]
        if done and item.get("arguments") and not entry.args:
            entry.args = [item["arguments"]]
            return [ToolCallDelta(call_index, arguments=item["arguments"])]
        return []

    def _unstreamed(self, entry: _Item, item: dict[str, Any]) -> list[Event]:
        """A finished message / reasoning item whose text never came as deltas: emit it now."""
        events: list[Event] = []
        if item.get("type") == "message" and not entry.parts:
            for part in item.get("content") or ():
                if isinstance(part, dict):
                    text = part.get("text") if part.get("type") == "output_text" else part.get("refusal")
                    if isinstance(text, str) and text:
                        events.append(TextDelta(text))
        elif item.get("type") == "reasoning" and not entry.summaries and not entry.parts:
            for summary in item.get("summary") or ():
                if isinstance(summary, dict) and summary.get("text"):
                    events.extend(self._reasoning_event(summary["text"], first=True))
        return events

    def _response_event(self, kind: str, response: dict[str, Any]) -> list[Event]:
        self.response_id = response.get("id") or self.response_id
        self.model = response.get("model") or self.model
        self.status = response.get("status") or self.status
        events: list[Event] = []
        usage = response.get("usage")
        if isinstance(usage, dict):
            self._usage = usage
            events.append(UsageEvent(parse_usage(usage)))
        if kind in _FINAL_EVENTS:
            self.done = True
            self._final = response
            if kind == "response.failed":
                err = response.get("error") if isinstance(response.get("error"), dict) else {}
                self._fail(err, response, "the response failed")
        return events

    # -- assembling ---------------------------------------------------------------------------

    def finish(self) -> Reply:
        return self._finish(incomplete=not self.done)

    def _assembled_output(self) -> list[dict[str, Any]]:
        output: list[dict[str, Any]] = []
        for index in sorted(self._items):
            entry = self._items[index]
            item = dict(entry.item)
            if entry.done:
                output.append(item)
                continue
            kind = item.get("type")
            if kind is None:  # only deltas arrived (a resumed stream): infer the item type
                if entry.args is not None:
                    kind = "function_call"
                elif entry.summaries or any(k[0] == "reasoning_text" for k in entry.parts):
                    kind = "reasoning"
                else:
                    kind = "message"
                item["type"] = kind
            if kind == "function_call":
                if entry.args is not None:
                    item["arguments"] = "".join(entry.args)
            elif kind == "reasoning":
                if entry.summaries:
                    item["summary"] = [
                        {"type": "summary_text", "text": "".join(entry.summaries[k])} for k in sorted(entry.summaries)
                    ]
                texts = [(k[1], v) for k, v in entry.parts.items() if k[0] == "reasoning_text"]
                if texts:
                    item["content"] = [{"type": "reasoning_text", "text": "".join(v[0])} for _, v in sorted(texts)]
            elif kind == "message":
                item.setdefault("role", "assistant")
                content = []
                for (ptype, _), (pieces, lps) in sorted(entry.parts.items(), key=lambda kv: kv[0][1]):
                    if ptype == "text":
                        part: dict[str, Any] = {"type": "output_text", "text": "".join(pieces)}
                        if lps:
                            part["logprobs"] = lps
                        content.append(part)
                    elif ptype == "refusal":
                        content.append({"type": "refusal", "refusal": "".join(pieces)})
                if content:
                    item["content"] = content
            output.append(item)
        return output

    def _finish(self, incomplete: bool) -> Reply:
        final = self._final
        assembled = self._assembled_output()
        if final is not None and (final.get("output") or not assembled):
            data = dict(final)
        else:
            data = dict(final or {})
            data["output"] = assembled
            data.setdefault("id", self.response_id)
            data.setdefault("model", self.model)
            data["status"] = (final or {}).get("status") or self.status or "in_progress"
        if data.get("usage") is None and self._usage is not None:
            data["usage"] = self._usage
        if self._error is not None and data.get("status") not in ("failed",):
            data["status"] = "failed"
            data["error"] = self._error
        reply = parse_response(data)
        reply.raw = RawEvents(self._raw.copy())
        reply.incomplete = incomplete
        return reply


#: event type -> ResponsesStreamParser handler (response.output_text.delta, the commonest by far,
#: is handled inline in feed); a module global, the quickest lookup from feed
_HANDLERS: dict[str, Callable[[ResponsesStreamParser, dict[str, Any]], list[Event]]] = {
    "response.reasoning_summary_text.delta": ResponsesStreamParser._reason,
    "response.function_call_arguments.delta": ResponsesStreamParser._args,
    "response.refusal.delta": ResponsesStreamParser._on_refusal_delta,
    "response.reasoning_text.delta": ResponsesStreamParser._on_reasoning_text_delta,
    "response.output_text.done": ResponsesStreamParser._on_text_done,
    "response.content_part.done": ResponsesStreamParser._on_content_part_done,
    "response.reasoning_summary_text.done": ResponsesStreamParser._on_summary_done,
    "response.function_call_arguments.done": ResponsesStreamParser._on_arguments_done,
    "response.output_item.added": ResponsesStreamParser._on_item_added,
    "response.output_item.done": ResponsesStreamParser._on_item_done,
    "error": ResponsesStreamParser._on_error,
}


def _code(err: dict[str, Any]) -> str | None:
    code = err.get("code") or err.get("type")
    return None if code is None else str(code)
