"""Plan a deterministic, informative reply from a :class:`~.conversation.Prompt`.

A prompt that asks for more (an essay, a story, code, a table, a list, a proof, a long or
detailed answer, a length in words) gets a long, structured Markdown answer instead (see
:mod:`.longform`), cut at a block boundary when ``max_tokens`` does not leave room for all of it.
Otherwise the reply restates the gist of the last user text, recalls what earlier turns said when the
last one asks about them (see :mod:`.memory`), describes every media part, answers with
the tool results when the conversation holds them, calls the offered tools that fit the prompt
(several in one turn when several fit, see :mod:`.tool_plan`; arguments valid against each
schema), and emits JSON for JSON mode. Reasoning text is produced when
asked for. Everything is a pure function of the prompt, so the same request gives the same
reply; the protocol modules only render the :class:`Plan`.

Example:
    >>> from cloudsway_nb.emulator.conversation import Prompt, Turn
    >>> plan = plan_reply(Prompt(turns=[Turn("user", "What is 1+1?")]))
    >>> plan.text
    'You said: What is 1+1?'
    >>> plan.finish, plan.output_tokens
    ('stop', 9)
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from .conversation import Prompt, ToolCall, digest
from .longform import LongForm, compose, describe, outline, read_request
from .memory import recall
from .schema_values import Hints, value_for_schema
from .tokenizer import count_tokens, pieces
from .tool_plan import fitting_tools, plan_tool_calls

__all__ = [
    "Plan",
    "gist",
    "plan_replies",
    "plan_reply",
    "reasoning_signature",
    "text_logprobs",
    "token_logprobs",
]

_EFFORT_SENTENCES = {"none": 1, "minimal": 1, "low": 1, "medium": 2, "high": 3, "xhigh": 4, "max": 4}


def gist(text: str, limit: int = 200) -> str:
    """Whitespace collapsed and cut to ``limit`` characters (an ellipsis marks the cut).

    Example:
        >>> gist("  many   spaces\\n here ")
        'many spaces here'
        >>> gist("abcdef", 4)
        'abc…'
    """
    flat = " ".join((text or "").split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


@dataclass
class Plan:
    """The reply to render: visible text, reasoning, tool calls, and token counts.

    ``finish`` is ``stop``, ``length``, ``tool_calls`` or ``stop_sequence`` (then
    ``stop_sequence`` holds the sequence); each protocol maps it to its own name.

    Example:
        >>> Plan(text="hi", text_tokens=1).output_tokens
        1
    """

    text: str | None = None
    reasoning: str | None = None
    tool_calls: list[ToolCall] = field(default_factory=list)
    finish: str = "stop"
    stop_sequence: str | None = None
    text_tokens: int = 0
    reasoning_tokens: int = 0
    tool_tokens: int = 0
    index: int = 0
    seed: str = ""
    text_pieces: list[str] = field(default_factory=list)
    reasoning_pieces: list[str] = field(default_factory=list)

    @property
    def tool_call(self) -> ToolCall | None:
        """The first tool call, or None."""
        return self.tool_calls[0] if self.tool_calls else None

    @property
    def output_tokens(self) -> int:
        """All generated tokens, reasoning included."""
        return self.text_tokens + self.reasoning_tokens + self.tool_tokens


def plan_replies(prompt: Prompt, n: int | None = None) -> list[Plan]:
    """``n`` (default ``prompt.n``) distinct deterministic alternatives.

    Example:
        >>> from cloudsway_nb.emulator.conversation import Prompt, Turn
        >>> [p.text for p in plan_replies(Prompt(turns=[Turn("user", "hi")]), 2)]
        ['You said: hi.', 'Alternative 2: You said: hi.']
    """
    count = max(1, n if n is not None else prompt.n)
    return [plan_reply(prompt, i) for i in range(count)]


def plan_reply(prompt: Prompt, index: int = 0) -> Plan:
    """Plan alternative number ``index`` (0-based) of the reply to ``prompt``.

    Example:
        >>> from cloudsway_nb.emulator.conversation import Prompt, Turn
        >>> plan_reply(Prompt(turns=[Turn("user", "Hi")]), 1).text
        'Alternative 2: You said: Hi.'
    """
    seed = digest(prompt.fingerprint(), index)
    plan = Plan(index=index, seed=seed)
    tool_calls = plan_tool_calls(prompt, seed)
    form = None if tool_calls or prompt.json_mode else read_request(prompt.last_user_text())
    blocks: list[str] | None = None
    reasoning = _reasoning_text(prompt, form, digest(prompt.conversation_digest(), index)) if prompt.reasoning else None
    if tool_calls:
        plan.tool_calls = tool_calls
        plan.tool_tokens = sum(call.tokens() for call in tool_calls)
        plan.finish = "tool_calls"
        text = None
    elif prompt.json_mode:
        text = _json_text(prompt, seed)
    elif form is not None:
        blocks = compose(form, digest(prompt.conversation_digest(), index), _notes(prompt, restate=False))
        if index:
            blocks[0] = f"Alternative {index + 1}: {blocks[0]}"
        text = "\n\n".join(blocks)
    else:
        text = _plain_text(prompt)
        if index:
            text = f"Alternative {index + 1}: {text}"
    limit = prompt.max_tokens if prompt.max_tokens and prompt.max_tokens > 0 else None
    if reasoning is not None:
        budget = prompt.reasoning_budget if prompt.reasoning_budget and prompt.reasoning_budget > 0 else None
        cap = min(x for x in (budget, limit) if x) if (budget or limit) else None
        plan.reasoning_pieces, _ = _cut(pieces(reasoning), cap)
        plan.reasoning = "".join(plan.reasoning_pieces)
        plan.reasoning_tokens = count_tokens(plan.reasoning)
    if text is not None:
        text, stop = _apply_stop(text, prompt.stop)
        if stop is not None:
            plan.finish, plan.stop_sequence = "stop_sequence", stop
        cap = max(0, limit - plan.reasoning_tokens) if limit is not None else None
        if cap is not None and blocks is not None and stop is None and count_tokens(text) > cap:
            text = _whole_blocks(blocks, cap)  # a long answer is cut where its Markdown stays well-formed
            plan.finish, plan.stop_sequence = "length", None
        text_pieces = pieces(text)
        if cap is not None:
            text_pieces, cut = _cut(text_pieces, cap)
            if cut:
                plan.finish, plan.stop_sequence = "length", None
        plan.text_pieces = text_pieces
        plan.text = "".join(text_pieces)
        plan.text_tokens = count_tokens(plan.text)
    return plan


def _whole_blocks(blocks: list[str], cap: int) -> str:
    """The most leading blocks whose text fits in ``cap`` tokens (the first block when none does)."""
    kept = blocks[:1]
    for block in blocks[1:]:
        if count_tokens("\n\n".join([*kept, block])) > cap:
            break
        kept.append(block)
    return "\n\n".join(kept)


def _cut(parts: list[str], cap: int | None) -> tuple[list[str], bool]:
    """Keep pieces while their token count stays within ``cap``."""
    if cap is None:
        return parts, False
    kept: list[str] = []
    used = 0
    for part in parts:
        cost = count_tokens(part)
        if used + cost > cap:
            return kept, True
        kept.append(part)
        used += cost
    return kept, False


def _apply_stop(text: str, stops: list[str]) -> tuple[str, str | None]:
    best: tuple[int, str] | None = None
    for stop in stops:
        if stop and (at := text.find(stop)) >= 0 and (best is None or at < best[0]):
            best = (at, stop)
    if best is None:
        return text, None
    return text[: best[0]], best[1]


def _end(sentence: str) -> str:
    return sentence if sentence.endswith((".", "!", "?", "…")) else sentence + "."


def _plain_text(prompt: Prompt) -> str:
    return " ".join(_notes(prompt, restate=True))


def _notes(prompt: Prompt, *, restate: bool) -> list[str]:
    """The sentences of a short reply; a long one (``restate=False``) opens with them too, but
    without the ``You said:`` restatement, which its own opening replaces."""
    parts: list[str] = []
    if prompt.continuing_from:
        parts.append(f"Continuing from {prompt.continuing_from}.")
    results = prompt.trailing_tool_results()
    question = prompt.last_user_text()
    if results:
        for result in results:
            name = result.name or "function"
            parts.append(_end(f"The tool {name} returned: {gist(result.content, 200)}"))
        if question and restate:
            parts.append(_end(f"You asked: {gist(question)}"))
    elif question:
        if restate:
            parts.append(_end(f"You said: {gist(question)}"))
        recalled = recall(prompt)
        if recalled:
            parts.append(recalled)
    elif prompt.media():
        parts.append("You sent no text.")
    else:
        parts.append("You sent an empty message.")
    media = prompt.media()
    counters: dict[str, int] = {}
    for info in media:
        counters[info.kind] = counters.get(info.kind, 0) + 1
        parts.append(info.sentence(counters[info.kind]))
    system = prompt.system_text()
    if system:
        parts.append(_end(f"Instructions noted: {gist(system, 80)}"))
    return parts


_PART_THOUGHTS = {
    "an introduction": "The opening restates the request, so the reader knows what follows.",
    "an overview": "An overview paragraph comes first, under its own heading.",
    "a few sections of prose": "Each section takes one aspect of the topic, under a short heading.",
    "the story": "The story needs two characters, a problem and a turn.",
    "its moral": "A fable ends with its moral, in bold.",
    "a numbered list": "The list gets one numbered line per item, each with a bold label.",
    "a table": "The table needs a header row and a separator row, or it will not render.",
    "the code": "The code must be a complete file, in a fenced block tagged with its language.",
    "how it works": "After the code, a few numbered notes explain it.",
    "how to run it": "A one-line command shows how to run it.",
    "a derivation with equations": "Each equation goes in its own display block; symbols in text go inline.",
    "a conclusion": "A short conclusion closes it.",
}


def _effort_of_budget(budget: int | None) -> str:
    """The effort a thinking budget stands for, where a protocol sends a budget and no effort
    (Anthropic, Gemini): up to 2047 tokens low, up to 8191 medium, high above; medium without one."""
    if not budget or budget < 0:
        return "medium"
    return "low" if budget < 2048 else "medium" if budget < 8192 else "high"


def _long_reasoning(prompt: Prompt, form: LongForm, seed: str) -> str:
    """The plan of a long answer: what was asked, its parts, then (at higher effort) each part."""
    parts = outline(form)
    sentences = [
        f"The user asks for {describe(form, seed)}.",
        f"I will write {', '.join(parts[:-1])} and {parts[-1]}." if len(parts) > 1 else f"I will write {parts[0]}.",
        *(_PART_THOUGHTS[part] for part in parts),
        "Let me check the Markdown once more: every fence, table and display block closed.",
    ]
    effort = (prompt.effort or _effort_of_budget(prompt.reasoning_budget)).lower()
    count = {"none": 1, "minimal": 1, "low": 1, "medium": 2, "high": len(sentences) - 1}.get(effort, len(sentences))
    return " ".join(sentences[:count])


def _reasoning_text(prompt: Prompt, form: LongForm | None = None, seed: str = "") -> str:
    question = prompt.last_user_text()
    results = prompt.trailing_tool_results()
    if form is not None and not results:
        return _long_reasoning(prompt, form, seed)
    sentences = []
    if results:
        names = ", ".join(sorted({r.name or "function" for r in results}))
        sentences.append(f"The conversation holds a result from {names}, so I answer with it.")
    elif question:
        sentences.append(_end(f"The user wrote: {gist(question, 80)}"))
    else:
        sentences.append("The user sent no text.")
    media = prompt.media()
    extra = [
        _media_count(len(media)),
        "I will restate the request and describe what I received.",
        "Let me check the details once more before answering.",
    ]
    if prompt.tools and not results and prompt.tool_choice != "none":
        names = [t.name for t in fitting_tools(prompt)]
        if len(names) == 1:
            extra[1] = f"A tool is offered, so I will call {names[0]}."
        else:
            extra[1] = f"Several tools fit, so I will call {', '.join(names[:-1])} and {names[-1]} at once."
    count = _EFFORT_SENTENCES.get((prompt.effort or "medium").lower(), 2)
    return " ".join(sentences + extra[: count - 1] if count > 1 else sentences)


def _media_count(count: int) -> str:
    if count == 1:
        return "There is 1 media part to describe."
    return f"There are {count or 'no'} media parts to describe."


def _json_text(prompt: Prompt, seed: str) -> str:
    hints = Hints.from_text(prompt.last_user_text(), seed)
    if prompt.json_schema is not None:
        value = value_for_schema(prompt.json_schema, hints)
    else:
        counters: dict[str, int] = {}
        described = []
        for info in prompt.media():
            counters[info.kind] = counters.get(info.kind, 0) + 1
            described.append(info.sentence(counters[info.kind]))
        value = {"answer": _plain_text(prompt), "media": described}
    return json.dumps(value, ensure_ascii=False)


def token_logprobs(piece: str, seed: str, position: int, top: int) -> dict[str, Any]:
    """A deterministic OpenAI-style logprob entry for one output piece with ``top`` alternatives.

    Example:
        >>> entry = token_logprobs(" hi", "s", 0, 2)
        >>> entry["token"], len(entry["top_logprobs"])
        (' hi', 2)
        >>> entry["top_logprobs"][0]["logprob"] == entry["logprob"]
        True
    """
    h = hashlib.sha256(f"{seed}:{position}:{piece}".encode()).digest()
    logprob = -round(h[0] / 255 * 0.5 + 0.001, 6)
    entry: dict[str, Any] = {"token": piece, "logprob": logprob, "bytes": list(piece.encode("utf-8"))}
    alternatives = [piece, piece.upper(), piece.lower() + "s", piece.strip() or "_", " the", ".", ","]
    seen: list[str] = []
    for alt in alternatives:
        if alt not in seen:
            seen.append(alt)
    while len(seen) < top:
        seen.append(f"{piece.strip() or '_'}{len(seen)}")
    tops = []
    for rank, alt in enumerate(seen[:top]):
        value = logprob if rank == 0 else round(logprob - (rank * 1.5) - h[rank % 32] / 255, 6)
        tops.append({"token": alt, "logprob": value, "bytes": list(alt.encode("utf-8"))})
    entry["top_logprobs"] = tops
    if top == 0:
        entry["top_logprobs"] = []
    return entry


def text_logprobs(plan: Plan, top: int) -> list[dict[str, Any]]:
    """OpenAI-style logprob entries (see :func:`token_logprobs`) for every piece of ``plan.text``.

    Every protocol renders these same values, so one prompt gets the same logprobs everywhere.

    Example:
        >>> plan = Plan(text="Hi there", text_pieces=["Hi", " there"], seed="s")
        >>> [e["token"] for e in text_logprobs(plan, 1)]
        ['Hi', ' there']
    """
    return [token_logprobs(piece, plan.seed, i, top) for i, piece in enumerate(plan.text_pieces)]


def reasoning_signature(text: str) -> str:
    """A deterministic stand-in for Anthropic's thinking-block signature (base64-like).

    Example:
        >>> reasoning_signature("x") == reasoning_signature("x")
        True
    """
    import base64

    raw = hashlib.sha256(("signature:" + text).encode()).digest() * 2
    return base64.b64encode(raw).decode()
