"""The tool loop (cloudsway_nb.agent) against the emulator: every protocol, streamed and not, sync
and async: parallel calls, errors, timeouts, approval, max_turns, stop and resume, a running loop."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from support import CANARY, ENDPOINTS

from cloudsway_nb import Client, UsageError
from cloudsway_nb.agent import Agent, AgentRun
from cloudsway_nb.approval import Decision, revoke_all
from cloudsway_nb.session import Session
from cloudsway_nb.tools import tool

ALIASES = ["gpt", "o3", "claude", "gemini"]


@pytest.fixture
def session(canary_emulator_url: str) -> Iterator[Session]:
    s = Session(Client(canary_emulator_url, CANARY, dict(ENDPOINTS), sleep=lambda _: None), default_endpoint="gpt")
    yield s
    revoke_all(s)
    s.close()


@pytest.fixture(params=["sync", "async"])
def mode(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(params=[True, False], ids=["stream", "whole"])
def stream(request: pytest.FixtureRequest) -> bool:
    return request.param


def go(agent: Agent, prompt: Any, mode: str, *, resume: bool = False, **limits: Any) -> AgentRun:
    if mode == "sync":
        return agent.resume(**limits) if resume else agent.run(prompt)
    return asyncio.run(agent.aresume(**limits) if resume else agent.arun(prompt))


def as_mode(fn: Any, mode: str) -> Any:
    """`fn` as it is (sync mode), or as an async function doing the same (async mode)."""
    if mode == "sync":
        return fn

    async def wrapper(**kwargs: Any) -> Any:
        await asyncio.sleep(0)
        return fn(**kwargs)

    wrapper.__name__, wrapper.__doc__ = fn.__name__, fn.__doc__
    wrapper.__signature__ = __import__("inspect").signature(fn)  # type: ignore[attr-defined]
    return wrapper


def weather_tools(mode: str) -> tuple[Any, Any]:
    """get_weather and get_time, which each wait for the other: they finish only when run at once."""
    if mode == "sync":
        both = threading.Barrier(2, timeout=5)

        def get_weather(city: str) -> str:
            """The weather in a city.

            Args:
                city: Its name.
            """
            both.wait()
            return f"sunny in {city}"

        def get_time(city: str) -> str:
            """The time in a city.

            Args:
                city: Its name.
            """
            both.wait()
            return f"noon in {city}"

        return get_weather, get_time
    arrived: list[asyncio.Event] = []

    async def meet(name: str) -> None:
        if arrived:  # the second one: the first is waiting on the same loop
            arrived[0].set()
            return
        arrived.append(asyncio.Event())
        await asyncio.wait_for(arrived[0].wait(), 5)  # a TimeoutError unless the other runs alongside

    async def get_weather(city: str) -> str:  # type: ignore[no-redef]
        """The weather in a city.

        Args:
            city: Its name.
        """
        await meet("weather")
        return f"sunny in {city}"

    async def get_time(city: str) -> str:  # type: ignore[no-redef]
        """The time in a city.

        Args:
            city: Its name.
        """
        await meet("time")
        return f"noon in {city}"

    return get_weather, get_time


@pytest.mark.parametrize("alias", ALIASES)
def test_two_tools_run_in_parallel_and_the_answer_uses_both(session: Session, alias: str, stream: bool,
                                                            mode: str) -> None:
    events: list[Any] = []
    agent = Agent(session, alias, list(weather_tools(mode)), chat="w", stream=stream,
                  on_event=events.append if stream else None)
    run = go(agent, "What is the weather and the time in Oslo?", mode)
    assert run.stopped is None, run.message
    assert [(t.name, t.arguments, t.status) for t in run.tool_runs] == [
        ("get_weather", {"city": "Oslo"}, "ok"), ("get_time", {"city": "Oslo"}, "ok")]
    assert "sunny in Oslo" in run.text and "noon in Oslo" in run.text
    assert len(run.replies) == 2 and bool(events) == stream
    history = session.history("w")
    assert [m.role for m in history] == ["user", "assistant", "tool", "tool", "assistant"]
    assert [m.role for m in run.messages] == [m.role for m in history]
    ledger = list(session.ledger)
    assert [(e.tool, e.status, e.chat) for e in ledger] == [
        (None, "ok", "w"), ("get_weather", "ok", "w"), ("get_time", "ok", "w"), (None, "ok", "w")]


@pytest.mark.parametrize("alias", ALIASES)
def test_a_failing_and_a_slow_tool_become_error_text_and_the_loop_goes_on(session: Session, alias: str,
                                                                         stream: bool, mode: str) -> None:
    release = threading.Event()

    def get_weather(city: str) -> str:
        """The weather.

        Args:
            city: A city.
        """
        raise ValueError(f"no station in {city}")

    if mode == "sync":
        def get_time(city: str) -> str:
            """The time.

            Args:
                city: A city.
            """
            release.wait(5)
            return "late"
    else:
        async def get_time(city: str) -> str:  # type: ignore[misc]
            """The time.

            Args:
                city: A city.
            """
            await asyncio.sleep(5)
            return "late"

    tools = [as_mode(get_weather, mode), tool(get_time, timeout=0.05)]
    try:
        run = go(Agent(session, alias, tools, stream=stream), "What is the weather and the time in Oslo?", mode)
    finally:
        release.set()
    weather, time_ = run.tool_runs
    assert (weather.status, weather.error) == ("error", "ValueError: no station in Oslo")
    assert (time_.status, time_.error) == ("timeout", "the tool get_time did not finish within 0.05 s")
    assert run.stopped is None and "Error: ValueError: no station in Oslo" in run.text
    assert "did not finish within 0.05 s" in run.text
    assert [e.status for e in session.ledger if e.tool] == ["error", "timeout"]


def _drop_table(mode: str) -> Any:
    ran: list[str] = []

    def drop_table(table: str) -> str:
        """Drop a table.

        Args:
            table: Its name.
        """
        ran.append(table)
        return f"dropped {table}"

    return tool(as_mode(drop_table, mode), requires_approval=lambda args: args["table"] != "Scratch"), ran


@pytest.mark.parametrize("alias", ALIASES)
@pytest.mark.parametrize("answer", ["granted", "edited", "rejected"])
def test_approval_granted_edited_or_rejected(session: Session, alias: str, stream: bool, mode: str,
                                             answer: str) -> None:
    drop_table, ran = _drop_table(mode)
    asked: list[Any] = []

    def approve(request: Any) -> Any:
        asked.append((request.name, request.arguments))
        return {"granted": True, "edited": {"table": "Backup"}, "rejected": Decision.reject("not on Fridays")}[answer]

    run = go(Agent(session, alias, [drop_table], approve=approve, stream=stream), "Drop the table Orders.", mode)
    [call] = run.tool_runs
    assert asked == [("drop_table", call.call.arguments)] and run.stopped is None
    if answer == "granted":
        assert (call.approval, ran, call.output) == ("approved", [call.arguments["table"]], f"dropped {ran[0]}")
    elif answer == "edited":
        assert (call.approval, ran, call.arguments, call.output) == ("edited", ["Backup"], {"table": "Backup"},
                                                                    "dropped Backup")
    else:
        assert (call.approval, call.status, ran) == ("rejected", "rejected", [])
        assert "rejected this call of drop_table: not on Fridays" in run.text  # the model was told why
        assert [e.status for e in session.ledger if e.tool] == ["rejected"]


def test_approve_all_for_the_session_and_the_approver_is_required(session: Session) -> None:
    drop_table, ran = _drop_table("sync")
    with pytest.raises(UsageError, match="'drop_table' requires approval: pass approve="):
        Agent(session, "gpt", [drop_table]).run("Drop the table Orders.")
    asked: list[str] = []
    run = Agent(session, "gpt", [drop_table], approve=lambda r: asked.append(r.name) or "approve_all").run(
        "Drop the table Orders.")
    assert run.tool_runs[0].approval == "session" and asked == ["drop_table"]
    again = Agent(session, "gpt", [drop_table]).run("Drop the table Orders.")  # no approver needed now
    assert again.tool_runs[0].approval == "session" and len(ran) == 2 and asked == ["drop_table"]
    scratch = Agent(session, "gpt", [drop_table]).run("Drop the table Scratch.")
    assert scratch.tool_runs[0].approval is None  # the predicate says this call needs none
    with pytest.raises(UsageError, match=r"approve=.* is not valid"):
        Agent(session, "gpt", [drop_table], approve="yes")


@pytest.mark.parametrize("alias", ALIASES)
def test_max_turns_stops_with_a_clear_message_and_resume_goes_on(session: Session, alias: str, stream: bool,
                                                                 mode: str) -> None:
    get_weather, get_time = weather_tools(mode)
    agent = Agent(session, alias, [get_weather, get_time], max_turns=1, chat="m", stream=stream)
    run = go(agent, "What is the weather and the time in Oslo?", mode)
    assert run.stopped == "max_turns" and run.text == "" and not run.tool_runs
    assert run.message == ("max_turns=1 reached after 1 model call(s) before the model's answer "
                           "(2 tool call(s) to run); resume() (raise max_turns=) goes on from here")
    assert [m.role for m in run.messages] == ["user", "assistant"] == [m.role for m in session.history("m")]
    done = go(agent, None, mode, resume=True, max_turns=2)
    assert done.stopped is None and "sunny in Oslo" in done.text
    assert [m.role for m in session.history("m")] == ["user", "assistant", "tool", "tool", "assistant"]


@pytest.mark.parametrize("alias", ALIASES)
def test_a_stop_mid_loop_keeps_the_results_and_resume_sends_them(session: Session, alias: str, stream: bool,
                                                                mode: str) -> None:
    cancel = threading.Event()

    def get_weather(city: str) -> str:
        """The weather.

        Args:
            city: A city.
        """
        cancel.set()  # the user presses Stop while the tool runs
        return f"rainy in {city}"

    agent = Agent(session, alias, [as_mode(get_weather, mode)], chat="s", stream=stream, cancel=cancel)
    run = go(agent, "What is the weather in Oslo?", mode)
    assert run.stopped == "cancelled" and "1 turn(s) to send" in run.message
    assert [m.role for m in session.history("s")] == ["user", "assistant"]
    done = go(agent, None, mode, resume=True)
    assert done.stopped is None and "rainy in Oslo" in done.text and not cancel.is_set()
    assert [m.role for m in session.history("s")] == ["user", "assistant", "tool", "assistant"]
    assert [e.tool for e in session.ledger] == [None, "get_weather", None]
    with pytest.raises(UsageError, match="nothing to resume"):
        agent.resume()


def test_a_budget_stops_the_loop(session: Session) -> None:
    get_weather, get_time = weather_tools("sync")
    run = session.ask("claude", "What is the weather and the time in Oslo?", tools=[get_weather, get_time],
                      run_tools=True, budget=1)
    assert run.stopped == "budget" and run.message.startswith("the token budget (1) is spent: ")
    assert run.resume(budget=100_000).stopped is None


@pytest.mark.parametrize("alias", ALIASES)
def test_the_loop_runs_inside_a_running_event_loop(session: Session, alias: str, stream: bool, mode: str) -> None:
    get_weather, get_time = weather_tools(mode)

    async def cell() -> AgentRun:  # what a notebook cell is: code run while an event loop runs
        if mode == "async":
            return await Agent(session, alias, [get_weather, get_time], stream=stream).arun(
                "What is the weather and the time in Oslo?")
        return session.ask(alias, "What is the weather and the time in Oslo?", tools=[get_weather, get_time],
                           run_tools=True, stream=stream)

    run = asyncio.run(cell())
    assert run.stopped is None and [t.status for t in run.tool_runs] == ["ok", "ok"]
    assert "sunny in Oslo" in run.text


@pytest.mark.parametrize("alias", ALIASES)
def test_a_stop_while_the_answer_streams_and_resume_sends_the_results_again(session: Session, alias: str,
                                                                            mode: str) -> None:
    from cloudsway_nb.types import TextDelta

    cancel = threading.Event()
    seen: list[str] = []

    def stop_at_the_answer(event: Any) -> None:
        if isinstance(event, TextDelta) and run_tools_done and not seen:
            seen.append(event.text)
            cancel.set()  # Stop pressed while the final answer streams

    run_tools_done: list[bool] = []

    def get_weather(city: str) -> str:
        """The weather.

        Args:
            city: A city.
        """
        run_tools_done.append(True)
        return f"foggy in {city}"

    agent = Agent(session, alias, [as_mode(get_weather, mode)], chat="c", cancel=cancel, on_event=stop_at_the_answer)
    run = go(agent, "What is the weather in Oslo?", mode)
    assert run.stopped == "cancelled" and run.replies[-1].incomplete and seen
    assert [m.role for m in session.history("c")] == ["user", "assistant"]  # the cut answer is not kept
    assert [e.status for e in session.ledger if not e.tool] == ["ok", "interrupted"]
    done = go(agent, None, mode, resume=True)
    assert done.stopped is None and "foggy in Oslo" in done.text and len(run_tools_done) == 1  # not run again
    assert [m.role for m in session.history("c")] == ["user", "assistant", "tool", "assistant"]


def test_an_interrupt_while_a_tool_runs_stops_the_loop_and_resume_runs_it(session: Session) -> None:
    calls: list[str] = []

    def get_weather(city: str) -> str:
        """The weather.

        Args:
            city: A city.
        """
        calls.append(city)
        if len(calls) == 1:
            raise KeyboardInterrupt  # Ctrl-C in the kernel while the tool runs
        return f"clear in {city}"

    agent = Agent(session, "gpt", [tool(get_weather, sequential=True)])
    run = agent.run("What is the weather in Oslo?")
    assert run.stopped == "interrupted" and "1 tool call(s) to run" in run.message
    assert agent.resume().text.startswith("The tool get_weather returned: clear in Oslo")


def test_the_transcript_with_tool_calls_exports_and_reloads(session: Session) -> None:
    from cloudsway_nb.panel.transcript import conversation_from_dict, conversation_to_dict

    get_weather, get_time = weather_tools("sync")
    run = session.ask("o3", "What is the weather and the time in Oslo?", tools=[get_weather, get_time],
                      run_tools=True, chat="x")
    data = run.to_dict()
    assert [t["name"] for t in data["tool_runs"]] == ["get_weather", "get_time"] and data["text"] == run.text
    again = conversation_from_dict(conversation_to_dict(session.chats["x"]))
    assert [(m.role, m.tool_call_id, [c.name for c in m.tool_calls]) for m in again.messages] == [
        (m.role, m.tool_call_id, [c.name for c in m.tool_calls]) for m in session.chats["x"].messages]
    session.chats["y"] = again  # a reloaded transcript goes on, tool turns and all
    follow = session.ask("o3", "And what was the weather?", chat="y")
    assert follow.text and len(session.history("y")) == len(again.messages) + 2


def test_an_approval_predicate_that_raises_on_the_arguments_asks_instead(session: Session) -> None:
    from cloudsway_nb.tools import tool
    from cloudsway_nb.types import ToolCall

    @tool(requires_approval=lambda args: args["amount"] > 100)
    def pay(amount: int = 1) -> str:
        """Pay.

        Args:
            amount: How much.
        """
        return f"paid {amount}"

    asked: list[Any] = []
    agent = Agent(session, "gpt", [pay], approve=lambda r: asked.append(r.arguments) or False)
    agent._todo = [ToolCall("c1", "pay", {})]  # the model left out the argument the predicate reads
    run = agent.resume()
    assert asked == [{}] and run.tool_runs[0].status == "rejected" and run.stopped is None
