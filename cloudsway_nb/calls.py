"""`ClientCore`: everything `Client` and `AsyncClient` share that is not I/O.

Configuration (base URL, key, timeouts, retries: each checked where it is read), the endpoint
registry, and turning a call into a `PreparedCall`: the alias resolved, the prompt made into
messages, the options checked and split off, the adapter's `HttpRequest` and the transport
request built. The flows in `flows` run a PreparedCall; the two clients only drive them.

Example:
    >>> core = ClientCore(base_url="http://127.0.0.1:8000", api_key="sk-test", endpoints={})
    >>> core.add_endpoint("gpt", path="MaaS-gpt4o", protocol="chat")
    Endpoint('MaaS-gpt4o', 'chat')
    >>> core.prepare_chat("gpt", "Hi", system=None, attachments=None, tools=None, stream=False,
    ...                   params={"timeout": "30"})
    Traceback (most recent call last):
    ...
    cloudsway_nb.errors.UsageError: timeout='30' (str) is not valid: it takes a positive number of seconds, \
or None for no limit; e.g. timeout=30
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import transport
from .config import (
    Endpoint,
    Secret,
    check_alias,
    check_endpoints,
    config_path,
    load_endpoints,
    mask_key,
    resolve_api_key,
    resolve_base_url,
    save_endpoints,
)
from .errors import APIStatusError, ConfigError, UsageError, bad_argument, redact
from .options import check_reasoning, check_retries, check_timeout, split_call_options
from .prompts import attachment_list, prompt_messages, tool_list, with_attachments
from .protocols import get_adapter
from .protocols.base import CallSpec, HttpRequest, ProtocolAdapter
from .retry import RetryPolicy
from .types import Attachment, Message

__all__ = ["ClientCore", "EndpointRef", "PreparedCall", "Prompt"]

Prompt = str | Message | Sequence[Message | dict[str, Any] | str]
EndpointRef = str | Endpoint


@dataclass(slots=True)
class PreparedCall:
    """One call, ready to send: what the flows in `flows` need, and nothing they must compute."""

    core: ClientCore
    alias: str
    endpoint: Endpoint
    adapter: Any  # a ProtocolAdapter with the capabilities the call needs
    http: HttpRequest
    request: Any  # the transport request built from `http`
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def policy(self) -> RetryPolicy:
        return self.core.policy_for(self.options)

    @property
    def waits(self) -> bool:
        """Whether this is a background response to poll until done."""
        return bool(self.http.json and self.http.json.get("background")) and self.options.get("wait", True)

    def clock(self) -> float:
        return self.core.clock()

    def redact(self, text: str) -> str:
        return self.core.redact(text)

    def followup(self, response_id: str) -> PreparedCall:
        """The call that fetches this background response again (same options)."""
        return self.core.prepare_followup(self.endpoint, response_id, "retrieve", self.options)

    def error_from_response(self, response: Any) -> APIStatusError:
        return transport.error_from_response(response, secrets=self.core.secrets)


def _is_system(system: Any) -> bool:
    if isinstance(system, str):
        return True
    return isinstance(system, list) and all(isinstance(b, dict) and isinstance(b.get("text"), str) for b in system)


class ClientCore:
    """What Client and AsyncClient share: configuration, the endpoint registry, building calls.

    Every argument is checked here, where it is read: a bad one is a UsageError/ConfigError that
    names it, its type and the fix. The key is wrapped in a masked `Secret` first thing.
    """

    def __init__(
        self,
        base_url: str | None = None,
        api_key: str | None = None,
        endpoints: Mapping[str, Endpoint] | None = None,
        *,
        timeout: float | None = 600.0,
        connect_timeout: float | None = 5.0,
        max_retries: int = 2,
        retry: RetryPolicy | None = None,
        headers: Mapping[str, str] | None = None,
        config_file: str | Path | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        api_key = Secret.wrap(api_key)  # first thing: no frame of ours holds the key bare
        self._api_key = resolve_api_key(api_key)
        self.key_source = None if self._api_key is None else "the api_key argument" if api_key else "CLOUDSWAY_API_KEY"
        self.base_url = resolve_base_url(base_url)
        self.clock = clock
        if config_file is not None and not isinstance(config_file, str | Path):
            raise bad_argument("config_file", config_file, "the registry's path", "config_file='endpoints.toml'",
                               cls=ConfigError)
        self._config_file = Path(config_file).expanduser() if config_file is not None else None
        self.endpoints: dict[str, Endpoint] = (
            check_endpoints(endpoints) if endpoints is not None else load_endpoints(self._config_file)
        )
        self.timeout = check_timeout(timeout)
        self.connect_timeout = check_timeout(connect_timeout, "connect_timeout")
        if retry is not None and not isinstance(retry, RetryPolicy):
            raise bad_argument("retry", retry, "a RetryPolicy", "retry=RetryPolicy(max_retries=5)")
        self.retry = retry if retry is not None else RetryPolicy(max_retries=check_retries(max_retries))
        if headers is not None and not isinstance(headers, Mapping):
            raise bad_argument("headers", headers, "a dict of header names to values", "headers={'x-trace': '1'}")
        self.extra_headers = {str(k): str(v) for k, v in (headers or {}).items()}
        for name, value in self.extra_headers.items():
            if not name.isascii() or not value.isascii() or any(not c.isprintable() for c in name + value):
                raise bad_argument(f"headers[{name!r}]", ..., "printable ASCII text (no newline)",
                                   "headers={'x-trace': '1'}")

    # -- configuration -------------------------------------------------------------------------

    @property
    def has_key(self) -> bool:
        """Whether a key is configured (the key itself is never exposed)."""
        return self._api_key is not None

    api_key_set = has_key

    def set_api_key(self, api_key: str | None, source: str = "set_api_key()") -> None:
        """Replace the key (e.g. after `%cloudsway login`, the `source` shown); None or "" removes it."""
        api_key = Secret.wrap(api_key)
        self._api_key = resolve_api_key(api_key) if api_key else None
        self.key_source = source if self._api_key is not None else None

    def add_endpoint(
        self, alias: str, *, path: str, protocol: str, model: str | None = None, **defaults: Any
    ) -> Endpoint:
        """Register (or replace) an alias for a deployment and return its Endpoint."""
        check_alias(alias)
        endpoint = Endpoint(path, protocol, model, **defaults)
        self.endpoints[alias] = endpoint
        return endpoint

    def remove_endpoint(self, alias: str) -> Endpoint:
        """Forget an alias; returns what it was."""
        self.resolve(alias)
        return self.endpoints.pop(alias)

    def save_endpoints(self, path: str | Path | None = None) -> Path:
        """Write the registry to its TOML file (never the key) and return the path."""
        return save_endpoints(self.endpoints, path if path is not None else self._config_file)

    def resolve(self, endpoint: EndpointRef) -> tuple[str, Endpoint]:
        """(alias, Endpoint) for an alias or an Endpoint; a ConfigError that says how to fix an unknown alias."""
        if isinstance(endpoint, Endpoint):
            return endpoint.path, endpoint
        if isinstance(endpoint, str) and endpoint in self.endpoints:
            return endpoint, self.endpoints[endpoint]
        if not isinstance(endpoint, str):
            raise bad_argument("endpoint", endpoint, "an endpoint alias (a string) or an Endpoint", "'gpt'")
        known = ", ".join(sorted(self.endpoints)) or "none yet"
        where = self._config_file or config_path()
        raise ConfigError(
            f"unknown endpoint {endpoint!r} (known: {known}); add it with %cloudsway add {endpoint} --path PATH "
            f"--protocol chat (in Python: add_endpoint({endpoint!r}, path=..., protocol=...)), in {where}, "
            "or try %cloudsway emulator start"
        )

    def redact(self, text: str) -> str:
        """`text` with this client's key scrubbed out (for messages built from what a server said)."""
        return redact(text, self.secrets)

    @property
    def masked_key(self) -> str:
        """The key as it may be shown: whether it is set and where it came from, never any of it."""
        shown = mask_key(self._api_key)
        return f"{shown} (from {self.key_source})" if self._api_key is not None and self.key_source else shown

    @property
    def secrets(self) -> tuple[str, ...]:
        return (self._api_key,) if self._api_key else ()

    def __repr__(self) -> str:
        key = "'****'" if self._api_key else "None"
        return f"{type(self).__name__}(base_url={self.base_url!r}, api_key={key}, endpoints={sorted(self.endpoints)!r})"

    # -- building calls (pure but for the transport request) -----------------------------------

    def policy_for(self, options: Mapping[str, Any]) -> RetryPolicy:
        policy = options.get("retry") or self.retry
        retries = options.get("max_retries")
        return policy if retries is None else policy.with_(max_retries=retries)

    def _auth_headers(self) -> dict[str, str]:
        if self._api_key is None:
            raise ConfigError(
                "no API key: run %cloudsway login, set CLOUDSWAY_API_KEY, pass Client(api_key=...), "
                "or try %cloudsway emulator start"
            )
        return {"authorization": self._api_key.bearer(), **self.extra_headers}

    def _build(self, http: HttpRequest, options: dict[str, Any]) -> Any:
        timeout = None  # the client's own, set on its httpx client
        if "timeout" in options or "connect_timeout" in options:
            timeout = transport.timeout_of(
                options.get("timeout", self.timeout), options.get("connect_timeout", self.connect_timeout)
            )
        http_client = self._http  # type: ignore[attr-defined]  # set by Client / AsyncClient
        return transport.build_request(http_client, self.base_url, http, self._auth_headers(), timeout)

    def _adapter(self, alias: str, endpoint: Endpoint, capability: str, hint: str) -> ProtocolAdapter:
        adapter = get_adapter(endpoint.protocol)
        if not adapter.can(capability):
            raise UsageError(f"endpoint {alias!r} speaks {endpoint.protocol}, which cannot {hint}")
        return adapter

    def prepare_chat(
        self, endpoint: EndpointRef, prompt: Any, *, system: Any, attachments: Any, tools: Any, stream: bool,
        params: dict[str, Any],
    ) -> PreparedCall:
        alias, ep = self.resolve(endpoint)
        if ep.protocol == "embeddings":
            raise UsageError(f"endpoint {alias!r} serves embeddings; use embed({alias!r}, texts)")
        adapter = self._adapter(alias, ep, "chat", "chat")
        if system is not None and not _is_system(system):
            raise bad_argument("system", system, "the system prompt: a string, or a list of text blocks "
                               "({'type': 'text', 'text': ...}, maybe with cache_control)", "system='Be brief.'")
        options, merged = split_call_options({**ep.defaults, **params})  # a registry's timeout applies too
        if "reasoning" in merged:
            merged["reasoning"] = check_reasoning(merged["reasoning"])
        if merged.get("background") and not adapter.can("background"):
            raise UsageError(f"background=True needs a responses endpoint; {alias!r} speaks {ep.protocol}")
        call = CallSpec(
            messages=with_attachments(prompt_messages(prompt), attachment_list(attachments)),
            endpoint_path=ep.path,
            model=merged.pop("model", ep.model),
            system=system,
            tools=tool_list(tools),
            params=merged,
            stream=stream,
        )
        try:
            http = adapter.build_request(call)  # type: ignore[attr-defined]
        except (TypeError, ValueError) as exc:
            if isinstance(exc, UsageError):
                raise
            names = ", ".join(sorted(params)) or "(none)"
            raise UsageError(
                f"the parameters ({names}) do not make a {ep.protocol} request: {type(exc).__name__}: {exc}"
            ) from None
        # only attachments put media Payloads in a body: skip the search for them otherwise
        http.may_hold_payloads = any(
            not isinstance(m.content, str) and any(isinstance(p, Attachment) for p in m.content)
            for m in call.messages
        )
        return PreparedCall(self, alias, ep, adapter, http, self._build(http, options), options)

    def prepare_embed(self, endpoint: EndpointRef, texts: Any, params: dict[str, Any]) -> PreparedCall:
        alias, ep = self.resolve(endpoint)
        adapter = self._adapter(alias, ep, "embeddings", "embed texts")
        if not isinstance(texts, str) and not (
            isinstance(texts, Sequence) and all(isinstance(t, str) for t in texts)
        ):
            raise bad_argument("texts", texts, "a string or a list of strings", f"embed({alias!r}, ['a cat', 'a dog'])")
        options, merged = split_call_options({**ep.defaults, **params})
        model = merged.pop("model", ep.model)
        http = adapter.build_embed_request(ep.path, texts, model, merged)  # type: ignore[attr-defined]
        return PreparedCall(self, alias, ep, adapter, http, self._build(http, options), options)

    def prepare_followup(
        self, endpoint: EndpointRef, response_id: Any, action: str, options: Mapping[str, Any] | None = None
    ) -> PreparedCall:
        alias, ep = self.resolve(endpoint)
        adapter = self._adapter(alias, ep, "background", f"{action} stored responses (a responses endpoint can)")
        if not isinstance(response_id, str) or not response_id.strip():
            raise bad_argument("response_id", response_id, "the id of a Responses API response (a string)",
                               f"{action}({alias!r}, 'resp_123')")
        if action == "cancel":
            http = adapter.build_cancel(ep.path, response_id)  # type: ignore[attr-defined]
        else:
            http = adapter.build_retrieve(ep.path, response_id)  # type: ignore[attr-defined]
        checked, _ = split_call_options(dict(options or {}))
        return PreparedCall(self, alias, ep, adapter, http, self._build(http, checked), checked)
