"""Session against the emulator: conversations, the ledger, interrupts, errors, several endpoints."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import CANARY, ENDPOINTS

from cloudsway_nb import Client, ConfigError, Message, ServerError, TextDelta, UsageError
from cloudsway_nb.config import EMULATOR_ENDPOINTS
from cloudsway_nb.session import Session


@pytest.fixture(scope="module")
def base_url(canary_emulator_url: str) -> str:
    return canary_emulator_url


@pytest.fixture
def session(base_url: str) -> Iterator[Session]:
    s = Session(Client(base_url, CANARY, dict(ENDPOINTS), sleep=lambda _: None), default_endpoint="gpt")
    yield s
    s.close()


def test_ask_records_ok_call_and_fresh_turn_by_default(session: Session) -> None:
    events: list[object] = []
    reply = session.ask(None, "Hello", on_event=events.append)
    assert reply.text == "You said: Hello." and reply.endpoint == "gpt"
    assert any(isinstance(e, TextDelta) for e in events)
    entry = session.ledger[-1]
    assert (entry.endpoint, entry.protocol, entry.model, entry.status) == ("gpt", "chat", "gpt-4o", "ok")
    assert entry.input and entry.output and entry.total == entry.input + entry.output
    assert entry.ttft is not None and entry.latency is not None and entry.finish_reason == "stop"
    session.ask("gpt", "Again")  # a fresh turn: no hidden history piles up
    assert len(session.history("gpt")) == 2


def test_continue_and_named_chats(session: Session) -> None:
    session.ask("gpt", "One", system="Be brief.")
    session.ask("gpt", "Two", continue_=True)
    history = session.history("gpt")
    assert [m.role for m in history] == ["system", "user", "assistant", "user", "assistant"]
    session.ask("claude", "A", chat="notes")
    session.ask("gpt", "B", chat="notes")  # a named chat may change endpoint
    assert [m.text() for m in session.history("notes") if m.role == "user"] == ["A", "B"]
    assert session.ledger[-1].chat == "notes"
    session.reset()
    assert session.history("gpt") == [] and session.history("notes") == []


def test_failed_turn_leaves_conversation_and_is_recorded(base_url: str) -> None:
    good = Session(Client(base_url, CANARY, dict(ENDPOINTS)), default_endpoint="gpt")
    try:
        good.ask("gpt", "First")
        before = list(good.history("gpt"))
        failing = Client(base_url, CANARY, dict(ENDPOINTS), headers={"x-emulator-fault": "500"}, max_retries=0)
        good.use_client(failing)
        with pytest.raises(ServerError) as info:
            good.ask("gpt", "Second", continue_=True)
    finally:
        good.close()
    assert good.history("gpt") == before
    entry = good.ledger[-1]
    assert entry.status == "error" and "500" in entry.error and "\n" not in entry.error
    assert entry.request_id and entry.request_id == info.value.request_id
    assert CANARY not in repr(good.ledger)


def test_interrupt_keeps_partial_marks_incomplete_and_records(session: Session) -> None:
    seen: list[str] = []

    def stop_after_three(event: object) -> None:
        if isinstance(event, TextDelta):
            seen.append(event.text)
            if len(seen) == 3:
                raise KeyboardInterrupt

    reply = session.ask("gpt", "Tell me a long story about rivers and mountains", on_event=stop_after_three)
    assert reply.incomplete and reply.text == "".join(seen)
    assert session.ledger[-1].status == "interrupted"
    assert session.history("gpt") == []  # the interrupted turn did not join the conversation


def test_cancel_event_stops_streams(session: Session) -> None:
    cancel = threading.Event()
    cancel.set()
    reply = session.ask("claude", "Hello there", cancel=cancel)
    assert reply.incomplete and session.ledger[-1].status == "interrupted"


def test_ask_many_runs_concurrently_and_records_each(session: Session) -> None:
    results = session.ask_many(["gpt", "claude", "gemini", "o3"], "Hi", reasoning="low")
    assert set(results) == {"gpt", "claude", "gemini", "o3"}
    assert all(r.text == "You said: Hi." for r in results.values())
    assert sorted(e.endpoint for e in session.ledger) == ["claude", "gemini", "gpt", "o3"]
    totals = session.usage_totals()
    assert totals["gpt"].total == results["gpt"].usage.total


def test_ask_many_collects_errors_per_endpoint(session: Session) -> None:
    session.client.add_endpoint("bad", path="MaaS-bad", protocol="chat")
    results = session.ask_many(["gpt", "bad"], "Hi", max_tokens=-1)
    assert all(isinstance(r, BaseException) for r in results.values())


def test_user_errors(session: Session, base_url: str) -> None:
    with pytest.raises(ConfigError, match=r"unknown endpoint 'nope'.*%cloudsway add"):
        session.ask("nope", "hi")
    with pytest.raises(UsageError, match="embeddings"):
        session.ask("e5", "hi")
    keyless = Session(Client(base_url, None, dict(ENDPOINTS)), default_endpoint="gpt")
    nameless = Session(Client(base_url, CANARY, {}))
    try:
        keyless.client.set_api_key(None)
        with pytest.raises(ConfigError, match="no API key"):
            keyless.ask("gpt", "hi")
        with pytest.raises(ConfigError, match="no default endpoint"):
            nameless.ask(None, "hi")
        assert not keyless.ledger
    finally:
        keyless.close()
        nameless.close()


def test_protocol_override_and_background(session: Session) -> None:
    reply = session.ask("o3", "Hello", background=True)
    assert reply.status == "completed" and reply.text == "You said: Hello."
    session.client.add_endpoint("any", path="MaaS-x", protocol="chat")
    assert session.ask("any", "Hello", protocol="messages").protocol == "messages"
    assert session.ledger[-1].protocol == "messages"


def test_embed_is_recorded(session: Session) -> None:
    result = session.embed("e5", ["a cat", "a dog"])
    assert len(result) == 2 and session.ledger[-1].endpoint == "e5" and session.ledger[-1].input


def test_login_config_and_repr_never_show_the_key(base_url: str) -> None:
    s = Session(Client(base_url, None, dict(ENDPOINTS)))
    try:
        s.client.set_api_key(None)
        assert s.config()["api_key"] == "(not set)"
        s.login(CANARY)
        assert s.ask("gpt", "hi").text == "You said: hi."
        shown = repr(s) + repr(s.config()) + repr(s.ledger) + repr(s.client)
        assert CANARY not in shown and CANARY[-8:] not in shown
        with pytest.raises(UsageError):
            s.login("  ")
    finally:
        s.close()


def test_use_emulator_and_stop_restore_the_client() -> None:
    s = Session(Client("http://127.0.0.1:9", "k", {}))
    try:
        before = s.client
        url = s.use_emulator()
        assert url.startswith("http://127.0.0.1:") and s.default_endpoint == "gpt"
        assert set(s.endpoints) == set(EMULATOR_ENDPOINTS)
        assert {EMULATOR_ENDPOINTS[a][1] for a in s.endpoints} == {"chat", "responses", "messages", "gemini",
                                                                   "embeddings"}
        assert s.use_emulator() == url  # idempotent
        assert s.ask("deepseek", "Hi", reasoning="low").reasoning
        s.stop_emulator()
        assert s.client is before and s.default_endpoint is None and s.emulator_url is None
    finally:
        s.close()


def test_session_import_is_light() -> None:
    code = (
        "import sys, cloudsway_nb.session\n"
        "print(','.join(m for m in ['pandas', 'IPython', 'uvicorn', 'httpx', 'PIL'] if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == ""


def test_interrupt_of_a_non_streamed_call_is_recorded_and_reraised(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(session.client, "chat", interrupted)
    with pytest.raises(KeyboardInterrupt):
        session.ask("gpt", "Hi", stream=False)
    assert session.ledger[-1].status == "interrupted" and session.history("gpt") == []


def test_attachments_go_through_media_attach(session: Session, tmp_path: Path) -> None:
    from cloudsway_nb.media import samples
    from cloudsway_nb.types import Attachment

    png = tmp_path / "x.png"
    png.write_bytes(samples.image_bytes())
    for item in (str(png), png):
        reply = session.ask("gpt", "Describe", attachments=[item])
        assert reply.text == "You said: Describe. Image 1: PNG, 64x48 pixels.", item
        content = session.history("gpt")[0].content
        assert content[0] == "Describe" and isinstance(content[1], Attachment)
    results = session.ask_many(["gpt", "claude"], "Describe", attachments=[png])
    assert {alias: r.text for alias, r in results.items()} == dict.fromkeys(
        ["gpt", "claude"], "You said: Describe. Image 1: PNG, 64x48 pixels."
    )
    with pytest.raises(UsageError, match="no such file"):
        session.ask_many(["gpt", "claude"], "Describe", attachments=[str(png) + ".missing"])


def test_a_bad_parameter_is_a_usage_error_and_sends_nothing(session: Session) -> None:
    for stream in (True, False):
        with pytest.raises(UsageError, match=r"tools=3 \(int\) is not valid") as info:
            session.ask("gpt", "Hi", tools=3, stream=stream)
        assert "\n" not in str(info.value)
    assert len(session.ledger) == 0


def test_a_type_error_after_sending_is_not_hidden(session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise TypeError("a genuine bug while parsing")

    monkeypatch.setattr(session.client, "chat", broken)
    with pytest.raises(TypeError, match="a genuine bug"):
        session.ask("gpt", "Hi", stream=False)


# -- the Session API the views use ------------------------------------------------------------------


def get_weather(city: str) -> str:
    """Current weather in a city."""
    return "sunny"


@pytest.mark.parametrize("alias", ["gpt", "o3", "claude", "gemini"])
def test_ask_takes_tool_results_as_the_next_turn(session: Session, alias: str) -> None:
    first = session.ask(alias, "What is the weather in Paris? Use the tool.", tools=[get_weather], chat="t",
                        stream=alias != "gemini")
    assert first.tool_calls, first.text
    call = first.tool_calls[0]
    results = [Message.tool_result(c, {"forecast": "sunny", "city": "Paris"}) for c in first.tool_calls]
    second = session.ask(alias, results, tools=[get_weather], chat="t")
    assert second.text and not second.tool_calls
    history = session.history("t")
    assert [m.role for m in history] == ["user", "assistant", *["tool"] * len(results), "assistant"]
    assert history[1].tool_calls[0].id == call.id and history[2].tool_call_id == call.id
    assert [e.chat for e in session.ledger[-2:]] == ["t", "t"]


def test_ask_takes_a_whole_exchange_and_attachments_join_its_last_user_turn(session: Session, tmp_path: Path) -> None:
    from PIL import Image

    png = tmp_path / "dot.png"
    Image.new("RGB", (8, 6), "blue").save(png)
    turns = [Message.user("My name is Ada."), Message.assistant("Hello Ada."), "Describe this."]
    reply = session.ask("claude", turns, attachments=str(png), chat="ex")
    assert "Image 1: PNG, 8x6 pixels" in reply.text
    history = session.history("ex")
    assert [m.role for m in history] == ["user", "assistant", "user", "assistant"]
    assert isinstance(history[2].content, list) and len(history[2].content) == 2  # text + the one image


def test_a_cancel_set_before_the_first_event_stops_at_once(session: Session) -> None:
    cancel = threading.Event()
    cancel.set()
    reply = session.ask("gpt", "Tell me a long story", cancel=cancel)
    assert reply.incomplete and session.ledger[-1].status == "interrupted"


def test_endpoint_management_through_the_session(base_url: str, tmp_path: Path) -> None:
    registry = tmp_path / "endpoints.toml"
    s = Session(Client(base_url, CANARY, {}, config_file=registry))
    try:
        assert s.has_key and s.endpoints == {}
        added = s.add_endpoint("mine", path="MaaS-gpt", protocol="chat", model="gpt-4o", save=True)
        assert s.endpoints == {"mine": added} and s.registry_file == registry
        assert "mine" in registry.read_text() and CANARY not in registry.read_text()
        s.use("mine")
        assert s.ask(None, "Hi", stream=False).text == "You said: Hi."
        s.endpoints["other"] = added  # a copy: the registry is changed through the Session only
        assert "other" not in s.endpoints
        assert s.remove_endpoint("mine") == added and s.default_endpoint is None
        with pytest.raises(ConfigError, match="unknown endpoint 'mine'"):
            s.remove_endpoint("mine")
        s.use_emulator()
        with pytest.raises(UsageError, match="refused while the emulator runs"):
            s.add_endpoint("x", path="p", protocol="chat", save=True)
        assert "x" not in s.endpoints  # refused before anything changed
    finally:
        s.close()


def test_use_client_keeps_conversations_and_the_ledger(base_url: str) -> None:
    s = Session(Client(base_url, CANARY, dict(ENDPOINTS)), default_endpoint="gpt")
    try:
        s.ask("gpt", "One", chat="c")
        s.use_client(Client(base_url, CANARY, dict(ENDPOINTS)))
        s.ask("gpt", "Two", chat="c")
        assert [m.text() for m in s.history("c") if m.role == "user"] == ["One", "Two"] and len(s.ledger) == 2
    finally:
        s.close()


def test_the_default_endpoint_has_one_source_of_truth(session: Session) -> None:
    seen: list[str | None] = []
    session.on_default_endpoint(seen.append)
    session.use("claude")
    session.default_endpoint = "claude"  # unchanged: no second notice
    session.default_endpoint = None
    assert seen == ["claude", None]
    with pytest.raises(ConfigError, match="endpoint alias"):
        session.default_endpoint = "a,b"


def test_a_stopped_answer_can_stay_in_the_conversation_as_the_model_will_see_it(session: Session) -> None:
    seen: list[str] = []
    cancel = threading.Event()

    def stop_after_two(event: object) -> None:
        if isinstance(event, TextDelta):
            seen.append(event.text)
            if len(seen) == 2:
                cancel.set()

    reply = session.ask("gpt", "Tell me a long story about the sea", chat="p", keep_partial=True,
                        on_event=stop_after_two, cancel=cancel)
    conv = session.conversation(chat="p")
    assert reply.incomplete and conv is not None and session.ledger[-1].status == "interrupted"
    assert conv.messages[-1].text() == reply.text and reply.text.startswith("".join(seen))
    assert conv.replies[-1] is reply
    session.ask("gpt", "Go on", chat="p")
    sent = [m.text() for m in session.history("p")]
    assert sent[:3] == ["Tell me a long story about the sea", reply.text, "Go on"]


def test_history_and_commit_let_a_view_compare_and_pick_an_answer(session: Session) -> None:
    first = session.ask("gpt", "Name a prime", chat="cmp")
    conv = session.conversation(chat="cmp")
    assert conv is not None and len(conv) == 2
    other = session.ask("claude", conv.messages[0], chat="cmp", history=[], commit=False)
    assert len(conv) == 2 and conv.replies[1] is first  # not committed
    assert session.ledger[-1].chat == "cmp" and session.ledger[-1].endpoint == "claude"
    conv.replace(1, other)
    assert conv.replies[1] is other and session.history("cmp")[1].text() == other.text
    conv.truncate(1)
    assert [m.role for m in session.history("cmp")] == ["user"] and conv.replies == [None]


def test_stop_cuts_a_silent_stream_at_once(base_url: str) -> None:
    """A model thinking for seconds sends nothing: Stop must not wait for its next event."""
    import time

    from cloudsway_nb.emulator.testing import running_emulator

    with running_emulator(first_token_delay=5.0) as url:
        s = Session(Client(url, "sk-x", dict(ENDPOINTS)), default_endpoint="gpt")
        try:
            cancel = threading.Event()
            threading.Timer(0.2, cancel.set).start()
            started = time.monotonic()
            reply = s.ask("gpt", "Hi", cancel=cancel, keep_partial=True, chat="c")
            assert time.monotonic() - started < 2.0  # not the 5 s the server would take
            assert reply.incomplete and reply.text == "" and s.ledger[-1].status == "interrupted"
        finally:
            s.close()


def test_priced_endpoints_show_cost_in_the_reply_footer_ledger_and_totals(base_url: str, tmp_path: Path) -> None:
    from cloudsway_nb.config import Endpoint, load_endpoints, save_endpoints
    from cloudsway_nb.display import usage_line
    from cloudsway_nb.frames import ledger_frame, usage_totals_frame

    registry = save_endpoints({"gpt": Endpoint("MaaS-gpt", "chat", "gpt-4o", prices={"input": 2.5, "output": 10}),
                               "claude": Endpoint("MaaS-claude", "messages", "claude-sonnet")}, tmp_path / "e.toml")
    endpoints = load_endpoints(registry)
    assert endpoints["gpt"].prices is not None and endpoints["gpt"].prices.output == 10  # kept in the registry
    s = Session(Client(base_url, CANARY, endpoints), default_endpoint="gpt")
    try:
        priced = s.ask("gpt", "Hello")
        unpriced = s.ask("claude", "Hello")
        u = priced.usage
        assert priced.cost == pytest.approx((u.input * 2.5 + u.output * 10) / 1e6) and unpriced.cost is None
        assert usage_line(priced).endswith(f"${priced.cost:.4f}") and "$" not in usage_line(unpriced)
        frame = ledger_frame(s.ledger)
        assert frame["cost"].tolist()[0] == pytest.approx(priced.cost) and frame["cost"].isna().tolist()[1]
        totals = usage_totals_frame(s.ledger).set_index("endpoint")
        assert totals.loc["gpt", "cost"] == pytest.approx(priced.cost)
    finally:
        s.close()
    unpriced_only = ledger_frame([e for e in s.ledger if e.endpoint == "claude"])
    assert "cost" not in unpriced_only.columns  # without prices nothing pretends
    with pytest.raises(ConfigError, match="prices"):
        Endpoint("p", "chat", prices={"input": "cheap", "output": 1})


def test_a_background_call_records_its_wall_time_and_poll_count(session: Session) -> None:
    from cloudsway_nb.display import usage_line

    reply = session.ask("o3", "Think about it", background=True, poll_interval=0.05)
    entry = session.ledger[-1]
    assert reply.status == "completed" and reply.polls and reply.polls >= 1
    assert entry.polls == reply.polls and entry.latency == reply.latency and reply.latency > 0.01  # not one poll's
    assert f"{reply.polls} poll" in usage_line(reply)
