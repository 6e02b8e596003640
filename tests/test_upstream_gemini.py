"""Google's recorded Gemini streams (../shared/upstream-streams/gemini: the Firebase / Vertex AI SDKs'
shared mock responses and the generative-ai-js ones), parsed by our gemini adapter and by the
google-genai SDK, compared field by field.

The SDK side is google-genai end to end: its client reads the recorded body from a mock transport
(its own SSE line reading, the files being CRLF) and yields one GenerateContentResponse per chunk;
they are accumulated as the SDK's own chat does for its history (each chunk's candidate content in
order, the last finish reason) and as its users do (text parts joined, `thought` parts as the
reasoning, function calls, the last usageMetadata, responseId and modelVersion).

All seven recordings are `?alt=sse` streams (SOURCES.md, and each file's first bytes); the
non-streamed shapes are tested from them: the chunks as one JSON array (what streamGenerateContent
answers without alt=sse) and a one-chunk recording as a generateContent reply, both through
`parse_reply`. Every recording cut after each chunk is compared too.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from cloudsway_nb.protocols import get_adapter
from cloudsway_nb.sse import SSEDecoder

FOLDER = Path(__file__).resolve().parents[2] / "shared" / "upstream-streams" / "gemini"
RECORDINGS = sorted(FOLDER.glob("*.txt")) if FOLDER.is_dir() else []
httpx = pytest.importorskip("httpx")
genai = pytest.importorskip("google.genai")
types = pytest.importorskip("google.genai.types")

# Gemini's finish reasons and what our Reply calls them (written out here, not read from the adapter)
FINISH = {None: None, "STOP": "stop", "MAX_TOKENS": "length", "SAFETY": "content_filter", "OTHER": "other"}

needs_recordings = pytest.mark.skipif(
    not RECORDINGS, reason="the upstream recordings (../shared/upstream-streams) are not here"
)



def chunks_of(body: bytes) -> list[bytes]:
    """The recording's `data:` lines (CRLF kept), each with the blank line that ends it."""
    return [line + b"\r\n\r\n" for line in body.split(b"\r\n") if line.startswith(b"data: ")]


def chunk_dicts(body: bytes) -> list[dict[str, Any]]:
    return [json.loads(chunk[len(b"data: ") :]) for chunk in chunks_of(body)]


def ours(body: bytes):
    parser, decoder = get_adapter("gemini").stream_parser(), SSEDecoder()
    for event in [*decoder.feed(body), *decoder.flush()]:
        parser.feed(event)
    return parser.finish()


def _client(answer: Any) -> Any:
    transport = httpx.MockTransport(answer)
    options = types.HttpOptions(base_url="http://upstream.test", httpx_client=httpx.Client(transport=transport))
    return genai.Client(api_key="test", http_options=options)


def sdk_chunks(body: bytes) -> list[Any]:
    """The GenerateContentResponse chunks google-genai's generate_content_stream yields for the body."""

    def answer(request: Any) -> Any:
        return httpx.Response(200, content=body, headers={"content-type": "text/event-stream"})

    return list(_client(answer).models.generate_content_stream(model="gemini-test", contents="hi"))


def sdk_reply(data: dict[str, Any]) -> Any:
    """What google-genai's (non-streaming) generate_content makes of a JSON reply."""

    def answer(request: Any) -> Any:
        return httpx.Response(200, json=data)

    return _client(answer).models.generate_content(model="gemini-test", contents="hi")


class Accumulated:
    """A streamed reply as the SDK's users assemble it from the chunks, per candidate index."""

    def __init__(self, chunks: list[Any]) -> None:
        self.parts: dict[int, list[Any]] = {}
        self.finish: dict[int, str | None] = {}
        self.usage = self.id = self.model = None
        for chunk in chunks:
            for position, candidate in enumerate(chunk.candidates or []):
                index = candidate.index if candidate.index is not None else position
                self.parts.setdefault(index, [])
                self.finish.setdefault(index, None)
                if candidate.content is not None:
                    self.parts[index].extend(candidate.content.parts or [])
                if candidate.finish_reason is not None:
                    self.finish[index] = candidate.finish_reason.value
            self.usage = chunk.usage_metadata or self.usage
            self.id = chunk.response_id or self.id
            self.model = chunk.model_version or self.model


def segments(parts: list[Any]) -> list[tuple[str, Any]]:
    """Parts (the SDK's Part objects) as a sequence both sides agree on however a stream split or joined
    its text: ("text" | "thought", text) with neighbours of one kind joined, ("signature", bytes) where
    a text part carried one, ("part", Part) for every other part (function calls, code, inline data)."""
    out: list[tuple[str, Any]] = []
    for part in parts:
        fields = {k for k, v in part if v is not None} - {"thought", "thought_signature"}
        if fields == {"text"}:
            kind = "thought" if part.thought else "text"
            if out and out[-1][0] == kind:
                out[-1] = (kind, out[-1][1] + part.text)
            else:
                out.append((kind, part.text))
            if part.thought_signature is not None:
                out.append(("signature", part.thought_signature))
        elif fields:
            out.append(("part", part))
    return out


def expected_usage(usage: Any) -> dict[str, int | None]:
    """The SDK's usage_metadata in our Usage's convention (types.Usage): input every prompt token,
    output every generated one (thoughts included), reasoning the thoughts, total the server's,
    and an omitted zero count 0."""
    if usage is None:
        return {"input": None, "output": None, "reasoning": None, "cached": None, "total": None}

    def add(*counts: int | None) -> int | None:
        return None if all(c is None for c in counts) else sum(c or 0 for c in counts)

    # once the output is counted, a count the JSON left out is 0 (proto3 omits zeros; the SDK says None)
    whole = usage.candidates_token_count is not None
    return {
        "input": add(usage.prompt_token_count, usage.tool_use_prompt_token_count),
        "output": add(usage.candidates_token_count, usage.thoughts_token_count),
        "reasoning": usage.thoughts_token_count if usage.thoughts_token_count is not None or not whole else 0,
        "cached": usage.cached_content_token_count if usage.cached_content_token_count is not None or not whole else 0,
        "total": usage.total_token_count,
    }


def compare(mine: Any, sdk: Accumulated, *, complete: bool) -> None:
    assert (mine.id, mine.model) == (sdk.id, sdk.model)
    assert mine.incomplete is not complete
    assert [c.index for c in mine.choices] == sorted(sdk.parts)
    for choice in mine.choices:
        parts = sdk.parts[choice.index]
        assert choice.text == "".join(p.text for p in parts if p.text is not None and not p.thought)
        assert choice.reasoning == "".join(p.text for p in parts if p.text is not None and p.thought)
        calls = [p.function_call for p in parts if p.function_call is not None]
        assert [(c.name, c.arguments) for c in choice.tool_calls] == [(f.name, f.args or {}) for f in calls]
        for call, f in zip(choice.tool_calls, calls, strict=True):
            assert f.id is None or call.id == f.id  # Gemini API calls carry no id: ours makes one up
        # the parts kept for the next turn (Message.native), thought signatures included
        assert segments([types.Part.model_validate(p) for p in choice.native]) == segments(parts)
        native_finish = sdk.finish[choice.index]
        assert choice.native_finish_reason == native_finish
        expected = FINISH[native_finish]
        assert choice.finish_reason == ("tool_calls" if expected == "stop" and calls else expected)
    assert mine.usage.to_dict() == expected_usage(sdk.usage)


def case(path: Path) -> Any:
    """A recording as a test parameter."""
    return pytest.param(path, id=path.stem.removeprefix("streaming-success-"))


@needs_recordings
@pytest.mark.parametrize("path", [case(p) for p in RECORDINGS])
def test_every_recorded_gemini_stream_reads_as_the_sdk_reads_it(path: Path) -> None:
    body = path.read_bytes()
    compare(ours(body), Accumulated(sdk_chunks(body)), complete=True)


@needs_recordings
@pytest.mark.parametrize("path", [case(p) for p in RECORDINGS])
def test_the_chunks_as_one_json_array_read_as_the_stream_does(path: Path) -> None:
    # streamGenerateContent without alt=sse answers with a JSON array of the same chunks
    body = path.read_bytes()
    reply = get_adapter("gemini").parse_reply(chunk_dicts(body))
    compare(reply, Accumulated(sdk_chunks(body)), complete=True)


SINGLE = [case(p) for p in RECORDINGS if len(chunks_of(p.read_bytes())) == 1]


@pytest.mark.skipif(not SINGLE, reason="no one-chunk recording is here")
@pytest.mark.parametrize("path", SINGLE)
def test_a_one_chunk_recording_as_a_generate_content_reply(path: Path) -> None:
    (data,) = chunk_dicts(path.read_bytes())
    compare(get_adapter("gemini").parse_reply(data), Accumulated([sdk_reply(data)]), complete=True)


def _cut_case(path: Path, n: int) -> Any:
    return pytest.param(path, n, id=f"{path.stem.removeprefix('streaming-success-')}-{n}")


CUTS = [_cut_case(p, n) for p in RECORDINGS for n in range(1, len(chunks_of(p.read_bytes())))]


@needs_recordings
@pytest.mark.parametrize(("path", "n"), CUTS)
def test_a_recording_cut_after_any_chunk_keeps_what_arrived(path: Path, n: int) -> None:
    # Gemini has no end marker: a reply is complete once every candidate has a finishReason, so a cut
    # stream is incomplete unless a chunk already gave one (the utf8 recording gives STOP in every chunk)
    body = b"".join(chunks_of(path.read_bytes())[:n])
    sdk = Accumulated(sdk_chunks(body))
    compare(ours(body), sdk, complete=all(sdk.finish.values()))


@needs_recordings
def test_a_thought_signature_is_kept_as_sent() -> None:
    path = FOLDER / "streaming-success-thinking-function-call-thought-summary-signature.txt"
    if not path.is_file():
        pytest.skip(f"{path.name} is not here")
    body = path.read_bytes()
    (call_part,) = [p for c in chunk_dicts(body) for p in c["candidates"][0]["content"]["parts"] if "functionCall" in p]
    native = ours(body).choices[0].native
    # the SDK decodes it to bytes (and dumps it url-safe); we keep the server's text, to send it back as it came
    assert native[-1] == call_part
    assert (
        base64.b64decode(native[-1]["thoughtSignature"])
        == sdk_chunks(body)[-1].candidates[0].content.parts[0].thought_signature
    )


@needs_recordings
def test_a_thought_signature_on_a_text_part_reads_as_the_sdk_reads_it() -> None:
    # no recording signs a text part (only the functionCall above): sign the last thought piece of one
    path = FOLDER / "streaming-success-thinking-reply-thought-summary.txt"
    if not path.is_file():
        pytest.skip(f"{path.name} is not here")
    chunks = chunk_dicts(path.read_bytes())
    last_thought = max(i for i, c in enumerate(chunks) if c["candidates"][0]["content"]["parts"][0].get("thought"))
    chunks[last_thought]["candidates"][0]["content"]["parts"][0]["thoughtSignature"] = "c2lnbmVkL3Rob3VnaHQ+"
    body = b"".join(b"data: " + json.dumps(c).encode() + b"\r\n\r\n" for c in chunks)
    mine = ours(body)
    compare(mine, Accumulated(sdk_chunks(body)), complete=True)
    assert [p.get("thoughtSignature") for p in mine.choices[0].native] == ["c2lnbmVkL3Rob3VnaHQ+", None]
