"""pandas DataFrames of replies, the session ledger, conversations, usage, logprobs and endpoints.

pandas is imported inside each function, so importing this module costs nothing.

Example:
    >>> from cloudsway_nb.types import Choice, Reply, Usage
    >>> reply = Reply(choices=[Choice(text="hi", reasoning="greet")], usage=Usage(input=2, output=5, reasoning=3))
    >>> reply_frame(reply)[["part", "content", "tokens"]].values.tolist()
    [['reasoning', 'greet', 3], ['text', 'hi', 2]]
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from .ledger import LEDGER_COLUMNS

if TYPE_CHECKING:
    import pandas as pd

    from .config import Endpoint
    from .ledger import LedgerEntry
    from .types import Message, Reply

__all__ = [
    "endpoints_frame",
    "history_frame",
    "ledger_frame",
    "logprobs_frame",
    "reply_frame",
    "usage_totals_frame",
]



def _pd() -> Any:
    import pandas

    return pandas


def reply_frame(reply: Reply) -> pd.DataFrame:
    """One row per output part of every choice: reasoning, text, tool calls, with tokens where known.

    Columns: choice, part, content, name, call_id, tokens. Token counts are filled only when the
    usage tells them apart (reasoning tokens; text tokens = output - reasoning for a single
    choice without tool calls).

    Example:
        reply_frame(session.ask("gpt", "hi", reasoning="low"))
    """
    rows: list[dict[str, Any]] = []
    usage = reply.usage
    single = len(reply.choices) == 1
    for choice in reply.choices:
        if choice.reasoning:
            rows.append(_part(choice.index, "reasoning", choice.reasoning, tokens=usage.reasoning if single else None))
        if choice.text or not (choice.reasoning or choice.tool_calls):
            tokens = None
            if single and not choice.tool_calls and usage.output is not None:
                tokens = usage.output - (usage.reasoning or 0)
            rows.append(_part(choice.index, "text", choice.text, tokens=tokens))
        for call in choice.tool_calls:
            rows.append(_part(choice.index, "tool_call", call.arguments_json, name=call.name, call_id=call.id))
    columns = ["choice", "part", "content", "name", "call_id", "tokens"]
    frame = _pd().DataFrame(rows, columns=columns)
    frame["tokens"] = frame["tokens"].astype("Int64")
    return frame


def _part(index: int, part: str, content: str, *, tokens: int | None = None, name: str | None = None,
          call_id: str | None = None) -> dict[str, Any]:
    return {"choice": index, "part": part, "content": content, "name": name, "call_id": call_id, "tokens": tokens}


_INT_COLUMNS = ("input", "output", "reasoning", "cached", "total")
_TEXT_COLUMNS = ("endpoint", "protocol", "model", "status", "finish_reason", "error", "request_id", "chat",
                 "response_id", "tool")
_OPTIONAL_COLUMNS = ("estimated", "cost", "polls", "tool")  # shown only when some call has them


def ledger_frame(entries: Iterable[LedgerEntry]) -> pd.DataFrame:
    """The session ledger: one row per call (failed and interrupted calls included).

    Made to be read: `time` is local time to the second, `latency` and `ttft` are seconds rounded
    to the millisecond, and whatever a call did not have (a count the protocol does not report, the
    error of a call that succeeded) is blank (`<NA>`), never 0, None or NaN. `estimated` (token
    counts estimated because the server sent none), `cost` and `polls` appear when some call has them.

    Example:
        >>> from cloudsway_nb.ledger import LedgerEntry
        >>> frame = ledger_frame([LedgerEntry("claude", "messages", input=3, output=4, latency=0.123456)])
        >>> [str(frame.loc[0, c]) for c in ("input", "reasoning", "latency", "error")]
        ['3', '<NA>', '0.123', '<NA>']
    """
    pd = _pd()
    frame = pd.DataFrame([e.to_dict() for e in entries], columns=LEDGER_COLUMNS)
    times = pd.to_datetime(frame["time"], utc=True)
    frame["time"] = times.dt.tz_convert(_local_zone()).dt.tz_localize(None).dt.floor("s")
    for column in _INT_COLUMNS:
        frame[column] = frame[column].astype("Int64")
    for column in ("latency", "ttft", "cost"):
        frame[column] = frame[column].astype("Float64")
    frame["latency"] = frame["latency"].round(3)
    frame["ttft"] = frame["ttft"].round(3)
    frame["polls"] = frame["polls"].astype("Int64")
    frame["estimated"] = frame["estimated"].fillna(False).astype(bool)
    for column in _TEXT_COLUMNS:
        frame[column] = frame[column].astype("string")
    unused = [c for c in _OPTIONAL_COLUMNS if (not frame[c].any() if c == "estimated" else frame[c].isna().all())]
    return frame.drop(columns=unused)


def _local_zone() -> Any:
    """This machine's time zone, for showing the ledger's times as the user's clock shows them."""
    from datetime import datetime

    return datetime.now().astimezone().tzinfo


def usage_totals_frame(entries: Iterable[LedgerEntry]) -> pd.DataFrame:
    """Usage summed by endpoint: calls, errors, interrupted calls, tokens, mean latency and time to
    first token; `estimated` (how many calls' counts are estimates) and `cost` when some call has them.
    Model calls only: the agent loop's tool calls (rows with `tool` set) are in the ledger, not here.

    Example:
        >>> from cloudsway_nb.ledger import LedgerEntry
        >>> totals = usage_totals_frame([LedgerEntry("gpt", "chat", input=3, output=4),
        ...                              LedgerEntry("gpt", "chat", status="interrupted", input=3, output=9,
        ...                                          estimated=True)])
        >>> totals[["calls", "errors", "interrupted", "total", "estimated"]].values.tolist()
        [[2, 0, 1, 19, 1]]
    """
    frame = ledger_frame(e for e in entries if e.tool is None)
    optional = [c for c in ("estimated", "cost") if c in frame.columns]
    columns = ["endpoint", "calls", "errors", "interrupted", *_INT_COLUMNS, "mean_latency", "mean_ttft", *optional]
    if frame.empty:
        return _pd().DataFrame(columns=columns)
    frame["errors"] = frame["status"].eq("error").astype(int)
    frame["interrupted"] = frame["status"].eq("interrupted").astype(int)
    grouped = frame.groupby("endpoint", sort=True)
    out = grouped.agg(
        calls=("status", "size"),
        errors=("errors", "sum"),
        interrupted=("interrupted", "sum"),
        **{c: (c, lambda s: s.sum(min_count=1)) for c in _INT_COLUMNS},
        mean_latency=("latency", "mean"),
        mean_ttft=("ttft", "mean"),
        **({"estimated": ("estimated", "sum")} if "estimated" in optional else {}),
        **({"cost": ("cost", lambda s: s.sum(min_count=1))} if "cost" in optional else {}),
    ).reset_index()
    out["mean_latency"] = out["mean_latency"].round(3)
    out["mean_ttft"] = out["mean_ttft"].round(3)
    return out[columns]


def history_frame(messages: Iterable[Message]) -> pd.DataFrame:
    """A conversation: one row per message (turn, role, text, reasoning, tool calls, attachments).

    Made to be read: tool calls show as `name(arguments)` and attachments by kind, type and size
    (never their data), one per line; what a message does not have is blank, never "None".

    Example:
        >>> from cloudsway_nb.types import Message, ToolCall
        >>> frame = history_frame([Message.user("Weather?"), Message.assistant("", [ToolCall("c1", "weather", {})])])
        >>> frame[["role", "reasoning", "tool_calls"]].values.tolist()
        [['user', '', ''], ['assistant', '', 'weather({})']]
    """
    rows = []
    for turn, message in enumerate(messages):
        parts = [] if isinstance(message.content, str) else list(message.content)
        rows.append(
            {
                "turn": turn,
                "role": message.role,
                "text": message.text(),
                "reasoning": message.reasoning or "",
                "tool_calls": "\n".join(f"{c.name}({c.arguments_json})" for c in message.tool_calls),
                "attachments": "\n".join(repr(p) for p in parts if not isinstance(p, str)),
            }
        )
    return _pd().DataFrame(rows, columns=["turn", "role", "text", "reasoning", "tool_calls", "attachments"])


def logprobs_frame(reply: Reply) -> pd.DataFrame:
    """Token log probabilities of the first choice, with the top alternatives of each token.

    Columns: position, token, logprob, prob, top (list of (token, logprob)) and
    alternatives (the top tokens as text). Empty when the reply has no logprobs (ask with
    `logprobs=True, top_logprobs=k`).

    Example:
        logprobs_frame(session.ask("gpt", "hi", logprobs=True, top_logprobs=3))
    """
    rows = []
    for position, tok in enumerate(reply.logprobs or []):
        rows.append(
            {
                "position": position,
                "token": tok.token,
                "logprob": tok.logprob,
                "prob": math.exp(tok.logprob),
                "top": [(t.token, t.logprob) for t in tok.top],
                "alternatives": " | ".join(f"{t.token!r} {math.exp(t.logprob):.2f}" for t in tok.top),
            }
        )
    return _pd().DataFrame(rows, columns=["position", "token", "logprob", "prob", "top", "alternatives"])


def endpoints_frame(endpoints: Mapping[str, Endpoint], default: str | None = None) -> pd.DataFrame:
    """The endpoint registry: alias, path, protocol, model, defaults, and which one is the default.

    Example:
        endpoints_frame(session.endpoints, session.default_endpoint)
    """
    rows = [
        {
            "alias": alias,
            "path": ep.path,
            "protocol": ep.protocol,
            "model": ep.model,
            "defaults": json.dumps(ep.defaults, default=str) if ep.defaults else "",
            "default": alias == default,
        }
        for alias, ep in sorted(endpoints.items())
    ]
    return _pd().DataFrame(rows, columns=["alias", "path", "protocol", "model", "defaults", "default"])
