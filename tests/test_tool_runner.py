"""Running tool calls: sequential tools alone, compact results for the model (frames, images)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pandas as pd
import pytest
from PIL import Image
from support import CANARY, ENDPOINTS

from cloudsway_nb import Client
from cloudsway_nb.agent import Agent
from cloudsway_nb.session import Session
from cloudsway_nb.tool_runner import MAX_OUTPUT_CHARS, model_output
from cloudsway_nb.tools import tool
from cloudsway_nb.types import Attachment


@pytest.fixture
def session(canary_emulator_url: str) -> Iterator[Session]:
    s = Session(Client(canary_emulator_url, CANARY, dict(ENDPOINTS), sleep=lambda _: None), default_endpoint="gpt")
    yield s
    s.close()


def test_a_sequential_tool_never_runs_alongside_another(session: Session) -> None:
    running: list[str] = []
    overlaps: list[tuple[str, ...]] = []
    lock = threading.Lock()

    def enter(name: str) -> None:
        with lock:
            running.append(name)
            overlaps.append(tuple(running))
        time.sleep(0.01)  # long enough to overlap if run at once (the test checks what ran with what)
        with lock:
            running.remove(name)

    def get_weather(city: str) -> str:
        """Weather.

        Args:
            city: A city.
        """
        enter("weather")
        return "sunny"

    @tool(sequential=True)
    def get_time(city: str) -> str:
        """Time.

        Args:
            city: A city.
        """
        enter("time")
        return "noon"

    run = Agent(session, "gpt", [get_weather, get_time]).run("What is the weather and the time in Oslo?")
    assert [t.status for t in run.tool_runs] == ["ok", "ok"]
    assert ("time",) in overlaps and all(len(o) == 1 for o in overlaps)


def test_model_output_is_compact_text_or_an_image_part() -> None:
    frame = pd.DataFrame({"x": range(1000), "y": range(1000)})
    text = model_output(frame, "chat")
    assert text.startswith("DataFrame with 1000 rows x 2 columns; the first 5:\n") and len(text.splitlines()) == 7
    assert model_output(frame["x"], "gemini").startswith("Series with 1000 rows; the first 5:")
    assert model_output({"a": [1, 2]}, "chat") == '{"a": [1, 2]}' and model_output("hi", "chat") == "hi"
    long = model_output("z" * (MAX_OUTPUT_CHARS + 10), "chat")
    assert long.endswith("(10 more characters cut)")
    image = Image.new("RGB", (30, 20), "red")
    assert model_output(image, "chat") == "an image, 30x20 pixels (shown to the user in the notebook)"
    note, part = model_output(image, "messages")
    assert note.startswith("an image, 30x20") and isinstance(part, Attachment) and part.mime_type == "image/png"


@pytest.mark.parametrize("alias", ["gpt", "o3", "claude", "gemini"])
def test_an_image_result_reaches_the_model_on_every_protocol(session: Session, alias: str) -> None:
    def draw_chart(title: str) -> Image.Image:
        """Draw a chart.

        Args:
            title: Its title.
        """
        return Image.new("RGB", (64, 48), "blue")

    run = Agent(session, alias, [draw_chart]).run("Draw a chart titled Sales.")
    [call] = run.tool_runs
    assert call.status == "ok" and isinstance(call.result, Image.Image) and run.stopped is None
    assert "64x48 pixels" in run.text  # the model was told about it (and given it where it can be)
    assert isinstance(call.output, list) == (alias in ("o3", "claude"))


def test_a_tool_past_its_timeout_never_holds_up_exit_and_every_call_of_a_turn_runs_at_once() -> None:
    from cloudsway_nb.tool_runner import ToolRun, ToolRunner
    from cloudsway_nb.types import ToolCall

    release, daemon = threading.Event(), []

    @tool(timeout=0.05)
    def hang(x: int) -> int:
        """Wait until released.

        Args:
            x: Anything.
        """
        daemon.append(threading.current_thread().daemon)  # a daemon thread: the interpreter may exit
        release.wait(10)
        return x

    together = threading.Barrier(12, timeout=5)

    def meet(x: int) -> int:
        together.wait()  # broken (an error) unless all twelve calls run at the same time
        return x

    try:
        with ToolRunner() as runner:
            [late] = runner.run_group([ToolRun(ToolCall("c0", "hang", {"x": 1}), hang)])
            runs = runner.run_group([ToolRun(ToolCall(f"c{i}", "meet", {"x": i}), tool(meet)) for i in range(12)])
    finally:
        release.set()
    assert late.status == "timeout" and daemon == [True]
    assert [r.status for r in runs] == ["ok"] * 12
