"""Usage estimated when the server sent none (issue 11, point 15): an interrupted stream is still billed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from support import CANARY, ENDPOINTS

from cloudsway_nb import Client
from cloudsway_nb.errors import APIError
from cloudsway_nb.estimate import estimate_input, estimate_output, estimate_tokens, estimated_usage
from cloudsway_nb.frames import ledger_frame
from cloudsway_nb.session import Session
from cloudsway_nb.types import Choice, Message, Reply, TextDelta, ToolCall, Usage


@pytest.fixture
def session(emulator_url: str) -> Iterator[Session]:
    s = Session(Client(emulator_url, CANARY, dict(ENDPOINTS), sleep=lambda _: None), default_endpoint="gpt")
    yield s
    s.close()


def test_the_estimator_counts_four_characters_a_token_and_keeps_what_the_server_said() -> None:
    assert [estimate_tokens(t) for t in ("", "a", "abcd", "abcde")] == [0, 1, 1, 2]
    messages = [Message.user("x" * 40), Message.assistant("", [ToolCall("c1", "f", {"a": 1})])]
    assert estimate_input(messages, "y" * 8) == (4 + 2) + (4 + 10) + (4 + 0) + 1 + 2
    reply = Reply(choices=[Choice(text="t" * 8, reasoning="r" * 4)])
    assert estimate_output(reply) == 3
    kept = estimated_usage(Usage(input=99), messages, None, reply)
    assert (kept.input, kept.output, kept.total, kept.estimated) == (99, 3, 102, True)
    whole = Usage(input=1, output=2)
    assert estimated_usage(whole, messages, None, reply) is whole and not whole.estimated
    assert (Usage(input=1, output=1) + kept).estimated  # a sum with an estimate is an estimate


def _interrupt_after(n: int) -> Any:
    seen = [0]

    def on_event(event: Any) -> None:
        if isinstance(event, TextDelta):
            seen[0] += 1
            if seen[0] == n:
                raise KeyboardInterrupt

    return on_event


@pytest.mark.parametrize("alias", ["gpt", "o3", "claude", "gemini"])
def test_an_interrupted_stream_gets_estimated_usage_in_the_reply_and_the_ledger(session: Session, alias: str) -> None:
    prompt = "Tell me a long story about the sea and the mountains, please"
    reply = session.ask(alias, prompt, on_event=_interrupt_after(3))
    assert reply.incomplete and reply.interrupted and reply.text
    u = reply.usage
    assert u.estimated and u.input and u.output and u.total == u.input + u.output
    assert u.output >= estimate_tokens(reply.text)
    entry = session.ledger[-1]
    assert (entry.status, entry.estimated, entry.input, entry.output) == ("interrupted", True, u.input, u.output)
    frame = ledger_frame(session.ledger)
    assert frame["estimated"].tolist() == [True] and not frame[["input", "output", "total"]].isna().any().any()


def test_a_whole_reply_is_not_estimated_and_the_column_stays_away(session: Session) -> None:
    reply = session.ask("gpt", "Hello")
    assert not reply.usage.estimated and not session.ledger[-1].estimated
    assert "estimated" not in ledger_frame(session.ledger).columns


def test_a_stream_cut_by_an_error_records_estimated_usage(emulator_url: str) -> None:
    headers = {"x-emulator-fault": "drop", "x-emulator-fault-after": "3"}
    s = Session(Client(emulator_url, CANARY, dict(ENDPOINTS), headers=headers, max_retries=0))
    try:
        with pytest.raises(APIError) as info:
            s.ask("gpt", "Tell me a long story about the sea and the mountains")
        assert info.value.partial is not None and info.value.partial.usage.estimated
        entry = s.ledger[-1]
        assert entry.status == "error" and entry.estimated and entry.input and entry.output is not None
    finally:
        s.close()


def test_a_non_streamed_call_interrupted_records_its_estimated_input(session: Session,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(*args: Any, **kwargs: Any) -> Reply:
        raise KeyboardInterrupt

    monkeypatch.setattr(session.client, "chat", interrupted)
    with pytest.raises(KeyboardInterrupt):
        session.ask("gpt", "x" * 40, stream=False)
    entry = session.ledger[-1]
    assert (entry.status, entry.estimated, entry.input, entry.output) == ("interrupted", True, 14, None)


def test_a_saved_transcript_keeps_the_estimate_mark() -> None:
    from cloudsway_nb.conversation import Conversation
    from cloudsway_nb.panel.transcript import conversation_from_dict, conversation_to_dict

    reply = Reply(choices=[Choice(text="partial")], usage=Usage(input=5, output=2, estimated=True), incomplete=True)
    conv = Conversation("gpt", None)
    conv.add([Message.user("Hi")], reply)
    back = conversation_from_dict(conversation_to_dict(conv)).replies[-1]
    assert back is not None and back.usage == reply.usage and back.usage.estimated
