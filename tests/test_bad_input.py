"""Bad input is refused where it is read: one line naming the argument, the value's type and the fix,
always one of our errors (never a raw TypeError/ValueError), the same from Client and AsyncClient;
and the inputs that have an obvious meaning (None for none, one string for one thing) are taken."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from cloudsway_nb import AsyncClient, Client, ConfigError, Endpoint, Session, UsageError
from cloudsway_nb.emulator.testing import running_emulator

KEY = "sk-test-bad-input-0123456789"
ENDPOINTS = {
    "gpt": Endpoint("MaaS-gpt", "chat", model="gpt-4o"),
    "resp": Endpoint("MaaS-resp", "responses", model="o3"),
    "e5": Endpoint("MaaS-e5", "embeddings", model="e5"),
}
CHAT_REPLY = {"id": "c1", "object": "chat.completion", "model": "gpt-4o",
              "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}],
              "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}


def one_line(error: BaseException, *words: str) -> str:
    text = str(error)
    assert "\n" not in text and isinstance(error, UsageError), (type(error), text)
    for word in words:
        assert word in text, (word, text)
    return text


def sent() -> tuple[list[httpx.Request], httpx.MockTransport, httpx.MockTransport]:
    requests: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(200, json=CHAT_REPLY)

    async def ahandler(request: httpx.Request) -> httpx.Response:
        return handler(request)

    return requests, httpx.MockTransport(handler), httpx.MockTransport(ahandler)


@pytest.mark.parametrize(("value", "words"), [
    ("30", ["timeout='30'", "(str)", "positive number of seconds", "timeout=30"]),
    (-1, ["timeout=-1", "(int)"]),
    (0, ["timeout=0", "(int)"]),
    (float("nan"), ["timeout=nan", "(float)"]),
    (True, ["timeout=True", "(bool)"]),
])
def test_timeouts_are_refused_the_same_sync_and_async(value: Any, words: list[str]) -> None:
    requests, transport, atransport = sent()
    with pytest.raises(UsageError) as at_init:
        Client("http://gw.test", KEY, ENDPOINTS, timeout=value)
    with pytest.raises(UsageError) as at_async_init:
        AsyncClient("http://gw.test", KEY, ENDPOINTS, timeout=value)
    with Client("http://gw.test", KEY, ENDPOINTS, transport=transport) as client:
        with pytest.raises(UsageError) as per_call:
            client.chat("gpt", "hi", timeout=value)
        with pytest.raises(UsageError) as per_stream:
            client.stream("gpt", "hi", timeout=value)

    async def per_async_call() -> BaseException:
        async with AsyncClient("http://gw.test", KEY, ENDPOINTS, transport=atransport) as aclient:
            with pytest.raises(UsageError) as info:
                await aclient.chat("gpt", "hi", timeout=value)
            return info.value

    async_error = asyncio.run(per_async_call())
    messages = {one_line(e, *words) for e in (at_init.value, at_async_init.value, per_call.value, per_stream.value,
                                               async_error)}
    assert len(messages) == 1 and not requests  # one answer everywhere, nothing sent


@pytest.mark.parametrize(("kwargs", "words"), [
    ({"max_retries": "2"}, ["max_retries='2'", "(str)", "max_retries=2"]),
    ({"max_retries": -1}, ["max_retries=-1"]),
    ({"connect_timeout": "5"}, ["connect_timeout='5'", "(str)"]),
    ({"retry": 3}, ["retry=3", "(int)", "RetryPolicy"]),
    ({"headers": ["x"]}, ["headers=['x']", "(list)"]),
])
def test_client_options_are_refused_where_read(kwargs: dict[str, Any], words: list[str]) -> None:
    with pytest.raises(UsageError) as info:
        Client("http://gw.test", KEY, ENDPOINTS, **kwargs)
    one_line(info.value, *words)


@pytest.mark.parametrize(("base_url", "words"), [
    ("http://127.0.0.1:notaport", ["port that is not a number"]),
    ("http://", ["no host name"]),
    ("http://127.0.0.1:8000\n", ["whitespace or a control character"]),
    ("ftp://typo", ["must start with http:// or https://"]),
    (12345, ["base_url=12345", "(int)"]),
])
def test_base_urls_are_refused_as_config_errors(base_url: Any, words: list[str]) -> None:
    with pytest.raises(ConfigError) as info:
        Client(base_url, KEY, ENDPOINTS)
    one_line(info.value, *words)


def test_bad_base_url_in_the_environment_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLOUDSWAY_BASE_URL", "http://gateway.example\n")
    with pytest.raises(ConfigError) as info:
        Client(api_key=KEY, endpoints={})
    one_line(info.value, "CLOUDSWAY_BASE_URL", "whitespace")


@pytest.mark.parametrize("key", [12345, b"sk-bytes", "sk-a b", "sk-ab\ncd", "sk-ab\x00cd", "sk-\x7fab"])
def test_bad_keys_are_refused_without_being_shown(key: Any) -> None:
    with pytest.raises(ConfigError) as info:
        Client("http://gw.test", key, ENDPOINTS)
    text = one_line(info.value, "api_key")
    if isinstance(key, str):
        assert key not in text and key[:5] not in text.replace("sk-", "", 0)


def test_a_key_with_whitespace_around_it_is_stripped() -> None:
    requests, transport, _ = sent()
    with Client("http://gw.test", f"  {KEY}\n", ENDPOINTS, transport=transport) as client:
        client.chat("gpt", "hi")
    assert requests[0].headers["authorization"] == f"Bearer {KEY}"


@pytest.mark.parametrize(("endpoints", "words"), [
    (["gpt"], ["endpoints=['gpt'] (list)", "dict of alias -> Endpoint"]),
    ({"gpt": "path"}, ["endpoints['gpt']='path' (str)", "Endpoint(path, protocol"]),
    ({"a b": Endpoint("p", "chat")}, ["endpoint alias='a b'"]),
])
def test_endpoint_registries_are_checked(endpoints: Any, words: list[str]) -> None:
    with pytest.raises(ConfigError) as info:
        Client("http://gw.test", KEY, endpoints)
    one_line(info.value, *words)


@pytest.mark.parametrize(("args", "words"), [
    (("", "chat"), ["path=''", "endpointPath"]),
    ((5, "chat"), ["path=5 (int)"]),
    (("p", "grpc"), ["protocol='grpc' (str)", "chat, responses"]),
    (("p", "chat", 7), ["model=7 (int)"]),
])
def test_endpoints_are_checked(args: tuple[Any, ...], words: list[str]) -> None:
    with pytest.raises(ConfigError) as info:
        Endpoint(*args)
    one_line(info.value, *words)


@pytest.mark.parametrize(("prompt", "words"), [
    (None, ["prompt=None (NoneType)"]),
    (b"hi", ["prompt=b'hi' (bytes)"]),
    (5, ["prompt=5 (int)"]),
    ([], ["prompt is an empty list"]),
    (["hi", 3], ["prompt[1]=3 (int)"]),
    ([{"content": "no role"}], ["prompt[0]: a message dict needs a 'role'"]),
])
def test_bad_prompts(prompt: Any, words: list[str]) -> None:
    requests, transport, _ = sent()
    with Client("http://gw.test", KEY, ENDPOINTS, transport=transport) as client:
        with pytest.raises(UsageError) as info:
            client.chat("gpt", prompt)
    one_line(info.value, *words)
    assert not requests


def test_bad_attachments_tools_and_others_name_their_argument(tmp_path: Path) -> None:
    with Client("http://gw.test", KEY, ENDPOINTS, transport=sent()[1]) as client:
        cases = [
            (lambda: client.chat("gpt", "hi", tools=3), ["tools=3 (int)"]),
            (lambda: client.chat("gpt", "hi", tools=[{"description": "no name"}]), ["a tool dict needs a 'name'"]),
            (lambda: client.chat("gpt", "hi", system=5), ["system=5 (int)"]),
            (lambda: client.chat("gpt", "hi", reasoning="extreme"), ["reasoning='extreme'", "minimal, low"]),
            (lambda: client.chat("gpt", "hi", wait="yes"), ["wait='yes' (str)"]),
            (lambda: client.chat("gpt", "hi", poll_interval=0), ["poll_interval=0 (int)"]),
            (lambda: client.chat("gpt", "hi", attachments=str(tmp_path / "missing.png")), ["missing.png"]),
            (lambda: client.embed("e5", None), ["texts=None (NoneType)", "list of strings"]),
            (lambda: client.embed("e5", [1, 2]), ["texts=[1, 2] (list)"]),
            (lambda: client.retrieve("resp", None), ["response_id=None (NoneType)", "retrieve('resp', 'resp_123')"]),
            (lambda: client.cancel("resp", ""), ["response_id='' (str)"]),
            (lambda: client.retrieve("gpt", "resp_1"), ["speaks chat, which cannot retrieve"]),
            (lambda: client.chat(5, "hi"), ["endpoint=5 (int)"]),
        ]
        for call, words in cases:
            with pytest.raises(UsageError) as info:
                call()
            one_line(info.value, *words)


def test_none_means_none_and_one_string_is_one_attachment(tmp_path: Path) -> None:
    png = tmp_path / "file.png"
    from PIL import Image

    Image.new("RGB", (4, 3), "red").save(png)
    requests, transport, _ = sent()
    with Client("http://gw.test", KEY, ENDPOINTS, transport=transport) as client:
        client.chat("gpt", "hi", attachments=None, tools=None)
        client.chat("gpt", "describe", attachments=str(png))
    import json

    plain, with_image = (json.loads(r.content) for r in requests)
    assert plain["messages"] == [{"role": "user", "content": "hi"}] and "tools" not in plain
    parts = with_image["messages"][0]["content"]
    assert [p["type"] for p in parts] == ["text", "image_url"]  # one attachment, not one per character


@pytest.fixture(scope="module")
def session() -> Iterator[Session]:
    with running_emulator() as url:
        from cloudsway_nb.config import emulator_endpoints

        s = Session(Client(url, "sk-emulator", emulator_endpoints()), default_endpoint="gpt")
        yield s
        s.close()


def test_the_session_refuses_the_same_inputs_once(session: Session) -> None:
    for prompt, words in [(None, ["prompt=None (NoneType)"]), (b"hi", ["(bytes)"]), (5, ["prompt=5 (int)"])]:
        with pytest.raises(UsageError) as info:
            session.ask("gpt", prompt)
        one_line(info.value, *words)
    with pytest.raises(UsageError) as info:
        session.ask("gpt", "hi", timeout="30")
    one_line(info.value, "timeout='30' (str)")
    with pytest.raises(UsageError) as info:
        session.embed("e5", None)
    one_line(info.value, "texts=None")
    with pytest.raises(UsageError) as info:
        session.retrieve("o3", None)
    one_line(info.value, "response_id=None")
    with pytest.raises(UsageError) as info:
        session.ask_many(5, "hi")
    one_line(info.value, "endpoints=5 (int)")
    assert len(session.ledger) == 0  # user errors are not calls


def test_ask_many_takes_one_alias_or_a_comma_list(session: Session) -> None:
    assert list(session.ask_many("gpt", "Hi")) == ["gpt"]
    results = session.ask_many("gpt, claude", "Hi", attachments=None)
    assert {alias: r.text for alias, r in results.items()} == {"gpt": "You said: Hi.", "claude": "You said: Hi."}


@pytest.mark.parametrize("key", ["sk-é€x", "sk-“quoted”"])
def test_a_key_that_is_not_ascii_is_refused_without_being_shown(key: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError) as info:
        Client("http://gw.test", key, ENDPOINTS)
    assert "not ASCII" in str(info.value) and key not in str(info.value) and "é" not in str(info.value)
    monkeypatch.setenv("CLOUDSWAY_API_KEY", key)
    with pytest.raises(ConfigError, match="CLOUDSWAY_API_KEY holds a character that is not ASCII"):
        Client("http://gw.test", endpoints=ENDPOINTS)


def test_the_session_checks_its_own_arguments(session: Session) -> None:
    cases = [
        (lambda: session.ask("gpt", "hi", history=1), "history=1 (int)"),
        (lambda: session.ask("gpt", "hi", history="abc"), "history='abc' (str)"),
        (lambda: session.ask("gpt", "hi", cancel=5), "cancel=5 (int)"),
        (lambda: session.ask("gpt", "hi", on_event=5), "on_event=5 (int)"),
        (lambda: session.ask("gpt", "hi", chat=5), "chat=5 (int)"),
        (lambda: session.ask_many(["gpt"], "hi", max_workers="2"), "max_workers='2' (str)"),
        (lambda: session.ask("gpt", {"role": "user", "content": 5}), "prompt['content']=5 (int)"),
        (lambda: session.ask("gpt", {"role": "bogus", "content": "x"}), "prompt['role']='bogus' (str)"),
        (lambda: session.login(5), "key (int) is not valid"),
    ]
    before = len(session.ledger)
    for call, words in cases:
        with pytest.raises(UsageError) as info:
            call()
        one_line(info.value, words)
    assert len(session.ledger) == before


def test_call_options_in_endpoint_defaults_are_checked_and_applied() -> None:
    with pytest.raises(UsageError, match=r"timeout='30' \(str\)"):
        Endpoint("p", "chat", timeout="30")
    requests, transport, _ = sent()
    endpoints = {"slow": Endpoint("MaaS-slow", "chat", timeout=120, max_retries=0)}
    with Client("http://gw.test", KEY, endpoints, transport=transport) as client:
        client.chat("slow", "hi")
    import json

    assert requests[0].extensions["timeout"]["read"] == 120 and "timeout" not in json.loads(requests[0].content)


def test_the_magic_refuses_every_session_keyword_in_o() -> None:
    from IPython.core.error import UsageError as MagicUsageError

    from cloudsway_nb.magic_parsing import parse_option

    for key in ("history", "commit", "keep_partial", "continue_", "prompt", "on_event"):
        with pytest.raises(MagicUsageError, match=f"'{key}' is set by the magic itself"):
            parse_option(f"{key}=1")
