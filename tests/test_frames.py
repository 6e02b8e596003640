"""DataFrames of replies, ledger, history, usage totals, logprobs and endpoints."""

from __future__ import annotations

import math
import subprocess
import sys

from cloudsway_nb import Endpoint, Message, ToolCall
from cloudsway_nb.frames import (
    endpoints_frame,
    history_frame,
    ledger_frame,
    logprobs_frame,
    reply_frame,
    usage_totals_frame,
)
from cloudsway_nb.ledger import LedgerEntry
from cloudsway_nb.types import Attachment, Choice, Reply, TokenLogprob, TopLogprob, Usage


def test_reply_frame_one_row_per_part_with_tokens() -> None:
    call = ToolCall(id="c1", name="get_weather", arguments={"city": "Oslo"})
    reply = Reply(
        choices=[Choice(text="Sunny", reasoning="think", tool_calls=[call])],
        usage=Usage(input=5, output=9, reasoning=4),
    )
    frame = reply.to_frame()
    assert frame["part"].tolist() == ["reasoning", "text", "tool_call"]
    assert frame.loc[0, "tokens"] == 4 and frame.loc[2, "name"] == "get_weather"
    assert frame.loc[2, "content"] == '{"city": "Oslo"}'
    simple = reply_frame(Reply(choices=[Choice(text="hi")], usage=Usage(input=1, output=3)))
    assert simple["tokens"].tolist() == [3]
    several = reply_frame(Reply(choices=[Choice(0, "a"), Choice(1, "b")], usage=Usage(input=1, output=3)))
    assert several["choice"].tolist() == [0, 1] and several["tokens"].isna().all()


def test_ledger_and_usage_totals_include_failed_calls() -> None:
    entries = [
        LedgerEntry("gpt", "chat", "gpt-4o", "ok", input=3, output=4, reasoning=1, cached=0, latency=0.2, ttft=0.1),
        LedgerEntry("gpt", "chat", "gpt-4o", "ok", input=2, output=2, latency=0.4, ttft=0.3),
        LedgerEntry("claude", "messages", None, "error", error="ServerError: 500 boom (request id r1)",
                    request_id="r1", latency=0.1),
    ]
    frame = ledger_frame(entries)
    assert len(frame) == 3 and frame.loc[2, "status"] == "error" and frame.loc[2, "request_id"] == "r1"
    assert frame["total"].tolist()[:2] == [7, 4]
    totals = usage_totals_frame(entries).set_index("endpoint")
    assert totals.loc["gpt", "calls"] == 2 and totals.loc["gpt", "total"] == 11
    assert totals.loc["claude", "errors"] == 1 and totals.loc["gpt", "errors"] == 0
    assert math.isclose(totals.loc["gpt", "mean_latency"], 0.3)
    assert usage_totals_frame([]).empty and ledger_frame([]).empty


def test_history_frame() -> None:
    image = Attachment(kind="image", mime_type="image/png", data=b"\x89PNG")
    messages = [Message.system("Be brief."), Message.user(["What is this?", image]), Message.assistant("A PNG.")]
    frame = history_frame(messages)
    assert frame["role"].tolist() == ["system", "user", "assistant"]
    assert frame.loc[1, "text"] == "What is this?" and "image/png" in frame.loc[1, "attachments"]
    assert "None" not in frame.to_string() and "NaN" not in frame.to_string()  # blank, never "None"
    assert "base64," not in frame.to_string() or "…" in frame.to_string()


def test_logprobs_frame_with_alternatives() -> None:
    tokens = [TokenLogprob("Hi", -0.1, (TopLogprob("Hi", -0.1), TopLogprob("Hello", -2.5)))]
    frame = logprobs_frame(Reply(choices=[Choice(text="Hi", logprobs=tokens)]))
    assert frame.loc[0, "token"] == "Hi" and math.isclose(frame.loc[0, "prob"], math.exp(-0.1))
    assert frame.loc[0, "top"] == [("Hi", -0.1), ("Hello", -2.5)] and "'Hello'" in frame.loc[0, "alternatives"]
    assert logprobs_frame(Reply(choices=[Choice(text="x")])).empty


def test_endpoints_frame_marks_the_default() -> None:
    frame = endpoints_frame({"b": Endpoint("P-b", "chat", temperature=0.2), "a": Endpoint("P-a", "gemini")}, "b")
    assert frame["alias"].tolist() == ["a", "b"] and frame["default"].tolist() == [False, True]
    assert frame.loc[1, "defaults"] == '{"temperature": 0.2}'


def test_frames_import_does_not_import_pandas() -> None:
    code = "import sys, cloudsway_nb.frames\nprint('pandas' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "False"
