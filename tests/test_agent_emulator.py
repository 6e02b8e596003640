"""The emulator plays along with the tool loop on every protocol: parallel calls when several tools
fit, arguments valid for each tool's schema (rich pydantic types too), results in the answer."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

import jsonschema
import pytest
from pydantic import BaseModel
from support import CANARY, ENDPOINTS

from cloudsway_nb import Client
from cloudsway_nb.agent import Agent
from cloudsway_nb.session import Session


class Stop(BaseModel):
    city: str
    nights: int


def plan_trip(stops: list[Stop], budget: float, style: Literal["cheap", "comfort"], pets: bool = False) -> str:
    """Plan a trip.

    Args:
        stops: Where to stay, in order.
        budget: In euros.
        style: How to travel.
        pets: Whether pets come along.
    """
    return f"{len(stops)} stops, {style}, {budget:.0f} EUR"


def book_hotel(city: str, nights: int) -> str:
    """Book a hotel.

    Args:
        city: Where.
        nights: How many nights.
    """
    return f"booked {nights} nights in {city}"


@pytest.fixture
def session(canary_emulator_url: str) -> Iterator[Session]:
    s = Session(Client(canary_emulator_url, CANARY, dict(ENDPOINTS), sleep=lambda _: None))
    yield s
    s.close()


@pytest.mark.parametrize("alias", ["gpt", "o3", "claude", "gemini"])
def test_parallel_schema_valid_calls_and_the_results_in_the_answer(session: Session, alias: str) -> None:
    agent = Agent(session, alias, [plan_trip, book_hotel])
    run = agent.run("Plan a trip to Rome and book a hotel there for 3 nights.")
    assert [t.name for t in run.tool_runs] == ["plan_trip", "book_hotel"]  # both fit: one turn, both calls
    assert len(run.replies) == 2 and run.stopped is None
    by_name = {t.name: t for t in agent.tools}
    for call in run.tool_runs:
        jsonschema.validate(call.arguments, by_name[call.name].parameters)  # what the model sent fits the schema
        assert call.status == "ok", call.error
        assert call.output in run.text  # the answer uses every result
