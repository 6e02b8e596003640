"""Gemini `streamGenerateContent?alt=sse`: the stream parser of the gemini protocol.

Each chunk is a whole `GenerateContentResponse`; a run of text (or thought) pieces is joined once,
a chunk's cumulative usage is normalised only when read, and the chunks' JSON text is kept for
`Reply.raw`. `GeminiAdapter.stream_parser()` gives a fresh one.

Example:
    >>> from cloudsway_nb.protocols.base import ServerSentEvent
    >>> parser = GeminiStreamParser()
    >>> events = parser.feed(ServerSentEvent('{"candidates": [{"content": {"parts": [{"text": "Hi"}]}}]}'))
    >>> [type(e).__name__ for e in events], parser.finish().text
    (['TextDelta'], 'Hi')
"""

from __future__ import annotations

import json
from typing import Any

from ..errors import MalformedReplyError, StreamError
from ..types import (
    Choice,
    Event,
    ReasoningDelta,
    Reply,
    TextDelta,
    TokenLogprob,
    ToolCall,
    ToolCallDelta,
    UsageEvent,
)
from .base import RawEvents, ServerSentEvent, StreamParser
from .gemini import _finish_reason, _get, _logprobs, _tool_call, _usage

__all__ = ["GeminiStreamParser"]


_TEXT_KEYS = frozenset({"text", "thought", "thoughtSignature", "thought_signature"})
_deferred_usage = UsageEvent.deferred
_new_object = object.__new__
# json.loads without its Python wrappers (see protocols.base); `StreamParser.decode` for the rest
_scan = json.JSONDecoder().scan_once
_RUN_KEYS = frozenset({"text", "thought"})


class _CandidateState:
    __slots__ = ("calls", "finish", "logprobs", "parts", "run", "text_run", "texts", "thoughts")

    def __init__(self) -> None:
        self.texts: list[str] = []
        self.thoughts: list[str] = []
        self.calls: list[ToolCall] = []
        self.parts: list[dict[str, Any]] = []
        # the text pieces of parts[-1] while it is a run of text pieces still open to more (None
        # otherwise); joined into the part when the run ends or the reply is assembled, so that a
        # run of 100,000 pieces costs linear time, not the quadratic time of growing one string.
        # parts[-1]["text"] is up to date whenever the run holds a single piece.
        self.run: list[Any] | None = None
        self.text_run: list[Any] | None = None  # `run` while it is one of answer text (not thoughts)
        self.finish: str | None = None
        self.logprobs: list[TokenLogprob] | None = None

    def add_part(self, part: dict[str, Any]) -> None:
        """Keep the native parts compact: a run of text pieces of one kind becomes one part,
        closed by the piece that carries a thought signature (Gemini sends it last)."""
        run = self.run
        if run is not None and part.keys() <= _TEXT_KEYS:
            last = self.parts[-1]
            if bool(last.get("thought")) == bool(part.get("thought")):
                run.append(part.get("text") or "")
                if (signature := part.get("thoughtSignature")) is None:
                    signature = part.get("thought_signature")
                if signature is not None:
                    self._close_run()
                    last["thoughtSignature"] = signature
                return
        self._close_run()
        copy = dict(part)
        self.parts.append(copy)
        if copy.keys() <= _RUN_KEYS:
            self.run = [copy.get("text", "")]
            if not copy.get("thought"):
                self.text_run = self.run

    def _join_run(self) -> None:
        run = self.run
        if run is not None and len(run) > 1:
            joined = "".join(run)
            self.parts[-1]["text"] = joined
            run[:] = [joined]  # still open to more pieces

    def _close_run(self) -> None:
        self._join_run()
        self.run = self.text_run = None

    def native(self) -> list[dict[str, Any]]:
        """Copies of the parts, an open run's text joined (once, however often this is called)."""
        self._join_run()
        return [dict(p) for p in self.parts]


class GeminiStreamParser(StreamParser):
    """`?alt=sse` chunks -> TextDelta / ReasoningDelta / ToolCallDelta / UsageEvent.

    Gemini has no end marker: the stream counts as done once every candidate seen has a
    finishReason (or the prompt was blocked). Text is kept as pieces joined at `finish`, and the
    chunks' JSON text for `Reply.raw` rather than the decoded chunks (see RawEvents).
    """

    protocol = "gemini"

    def __init__(self) -> None:
        self.done = False
        self._raw: list[Any] = []  # the chunks' JSON text (or a chunk that came decoded, see RawEvents)
        self._candidates: dict[int, _CandidateState] = {}
        self._unfinished = 0  # candidates without a finishReason yet
        self._usage: Any = None
        self._model: str | None = None
        self._id: str | None = None
        self._block: str | None = None

    def feed(self, sse: ServerSentEvent) -> list[Event]:
        text = sse.data
        try:
            data, end = _scan(text, 0)
        except (StopIteration, ValueError):
            return self._unusual(sse)
        if end != len(text) or data.__class__ is not dict:
            return self._unusual(sse)
        # The hot path, most chunks of a long answer: one candidate, of `content` and `index` only,
        # whose one part is a piece of text that continues the candidate's open text run, and
        # nothing else (the keys counted are all the chunk has: no error, no promptFeedback, no
        # snake_case key). What `_chunk` would do with it, inlined; anything else goes there.
        get = data.get
        usage = get("usageMetadata")
        model = get("modelVersion")
        response_id = get("responseId")
        try:  # subscripts, cheaper than calls of get: each fails on anything but the hot shape
            (candidate,) = data["candidates"]
            (part,) = candidate["content"]["parts"]
            piece = part["text"]
            index = candidate["index"]
            state = self._candidates[index]
        except (KeyError, TypeError, ValueError):  # e.g. a candidate's first chunk, a function call
            return self._chunk(data, text)
        if (
            len(data) == 1 + (usage is not None) + (model is not None) + (response_id is not None)
            and len(candidate) == 2
            and len(part) == 1
            and piece.__class__ is str
            and (run := state.text_run) is not None
        ):
            self._raw.append(text)
            if model:
                self._model = model
            if response_id:
                self._id = response_id
            run.append(piece)
            if not self._unfinished:
                self.done = True
            if usage.__class__ is not dict:
                if not piece:
                    return []
                state.texts.append(piece)
                return [TextDelta(piece, index)]
            self._usage = usage  # cumulative: the last one counts
            usage_event = _new_object(UsageEvent)  # UsageEvent.deferred(_usage, usage), spelled out
            usage_event._pending = (_usage, usage)  # type: ignore[attr-defined]
            if not piece:
                return [usage_event]
            state.texts.append(piece)
            return [TextDelta(piece, index), usage_event]
        return self._chunk(data, text)

    def _unusual(self, sse: ServerSentEvent) -> list[Event]:
        """An event that is not one JSON object: a chunk array, surrounding whitespace, not JSON."""
        data = self.decode(sse)
        if data is None:
            return []
        if isinstance(data, list):  # a chunk array: tolerate it
            out: list[Event] = []
            for chunk in data:
                out.extend(self._chunk(chunk, chunk))
            return out
        return self._chunk(data, sse.data)

    def feed_chunk(self, data: Any) -> list[Event]:
        """Take one decoded chunk (a GenerateContentResponse)."""
        return self._chunk(data, data)

    def _chunk(self, data: Any, raw: Any) -> list[Event]:
        """One chunk; `raw` is what `Reply.raw` keeps of it: its JSON text, or the chunk itself."""
        if data.__class__ is not dict and not isinstance(data, dict):
            raise MalformedReplyError("a gemini stream chunk must be a JSON object", partial=self.finish())
        self._raw.append(raw)
        if "error" in data and "candidates" not in data:
            err = data["error"]
            if isinstance(err, dict):
                message = err.get("message") or "stream error"
                code = err.get("status") or (str(err["code"]) if err.get("code") is not None else None)
            else:
                message, code = str(err), None
            raise StreamError(message, code=code, body=data, partial=self.finish())

        out: list[Event] = []
        # _get spelled out on this hot path: one call per lookup is a good part of a chunk's cost
        get = data.get
        if (model := get("modelVersion")) is None:
            model = get("model_version")
        self._model = model or self._model
        if (response_id := get("responseId")) is None:
            response_id = get("response_id")
        self._id = response_id or self._id
        candidates = get("candidates")
        if candidates:
            for position, candidate in enumerate(candidates):
                if isinstance(candidate, dict):
                    self._candidate(candidate, position, out)
        if (feedback := get("promptFeedback")) is None:
            feedback = get("prompt_feedback")
        if feedback is not None:
            block = _get(feedback, "blockReason") if isinstance(feedback, dict) else None
            if block:
                self._block = block
        if (usage := get("usageMetadata")) is None:
            usage = get("usage_metadata")
        if isinstance(usage, dict):
            self._usage = usage  # cumulative: the last one counts
            out.append(_deferred_usage(_usage, usage))  # normalized only if read: see UsageEvent
        if (self._block and not self._candidates) or (self._candidates and not self._unfinished):
            self.done = True
        return out

    def _candidate(self, candidate: dict[str, Any], position: int, out: list[Event]) -> None:
        index = candidate.get("index", position)
        state = self._candidates.get(index)
        if state is None:
            state = self._candidates[index] = _CandidateState()
            self._unfinished += 1
        content = candidate.get("content")
        for part in (content.get("parts") or ()) if isinstance(content, dict) else ():
            if not isinstance(part, dict):
                continue
            if len(part) == 1 and (piece := part.get("text")).__class__ is str:
                # the hot path, a plain piece of text: add_part and the text branch below, inlined
                run = state.text_run
                if run is not None:
                    run.append(piece)
                else:
                    state.add_part(part)
                if piece:
                    state.texts.append(piece)
                    out.append(TextDelta(piece, index))
                continue
            state.add_part(part)
            if not part.keys() <= _TEXT_KEYS:  # a text part (the hot path) holds no functionCall
                fc = _get(part, "functionCall")
                if isinstance(fc, dict):
                    call = _tool_call(fc, len(state.calls))
                    state.calls.append(call)
                    out.append(ToolCallDelta(len(state.calls) - 1, call.id, call.name, call.raw_arguments or "", index))
                    continue
            piece = part.get("text")
            if piece:
                if part.get("thought"):
                    state.thoughts.append(piece)
                    out.append(ReasoningDelta(piece, index))
                else:
                    state.texts.append(piece)
                    out.append(TextDelta(piece, index))
        if (finish := candidate.get("finishReason")) is None:
            finish = candidate.get("finish_reason")
        if finish:
            if state.finish is None:
                self._unfinished -= 1
            state.finish = finish
        if (result := candidate.get("logprobsResult")) is None:
            result = candidate.get("logprobs_result")
        if result is not None:
            logprobs = _logprobs(result)
            if logprobs:  # extended in place (not list + list: quadratic over a long stream)
                if state.logprobs is None:
                    state.logprobs = logprobs
                else:
                    state.logprobs.extend(logprobs)

    def finish(self) -> Reply:
        choices = [
            Choice(
                index=index,
                text="".join(s.texts),
                reasoning="".join(s.thoughts),
                tool_calls=list(s.calls),
                finish_reason=_finish_reason(s.finish, bool(s.calls)),
                native_finish_reason=s.finish,
                logprobs=None if s.logprobs is None else list(s.logprobs),
                native=s.native(),
            )
            for index, s in sorted(self._candidates.items())
        ]
        if not choices and self._block:
            choices = [Choice(index=0, finish_reason="content_filter", native_finish_reason=self._block, native=[])]
        return Reply(
            choices=choices,
            usage=_usage(self._usage),
            protocol="gemini",
            model=self._model,
            id=self._id,
            incomplete=not self.done,
            raw=RawEvents(self._raw.copy()),
        )
