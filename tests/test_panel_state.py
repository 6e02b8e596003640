"""Message dicts, footers and totals."""

from __future__ import annotations

import pytest

from cloudsway_nb.panel.state import (
    add_to_totals,
    empty_totals,
    footer_line,
    format_cost,
    message_state,
    totals_line,
)
from cloudsway_nb.types import Choice, Reply, Usage


def test_message_state_renders_safely() -> None:
    m = message_state("assistant", "<b>x</b> $y$", reasoning="think *hard*", reasoning_tokens=7, endpoint="gpt")
    assert m["html"].startswith("<p>&lt;b&gt;x&lt;/b&gt; <span class=\"cw-math")
    assert m["reasoning_html"] == "<p>think <em>hard</em></p>\n" and m["reasoning_tokens"] == 7
    assert m["text"] == "<b>x</b> $y$" and m["status"] == "done" and len(m["id"]) == 12


def test_streamed_copy_leaves_the_source_out() -> None:
    m = message_state("assistant", "hello", with_text=False)
    assert "text" not in m and "reasoning" not in m and m["html"] == "<p>hello</p>\n"


@pytest.mark.parametrize(("field", "value"), [("role", "robot"), ("status", "thinking")])
def test_bad_role_or_status(field: str, value: str) -> None:
    kwargs = {"role": "user", "status": "done", field: value}
    with pytest.raises(ValueError, match=field):
        message_state(kwargs.pop("role"), "x", **kwargs)


def test_footer_has_every_count_latency_first_token_and_cost() -> None:
    reply = Reply(choices=[Choice(text="x")], usage=Usage(input=1200, output=80, reasoning=30, cached=1000),
                  latency=2.5, ttft=0.4, model="gpt-4o", endpoint="gpt")
    assert footer_line(reply, cost=0.0123) == (
        "gpt · gpt-4o · in 1,200 · out 80 · reasoning 30 · cached 1,000 · 2.50 s · first token 0.40 s · $0.0123"
    )
    assert footer_line(reply, endpoint="other").startswith("other · gpt-4o")
    assert footer_line(Reply(incomplete=True)).endswith("interrupted")


def test_costs() -> None:
    assert format_cost(0) == "$0.0000" and format_cost(0.00004) == "<$0.0001" and format_cost(1.5) == "$1.5000"


def test_totals_add_up_and_unknown_counts_add_nothing() -> None:
    totals = empty_totals()
    totals = add_to_totals(totals, Usage(input=10, output=5, reasoning=None, cached=None))
    totals = add_to_totals(totals, Usage(input=1, output=2, reasoning=1, cached=4), cost=0.5)
    counts = [totals[key] for key in ("replies", "input", "output", "reasoning", "cached")]
    assert counts == [2, 11, 7, 1, 4]
    assert totals["cost"] == 0.5
    assert totals["text"] == "2 replies · in 11 · out 7 · reasoning 1 · cached 4 · $0.5000"
    assert add_to_totals(empty_totals(), None)["replies"] == 1  # a reply whose usage is unknown still counts
    assert totals_line({}) == "no replies yet"


def test_an_interrupted_answer_has_one_word_for_it() -> None:
    # issue 11, point 15: the panel said "stopped" where the footer and the ledger say "interrupted"
    from cloudsway_nb.panel.state import STATUSES, message_state

    assert "interrupted" in STATUSES and "stopped" not in STATUSES
    assert message_state("assistant", "partial", status="stopped")["status"] == "interrupted"  # an older state
