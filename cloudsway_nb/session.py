"""`Session`: the one entry point for the cell magic and the chat widget.

A Session owns a `Client`, the default endpoint, the conversations (each endpoint's last one and
named chats) and the ledger of every call, failed and interrupted ones included. A turn joins a
conversation only once it has succeeded, so a failed or interrupted call leaves it as it was.

    magics.py / widget.py  ->  Session  ->  Client

Example:
    >>> from cloudsway_nb.session import Session
    >>> session = Session()
    >>> url = session.use_emulator()            # a local gateway with gpt, o3, claude, gemini, e5, deepseek
    >>> session.ask("gpt", "Hello").text
    'You said: Hello.'
    >>> session.ask("gpt", "And again?", continue_=True).text  # doctest: +SKIP
    >>> [e.status for e in session.ledger]
    ['ok']
    >>> session.stop_emulator()
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from .config import Endpoint
from .errors import APIError, CloudswayError, ConfigError, UsageError, describe_error
from .types import Attachment, Choice, Done, Event, Message, Reply, Usage

if TYPE_CHECKING:
    from .client import Client

__all__ = ["EMULATOR_ENDPOINTS", "Conversation", "LedgerEntry", "Session"]

EMULATOR_ENDPOINTS: dict[str, tuple[str, str, str | None]] = {
    "gpt": ("emulator-gpt", "chat", "gpt-4o"),
    "o3": ("emulator-o3", "responses", "o3"),
    "claude": ("emulator-claude", "messages", "claude-sonnet"),
    "gemini": ("emulator-gemini", "gemini", "gemini-2.5-flash"),
    "e5": ("emulator-e5", "embeddings", "e5"),
    "deepseek": ("emulator-deepseek", "chat", "deepseek-reasoner"),
}
"""alias -> (endpointPath, protocol, model) registered by `Session.use_emulator()`."""

EMULATOR_KEY = "sk-emulator-dummy-key"



@dataclass(slots=True)
class LedgerEntry:
    """One call in the session ledger (successful, failed or interrupted).

    `status` is "ok", "incomplete" (the stream ended early), "interrupted" (stopped by the user)
    or "error"; `error` is then one key-free line. Token counts are the normalized Usage.

    Example:
        >>> LedgerEntry(endpoint="gpt", protocol="chat", status="ok", input=3, output=4).total
        7
    """

    endpoint: str
    protocol: str | None = None
    model: str | None = None
    status: str = "ok"
    input: int | None = None
    output: int | None = None
    reasoning: int | None = None
    cached: int | None = None
    total: int | None = None
    latency: float | None = None
    ttft: float | None = None
    finish_reason: str | None = None
    error: str | None = None
    request_id: str | None = None
    chat: str | None = None
    response_id: str | None = None
    time: datetime = field(default_factory=lambda: datetime.now(UTC))

    def __post_init__(self) -> None:
        if self.total is None and self.input is not None and self.output is not None:
            self.total = self.input + self.output

    def to_dict(self) -> dict[str, Any]:
        """The entry as a flat dict (one ledger row)."""
        return {name: getattr(self, name) for name in _LEDGER_COLUMNS}


_LEDGER_COLUMNS = (
    "time", "endpoint", "protocol", "model", "status", "input", "output", "reasoning", "cached", "total",
    "latency", "ttft", "finish_reason", "error", "request_id", "chat", "response_id",
)


@dataclass(slots=True)
class Conversation:
    """A conversation: its system prompt and its turns (user and assistant Messages).

    Example:
        >>> c = Conversation("gpt")
        >>> c.messages.append(Message.user("hi")); len(c)
        1
    """

    endpoint: str
    system: str | None = None
    messages: list[Message] = field(default_factory=list)
    replies: list[Reply] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.messages)


class Session:
    """Conversations, defaults and a ledger of calls over one `Client`.

    Args:
        client: the Client to use; by default one is made from the environment and the registry
            file (`CLOUDSWAY_BASE_URL`, `CLOUDSWAY_API_KEY`, `CLOUDSWAY_CONFIG`) on first use.
        default_endpoint: the alias used when a call names none.

    Example:
        >>> from cloudsway_nb import Client
        >>> s = Session(Client(base_url="http://127.0.0.1:1", api_key="k", endpoints={}))
        >>> s.config()["api_key"]
        '**** (1 chars)'
    """

    def __init__(self, client: Client | None = None, *, default_endpoint: str | None = None) -> None:
        self._client = client
        self.default_endpoint = default_endpoint
        self.ledger: list[LedgerEntry] = []
        self.last: dict[str, Conversation] = {}  # endpoint alias -> its last conversation
        self.chats: dict[str, Conversation] = {}  # named conversations
        self._lock = threading.Lock()
        self._emulator: Any = None
        self._client_before_emulator: Client | None = None
        self._emulator_made_client = False

    # -- client and configuration ------------------------------------------------------------

    @property
    def client(self) -> Client:
        """The Client (created from the environment on first use)."""
        if self._client is None:
            from .client import Client

            self._client = Client()
        return self._client

    @property
    def endpoints(self) -> dict[str, Endpoint]:
        return self.client.endpoints

    def login(self, key: str) -> None:
        """Use `key` for every later call (it is kept only inside the Client, never shown)."""
        if not key or not key.strip():
            raise UsageError("an empty key was given; nothing changed")
        self.client.set_api_key(key.strip())

    def use(self, alias: str) -> None:
        """Make `alias` the default endpoint."""
        self.client.resolve(alias)
        self.default_endpoint = alias

    def resolve(self, alias: str | None) -> tuple[str, Endpoint]:
        """(alias, Endpoint) for an alias, or the default endpoint when None."""
        alias = alias or self.default_endpoint
        if not alias:
            known = ", ".join(sorted(self.endpoints)) or "none yet"
            raise ConfigError(
                f"no endpoint named and no default endpoint (known: {known}); "
                "name one, or set one with %cloudsway use NAME"
            )
        if alias not in self.endpoints:
            known = ", ".join(sorted(self.endpoints)) or "none yet"
            raise ConfigError(
                f"unknown endpoint {alias!r} (known: {known}); add it with "
                f"%cloudsway add {alias} --path PATH --protocol chat, or try %cloudsway emulator start"
            )
        return self.client.resolve(alias)

    def config(self) -> dict[str, Any]:
        """The settings as shown to a user: base URL, the key masked, endpoints, default, emulator."""
        client = self.client
        return {
            "base_url": client.base_url,
            "api_key": client.masked_key,
            "default_endpoint": self.default_endpoint,
            "endpoints": sorted(client.endpoints),
            "emulator": self._emulator is not None,
            "calls": len(self.ledger),
        }

    def reset(self, *, ledger: bool = False) -> None:
        """Forget every conversation (and the ledger too when `ledger=True`)."""
        self.last.clear()
        self.chats.clear()
        if ledger:
            with self._lock:
                self.ledger.clear()

    # -- the emulator ----------------------------------------------------------------------------

    def use_emulator(self, **options: Any) -> str:
        """Start the bundled gateway emulator on a free loopback port and point the session at it.

        Registers the aliases of `EMULATOR_ENDPOINTS` and a dummy key; the default endpoint
        becomes `gpt` unless one is set. Returns the base URL. `stop_emulator()` undoes it.
        """
        from .client import Client
        from .emulator import EmulatorServer

        if self._emulator is not None:
            return self._emulator.base_url
        options.setdefault("port", 0)
        server = EmulatorServer(**options)
        url = server.start()
        self._emulator = server
        self._client_before_emulator = self._client
        endpoints = {alias: Endpoint(path, proto, model) for alias, (path, proto, model) in EMULATOR_ENDPOINTS.items()}
        self._client = Client(url, options.get("api_key") or EMULATOR_KEY, endpoints)
        if self.default_endpoint is None or self.default_endpoint not in endpoints:
            self.default_endpoint = "gpt"
        return url

    def stop_emulator(self) -> None:
        """Stop the emulator started by `use_emulator()` and restore the previous client."""
        if self._emulator is None:
            return
        self._emulator.stop()
        self._emulator = None
        if self._client is not None:
            self._client.close()
        self._client = self._client_before_emulator
        self._client_before_emulator = None
        if self._client is None or self.default_endpoint not in self._client.endpoints:
            self.default_endpoint = None

    def connect(self, *, emulator: bool | None = None) -> dict[str, Any]:
        """Point the session at a gateway: the configured one when a key is set, else the emulator.

        With `CLOUDSWAY_API_KEY` set (and `emulator` not True), or with `emulator=False`, any
        emulator this session runs is stopped and the Client comes from the environment as it is
        now: `CLOUDSWAY_BASE_URL`, the key in `CLOUDSWAY_API_KEY` (none when unset: then
        `login()`), the endpoint registry at `CLOUDSWAY_CONFIG`. `emulator=False` always builds a
        new Client; `emulator=None` keeps the current one (with a key from `login()` and endpoints
        added since) while `CLOUDSWAY_BASE_URL` still names its gateway. Without a key (or with
        `emulator=True`) the bundled emulator is started as `use_emulator()` does. The default
        endpoint becomes the first alias when none is set.

        Returns what a user should see (never the key): mode ("emulator" when this session runs
        the emulator, else "gateway"), base_url, endpoints (alias -> protocol), default_endpoint,
        and emulator: whether the gateway is the bundled emulator, also when it was started
        elsewhere (`cloudsway-nb demo`, binder, the test suite) and configured through the
        environment; see `on_emulator`.

        Example:
            >>> s = Session()
            >>> info = s.connect(emulator=True)
            >>> info["mode"], info["default_endpoint"], info["endpoints"]["claude"], info["emulator"]
            ('emulator', 'gpt', 'messages', True)
            >>> s.close()
        """
        from .client import Client
        from .config import resolve_base_url

        use_emulator = emulator if emulator is not None else not (os.environ.get("CLOUDSWAY_API_KEY") or "").strip()
        if use_emulator:
            self.use_emulator()
        else:
            was_running = self._emulator is not None
            self.stop_emulator()
            current = self._client
            if emulator is False or was_running or current is None or current.base_url != resolve_base_url():
                fresh = Client()  # CLOUDSWAY_BASE_URL, CLOUDSWAY_API_KEY and CLOUDSWAY_CONFIG as they are now
                if current is not None:
                    current.close()
                self._client = fresh
        client = self.client
        endpoints = {alias: ep.protocol for alias, ep in client.endpoints.items()}
        if self.default_endpoint not in endpoints:
            self.default_endpoint = next(iter(endpoints), None)
        return {
            "mode": "emulator" if self._emulator is not None else "gateway",
            "base_url": client.base_url,
            "endpoints": endpoints,
            "default_endpoint": self.default_endpoint,
            "emulator": self.on_emulator,
        }

    @property
    def on_emulator(self) -> bool:
        """Whether calls go to the bundled emulator: one this session runs, or one configured
        through `CLOUDSWAY_BASE_URL` (recognised by its `/health` reply; see `is_bundled_emulator`)."""
        return self._emulator is not None or self.is_bundled_emulator(self.client.base_url)

    @staticmethod
    def is_bundled_emulator(base_url: str) -> bool:
        """Whether `base_url` is the bundled emulator: its `GET /health` (no key sent) names it.

        Only plain-http URLs are asked (the emulator serves no TLS), with a short timeout, so a
        real https gateway is never contacted.

        Example:
            >>> Session.is_bundled_emulator("https://genaiapi.cloudsway.net")
            False
        """
        if not base_url.startswith("http://"):
            return False
        import httpx

        try:
            reply = httpx.get(f"{base_url.rstrip('/')}/health", timeout=2.0)
            return reply.status_code == 200 and reply.json().get("name") == "cloudsway-nb emulator"
        except (httpx.HTTPError, ValueError, AttributeError):
            return False

    @property
    def emulator_url(self) -> str | None:
        return self._emulator.base_url if self._emulator is not None else None

    def close(self) -> None:
        """Stop the emulator (if any) and close the client."""
        self.stop_emulator()
        if self._client is not None:
            self._client.close()

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

    # -- calls ---------------------------------------------------------------------------------------

    def ask(
        self,
        endpoint: str | None,
        prompt: str,
        *,
        system: str | None = None,
        attachments: Iterable[Any] = (),
        continue_: bool = False,
        chat: str | None = None,
        stream: bool = True,
        protocol: str | None = None,
        on_event: Callable[[Event], None] | None = None,
        cancel: threading.Event | None = None,
        **params: Any,
    ) -> Reply:
        """Send `prompt` to an endpoint and return the Reply; every call goes into the ledger.

        The default is a fresh single turn. `continue_=True` continues the endpoint's last
        conversation; `chat="NAME"` continues (or starts) a named one. With `stream=True` each
        event goes to `on_event` as it arrives. `protocol=` overrides the endpoint's protocol.

        A KeyboardInterrupt (or `cancel` being set) stops the stream: the partial Reply is
        returned with `incomplete=True`, recorded as "interrupted" and not added to the
        conversation (an interrupted non-streamed call is recorded and the interrupt re-raised).
        API errors are recorded and re-raised; user errors are raised unrecorded.

        Example:
            reply = session.ask("claude", "Why is the sky blue?", reasoning="low", on_event=print)
        """
        alias, ep = self.resolve(endpoint)
        if protocol and protocol != ep.protocol:
            ep = Endpoint(ep.path, protocol, ep.model, **ep.defaults)
        if ep.protocol == "embeddings":
            raise UsageError(f"endpoint {alias!r} serves embeddings; use session.embed({alias!r}, texts)")
        if not self.client.api_key_set:
            raise ConfigError(
                "no API key: run %cloudsway login, set CLOUDSWAY_API_KEY, or try %cloudsway emulator start"
            )
        conv = self._conversation_for(alias, chat, continue_, system)
        attachments = _attachments(attachments)
        user = Message.user([prompt, *attachments] if attachments else prompt)
        messages = [*conv.messages, user]
        system = system if system is not None else conv.system
        if params.get("background"):
            stream = False
        started = time.perf_counter()
        try:
            if stream:
                reply = self._stream(ep, messages, system, params, on_event, cancel)
            else:
                reply = self.client.chat(ep, messages, system=system, **params)
        except APIError as exc:
            partial = exc.partial
            self._record(alias, ep, partial, status="error", error=exc, chat=chat, started=started)
            raise
        except KeyboardInterrupt:  # a non-streamed call has nothing partial to keep: record and re-raise
            self._record(alias, ep, None, status="interrupted", chat=chat, started=started)
            raise
        except CloudswayError:
            raise  # the package's own (UsageError is a ValueError too): already one clear line
        except (TypeError, ValueError) as exc:  # a bad parameter (nothing sent), or a genuine bug: re-raised
            bad = self._bad_parameter(ep, messages, system, params)
            if bad is None:
                raise
            raise UsageError(f"{bad}: {describe_error(exc)}") from None
        reply.endpoint = alias
        if reply.latency is None:
            reply.latency = time.perf_counter() - started
        if reply.incomplete:
            self._record(alias, ep, reply, status="interrupted", chat=chat, started=started)
            return reply
        self._record(alias, ep, reply, status="ok", chat=chat, started=started)
        conv.system = system
        conv.messages += [user, reply.to_message()]
        conv.replies.append(reply)
        if chat is not None:
            self.chats[chat] = conv
        self.last[alias] = conv
        return reply

    def _bad_parameter(
        self, ep: Endpoint, messages: list[Message], system: str | None, params: dict[str, Any]
    ) -> str | None:
        """Which parameter breaks building the request (None when building it works).

        Building a request (`client.stream()` before iteration) sends nothing, so a TypeError or
        ValueError it raises is the caller's parameter, reported as a UsageError; anything else
        (a parsing bug after sending, say) is not ours to hide.
        """

        def builds(values: dict[str, Any]) -> bool:
            try:
                self.client.stream(ep, messages, system=system, **values)
            except CloudswayError:
                return True  # a clear error of its own, not the one being explained
            except (TypeError, ValueError):
                return False
            except Exception:
                return True  # another kind of error: not the one being explained
            return True

        if builds(params):
            return None
        for key, value in params.items():
            if not builds({key: value}):
                return f"parameter {key}={value!r} is not valid"
        return f"parameters {', '.join(sorted(params)) or '(none)'} are not valid together"

    def _conversation_for(self, alias: str, chat: str | None, continue_: bool, system: str | None) -> Conversation:
        """A copy of the conversation to continue (so a failed turn changes nothing), or a fresh one."""
        base: Conversation | None = None
        if chat is not None:
            base = self.chats.get(chat)
        elif continue_:
            base = self.last.get(alias)
        if base is None:
            return Conversation(alias, system)
        return Conversation(alias, base.system, list(base.messages), list(base.replies))

    def _stream(
        self,
        ep: Endpoint,
        messages: list[Message],
        system: str | None,
        params: dict[str, Any],
        on_event: Callable[[Event], None] | None,
        cancel: threading.Event | None,
    ) -> Reply:
        stream = self.client.stream(ep, messages, system=system, **params)
        events = iter(stream)
        try:
            for event in events:
                if cancel is not None and cancel.is_set():
                    raise KeyboardInterrupt
                if on_event is not None and not isinstance(event, Done):
                    on_event(event)
        except KeyboardInterrupt:
            events.close()  # type: ignore[attr-defined]  # runs the stream's cleanup: partial reply
            stream.close()
            reply = stream.reply or Reply(choices=[Choice()], protocol=ep.protocol)
            reply.incomplete = True
            return reply
        assert stream.reply is not None
        return stream.reply

    def ask_many(
        self,
        endpoints: Sequence[str],
        prompt: str,
        *,
        on_event: Callable[[str, Event], None] | None = None,
        cancel: threading.Event | None = None,
        max_workers: int | None = None,
        **kwargs: Any,
    ) -> dict[str, Reply | BaseException]:
        """Ask several endpoints at once (threads over the sync Client; safe in a running kernel).

        Returns alias -> Reply, or the exception that call raised. `on_event(alias, event)` is
        called from worker threads. Set `cancel` to stop every stream (partials are kept).

        Example:
            results = session.ask_many(["gpt", "claude"], "Name a prime")
            {alias: r.text for alias, r in results.items()}
        """
        aliases = list(dict.fromkeys(endpoints))
        for alias in aliases:
            self.resolve(alias)
        if kwargs.get("attachments"):  # converted once, here: a bad one fails before any thread starts
            kwargs["attachments"] = _attachments(kwargs["attachments"])
        cancel = cancel or threading.Event()

        def run(alias: str) -> Reply:
            callback = (lambda ev: on_event(alias, ev)) if on_event is not None else None
            return self.ask(alias, prompt, on_event=callback, cancel=cancel, **kwargs)

        results: dict[str, Reply | BaseException] = {}
        with ThreadPoolExecutor(max_workers=max_workers or len(aliases) or 1, thread_name_prefix="cloudsway") as pool:
            futures = {alias: pool.submit(run, alias) for alias in aliases}
            try:
                for alias, future in futures.items():
                    try:
                        results[alias] = future.result()
                    except Exception as exc:
                        results[alias] = exc
            except KeyboardInterrupt:
                cancel.set()
                for alias, future in futures.items():
                    if alias not in results:
                        try:
                            results[alias] = future.result()
                        except Exception as exc:
                            results[alias] = exc
        return results

    def embed(self, endpoint: str | None, texts: str | Sequence[str], **params: Any) -> Any:
        """Embed texts through an embeddings endpoint; recorded in the ledger like any call.

        Example:
            session.embed("e5", ["a cat", "a dog"]).dimensions
        """
        alias, ep = self.resolve(endpoint)
        started = time.perf_counter()
        try:
            result = self.client.embed(alias, texts, **params)
        except APIError as exc:
            self._record(alias, ep, None, status="error", error=exc, chat=None, started=started)
            raise
        entry = LedgerEntry(
            endpoint=alias, protocol=ep.protocol, model=result.model or ep.model, status="ok",
            latency=result.latency, **_usage_counts(result.usage),
        )
        self._append(entry)
        return result

    # -- the ledger ----------------------------------------------------------------------------------

    def _record(
        self,
        alias: str,
        ep: Endpoint,
        reply: Reply | None,
        *,
        status: str,
        chat: str | None,
        started: float,
        error: APIError | None = None,
    ) -> None:
        usage = reply.usage if reply is not None else Usage()
        latency = reply.latency if reply is not None and reply.latency is not None else time.perf_counter() - started
        entry = LedgerEntry(
            endpoint=alias,
            protocol=ep.protocol,
            model=(reply.model if reply is not None and reply.model else ep.model),
            status=status,
            latency=latency,
            ttft=reply.ttft if reply is not None else None,
            finish_reason=reply.finish_reason if reply is not None else None,
            error=self.client.redact(describe_error(error)) if error is not None else None,
            request_id=error.request_id if error is not None else None,
            chat=chat,
            response_id=reply.id if reply is not None else None,
            **_usage_counts(usage),
        )
        self._append(entry)

    def _append(self, entry: LedgerEntry) -> None:
        with self._lock:
            self.ledger.append(entry)

    def usage_totals(self) -> dict[str, Usage]:
        """Summed usage per endpoint over the ledger.

        Example:
            session.usage_totals()["gpt"].total
        """
        totals: dict[str, Usage] = {}
        for e in self.ledger:
            u = Usage(input=e.input, output=e.output, reasoning=e.reasoning, cached=e.cached, total=e.total)
            totals[e.endpoint] = totals[e.endpoint] + u if e.endpoint in totals else u
        return totals

    def __repr__(self) -> str:
        base = self._client.base_url if self._client is not None else "(client not created yet)"
        return (
            f"Session(base_url={base!r}, default_endpoint={self.default_endpoint!r}, "
            f"calls={len(self.ledger)}, conversations={len(self.last) + len(self.chats)})"
        )


def _attachments(items: Iterable[Any]) -> list[Attachment]:
    """Attachments as Client.chat takes them: paths, URLs, bytes, images... through media.attach()."""
    items = list(items)
    if all(isinstance(item, Attachment) for item in items):
        return items
    from .media import attach  # lazy, as in the client: media pulls in more than a session needs

    return [item if isinstance(item, Attachment) else attach(item) for item in items]


def _usage_counts(usage: Usage) -> dict[str, int | None]:
    return {
        "input": usage.input,
        "output": usage.output,
        "reasoning": usage.reasoning,
        "cached": usage.cached,
        "total": usage.total,
    }
