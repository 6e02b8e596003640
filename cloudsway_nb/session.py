"""`Session`: the one API every view (the cell magic, Python cells) is built on.

A Session owns the gateway connection (`connect.Gateway`: the Client, and the emulator when it
runs one), the default endpoint, the endpoint registry's management, the conversations (each
endpoint's last one and named chats) and the ledger of every call, failed and interrupted ones
included (`ledger.Ledger`). A turn joins a conversation only once it has succeeded, so a failed
or interrupted call leaves it as it was. Views never touch the Client: everything they need is here.

    magics.py  ->  Session  ->  Client

Example:
    >>> from cloudsway_nb.session import Session
    >>> session = Session()
    >>> url = session.use_emulator()            # a local gateway with gpt, o3, claude, gemini, e5, deepseek
    >>> session.ask("gpt", "Hello").text
    'You said: Hello.'
    >>> [e.status for e in session.ledger]
    ['ok']
    >>> session.close()
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .config import Endpoint, Secret, check_alias
from .connect import Gateway, is_bundled_emulator
from .conversation import Conversation
from .errors import APIError, ConfigError, UsageError, bad_argument, describe_error
from .estimate import estimate_reply, estimated_usage
from .ledger import Ledger, LedgerEntry, usage_counts
from .prompts import attachment_list, prompt_messages, with_attachments
from .turn import Call, check_ask, endpoint_aliases, stream_turn
from .types import Attachment, Event, Message, Reply, Usage

if TYPE_CHECKING:
    from .client import Client

__all__ = ["Conversation", "Session"]


class Session:
    """Conversations, defaults, endpoint management and a ledger of calls over one gateway.

    Args:
        client: the Client to use; by default one is made from the environment and the registry
            file (`CLOUDSWAY_BASE_URL`, `CLOUDSWAY_API_KEY`, `CLOUDSWAY_CONFIG`) on first use.
        default_endpoint: the alias used when a call names none.

    Example:
        >>> from cloudsway_nb import Client
        >>> s = Session(Client(base_url="http://127.0.0.1:1", api_key="k", endpoints={}))
        >>> s.config()["api_key"], s.has_key
        ('set (from the api_key argument)', True)
        >>> s.close()
    """

    def __init__(self, client: Client | None = None, *, default_endpoint: str | None = None) -> None:
        self._gateway = Gateway(client)
        self._default: str | None = None
        self._default_listeners: list[Callable[[str | None], None]] = []
        self.default_endpoint = default_endpoint
        self.ledger = Ledger()
        self.last: dict[str, Conversation] = {}  # endpoint alias -> its last conversation
        self.chats: dict[str, Conversation] = {}  # named conversations
        self.registry_file: Path | None = None  # where save_endpoints() last wrote
        self.views: dict[str, Any] = {}  # views by name (a chat panel per conversation), so a second call reattaches

    # -- the gateway and its configuration -----------------------------------------------------

    @property
    def client(self) -> Client:
        """The Client (created from the environment on first use). Views use the Session's methods."""
        return self._gateway.client

    def use_client(self, client: Client) -> None:
        """Point the session at another Client (its gateway, key, endpoints); the one it replaces is
        closed, and so is an emulator this session ran. Conversations and the ledger stay."""
        self._gateway.close()
        self._gateway = Gateway(client)

    @property
    def endpoints(self) -> dict[str, Endpoint]:
        """The endpoint registry (alias -> Endpoint), a copy: change it with add_endpoint / remove_endpoint."""
        return dict(self.client.endpoints)

    @property
    def default_endpoint(self) -> str | None:
        """The alias used when a call names none: the one source of truth (the magic's trait follows it)."""
        return self._default

    @default_endpoint.setter
    def default_endpoint(self, alias: str | None) -> None:
        if alias is not None:
            check_alias(alias)
        if alias == self._default:
            return
        self._default = alias
        for listener in list(self._default_listeners):
            listener(alias)

    def on_default_endpoint(self, listener: Callable[[str | None], None]) -> None:
        """Call `listener(alias)` whenever the default endpoint changes (the magic keeps its trait in step)."""
        self._default_listeners.append(listener)

    @property
    def has_key(self) -> bool:
        """Whether calls carry a key (the emulator's dummy one counts)."""
        return self.client.has_key

    def login(self, key: str, source: str = "login()") -> None:
        """Use `key` for every later call (kept only inside the Client, never shown)."""
        key = Secret.wrap(key)  # first thing: no frame of ours holds the key bare
        if not isinstance(key, str):
            raise bad_argument(f"key ({type(key).__name__})", ..., "the key as a string", "login(getpass())")
        if not key.strip():
            raise UsageError("an empty key was given; nothing changed")
        self.client.set_api_key(key, source)

    def add_endpoint(self, alias: str, *, path: str, protocol: str, model: str | None = None, save: bool = False,
                     **defaults: Any) -> Endpoint:
        """Register (or replace) an alias for a deployment; returns its Endpoint. With `save=True` the
        registry file is written too (see `save_endpoints`; refused before anything changes)."""
        if save:
            self._check_saving()
        endpoint = self.client.add_endpoint(alias, path=path, protocol=protocol, model=model, **defaults)
        if save:
            self.save_endpoints()
        return endpoint

    def remove_endpoint(self, alias: str) -> Endpoint:
        """Forget an alias (the default endpoint too, when it was this one); returns what it was."""
        endpoint = self.client.remove_endpoint(alias)
        if self.default_endpoint == alias:
            self.default_endpoint = None
        return endpoint

    def save_endpoints(self, path: str | Path | None = None) -> Path:
        """Write the registry to its TOML file (never the key); refused while this session runs the
        emulator, whose preset would overwrite the user's registry."""
        self._check_saving()
        saved = self.client.save_endpoints(path)
        self.registry_file = saved
        return saved

    def _check_saving(self) -> None:
        if self._gateway.emulator_url is not None:
            raise UsageError(
                "saving the registry is refused while the emulator runs: it now holds the emulator's aliases, "
                "which would overwrite your registry file; stop the emulator first (%cloudsway emulator stop)"
            )

    def use(self, alias: str) -> None:
        """Make `alias` the default endpoint."""
        self.client.resolve(alias)
        self.default_endpoint = alias

    def resolve(self, alias: str | None) -> tuple[str, Endpoint]:
        """(alias, Endpoint) for an alias, or the default endpoint when None."""
        alias = alias or self.default_endpoint
        if not alias:
            known = ", ".join(sorted(self.client.endpoints)) or "none yet"
            raise ConfigError(
                f"no endpoint named and no default endpoint (known: {known}); "
                "name one, or set one with %cloudsway use NAME"
            )
        return self.client.resolve(alias)  # an unknown alias: the client's one message

    def check_attachment(self, endpoint: str | None, attachment: Any) -> Attachment:
        """`attachment` (a path, bytes, image... or an Attachment) as an Attachment the endpoint's protocol
        can carry, or an UnsupportedError naming the protocols that can: a view refuses it at attach time."""
        from .protocols import get_adapter

        alias, ep = self.resolve(endpoint)
        (item,) = attachment_list([attachment])
        adapter = get_adapter(ep.protocol)
        if not adapter.can("chat"):
            raise UsageError(f"endpoint {alias!r} serves embeddings: it takes no attachments")
        adapter.check_attachment(item)  # type: ignore[attr-defined]
        return item

    def config(self) -> dict[str, Any]:
        """The settings as shown to a user: base URL, whether a key is set (never the key), endpoints..."""
        client = self.client
        return {
            "base_url": client.base_url,
            "api_key": client.masked_key,
            "default_endpoint": self.default_endpoint,
            "endpoints": sorted(client.endpoints),
            "emulator": (
                "running in this session" if self._gateway.emulator_url is not None
                else "at CLOUDSWAY_BASE_URL" if self.on_emulator else "no"
            ),
            "calls": len(self.ledger),
        }

    def reset(self, *, ledger: bool = False) -> None:
        """Forget every conversation (and the ledger too when `ledger=True`)."""
        self.last.clear()
        self.chats.clear()
        if ledger:
            self.ledger.clear()

    # -- the emulator and connecting ---------------------------------------------------------------

    def use_emulator(self, **options: Any) -> str:
        """Start the bundled gateway emulator on a free loopback port and point the session at it.

        Registers the emulator preset's aliases and a dummy key; the default endpoint becomes `gpt`
        unless one of the preset is set. Returns the base URL. `stop_emulator()` undoes it.
        """
        url = self._gateway.use_emulator(**options)
        if self.default_endpoint not in self.client.endpoints:
            self.default_endpoint = "gpt"
        return url

    def stop_emulator(self) -> None:
        """Stop the emulator started by `use_emulator()` and restore the previous client."""
        self._gateway.stop_emulator()
        if not self._gateway.client_made or self.default_endpoint not in self.client.endpoints:
            self.default_endpoint = None

    def connect(self, *, emulator: bool | None = None) -> dict[str, Any]:
        """Point the session at a gateway (see `connect.Gateway.connect`) and say what it is now.

        Returns what a user should see (never the key): mode ("emulator" when this session runs the
        emulator, else "gateway"), base_url, endpoints (alias -> protocol), default_endpoint, and
        emulator: whether the gateway is the bundled emulator, also one started elsewhere.

        Example:
            >>> s = Session()
            >>> info = s.connect(emulator=True)
            >>> info["mode"], info["default_endpoint"], info["endpoints"]["claude"], info["emulator"]
            ('emulator', 'gpt', 'messages', True)
            >>> s.close()
        """
        mode = self._gateway.connect(emulator=emulator)
        endpoints = {alias: ep.protocol for alias, ep in self.client.endpoints.items()}
        if self.default_endpoint not in endpoints:
            self.default_endpoint = next(iter(endpoints), None)
        return {
            "mode": mode,
            "base_url": self.client.base_url,
            "endpoints": endpoints,
            "default_endpoint": self.default_endpoint,
            "emulator": self.on_emulator,
        }

    @property
    def on_emulator(self) -> bool:
        """Whether calls go to the bundled emulator (one this session runs, or one at `CLOUDSWAY_BASE_URL`)."""
        return self._gateway.on_emulator

    is_bundled_emulator = staticmethod(is_bundled_emulator)

    @property
    def emulator_url(self) -> str | None:
        return self._gateway.emulator_url

    def close(self) -> None:
        """Stop the emulator (if any) and close the client."""
        self._gateway.close()

    # -- conversations --------------------------------------------------------------------------

    def conversation(self, endpoint: str | None = None, chat: str | None = None) -> Conversation | None:
        """A named chat, else the last conversation of `endpoint` (default endpoint when None)."""
        if chat is not None:
            return self.chats.get(chat)
        alias = endpoint or self.default_endpoint
        return self.last.get(alias) if alias else None

    def history(self, name: str | None = None) -> list[Message]:
        """The messages of a named chat or an endpoint's last conversation (`name` is either)."""
        conv = self.chats.get(name) if name in self.chats else self.conversation(name)
        if conv is None:
            return []
        head = [Message.system(conv.system)] if conv.system else []
        return head + list(conv.messages)

    def _conversation_for(self, alias: str, chat: str | None, continue_: bool, system: str | None) -> Conversation:
        """A copy of the conversation to continue (so a failed turn changes nothing), or a fresh one."""
        base = self.chats.get(chat) if chat is not None else self.last.get(alias) if continue_ else None
        return base.copy() if base is not None else Conversation(alias, system)

    # -- calls ---------------------------------------------------------------------------------------

    def ask(
        self,
        endpoint: str | None,
        prompt: str | Message | Sequence[Message | dict[str, Any] | str],
        *,
        system: str | None = None,
        attachments: Any = (),
        tools: Any = None,
        continue_: bool = False,
        chat: str | None = None,
        stream: bool = True,
        protocol: str | None = None,
        on_event: Callable[[Event], None] | None = None,
        cancel: threading.Event | None = None,
        keep_partial: bool = False,
        history: Sequence[Message] | None = None,
        commit: bool = True,
        run_tools: bool = False,
        max_turns: int = 10,
        budget: int | None = None,
        approve: Any = None,
        **params: Any,
    ) -> Any:
        """Send a turn to an endpoint and return the Reply; every call goes into the ledger.

        `prompt` is the new turn: a string (a user message), a Message, or a list of messages
        (tool results after an assistant's tool calls, an assistant turn to continue from...).
        `attachments` join its last user message. The default is a fresh single turn;
        `continue_=True` continues the endpoint's last conversation; `chat="NAME"` continues (or
        starts) a named one. With `stream=True` each event goes to `on_event` as it arrives.
        `protocol=` overrides the endpoint's protocol.

        A KeyboardInterrupt (or `cancel` being set) stops the stream: the partial Reply is
        returned interrupted (`reply.interrupted`, the same as `incomplete`), its counts the server
        did not send estimated (`usage.estimated`, see `cloudsway_nb.estimate`), recorded as
        "interrupted" and not added to the conversation (an interrupted non-streamed call is
        recorded, its prompt estimated, and the interrupt re-raised);
        with `keep_partial=True` the partial answer joins it, so that what a view shows as stopped
        is what the model gets next. API errors are recorded and re-raised; user errors are raised
        unrecorded. `history=` sends these messages instead of the conversation's (a comparison, an
        answer regenerated from an earlier turn); `commit=False` leaves the conversation unchanged
        (the caller may `Conversation.replace` an answer with the reply later).

        `run_tools=True` runs the tool loop (`cloudsway_nb.agent.Agent`: the tools the model asks
        for run here, their results go back, up to `max_turns` model calls or `budget` tokens,
        `approve=` deciding calls that need approval) and returns its `AgentRun`.

        Example:
            reply = session.ask("claude", "Why is the sky blue?", reasoning="low", on_event=print)
        """
        if run_tools:
            from .agent import run_agent

            return run_agent(self, endpoint, prompt, tools, attachments=attachments, system=system,
                             continue_=continue_, chat=chat, stream=stream, on_event=on_event, cancel=cancel,
                             max_turns=max_turns, budget=budget, approve=approve,
                             **({"protocol": protocol} if protocol else {}), **params)
        alias, ep = self.resolve(endpoint)
        if protocol and protocol != ep.protocol:
            ep = Endpoint(ep.path, protocol, ep.model, prices=ep.prices, **ep.defaults)
        check_ask(chat=chat, on_event=on_event, cancel=cancel, history=history)
        turns = with_attachments(prompt_messages(prompt), attachment_list(attachments))
        conv = self._conversation_for(alias, chat, continue_, system)
        system = system if system is not None else conv.system
        before = (prompt_messages(history, "history") if history else []) if history is not None else conv.messages
        call = Call(alias, ep, chat, [*before, *turns], system, tools, params, time.perf_counter())
        reply = self._send(call, stream and not params.get("background"), on_event, cancel)
        self._record(call, reply, status="interrupted" if reply.incomplete else "ok")
        kept = not reply.incomplete or (keep_partial and bool(reply.text or reply.tool_calls))  # never an empty answer
        if commit and kept:
            self._commit(conv, alias, chat, system, turns, reply)
        return reply

    def _commit(
        self, conv: Conversation, alias: str, chat: str | None, system: str | None, turns: list[Message], reply: Reply
    ) -> None:
        conv.system = system
        conv.add(turns, reply)
        if chat is not None:
            self.chats[chat] = conv
        self.last[alias] = conv

    def _send(
        self, call: Call, stream: bool, on_event: Callable[[Event], None] | None, cancel: threading.Event | None
    ) -> Reply:
        """The call sent (streamed or not); an APIError or a non-streamed interrupt is recorded, then re-raised."""
        kwargs = {"system": call.system, "tools": call.tools, **call.params}
        try:
            if stream:
                reply = stream_turn(self.client, call, kwargs, on_event, cancel)
            else:
                reply = self.client.chat(call.endpoint, call.messages, **kwargs)
        except APIError as exc:
            if exc.partial is not None:  # what had arrived was billed: estimate what the server did not count
                estimate_reply(exc.partial, call.messages, call.system)
            self._record(call, exc.partial, status="error", error=exc)
            raise
        except KeyboardInterrupt:  # a non-streamed call has nothing partial to keep: record and re-raise
            self._record(call, None, status="interrupted")
            raise
        reply.endpoint = call.alias
        if reply.model is None:  # the server named no model: the registry's
            reply.model = call.endpoint.model
        if reply.incomplete or (reply.usage.input is None and reply.usage.output is None):
            estimate_reply(reply, call.messages, call.system)
        if call.endpoint.prices is not None:
            reply.cost = call.endpoint.prices.cost(reply.usage)
        if reply.latency is None:
            reply.latency = time.perf_counter() - call.started
        return reply

    def ask_many(
        self,
        endpoints: Sequence[str] | str,
        prompt: str | Message | Sequence[Message | dict[str, Any] | str],
        *,
        on_event: Callable[[str, Event], None] | None = None,
        cancel: threading.Event | None = None,
        max_workers: int | None = None,
        **kwargs: Any,
    ) -> dict[str, Reply | BaseException]:
        """Ask several endpoints at once (threads over the sync Client; safe in a running kernel).

        `endpoints` is a list of aliases, or a string naming one or several ("gpt,claude").
        Returns alias -> Reply, or the exception that call raised. `on_event(alias, event)` is
        called from worker threads. Set `cancel` to stop every stream (partials are kept).

        Example:
            results = session.ask_many(["gpt", "claude"], "Name a prime")
            {alias: r.text for alias, r in results.items()}
        """
        aliases = endpoint_aliases(endpoints)
        if max_workers is not None and (not isinstance(max_workers, int) or isinstance(max_workers, bool)
                                        or max_workers < 1):
            raise bad_argument("max_workers", max_workers, "a number of threads, 1 or more", "max_workers=4")
        for alias in aliases:
            self.resolve(alias)
        prompt_messages(prompt)  # a bad prompt or attachment fails here, before any thread starts
        kwargs["attachments"] = attachment_list(kwargs.get("attachments"))
        cancel = cancel or threading.Event()

        def run(alias: str) -> Reply:
            callback = (lambda ev: on_event(alias, ev)) if on_event is not None else None
            return self.ask(alias, prompt, on_event=callback, cancel=cancel, **kwargs)

        with ThreadPoolExecutor(max_workers=max_workers or len(aliases), thread_name_prefix="cloudsway") as pool:
            futures = {alias: pool.submit(run, alias) for alias in aliases}
            try:
                return _collect(futures)
            except KeyboardInterrupt:
                cancel.set()  # every stream stops at its next event and returns its partial reply
                return _collect(futures)

    def map(self, df: Any, template: str, endpoint: str | Sequence[str] | None = None, **options: Any) -> Any:
        """`template` ("Label: {text}") over every row of `df`: a DataFrame of answers with its index
        (schema=, system=, cache=, progress=, dry_run=, budget=, background=, concurrency=, rpm=, tpm=,
        stop= and call params: see `batch.map_frame`)."""
        from .batch import map_frame

        return map_frame(self, df, template, endpoint, **options)

    def embed(self, endpoint: str | None, texts: str | Sequence[str], **params: Any) -> Any:
        """Embed texts through an embeddings endpoint; recorded in the ledger like any call.

        Example:
            session.embed("e5", ["a cat", "a dog"]).dimensions
        """
        alias, ep = self.resolve(endpoint)
        call = Call(alias, ep, None, [], None, None, params, time.perf_counter())
        try:
            result = self.client.embed(alias, texts, **params)
        except APIError as exc:
            self._record(call, None, status="error", error=exc)
            raise
        self.ledger.append(LedgerEntry(
            endpoint=alias, protocol=ep.protocol, model=result.model or ep.model, status="ok",
            latency=result.latency, **usage_counts(result.usage),
        ))
        return result

    def retrieve(self, endpoint: str | None, response_id: str) -> Reply:
        """Fetch a stored Responses API response by id (e.g. a background one)."""
        alias, _ = self.resolve(endpoint)
        return self.client.retrieve(alias, response_id)

    def cancel(self, endpoint: str | None, response_id: str) -> Reply:
        """Cancel a background Responses API response; returns it as it now stands."""
        alias, _ = self.resolve(endpoint)
        return self.client.cancel(alias, response_id)

    # -- the ledger ----------------------------------------------------------------------------------

    def _record(self, call: Call, reply: Reply | None, *, status: str, error: APIError | None = None) -> None:
        usage = reply.usage if reply is not None else Usage()
        if reply is None and status == "interrupted":  # the prompt was sent (and may be billed): estimate it
            usage = estimated_usage(usage, call.messages, call.system, None)
        latency = reply.latency if reply is not None and reply.latency is not None else None
        self.ledger.append(LedgerEntry(
            endpoint=call.alias,
            protocol=call.endpoint.protocol,
            model=(reply.model if reply is not None and reply.model else call.endpoint.model),
            status=status,
            latency=latency if latency is not None else time.perf_counter() - call.started,
            ttft=reply.ttft if reply is not None else None,
            finish_reason=reply.finish_reason if reply is not None else None,
            error=self.client.redact(describe_error(error)) if error is not None else None,
            request_id=error.request_id if error is not None else None,
            chat=call.chat,
            response_id=reply.id if reply is not None else None,
            cost=call.endpoint.prices.cost(usage) if call.endpoint.prices is not None else None,
            polls=reply.polls if reply is not None else None,
            estimated=usage.estimated,
            **usage_counts(usage),
        ))

    def usage_totals(self) -> dict[str, Usage]:
        """Summed usage per endpoint over the ledger.

        Example:
            session.usage_totals()["gpt"].total
        """
        return self.ledger.totals()

    def __repr__(self) -> str:
        gateway = self._gateway
        base = gateway.client.base_url if gateway.client_made else "(client not created yet)"
        return (
            f"Session(base_url={base!r}, default_endpoint={self.default_endpoint!r}, "
            f"calls={len(self.ledger)}, conversations={len(self.last) + len(self.chats)})"
        )


def _collect(futures: dict[str, Any]) -> dict[str, Reply | BaseException]:
    results: dict[str, Reply | BaseException] = {}
    for alias, future in futures.items():
        try:
            results[alias] = future.result()
        except Exception as exc:
            results[alias] = exc
    return results
