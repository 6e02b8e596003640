"""`%%cloudsway` and `%cloudsway`: the gateway in a notebook cell.

Load with `%load_ext cloudsway_nb`; `%cloudsway?` lists every flag. Configuration is traitlets
on `CloudswayMagics` (`%config CloudswayMagics.default_endpoint = "claude"`). The extension owns
one `Session` (on the Magics instance); the magic only parses, interpolates and displays.

Example (in a notebook):
    %load_ext cloudsway_nb
    %cloudsway emulator start
    %%cloudsway gpt,claude -r low
    Why is the sky blue? Context: {notes}
"""

from __future__ import annotations

import argparse
import json
import keyword
import os
import sys
import threading
import time
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, magics_class
from IPython.core.magic_arguments import argument, kwds, magic_arguments
from traitlets import Bool, Float, TraitError, Unicode, observe, validate

from .cellwatch import CellWatch
from .config import EMULATOR_ENDPOINTS
from .display import FORMATS, MultiView, StreamView, extract_code
from .errors import APIError, CloudswayError, describe_error
from .errors import UsageError as CloudswayUsageError
from .magic_parsing import SHOW_ITEMS, interpolate, line_parser, parse_option, parse_show, parse_value, split_line
from .options import REASONING_EFFORTS
from .session import Session
from .types import PROTOCOLS, Reply

__all__ = [
    "CloudswayMagics",
    "get_session",
    "interpolate",
    "load_ipython_extension",
    "parse_option",
    "parse_value",
    "unload_ipython_extension",
]

LINE_COMMANDS = "connect, login, chat, endpoints, add, remove, use, usage, history, reset, config, emulator"

HELP_EXAMPLES = """
examples:
  %load_ext cloudsway_nb
  %cloudsway connect                      # the emulator, or the gateway when CLOUDSWAY_API_KEY is set

  %%cloudsway gpt -r low --max-tokens 400
  Why is the sky blue? Context: {notes}

  %%cloudsway gpt,claude --show +raw      # side by side; +raw adds each reply's JSON
  Name a prime between 10 and 20.

  %%cloudsway claude --chat trip -s "Be brief." --out reply
  Plan a day in Oslo.

  %cloudsway usage --by-endpoint          # tokens, latency (and cost) per endpoint
"""
"""The end of `%cloudsway?`: a few cells to copy (the first line is empty: IPython's dedent skips it)."""

_ATTACH_SCHEMES = ("http://", "https://", "gs://", "data:", "file://")
"""What -a takes as a URL, passed to media.attach() as is: the schemes attach() accepts."""


@magics_class
class CloudswayMagics(Magics):
    """`%%cloudsway` (a prompt per cell) and `%cloudsway` (line commands), over one Session.

    Example:
        >>> from IPython.core.interactiveshell import InteractiveShell  # doctest: +SKIP
        >>> ip = InteractiveShell.instance(); ip.extension_manager.load_extension("cloudsway_nb")  # doctest: +SKIP
    """

    default_endpoint = Unicode(None, allow_none=True, help="Endpoint alias used when a cell names none.").tag(
        config=True
    )
    stream = Bool(True, help="Stream replies into the cell as they arrive.").tag(config=True)
    display_rate = Float(12.0, help="Most display updates per second while streaming.").tag(config=True)
    show_reasoning = Bool(True, help="Show the model's reasoning (collapsed) above the answer.").tag(config=True)
    show_usage = Bool(True, help="Show the one-line usage footer under the answer.").tag(config=True)

    def __init__(self, shell: Any = None, session: Session | None = None, **kwargs: Any) -> None:
        super().__init__(shell, **kwargs)
        self.session = session if session is not None else Session()
        if self.default_endpoint:
            self.session.default_endpoint = self.default_endpoint
        else:
            self.default_endpoint = self.session.default_endpoint
        # one source of truth: the session's default; the trait follows it (and sets it, below)
        self.session.on_default_endpoint(lambda alias: self.set_trait("default_endpoint", alias))
        self.clock = time.monotonic
        self._line = line_parser()
        self._shown: BaseException | None = None  # the failure the cell's display already shows

    @observe("default_endpoint")
    def _default_endpoint_changed(self, change: Any) -> None:
        try:
            self.session.default_endpoint = change["new"]
        except CloudswayUsageError as exc:
            raise TraitError(describe_error(exc)) from None

    @validate("display_rate")
    def _valid_display_rate(self, proposal: Any) -> float:
        rate = proposal["value"]
        if not rate > 0:  # also refuses NaN
            raise TraitError(f"CloudswayMagics.display_rate must be > 0 (updates per second), not {rate!r}")
        return rate

    # -- the magic ---------------------------------------------------------------------------------

    @magic_arguments()
    @kwds(usage=argparse.SUPPRESS, epilog=HELP_EXAMPLES)  # the docstring's first line is the usage
    @argument("endpoint", nargs="?", help="endpoint alias, or several comma-separated (gpt,claude) to compare")
    @argument("-s", "--system", help="system prompt")
    @argument("-a", "--attach", action="append", default=[], metavar="PATH|URL|VAR",
              help="attach a file, URL or notebook object (repeatable)")
    @argument("-o", "--option", action="append", default=[], metavar="KEY=VALUE",
              help="any parameter; values parsed as numbers, booleans or JSON (repeatable)")
    @argument("-t", "--temperature", type=float, help="sampling temperature")
    @argument("--max-tokens", type=int, help="most tokens to generate")
    @argument("-r", "--reasoning", metavar="|".join((*REASONING_EFFORTS, "BUDGET")),
              help="reasoning effort or token budget")
    @argument("--json", action="store_true", help="ask for a JSON answer")
    @argument("--schema", metavar="NAME_OR_JSON", help="JSON schema: a variable holding a dict, or JSON text")
    @argument("-c", "--continue", dest="continue_", action="store_true",
              help="continue this endpoint's last conversation (default: a fresh single turn)")
    @argument("--chat", metavar="NAME", help="continue (or start) a named conversation")
    @argument("--out", metavar="VAR",
              help="store the Reply (a dict of them for several endpoints) in VAR; when the call fails, "
                   "VAR is set to the partial Reply, else None (never left stale)")
    @argument("--no-stream", action="store_true", help="wait for the whole reply")
    @argument("--format", choices=FORMATS, help="render as markdown (default), text, json, or code (new cell)")
    @argument("--show", metavar="[+|-]ITEM,...",
              help=f"change what is shown: {', '.join(SHOW_ITEMS)} (+ITEM or ITEM adds, -ITEM hides, none hides "
                   "all); default reasoning,usage,logprobs; raw is the reply's JSON (a stream's assembled)")
    @argument("--background", action="store_true",
              help="Responses API background mode (polls until done); with --map: a job with a Stop button")
    @argument("-p", "--protocol", choices=PROTOCOLS, help="override the endpoint's protocol")
    @argument("--no-interpolate", action="store_true", help="send {braces} literally")
    @argument("-T", "--tool", action="append", default=[], metavar="NAME",
              help="let the model call this notebook function / Tool / Toolbox / list of them (repeatable); "
                   "the tool loop runs in the cell")
    @argument("--max-turns", type=int, default=10, metavar="N", help="with -T: the most model calls (default 10)")
    @argument("--budget", type=int, metavar="TOKENS", help="with -T: the most tokens the loop may spend")
    @argument("--map", metavar="DATAFRAME", help="the cell is a template run over every row (session.map)")
    @line_cell_magic
    def cloudsway(self, line: str, cell: str | None = None) -> Any:
        """%%cloudsway [ENDPOINT[,ENDPOINT...]] [flags]     (a cell: its body is the prompt)
        %cloudsway COMMAND [args]                          (a line: connect, login, usage...)

        Sends the cell to a Cloudsway endpoint and streams the reply into the cell: reasoning
        (collapsed) above the answer, rendered as Markdown, a usage footer under it. `{name}` and
        `{expr}` in the prompt are filled from the notebook (`{In[3]}`, `{Out[3]}` too). Several
        endpoints are asked at once and shown side by side with a comparison table.

        Line commands, `%cloudsway COMMAND`:
          connect [--emulator|--gateway]  the gateway when CLOUDSWAY_API_KEY is set, else the emulator
          login                 ask for the API key (hidden; kept in memory only)
          endpoints             the endpoint registry (DataFrame)
          add NAME --path P --protocol X [--model M] [--save]
          remove NAME           forget an alias
          use NAME              make NAME the default endpoint
          usage [--by-endpoint] the ledger of calls (DataFrame), or totals per endpoint
          history [NAME]        a conversation (DataFrame)
          reset [--all]         forget conversations (--all: and the ledger)
          config                the settings, the key masked
          emulator start|stop [--pacing realistic|none] [--chunk-delay S] [--first-token-delay S]
                                run the bundled local gateway and use it
          chat [ENDPOINT] [-s SYSTEM] [--name NAME] [--no-save] [-T TOOL ...]
                                the chat panel over conversation NAME (a second call reattaches);
                                -T: each turn runs the tool loop with these tools

        Configure with `%config CloudswayMagics.<option> = value`: default_endpoint, stream,
        display_rate, show_reasoning, show_usage.

        The cell magic's flags:
        """
        if cell is None:
            return self._line_command(line)
        return self._cell(line, cell)

    # -- cell --------------------------------------------------------------------------------------

    def _cell(self, line: str, cell: str) -> Any:
        args = self.cloudsway.parser.parse_args(split_line(line))
        if args.out is not None and (not args.out.isidentifier() or keyword.iskeyword(args.out)):
            raise UsageError(f"--out {args.out!r}: not a Python variable name; e.g. --out reply")
        if args.map:
            from .accessor import cell_map

            return cell_map(self, args, cell)
        cell = cell.rstrip()  # the cell's trailing newline is not part of the prompt
        prompt = cell if args.no_interpolate else interpolate(cell, self.shell.user_ns)
        if not prompt.strip():
            raise UsageError("the cell is empty: write the prompt under %%cloudsway")
        aliases = [a.strip() for a in (args.endpoint or "").split(",") if a.strip()] or [None]
        if len(aliases) > 1 and args.chat:
            raise UsageError("--chat names one conversation; use it with one endpoint")
        show = self._show(args.show)
        fmt = args.format or ("json" if args.json or args.schema else "markdown")
        self._shown = None
        try:
            params = self._params(args)
            resolved = [self.session.resolve(a) for a in aliases]
            if resolved[0][1].protocol == "embeddings" and len(aliases) == 1 and not args.protocol:
                result: Any = self._embed(resolved[0][0], prompt, params)
            else:
                attachments = [self._attach(spec) for spec in args.attach]
                kwargs = {
                    "system": args.system, "attachments": attachments, "continue_": args.continue_,
                    "chat": args.chat, "stream": self.stream and not args.no_stream and not args.background,
                    "protocol": args.protocol, **params,
                }
                if args.tool:
                    result = self._tools(resolved[0][0], prompt, fmt, show, kwargs, args)
                elif len(resolved) > 1:
                    result = self._many([a for a, _ in resolved], prompt, fmt, show, kwargs)
                else:
                    result = self._one(resolved[0][0], prompt, fmt, show, kwargs)
        except CloudswayUsageError as exc:
            raise UsageError(describe_error(exc)) from None
        except APIError as exc:
            if exc is not self._shown:  # one failure is shown once: here, unless the cell shows it already
                print(f"cloudsway: {describe_error(exc)}", file=sys.stderr)
            if args.out:  # never leave a stale VAR behind for Run All to reuse
                partial = exc.partial
                kept = partial is not None and bool(partial.text or partial.reasoning)
                self.shell.user_ns[args.out] = partial if kept else None
            return None
        if args.out and not isinstance(result, threading.Thread):  # a tool loop in a thread sets it when done
            self.shell.user_ns[args.out] = result
        return None

    def _tools(self, alias: str, prompt: str, fmt: str, show: dict[str, bool], kwargs: dict[str, Any],
               args: Any) -> Any:
        """`-T NAME ...`: the tool loop, shown by `tool_view` (in a thread when a tool may need approval)."""
        from .tool_view import resolve_tools, run_tools_cell

        if "," in (args.endpoint or ""):
            raise UsageError("-T runs the tool loop on one endpoint; name one")
        tools = resolve_tools(args.tool, self.shell.user_ns)

        def done(result: Any) -> None:
            if args.out:
                self.shell.user_ns[args.out] = None if isinstance(result, BaseException) else result

        limits = {"max_turns": args.max_turns, "budget": args.budget}
        return run_tools_cell(self.session, alias, prompt, tools, kwargs={**kwargs, **limits},
                              fmt=fmt, show_usage=show["usage"], rate=self.display_rate, on_done=done)

    def _show(self, spec: str | None) -> dict[str, bool]:
        defaults = {"reasoning": self.show_reasoning, "usage": self.show_usage, "raw": False, "logprobs": True}
        return parse_show(spec, defaults)

    def _params(self, args: Any) -> dict[str, Any]:
        params: dict[str, Any] = {}
        for text in args.option:
            key, value = parse_option(text)
            params[key] = value
        if args.temperature is not None:
            params["temperature"] = args.temperature
        if args.max_tokens is not None:
            params["max_tokens"] = args.max_tokens
        if args.reasoning is not None:
            params["reasoning"] = args.reasoning  # checked (and a budget made an int) where it is read
        if args.json:
            params["json"] = True
        if args.schema:
            params["schema"] = self._schema(args.schema)
        if args.background:
            params["background"] = True
        return params

    def _schema(self, spec: str) -> dict[str, Any]:
        value: Any = self.shell.user_ns.get(spec, None) if spec.isidentifier() else None
        if value is None:
            try:
                value = json.loads(spec)
            except ValueError:
                raise UsageError(
                    f"--schema {spec!r}: not a variable holding a dict schema, nor JSON text"
                ) from None
        elif hasattr(value, "model_json_schema"):  # a pydantic model class
            value = value.model_json_schema()
        if not isinstance(value, dict):
            raise UsageError(f"--schema {spec!r} must be a dict (a JSON schema), not {type(value).__name__}")
        return value

    def _attach(self, spec: str) -> Any:
        target: Any = spec
        is_url = spec.startswith(_ATTACH_SCHEMES)
        if not is_url and not os.path.exists(os.path.expanduser(spec)):
            if spec.isidentifier() and spec in self.shell.user_ns:
                target = self.shell.user_ns[spec]
            else:
                raise UsageError(f"-a/--attach {spec!r}: no such file, URL or variable")
        elif not is_url:
            target = os.path.expanduser(spec)
        try:
            from .media import attach
        except ImportError:
            raise UsageError(
                "-a/--attach needs cloudsway_nb.media, which this installation does not have"
            ) from None
        try:
            return attach(target)
        except (CloudswayError, OSError, ValueError, TypeError) as exc:
            raise UsageError(f"-a/--attach {spec!r}: {describe_error(exc)}") from None

    def _one(self, alias: str, prompt: str, fmt: str, show: dict[str, bool], kwargs: dict[str, Any]) -> Reply:
        view = StreamView(alias, rate=self.display_rate, clock=self.clock, fmt=fmt, show_reasoning=show["reasoning"],
                          show_usage=show["usage"], show_raw=show["raw"])
        if kwargs.get("background"):
            kwargs["on_progress"] = lambda r: view.status(f"background response {r.id}: {r.status}")
        with CellWatch(self.shell) as watch:  # the answer alone in the cell: one output left, none empty
            try:
                reply = self.session.ask(alias, prompt, on_event=view.feed if kwargs["stream"] else None, **kwargs)
            except APIError as exc:
                if exc.partial is not None and (exc.partial.text or exc.partial.reasoning):
                    view.finish(exc.partial, note=f"error, partial answer: {describe_error(exc)}",
                                sole=watch.count == view.column.messages)
                    self._shown = exc  # the note says it: no second line on stderr
                raise
            note = "interrupted: partial answer, not added to the conversation" if reply.incomplete else None
            view.finish(reply, note, sole=watch.count == view.column.messages)
        self._after(reply, fmt, show, kwargs)
        return reply

    def _after(self, reply: Reply, fmt: str, show: dict[str, bool], kwargs: dict[str, Any]) -> None:
        if fmt == "code" and not reply.incomplete:
            code = extract_code(reply.text)
            if code is None:  # prose in a code cell would only fail when run
                print("cloudsway: the answer has no code block, so no cell was created", file=sys.stderr)
            else:
                self.shell.set_next_input(code, replace=False)
        if show["logprobs"] and kwargs.get("logprobs") and reply.logprobs:
            from IPython.display import display

            from .frames import logprobs_frame

            display(logprobs_frame(reply))

    def _many(
        self, aliases: list[str], prompt: str, fmt: str, show: dict[str, bool], kwargs: dict[str, Any]
    ) -> dict[str, Reply | BaseException]:
        view = MultiView(aliases, rate=self.display_rate, clock=self.clock, fmt=fmt,
                         show_reasoning=show["reasoning"], show_usage=show["usage"], show_raw=show["raw"])
        cancel = threading.Event()
        done = threading.Event()
        results: dict[str, Reply | BaseException] = {}
        failed: list[BaseException] = []
        on_event = view.feed if kwargs["stream"] else None

        def work() -> None:
            try:
                results.update(self.session.ask_many(aliases, prompt, on_event=on_event, cancel=cancel, **kwargs))
            except BaseException as exc:  # re-raised in the cell's thread below
                failed.append(exc)
            finally:
                done.set()

        # Wait on an Event, never Thread.join(timeout): on Python 3.11 a join interrupted by Ctrl-C
        # marks the thread stopped, so the next join() returns at once and every result is lost.
        tick = min(0.05, 1.0 / self.display_rate)
        try:  # start() inside: a Ctrl-C while it waits for the thread to run (streams may be quick) is ours
            threading.Thread(target=work, name="cloudsway-many", daemon=True).start()
            while not done.wait(tick):
                view.pump()
        except KeyboardInterrupt:
            # every stream stops at its next event; each partial reply comes back marked incomplete
            # and is recorded in the ledger before ask_many returns (a second Ctrl-C abandons them)
            cancel.set()
            while not done.wait(tick):
                view.pump()
        if failed:
            raise failed[0]
        view.finish(results)  # a failed endpoint's error is in its pane (with what had arrived), once
        return results

    def _embed(self, alias: str, prompt: str, params: dict[str, Any]) -> Any:
        from IPython.display import display

        texts = [t for t in prompt.splitlines() if t.strip()]
        result = self.session.embed(alias, texts, **params)
        tokens = "" if result.usage.input is None else f" · in {result.usage.input:,} tokens"  # never "None"
        display({"text/plain": f"{alias}: {len(result)} vectors × {result.dimensions} dimensions{tokens}"}, raw=True)
        return result

    # -- line commands -------------------------------------------------------------------------------

    def _line_command(self, line: str) -> Any:
        if not line.strip():
            print(f"%cloudsway COMMAND: {LINE_COMMANDS}; %%cloudsway [ENDPOINT] [flags] in a cell (see %cloudsway?)")
            return None
        args = self._line.parse_args(split_line(line))
        handler = getattr(self, f"_cmd_{args.command}")
        try:
            return handler(args)
        except CloudswayUsageError as exc:
            raise UsageError(describe_error(exc)) from None

    def _cmd_connect(self, args: Any) -> None:
        info = self.session.connect(emulator=args.where)
        endpoints = ", ".join(f"{alias} ({proto})" for alias, proto in info["endpoints"].items())
        if info["mode"] == "emulator":
            print(f"emulator running at {info['base_url']} with a dummy key (no CLOUDSWAY_API_KEY needed)")
        elif info.get("emulator"):
            print(f"emulator at {info['base_url']}: the bundled one, set in CLOUDSWAY_BASE_URL (no real key needed)")
        elif not self.session.has_key:
            print(f"gateway: {info['base_url']} (no key yet: run %cloudsway login)")
        else:
            source = "CLOUDSWAY_API_KEY" if (os.environ.get("CLOUDSWAY_API_KEY") or "").strip() else "%cloudsway login"
            print(f"gateway: {info['base_url']} (key from {source})")
        print(f"endpoints: {endpoints or 'none: add one with %cloudsway add NAME --path P --protocol X'}")
        print(f"default: {info['default_endpoint']}")

    def _cmd_login(self, args: Any) -> None:
        import getpass

        if self.session.on_emulator:  # never send a real key to the emulator: ask for it only on a gateway
            raise UsageError(
                f"connected to the bundled emulator at {self.session.config()['base_url']}, which needs no key; "
                "for your own key: %env CLOUDSWAY_BASE_URL=https://genaiapi.cloudsway.net, "
                "then %cloudsway connect --gateway, then %cloudsway login"
            )
        key = getpass.getpass("Cloudsway API key: ")
        if not key.strip():
            raise UsageError("no key entered; nothing changed")
        self.session.login(key, source="%cloudsway login")
        print("API key set for this session (kept in memory only, never saved).")

    def _cmd_chat(self, args: Any) -> Any:
        from .panel import ChatPanel  # lazy: the widgets load only when a panel is opened

        tools = None
        if args.tool:
            from .tool_view import resolve_tools

            tools = resolve_tools(args.tool, self.shell.user_ns)
        return ChatPanel(self.session, args.endpoint, args.system, name=args.name, save=not args.no_save, tools=tools)

    def _cmd_endpoints(self, args: Any) -> Any:
        from .frames import endpoints_frame

        return endpoints_frame(self.session.endpoints, self.session.default_endpoint)

    def _cmd_add(self, args: Any) -> None:
        endpoint = self.session.add_endpoint(
            args.name, path=args.path, protocol=args.protocol, model=args.model, save=args.save
        )
        saved = f"; saved to {self.session.registry_file}" if args.save else ""
        print(f"{args.name} -> {endpoint!r}{saved}")

    def _cmd_remove(self, args: Any) -> None:
        self.session.remove_endpoint(args.name)
        print(f"removed {args.name}")

    def _cmd_use(self, args: Any) -> None:
        self.session.use(args.name)
        print(f"default endpoint: {args.name}")

    def _cmd_usage(self, args: Any) -> Any:
        from .frames import ledger_frame, usage_totals_frame

        return usage_totals_frame(self.session.ledger) if args.by_endpoint else ledger_frame(self.session.ledger)

    def _cmd_history(self, args: Any) -> Any:
        from .frames import history_frame

        session = self.session
        name = args.name or session.default_endpoint
        if name not in session.chats and session.conversation(name) is None:
            known = ", ".join(sorted({*session.chats, *session.last})) or "none yet"
            raise UsageError(f"no conversation named {name or '(no default endpoint)'!r} (conversations: {known})")
        return history_frame(session.history(args.name))

    def _cmd_reset(self, args: Any) -> None:
        self.session.reset(ledger=args.all)
        print("conversations forgotten" + (" and ledger cleared" if args.all else ""))

    def _cmd_config(self, args: Any) -> None:
        settings = self.session.config()
        settings.update(
            stream=self.stream, display_rate=self.display_rate,
            show_reasoning=self.show_reasoning, show_usage=self.show_usage,
        )
        width = max(len(k) for k in settings)
        print("\n".join(f"{k.ljust(width)}  {v}" for k, v in settings.items()))

    def _cmd_emulator(self, args: Any) -> None:
        if args.action == "stop":
            self.session.stop_emulator()
            print("emulator stopped")
            return
        url = self.session.use_emulator(pacing=args.pacing, chunk_delay=args.chunk_delay,
                                        first_token_delay=args.first_token_delay)
        aliases = ", ".join(f"{a} ({proto})" for a, (_, proto, _m) in EMULATOR_ENDPOINTS.items())
        print(f"emulator running at {url} with a dummy key; endpoints: {aliases}; "
              f"default: {self.session.default_endpoint}")


def get_session(ip: Any = None) -> Session:
    """The Session behind `%%cloudsway` in this notebook (the extension is loaded if it is not),
    so Python cells share its endpoints, conversations and ledger.

    Example (in a notebook):
        from cloudsway_nb.magics import get_session
        session = get_session()
        session.ask("gpt", "Hello").text
    """
    if ip is None:
        from IPython import get_ipython

        ip = get_ipython()
        if ip is None:
            raise CloudswayUsageError("get_session() needs IPython: use cloudsway_nb.Session() outside a notebook")
    load_ipython_extension(ip)
    return ip.magics_manager.registry["CloudswayMagics"].session


def load_ipython_extension(ip: Any) -> None:
    """Register `%%cloudsway` / `%cloudsway` (called by `%load_ext cloudsway_nb`)."""
    if ip.magics_manager.registry.get("CloudswayMagics") is not None:
        return
    ip.register_magics(CloudswayMagics(ip))
    if "pandas" in sys.modules:  # df.cloudsway.map, without importing pandas for a notebook that has none
        from . import accessor  # noqa: F401


def unload_ipython_extension(ip: Any) -> None:
    """Remove the magics, stop the emulator and close the session's client."""
    magics = ip.magics_manager.registry.pop("CloudswayMagics", None)
    if magics is None:
        return
    for kind in ("line", "cell"):
        ip.magics_manager.magics[kind].pop("cloudsway", None)
    if magics in ip.configurables:
        ip.configurables.remove(magics)
    magics.session.close()
