"""%%cloudsway and %cloudsway in a real InteractiveShell against the emulator."""

from __future__ import annotations

import asyncio
import re
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from IPython.core.error import UsageError
from IPython.core.history import HistoryManager
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import CapturedIO, capture_output
from support import CANARY, ENDPOINTS

import cloudsway_nb
from cloudsway_nb import Client, Reply, connect
from cloudsway_nb.display import StreamView
from cloudsway_nb.magics import CloudswayMagics, interpolate, parse_option, parse_value, unload_ipython_extension
from cloudsway_nb.session import Session
from cloudsway_nb.types import TextDelta


class FrozenClock:
    def __call__(self) -> float:
        return 0.0


@pytest.fixture(scope="module")
def base_url(canary_emulator_url: str) -> str:
    return canary_emulator_url


@pytest.fixture(scope="module")
def ip() -> Iterator[InteractiveShell]:
    HistoryManager.enabled = False
    yield InteractiveShell.instance()


def _magics(ip: InteractiveShell, client: Client) -> CloudswayMagics:
    unload_ipython_extension(ip)
    magics = CloudswayMagics(ip, session=Session(client, default_endpoint="gpt"))
    ip.register_magics(magics)
    return magics


@pytest.fixture
def magics(ip: InteractiveShell, base_url: str) -> Iterator[CloudswayMagics]:
    magics = _magics(ip, Client(base_url, CANARY, dict(ENDPOINTS), sleep=lambda _: None))
    yield magics
    unload_ipython_extension(ip)
    for name in ("r", "rs", "person", "emb"):
        ip.user_ns.pop(name, None)


def cell(ip: InteractiveShell, line: str, body: str) -> CapturedIO:
    with capture_output() as captured:
        ip.run_cell_magic("cloudsway", line, body)
    return captured


def line(ip: InteractiveShell, text: str) -> tuple[Any, CapturedIO]:
    with capture_output() as captured:
        result = ip.run_line_magic("cloudsway", text)
    return result, captured


def final_html(captured: CapturedIO) -> str:
    # the last HTML shown (a long streamed answer's extra displays are emptied after it)
    return [o for o in captured.outputs if o.data.get("text/html")][-1].data["text/html"]


# -- loading and documentation -------------------------------------------------------------------


def test_load_ext_registers_both_magics_and_unload_removes_them(ip: InteractiveShell) -> None:
    unload_ipython_extension(ip)
    ip.run_line_magic("load_ext", "cloudsway_nb")
    try:
        assert ip.find_cell_magic("cloudsway") and ip.find_line_magic("cloudsway")
        magics = ip.magics_manager.registry["CloudswayMagics"]
        assert isinstance(magics.session, Session) and magics in ip.configurables
    finally:
        ip.run_line_magic("unload_ext", "cloudsway_nb")
    assert ip.find_cell_magic("cloudsway") is None and ip.find_line_magic("cloudsway") is None
    assert cloudsway_nb.Session is Session


def test_help_documents_every_flag(ip: InteractiveShell, magics: CloudswayMagics) -> None:
    doc = ip.find_cell_magic("cloudsway").__doc__
    for flag in ("--system", "--attach", "--option", "--temperature", "--max-tokens", "--reasoning", "--json",
                 "--schema", "--continue", "--chat", "--out", "--no-stream", "--format", "--show", "--background",
                 "--protocol", "--no-interpolate", "emulator start|stop", "login", "usage"):
        assert flag in doc, flag


def test_help_opens_with_the_usage_line_and_ends_with_examples(ip: InteractiveShell, magics: CloudswayMagics) -> None:
    # issue 11, point 20: `%cloudsway?` opened with "Docstring: ::" and an argparse usage of "%cloudsway"
    for name in ("%cloudsway", "%%cloudsway"):
        shown = ip.object_inspect_mime(name)["text/plain"]  # what `%cloudsway?` shows (the kernel's inspect)
        plain = re.sub(r"\x1b\[[0-9;]*m", "", shown)
        doc = plain.split("Docstring:", 1)[1].split("File:", 1)[0].strip()
        first, second = doc.splitlines()[:2]
        assert first.startswith("%%cloudsway [ENDPOINT[,ENDPOINT...]] [flags]"), first
        assert second.startswith("%cloudsway COMMAND") and "::" not in doc
        examples = doc.split("\nexamples:\n", 1)[1]
        assert "  %%cloudsway gpt -r low" in examples and doc.endswith("per endpoint")
        assert doc.index("--show") < doc.index("examples:")


def test_config_traitlets(ip: InteractiveShell, magics: CloudswayMagics) -> None:
    ip.run_line_magic("config", "CloudswayMagics.default_endpoint = 'claude'")
    ip.run_line_magic("config", "CloudswayMagics.show_usage = False")
    assert magics.session.default_endpoint == "claude"
    captured = cell(ip, "--out r", "Hello")
    assert ip.user_ns["r"].endpoint == "claude" and "cloudsway-usage" not in final_html(captured)
    ip.run_line_magic("config", "CloudswayMagics.show_usage = True")
    ip.run_line_magic("config", "CloudswayMagics.default_endpoint = None")


# -- the cell magic ------------------------------------------------------------------------------------


def test_cell_streams_with_reasoning_and_usage(ip: InteractiveShell, magics: CloudswayMagics) -> None:
    captured = cell(ip, "gpt -r low -s 'Be brief.' -t 0.2 --max-tokens 200 --out r", "Is 17 prime?")
    reply = ip.user_ns["r"]
    assert isinstance(reply, Reply) and reply.text.startswith("You said: Is 17 prime?") and reply.reasoning
    assert "Instructions noted: Be brief." in reply.text  # quotes removed from flag values, as in a shell
    html = final_html(captured)
    assert html.index("<details") < html.index("<p>You said")
    assert re.search(r"gpt · gpt-4o · in \d+ · out \d+ · reasoning \d+ · cached \d+ · [\d.]+ s · first token", html)
    assert len({o.transient["display_id"] for o in captured.outputs}) == 1  # one display, updated
    assert captured.stderr == ""


def test_stream_updates_are_throttled(ip: InteractiveShell, magics: CloudswayMagics) -> None:
    magics.clock = FrozenClock()  # time never advances: only the first update and the final flush
    deltas: list[int] = []
    original = StreamView.feed

    def counting(self: StreamView, event: Any) -> None:
        deltas.append(1)
        original(self, event)

    StreamView.feed = counting  # type: ignore[method-assign]
    try:
        captured = cell(ip, "gpt", "word " * 200)
    finally:
        StreamView.feed = original  # type: ignore[method-assign]
    assert len(deltas) > 30
    assert len(captured.outputs) <= 3


def test_no_stream_and_formats(ip: InteractiveShell, magics: CloudswayMagics) -> None:
    captured = cell(ip, "claude --no-stream --format text", "*Hello*")
    assert final_html(captured).startswith('<div class="cloudsway-reply"><pre class="cloudsway-text"')
    assert magics.session.ledger[-1].ttft is None  # not streamed
    ip.user_ns["person"] = {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}
    captured = cell(ip, "gpt --schema person --out r", "Give me a person")
    assert ip.user_ns["r"].text == '{"name": "Example"}' and "&quot;name&quot;: &quot;Example&quot;" in final_html(
        captured
    )
    cell(ip, "gpt --schema '{\"type\": \"object\"}' --no-stream", "Give me JSON")
    cell(ip, "gpt --json", "Give me JSON")
    assert magics.session.ledger[-1].status == "ok"


def test_code_format_fills_the_next_cell_only_with_code(
    ip: InteractiveShell, magics: CloudswayMagics, monkeypatch: pytest.MonkeyPatch
) -> None:
    ip.rl_next_input = None
    captured = cell(ip, "gpt --format code", "print(1)")  # the emulator answers in prose
    assert ip.rl_next_input is None and "no code block, so no cell was created" in captured.stderr
    from cloudsway_nb.types import Choice

    answer = Reply(choices=[Choice(text="Here:\n```python\nprint(1)\n```\n")], protocol="chat")
    monkeypatch.setattr(magics.session, "ask", lambda *a, **k: answer)
    cell(ip, "gpt --format code", "print(1)")
    assert ip.rl_next_input == "print(1)\n"


def test_show_adds_to_the_defaults_and_none_empties(ip: InteractiveShell, magics: CloudswayMagics) -> None:
    # issue 11, point 17: --show raw used to hide the usage footer and the reasoning
    for spec in ("raw", "+raw", "reasoning,+raw"):
        html = final_html(cell(ip, f"gpt --show {spec} -r low", "Hi"))
        assert "<summary>raw" in html and "cloudsway-reasoning" in html and "cloudsway-usage" in html, spec
    html = final_html(cell(ip, "gpt --show none -r low", "Hi"))
    assert "cloudsway-reasoning" not in html and "cloudsway-usage" not in html and "<summary>raw" not in html
    html = final_html(cell(ip, "gpt --show none,reasoning -r low", "Hi"))
    assert "cloudsway-reasoning" in html and "cloudsway-usage" not in html
    html = final_html(cell(ip, "gpt --show -usage -r low", "Hi"))
    assert "cloudsway-reasoning" in html and "cloudsway-usage" not in html
    html = final_html(cell(ip, "gpt,claude --show +raw", "Hi"))  # side by side: each pane has its JSON
    assert html.count("<summary>raw (assembled from") == 2 and "cloudsway-table" in html
    with pytest.raises(UsageError, match=r"--show: '\+bogus' is not one of reasoning, usage, raw, logprobs, none"):
        ip.run_cell_magic("cloudsway", "gpt --show +bogus", "Hi")


def test_model_output_is_escaped(ip: InteractiveShell, magics: CloudswayMagics) -> None:
    captured = cell(ip, "gpt", "<img src=x onerror=alert(1)> <script>alert(2)</script>")
    for output in captured.outputs:
        html = output.data.get("text/html", "")
        assert "<img" not in html and "<script" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in final_html(captured)


def test_interpolation(ip: InteractiveShell, magics: CloudswayMagics) -> None:
    ip.user_ns["city"] = "Oslo"
    ip.run_cell("a = 41", store_history=True)
    n_in = ip.execution_count - 1
    ip.run_cell("6 * 7", store_history=True)
    n_out = ip.execution_count - 1
    cell(ip, "gpt --out r", f"Weather in {{city}} {{city.upper()}} [{{In[{n_in}]}}] [{{Out[{n_out}]}}]")
    assert ip.user_ns["r"].text == "You said: Weather in Oslo OSLO [a = 41] [42]."
    cell(ip, "gpt --out r", 'Keep {"a": 1} and {undefined_name} and {1+1}')
    assert ip.user_ns["r"].text == 'You said: Keep {"a": 1} and {undefined_name} and {1+1}.'
    cell(ip, "gpt --no-interpolate --out r", "Keep {city}")
    assert ip.user_ns["r"].text == "You said: Keep {city}."


def test_interpolate_function() -> None:
    ns = {"x": 2, "d": {"k": "v"}, "boom": lambda: 1 / 0}
    assert interpolate("{x} {x + 1} {d['k']} {boom()} {nope} {print}", ns) == "2 3 v {boom()} {nope} {print}"
    assert interpolate('{"json": {"nested": true}}', ns) == '{"json": {"nested": true}}'
    assert interpolate("{{x}}", ns) == "{{x}}"


def test_conversations_fresh_continue_and_named(ip: InteractiveShell, magics: CloudswayMagics) -> None:
    session = magics.session
    cell(ip, "gpt", "One")
    cell(ip, "gpt", "One")  # re-running a cell does not pile up history
    assert len(session.history("gpt")) == 2
    cell(ip, "gpt -c", "Two")
    assert [m.text() for m in session.history("gpt") if m.role == "user"] == ["One", "Two"]
    cell(ip, "claude --chat plan", "A")
    cell(ip, "gemini --chat plan", "B")
    assert len(session.history("plan")) == 4
    result, _ = line(ip, "history plan")
    assert result["role"].tolist() == ["user", "assistant", "user", "assistant"]
    line(ip, "reset")
    assert session.history("plan") == []


def test_several_endpoints_inside_a_running_event_loop(ip: InteractiveShell, magics: CloudswayMagics) -> None:
    async def in_kernel_like_loop() -> CapturedIO:
        assert asyncio.get_running_loop().is_running()
        return cell(ip, "gpt,claude,gemini -r low --out rs", "Hello")

    captured = asyncio.run(in_kernel_like_loop())
    results = ip.user_ns["rs"]
    assert set(results) == {"gpt", "claude", "gemini"} and all(r.text == "You said: Hello." for r in results.values())
    html = final_html(captured)
    assert "cloudsway-table" in html and "reasoning tokens" in html
    assert [e.endpoint for e in magics.session.ledger[-3:]].count("gpt") == 1


def test_background_responses(ip: InteractiveShell, magics: CloudswayMagics) -> None:
    cell(ip, "o3 --background --out r", "Hello")
    assert ip.user_ns["r"].status == "completed" and ip.user_ns["r"].text == "You said: Hello."


def test_protocol_override_and_options(ip: InteractiveShell, magics: CloudswayMagics) -> None:
    magics.session.client.add_endpoint("raw", path="MaaS-raw", protocol="chat")
    cell(ip, "raw -p messages --out r -o top_p=0.5 -o stop='[\"zzz\"]'", "Hello")
    assert ip.user_ns["r"].protocol == "messages"


def test_logprobs_frame_shown_when_asked(ip: InteractiveShell, magics: CloudswayMagics) -> None:
    captured = cell(ip, "gpt -o logprobs=true -o top_logprobs=2", "Hi")
    assert "alternatives" in captured.outputs[-1].data["text/plain"]


def test_embeddings_endpoint(ip: InteractiveShell, magics: CloudswayMagics) -> None:
    captured = cell(ip, "e5 --out emb", "a cat\na dog\n")
    assert len(ip.user_ns["emb"]) == 2 and "2 vectors" in captured.outputs[-1].data["text/plain"]


def test_option_and_value_parsing() -> None:
    assert parse_value("1e-3") == 0.001 and parse_value("[1, 2]") == [1, 2] and parse_value("off") is False
    assert parse_option("stop=END") == ("stop", "END")
    with pytest.raises(UsageError):
        parse_option("novalue")


# -- errors ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("magic_line", "body", "message"),
    [
        ("nope", "hi", "unknown endpoint 'nope'"),
        ("gpt --bogus", "hi", "unrecognized arguments: --bogus"),
        ("gpt -t warm", "hi", "invalid float value"),
        ("gpt -r extreme", "hi", "reasoning='extreme' (str) is not valid: it takes minimal, low"),
        ("gpt -o timeout=30s", "hi", "timeout='30s' (str) is not valid"),
        ("gpt -o timeout=0", "hi", "timeout=0 (int) is not valid"),
        ("gpt -o max_retries=-1", "hi", "max_retries=-1 (int) is not valid"),
        ("gpt -o prompt=x", "hi", "-o prompt=...: 'prompt' is set by the magic itself"),
        ("gpt -o on_event=x", "hi", "'on_event' is set by the magic itself"),
        ("gpt -o cancel=1", "hi", "'cancel' is set by the magic itself"),
        ("gpt -o attachments=x", "hi", "'attachments' is set by the magic itself"),
        ("gpt --out 1bad", "hi", "--out '1bad': not a Python variable name"),
        ("gpt --out class", "hi", "--out 'class': not a Python variable name"),
        ("gpt -o novalue", "hi", "-o/--option expects key=value"),
        ("gpt -a /no/such/file.png", "hi", "no such file"),
        ("gpt --schema missing_schema", "hi", "--schema 'missing_schema'"),
        ("gpt --show everything", "hi", "--show: 'everything' is not one of"),
        ("gpt,claude --chat x", "hi", "--chat names one conversation"),
        ("gpt", "   ", "the cell is empty"),
        ("gpt --background", "hi", "background=True needs a responses endpoint"),
    ],
)
def test_user_errors_are_one_line_usage_errors(
    ip: InteractiveShell, magics: CloudswayMagics, magic_line: str, body: str, message: str
) -> None:
    with pytest.raises(UsageError, match=re.escape(message)) as info:
        ip.run_cell_magic("cloudsway", magic_line, body)
    assert "\n" not in str(info.value)
    with capture_output() as captured:
        result = ip.run_cell(f"%%cloudsway {magic_line}\n{body}")
    assert isinstance(result.error_in_exec, UsageError)
    assert captured.stderr.strip().startswith("UsageError:") and "Traceback" not in captured.stderr
    assert len(captured.stderr.strip().splitlines()) == 1


def test_no_key_is_a_usage_error(ip: InteractiveShell, base_url: str) -> None:
    client = Client(base_url, None, dict(ENDPOINTS))
    client.set_api_key(None)
    _magics(ip, client)
    try:
        with pytest.raises(UsageError, match="no API key: run %cloudsway login"):
            ip.run_cell_magic("cloudsway", "gpt", "hi")
    finally:
        unload_ipython_extension(ip)


def test_attach_uses_media_when_available(ip: InteractiveShell, magics: CloudswayMagics, tmp_path: Any) -> None:
    path = tmp_path / "note.txt"
    path.write_text("hello from a file")
    try:
        from cloudsway_nb.media import attach  # noqa: F401  (written concurrently; may not exist yet)
    except ImportError:
        with pytest.raises(UsageError, match=r"needs cloudsway_nb\.media"):
            ip.run_cell_magic("cloudsway", f"gpt -a {path}", "Describe")
        return
    cell(ip, f"gpt -a {path} --out r", "Describe")
    assert ip.user_ns["r"].text


def test_server_error_is_one_line_recorded_and_leaves_conversation(ip: InteractiveShell, base_url: str) -> None:
    good = Client(base_url, CANARY, dict(ENDPOINTS))
    magics = _magics(ip, good)
    try:
        cell(ip, "gpt", "First")
        before = list(magics.session.history("gpt"))
        magics.session.use_client(Client(base_url, CANARY, dict(ENDPOINTS), headers={"x-emulator-fault": "503"},
                                           max_retries=0))
        with capture_output() as captured:
            result = ip.run_cell("%%cloudsway gpt -c\nSecond")
        assert result.success
        lines = captured.stderr.strip().splitlines()
        assert len(lines) == 1 and "503" in lines[0] and "request id req_" in lines[0]
        assert "Traceback" not in captured.stderr
        entry = magics.session.ledger[-1]
        assert entry.status == "error" and entry.request_id and "503" in entry.error
        assert magics.session.history("gpt") == before
        magics.session.use_client(Client(base_url, CANARY, dict(ENDPOINTS),
                                           headers={"x-emulator-fault": "error-event", "x-emulator-fault-after": "2"},
                                           max_retries=0))
        captured = cell(ip, "gpt -c", "Third one is longer than the others")
        # issue 11, point 18: shown once, in the cell under the partial answer (it was also a stderr line)
        assert final_html(captured).count("error, partial answer") == 1 and captured.stderr == ""
        assert magics.session.history("gpt") == before
    finally:
        unload_ipython_extension(ip)


def test_a_failure_side_by_side_is_shown_once_in_its_pane_with_what_had_arrived(
    ip: InteractiveShell, base_url: str
) -> None:
    headers = {"x-emulator-fault": "error-event", "x-emulator-fault-after": "3"}
    _magics(ip, Client(base_url, CANARY, dict(ENDPOINTS), headers=headers, max_retries=0))
    try:
        captured = cell(ip, "gpt,claude,gemini --out rs", "Tell me a long story about the sea and the mountains")
        html = final_html(captured)
        assert captured.stderr == ""  # it used to print each failure again
        panes = html.split("<b>")[1:]
        assert len(panes) == 3
        for alias, pane in zip(("gpt", "claude", "gemini"), panes, strict=True):
            error = ip.user_ns["rs"][alias]
            assert error.partial is not None and error.partial.text, alias
            assert snippet_of(error.partial.text) in pane, alias  # the text that had arrived stays
            assert pane.count("error, partial answer") == 1, alias
        assert html.count("StreamError") == 3  # once per failed endpoint: not again in the table
        assert html.count(">error</td>") == 3
    finally:
        unload_ipython_extension(ip)
        ip.user_ns.pop("rs", None)


def snippet_of(text: str) -> str:
    import html as html_module

    return html_module.escape(text.split("\n")[0][:10])


def test_retries_already_made_are_said(ip: InteractiveShell, base_url: str) -> None:
    magics = _magics(ip, Client(base_url, CANARY, dict(ENDPOINTS), headers={"x-emulator-fault": "503"},
                                max_retries=2, sleep=lambda _: None))
    try:
        captured = cell(ip, "gpt", "Hello")
        lines = captured.stderr.strip().splitlines()
        assert len(lines) == 1 and "503" in lines[0] and lines[0].endswith("; after 2 retries)"), lines
        assert magics.session.ledger[-1].error.endswith("after 2 retries)")
        # a proxy's HTML error page in front of the gateway: its title, never the page
        magics.session.use_client(Client(base_url, CANARY, dict(ENDPOINTS), headers={"x-emulator-fault": "html"},
                                           max_retries=2, sleep=lambda _: None))
        captured = cell(ip, "gpt", "Hello")
        assert captured.stderr == "cloudsway: ServerError: 502 502 Bad Gateway (after 2 retries)\n"
    finally:
        unload_ipython_extension(ip)


def test_interrupt_keeps_partial_answer(ip: InteractiveShell, magics: CloudswayMagics) -> None:
    original = StreamView.feed
    count = [0]

    def interrupting(self: StreamView, event: Any) -> None:
        original(self, event)
        if isinstance(event, TextDelta):
            count[0] += 1
            if count[0] == 3:
                raise KeyboardInterrupt

    StreamView.feed = interrupting  # type: ignore[method-assign]
    try:
        captured = cell(ip, "gpt --out r", "Tell me a long story about the sea and the mountains")
    finally:
        StreamView.feed = original  # type: ignore[method-assign]
    reply = ip.user_ns["r"]
    assert reply.incomplete and reply.text and len(reply.text) < 40
    assert "interrupted: partial answer" in final_html(captured) and "· interrupted" in final_html(captured)
    entry = magics.session.ledger[-1]
    assert entry.status == "interrupted"
    assert magics.session.history("gpt") == []
    # the server sent no usage: estimated (issue 11, point 15), never "in ? · out ?" nor <NA> in the ledger
    assert reply.usage.estimated and entry.estimated and entry.input and entry.output
    assert re.search(r"in ~\d+ · out ~\d+", final_html(captured)) and "?" not in final_html(captured)
    frame = line(ip, "usage")[0]
    assert bool(frame["estimated"].iloc[-1]) and int(frame["output"].iloc[-1]) == entry.output


# -- line commands --------------------------------------------------------------------------------------


def test_line_commands(ip: InteractiveShell, magics: CloudswayMagics) -> None:
    frame, _ = line(ip, "endpoints")
    assert set(frame["alias"]) == set(ENDPOINTS) and frame.set_index("alias").loc["gpt", "default"]
    _, out = line(ip, "add mini --path MaaS-mini --protocol chat --model gpt-4o-mini")
    assert "MaaS-mini" in out.stdout and magics.session.endpoints["mini"].model == "gpt-4o-mini"
    line(ip, "use mini")
    assert magics.session.default_endpoint == "mini" and magics.default_endpoint == "mini"
    cell(ip, "", "Hello")
    assert magics.session.ledger[-1].endpoint == "mini"
    line(ip, "remove mini")
    assert "mini" not in magics.session.endpoints and magics.session.default_endpoint is None
    ledger, _ = line(ip, "usage")
    assert list(ledger.columns[:5]) == ["time", "endpoint", "protocol", "model", "status"] and len(ledger) == 1
    totals, _ = line(ip, "usage --by-endpoint")
    assert totals["endpoint"].tolist() == ["mini"]
    _, out = line(ip, "")
    assert "login" in out.stdout
    with pytest.raises(UsageError, match="invalid choice"):
        ip.run_line_magic("cloudsway", "fly")
    with pytest.raises(UsageError, match="unknown endpoint"):
        ip.run_line_magic("cloudsway", "use nowhere")
    with pytest.raises(UsageError, match="required"):
        ip.run_line_magic("cloudsway", "add x --path P")


def test_login_uses_getpass_and_never_echoes(
    ip: InteractiveShell, base_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = Client(base_url, None, dict(ENDPOINTS))
    client.set_api_key(None)
    magics = _magics(ip, client)
    try:
        # the emulator stands in for a real gateway here (login refuses to ask for a key on the emulator)
        monkeypatch.setattr(connect, "is_bundled_emulator", lambda url: False)
        monkeypatch.setattr("getpass.getpass", lambda prompt="": CANARY)
        _, out = line(ip, "login")
        _, config = line(ip, "config")
        captured = cell(ip, "gpt", "Hello")
        assert "You said: Hello." in captured.outputs[-1].data["text/plain"]
        for text in (out.stdout, out.stderr, config.stdout):
            assert CANARY not in text and CANARY[:12] not in text
        assert "set (from %cloudsway login)" in config.stdout and magics.session.has_key
        monkeypatch.setattr("getpass.getpass", lambda prompt="": "")
        with pytest.raises(UsageError, match="no key entered"):
            ip.run_line_magic("cloudsway", "login")
    finally:
        unload_ipython_extension(ip)


def test_emulator_start_and_stop(ip: InteractiveShell) -> None:
    unload_ipython_extension(ip)
    ip.run_line_magic("load_ext", "cloudsway_nb")
    try:
        _, out = line(ip, "emulator start")
        assert "emulator running at http://127.0.0.1:" in out.stdout and "e5 (embeddings)" in out.stdout
        cell(ip, "deepseek -r low --out r", "Hi")
        assert ip.user_ns["r"].reasoning and ip.user_ns["r"].endpoint == "deepseek"
        cell(ip, "--out r", "Hi")
        assert ip.user_ns["r"].endpoint == "gpt"
        _, out = line(ip, "emulator stop")
        assert "stopped" in out.stdout
    finally:
        ip.run_line_magic("unload_ext", "cloudsway_nb")
        ip.user_ns.pop("r", None)


def test_canary_key_never_in_outputs_ledger_or_reprs(ip: InteractiveShell, base_url: str) -> None:
    magics = _magics(ip, Client(base_url, CANARY, dict(ENDPOINTS)))
    try:
        seen: list[str] = []
        calls = [("gpt -r low", "Hello"), ("gpt,claude,o3", "Hi"), ("e5", "x"), ("claude --show raw", "Hi")]
        for magic_line, body in calls:
            captured = cell(ip, magic_line, body)
            seen += [captured.stdout, captured.stderr]
            seen += [str(v) for o in captured.outputs for v in o.data.values()]
        magics.session.use_client(Client(base_url, CANARY + "-wrong", dict(ENDPOINTS), max_retries=0))
        captured = cell(ip, "gpt", "Hello")  # a 401: the error line must not echo the key
        assert "401" in captured.stderr
        seen += [captured.stderr]
        magics.session.use_client(Client(base_url, CANARY, dict(ENDPOINTS)))
        for command in ("config", "usage", "usage --by-endpoint", "endpoints", "history gpt"):
            result, captured = line(ip, command)
            seen += [captured.stdout, captured.stderr, repr(result)]
            if hasattr(result, "to_csv"):
                seen.append(result.to_csv())
        seen += [repr(magics.session), repr(magics.session.ledger), repr(magics.session.config())]
        blob = "\n".join(seen)
        assert "You said" in blob
        assert CANARY not in blob and CANARY[:16] not in blob
    finally:
        unload_ipython_extension(ip)


def test_import_cloudsway_nb_does_not_import_ipython() -> None:
    import subprocess

    code = "import sys, cloudsway_nb\nprint('IPython' in sys.modules, 'cloudsway_nb.magics' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "False False"


# -- reviewer's findings: regressions ------------------------------------------------------------------


def test_interrupting_side_by_side_keeps_every_partial_answer(
    ip: InteractiveShell, magics: CloudswayMagics, monkeypatch: pytest.MonkeyPatch
) -> None:
    import _thread
    import threading

    from cloudsway_nb.display import MultiView

    session = magics.session
    aliases = ["gpt", "claude", "gemini"]
    cancels: list[threading.Event] = []
    original_ask = session.ask

    def ask(*args: Any, **kwargs: Any) -> Reply:
        cancels.append(kwargs["cancel"])
        return original_ask(*args, **kwargs)

    monkeypatch.setattr(session, "ask", ask)
    original_feed = MultiView.feed
    counts = dict.fromkeys(aliases, 0)
    lock = threading.Lock()

    def feed(self: MultiView, alias: str, event: Any) -> None:
        original_feed(self, alias, event)
        if not isinstance(event, TextDelta):
            return
        with lock:
            counts[alias] += 1
            if counts[alias] == 2 and all(n >= 2 for n in counts.values()):
                _thread.interrupt_main()  # Ctrl-C, while the cell's thread waits for the workers
        if counts[alias] >= 2:
            assert cancels[0].wait(5), "the interrupt did not cancel the workers"

    monkeypatch.setattr(MultiView, "feed", feed)
    before = len(session.ledger)
    captured = cell(ip, "gpt,claude,gemini --out parts", "Tell me a long story about the sea and the mountains")
    parts = ip.user_ns.pop("parts")
    assert set(parts) == set(aliases)
    for alias in aliases:
        reply = parts[alias]
        assert isinstance(reply, Reply) and reply.incomplete and reply.text, alias
    assert sorted(e.endpoint for e in session.ledger[before:]) == sorted(aliases)
    assert {e.status for e in session.ledger[before:]} == {"interrupted"}
    html = final_html(captured)
    assert html.count("interrupted: partial answer") == 3 and "no result" not in html
    assert session.history("gpt") == []


def test_cell_attach_accepts_every_url_scheme_attach_does(
    ip: InteractiveShell, magics: CloudswayMagics, tmp_path: Any
) -> None:
    cell(ip, "gemini -a gs://bucket/clip.mp4 --out r", "Describe")
    assert "gs://bucket/clip.mp4" in ip.user_ns["r"].text
    sent = magics.session.history("gemini")[0].content
    assert [getattr(part, "url", None) for part in sent[1:]] == ["gs://bucket/clip.mp4"]
    note = tmp_path / "note.txt"
    note.write_text("hello")
    for spec in (f"file://{note}", "data:text/plain;base64,aGk=", "https://example.com/a.png"):
        cell(ip, f"gpt -a {spec} --out r", "Describe")
        assert ip.user_ns["r"].text.startswith("You said: Describe."), spec


def test_add_save_is_refused_while_the_emulator_runs(
    ip: InteractiveShell, magics: CloudswayMagics, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    registry = tmp_path / "endpoints.toml"
    monkeypatch.setenv("CLOUDSWAY_CONFIG", str(registry))
    magics.session.use_emulator()
    with pytest.raises(UsageError, match="saving the registry is refused while the emulator runs") as info:
        ip.run_line_magic("cloudsway", "add mine --path MaaS-mine --protocol chat --save")
    assert "\n" not in str(info.value)
    assert not registry.exists() and "mine" not in magics.session.endpoints
    magics.session.stop_emulator()


def _raw_json(html: str) -> Any:
    import html as html_module
    import json

    raw = html.split("<summary>raw", 1)[1].split("<pre>", 1)[1].split("</pre>", 1)[0]
    return json.loads(html_module.unescape(raw))


@pytest.mark.parametrize("alias", ["gpt", "o3", "claude", "gemini"])
def test_show_raw_is_the_assembled_reply_never_every_chunk(
    ip: InteractiveShell, magics: CloudswayMagics, alias: str
) -> None:
    # issue 11, point 17: a stream's raw was every chunk (98 KB for a 2 KB answer, saved in the notebook)
    prompt = "Write a long essay about the sea"
    streamed = final_html(cell(ip, f"{alias} --show +raw --out r", prompt))
    reply = ip.user_ns["r"]
    assert "stream events)</summary>" in streamed
    whole = _raw_json(streamed)
    assert isinstance(whole, dict)
    text = {
        "gpt": lambda w: w["choices"][0]["message"]["content"],
        "o3": lambda w: "".join(c["text"] for item in w["output"] if item["type"] == "message"
                                for c in item["content"]),
        "claude": lambda w: "".join(b.get("text", "") for b in w["content"]),
        "gemini": lambda w: "".join(p["text"] for p in w["candidates"][0]["content"]["parts"] if not p.get("thought")),
    }[alias](whole)
    assert text == reply.text and len(reply.text) > 1000
    assert len(streamed) < 2 * len(final_html(cell(ip, alias, prompt))) + 4000  # the answer twice, not every chunk
    plain = _raw_json(final_html(cell(ip, f"{alias} --show +raw --no-stream", "Hi")))
    assert isinstance(plain, dict) and set(whole) >= set(plain) - {"created", "created_at"}


def test_out_is_reset_when_the_server_errors(ip: InteractiveShell, base_url: str) -> None:
    magics = _magics(ip, Client(base_url, CANARY, dict(ENDPOINTS), headers={"x-emulator-fault": "503"},
                                max_retries=0))
    try:
        ip.user_ns["r"] = "stale"
        captured = cell(ip, "gpt --out r", "Hello")
        assert "503" in captured.stderr and ip.user_ns["r"] is None
        ip.user_ns["rs"] = "stale"
        cell(ip, "gpt,claude --out rs", "Hello")
        assert set(ip.user_ns["rs"]) == {"gpt", "claude"}
        magics.session.use_client(Client(base_url, CANARY, dict(ENDPOINTS), max_retries=0,
                                           headers={"x-emulator-fault": "error-event", "x-emulator-fault-after": "2"}))
        cell(ip, "gpt --out r", "A partial answer is kept in VAR when there is one")
        partial = ip.user_ns["r"]
        assert isinstance(partial, Reply) and partial.text
        assert "(never left stale)" in " ".join(ip.find_cell_magic("cloudsway").__doc__.split())
    finally:
        unload_ipython_extension(ip)
        ip.user_ns.pop("r", None)
        ip.user_ns.pop("rs", None)


def test_bad_parameter_is_a_one_line_usage_error_naming_it(ip: InteractiveShell, magics: CloudswayMagics) -> None:
    for magic_line in ("gpt -o schema=3", "gpt -o schema=3 --no-stream"):
        with capture_output() as captured:
            result = ip.run_cell(f"%%cloudsway {magic_line}\nHello")
        assert isinstance(result.error_in_exec, UsageError), magic_line
        assert "schema must be a JSON schema dict, not int" in captured.stderr and "Traceback" not in captured.stderr
        assert len(captured.stderr.strip().splitlines()) == 1
    assert len(magics.session.ledger) == 0  # nothing was sent


def test_display_rate_must_be_positive(ip: InteractiveShell, magics: CloudswayMagics) -> None:
    from traitlets import TraitError

    for bad in (0, -1.0, float("nan")):
        with pytest.raises(TraitError, match="display_rate must be > 0"):
            magics.display_rate = bad
    magics.display_rate = 4
    assert magics.display_rate == 4.0
    magics.display_rate = 12.0


def test_cell_trailing_whitespace_is_not_sent(ip: InteractiveShell, magics: CloudswayMagics) -> None:
    cell(ip, "gpt --out r", "  Hello\n\n")
    assert ip.user_ns["r"].text.endswith("Hello.")
    user = magics.session.history("gpt")[0]
    assert user.text() == "  Hello"


def test_history_of_an_unknown_conversation_says_so(ip: InteractiveShell, magics: CloudswayMagics) -> None:
    with pytest.raises(UsageError, match="no conversation named 'nope'") as info:
        ip.run_line_magic("cloudsway", "history nope")
    assert "\n" not in str(info.value)
    cell(ip, "gpt --chat plan", "Hi")
    frame, _ = line(ip, "history plan")
    assert len(frame) == 2


def test_the_trait_and_the_session_never_disagree_on_the_default(ip: InteractiveShell, magics: CloudswayMagics) -> None:
    session = magics.session
    line(ip, "use claude")
    assert magics.default_endpoint == session.default_endpoint == "claude"
    magics.default_endpoint = "gemini"  # as %config CloudswayMagics.default_endpoint = "gemini" does
    assert session.default_endpoint == "gemini"
    session.remove_endpoint("gemini")  # the session changes it: the trait follows
    assert magics.default_endpoint is None is session.default_endpoint
    session.use("gpt")
    assert magics.default_endpoint == "gpt"


def test_the_magic_imports_nothing_from_the_client() -> None:
    import ast
    import inspect

    import cloudsway_nb.magics as module

    tree = ast.parse(inspect.getsource(module))
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert not {"client", "calls", "transport", "flows"} & {(m or "").rsplit(".", 1)[-1] for m in imported}
    assert "session.client" not in inspect.getsource(module)


def test_emulator_start_takes_the_pacing_flags(ip: InteractiveShell, magics: CloudswayMagics) -> None:
    line(ip, "emulator start --first-token-delay 0.4 --chunk-delay 0")
    try:
        reply = magics.session.ask("gpt", "Hi", stream=False)
        assert reply.latency is not None and reply.latency >= 0.4  # the flag reached the emulator
    finally:
        line(ip, "emulator stop")
    with pytest.raises(UsageError, match="invalid choice"):
        ip.run_line_magic("cloudsway", "emulator start --pacing fast")


class SteppingClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 1.0  # every event may refresh: a long answer spreads over several displays
        return self.now


def test_a_long_streamed_answer_leaves_one_output_and_no_empty_ones(ip: InteractiveShell,
                                                                    magics: CloudswayMagics) -> None:
    """Issue 11, point 22: the finished blocks' extra displays are not left behind empty in the
    saved notebook when the answer is all the cell shows (the cell is cleared, the answer shown once);
    when the cell showed something else too, that is kept and the extra displays are emptied."""
    magics.clock = SteppingClock()
    body = "\n\n".join(f"Paragraph {i} of a long prompt, so the echoed answer has many blocks." for i in range(12))
    captured = cell(ip, "gpt --out r", body)
    [output] = captured.outputs  # what the saved notebook keeps
    tail = ip.user_ns["r"].text.split()[-1]
    assert tail in output.data["text/plain"] and "cloudsway-usage" in output.data["text/html"]
    assert not output.update and len(output.data["text/html"]) > 2000

    original = StreamView.feed

    def noisy(self: StreamView, event: Any) -> None:  # something else shown while the answer streams
        if not getattr(self, "_warned", False):
            self._warned = True
            print("a warning", file=sys.stderr)
        original(self, event)

    StreamView.feed = noisy  # type: ignore[method-assign]
    try:
        captured = cell(ip, "gpt", body)
    finally:
        StreamView.feed = original  # type: ignore[method-assign]
    assert captured.stderr == "a warning\n"
    ids = {o.transient["display_id"] for o in captured.outputs}
    assert len(ids) > 1 and "cloudsway-usage" in final_html(captured)  # the old way: nothing else lost
