"""python_tools: kernel objects by reference, code behind approval."""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
import pytest
from support import CANARY, ENDPOINTS

from cloudsway_nb import Client, UsageError, python_tools
from cloudsway_nb.approval import Decision
from cloudsway_nb.session import Session


@pytest.fixture
def session(canary_emulator_url: str) -> Iterator[Session]:
    s = Session(Client(canary_emulator_url, CANARY, dict(ENDPOINTS), sleep=lambda _: None), default_endpoint="gpt")
    yield s
    s.close()


def namespace() -> dict:
    return {"sales": pd.DataFrame({"city": ["Oslo", "Rome", "Oslo"], "units": [3, 5, 7]}), "note": "hi",
            "pd": pd, "_private": 1, "python_tools": python_tools}


def test_describe_and_list_show_names_and_summaries_never_the_whole_object() -> None:
    tools = python_tools(namespace())
    assert tools.list_variables() == "sales: DataFrame, 3 rows x 2 columns (city, units)\nnote: str, 2 characters"
    text = tools.describe_variable("sales")
    assert "column types: city " in text and ", units int64" in text and "summary:" in text
    with pytest.raises(KeyError, match=r"no variable named 'pd' \(variables: note, sales\)"):
        tools.describe_variable("pd")


def test_the_query_runs_only_when_approved_and_can_keep_its_result(monkeypatch: pytest.MonkeyPatch) -> None:
    ns = namespace()
    by_name = {t.name: t for t in python_tools(ns).tools()}
    assert by_name["query_dataframe"].requires_approval is True
    assert by_name["describe_variable"].requires_approval is False
    assert python_tools(ns, approve_code=False).tools()[2].requires_approval is False
    out = by_name["query_dataframe"](name="sales", expression="units > 4", save_as="big")
    assert list(out["units"]) == [5, 7] and ns["big"] is out
    with pytest.raises(ValueError, match="not a free variable name"):
        by_name["query_dataframe"](name="sales", expression="units > 4", save_as="pd")
    monkeypatch.setattr("IPython.get_ipython", lambda: None)  # plain Python: no notebook namespace to take
    with pytest.raises(UsageError, match=r"python_tools\(globals\(\)\)"):
        python_tools()


@pytest.mark.parametrize("alias", ["gpt", "claude"])
def test_the_model_works_on_a_frame_by_name(session: Session, alias: str) -> None:
    ns = namespace()
    asked: list[str] = []
    run = session.ask(alias, "Describe the variable sales, then query the dataframe.", tools=[python_tools(ns)],
                      run_tools=True, approve=lambda r: asked.append(r.name) or Decision.approve(
                          {"name": "sales", "expression": "units > 4"}))
    names = [t.name for t in run.tool_runs]
    assert "describe_variable" in names and "query_dataframe" in names and asked == ["query_dataframe"]
    query = run.tool_runs[names.index("query_dataframe")]
    assert query.status == "ok" and query.approval == "edited" and len(query.result) == 2
    assert "DataFrame with 2 rows x 2 columns" in run.text
