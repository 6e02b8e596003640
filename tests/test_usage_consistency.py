"""Token counts, models and times read the same on every protocol (issue 11, point 19)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from support import CANARY, ENDPOINTS

from cloudsway_nb import Client
from cloudsway_nb.frames import history_frame, ledger_frame, usage_totals_frame
from cloudsway_nb.session import Session

CHAT = ("gpt", "o3", "claude", "gemini")


@pytest.fixture(scope="module")
def session(emulator_url: str) -> Iterator[Session]:
    s = Session(Client(emulator_url, CANARY, dict(ENDPOINTS)), default_endpoint="gpt")
    for alias in CHAT:
        for stream in (True, False):
            s.ask(alias, "Hello there", stream=stream, chat=f"{alias}-{stream}")
    s.embed("e5", ["a cat", "a dog"])
    yield s
    s.close()


def _usage(session: Session, alias: str, stream: bool) -> dict[str, int | None]:
    entry = next(e for e in session.ledger if e.endpoint == alias and e.chat == f"{alias}-{stream}")
    return entry.usage.to_dict()


@pytest.mark.parametrize("alias", CHAT)
def test_a_count_is_the_same_streamed_or_not_and_zero_means_zero(session: Session, alias: str) -> None:
    streamed, whole = _usage(session, alias, True), _usage(session, alias, False)
    assert streamed == whole
    assert whole["input"] and whole["output"] and whole["total"] == whole["input"] + whole["output"]
    assert whole["cached"] == 0  # every protocol reports its cache reads (Gemini by leaving a zero out)
    # no reasoning asked: 0 where the protocol counts it apart; blank on Anthropic's, which does not
    assert whole["reasoning"] == (None if alias == "claude" else 0)


def test_gemini_names_its_model_not_the_deployment_path(session: Session) -> None:
    entries = [e for e in session.ledger if e.endpoint == "gemini"]
    assert entries and {e.model for e in entries} == {"gemini-2.5-flash"}
    assert ENDPOINTS["gemini"].path not in {e.model for e in entries}


def test_the_ledger_reads_well_blank_is_blank(session: Session) -> None:
    frame = ledger_frame(session.ledger)
    text = frame.to_string()
    assert "None" not in text and "NaN" not in text and "nan" not in text
    assert str(frame["time"].dtype).startswith("datetime64[") and "UTC" not in text  # local time, no zone
    assert (frame["time"].dt.microsecond == 0).all()
    assert all(round(x, 3) == x for x in frame["latency"].dropna())
    e5 = frame[frame["endpoint"] == "e5"].iloc[0]
    assert e5["input"] > 0 and str(e5["output"]) == "<NA>" and str(e5["ttft"]) == "<NA>"
    claude = frame[frame["endpoint"] == "claude"].iloc[0]
    assert str(claude["reasoning"]) == "<NA>" and str(claude["error"]) == "<NA>"
    totals = usage_totals_frame(session.ledger)
    assert all(round(x, 3) == x for x in totals["mean_latency"].dropna())
    assert "None" not in totals.to_string() and "NaN" not in totals.to_string()


def test_history_shows_no_none(session: Session) -> None:
    frame = history_frame(session.history("gpt-True"))
    assert frame["role"].tolist() == ["user", "assistant"] and "None" not in frame.to_string()
