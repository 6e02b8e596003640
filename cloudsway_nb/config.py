"""Settings and the endpoint registry: which alias means which deployment, protocol and model.

The base URL comes from the argument, else `CLOUDSWAY_BASE_URL`, else the public gateway; the
key from the argument, else `CLOUDSWAY_API_KEY`. Endpoints live in a TOML file (path from
`CLOUDSWAY_CONFIG`, else `~/.config/cloudsway_nb/endpoints.toml`), which never holds a key:

    [endpoints.gpt]
    path = "MaaS-gpt4o"          # the deployment's endpointPath
    protocol = "chat"            # chat | responses | messages | gemini | embeddings
    model = "gpt-4o"             # optional
    [endpoints.gpt.defaults]     # optional default parameters
    temperature = 0.2

Example:
    >>> ep = Endpoint("MaaS-gpt4o", "chat", model="gpt-4o", temperature=0.2)
    >>> ep
    Endpoint('MaaS-gpt4o', 'chat', model='gpt-4o', temperature=0.2)
    >>> ep.defaults
    {'temperature': 0.2}
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .errors import ConfigError, bad_argument
from .types import PROTOCOLS

__all__ = [
    "DEFAULT_BASE_URL",
    "EMULATOR_ENDPOINTS",
    "EMULATOR_KEY",
    "Endpoint",
    "Prices",
    "Secret",
    "check_endpoints",
    "config_path",
    "emulator_endpoints",
    "load_endpoints",
    "mask_key",
    "resolve_api_key",
    "resolve_base_url",
    "save_endpoints",
]

DEFAULT_BASE_URL = "https://genaiapi.cloudsway.net"
_SECRET_WORDS = ("api_key", "apikey", "api-key", "secret", "password", "token_key", "authorization")


class Prices:
    """What an endpoint costs, in dollars per million tokens: `input`, `output`, and optionally
    `cached` (input read from a cache; default: the input price) and `reasoning` (output spent
    thinking; default: the output price).

    Example:
        >>> from cloudsway_nb.types import Usage
        >>> p = Prices(input=2.5, output=10, cached=1.25)
        >>> round(p.cost(Usage(input=1000, output=200, cached=400)), 6)
        0.004
        >>> p.cost(Usage(input=10)) is None            # a count the server did not report: no guess
        True
    """

    __slots__ = ("cached", "input", "output", "reasoning")

    def __init__(self, input: float, output: float, cached: float | None = None,
                 reasoning: float | None = None) -> None:
        for name, value in (("input", input), ("output", output), ("cached", cached), ("reasoning", reasoning)):
            if value is not None and (not isinstance(value, int | float) or isinstance(value, bool) or value < 0):
                raise bad_argument(f"prices[{name!r}]", value, "dollars per million tokens (a number, 0 or more)",
                                   "prices={'input': 2.5, 'output': 10}", cls=ConfigError)
        self.input, self.output = float(input), float(output)
        self.cached = float(cached) if cached is not None else self.input
        self.reasoning = float(reasoning) if reasoning is not None else self.output

    @classmethod
    def of(cls, value: Any) -> Prices | None:
        """Prices from a Prices, a dict (`{"input": 2.5, "output": 10}`) or None."""
        if value is None or isinstance(value, Prices):
            return value
        if not isinstance(value, Mapping) or not {"input", "output"} <= set(value) or set(value) - set(cls.__slots__):
            raise bad_argument("prices", value, "a dict with input and output (and maybe cached, reasoning), "
                               "in dollars per million tokens", "prices={'input': 2.5, 'output': 10}", cls=ConfigError)
        return cls(**value)

    def cost(self, usage: Any) -> float | None:
        """Dollars for a Usage; None when it lacks the input or output count."""
        if usage is None or usage.input is None or usage.output is None:
            return None
        cached, reasoning = usage.cached or 0, usage.reasoning or 0
        dollars = ((usage.input - cached) * self.input + cached * self.cached
                   + (usage.output - reasoning) * self.output + reasoning * self.reasoning)
        return dollars / 1_000_000

    def to_dict(self) -> dict[str, float]:
        return {"input": self.input, "output": self.output, "cached": self.cached, "reasoning": self.reasoning}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Prices) and self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash(tuple(self.to_dict().values()))

    def __repr__(self) -> str:
        return f"Prices(input={self.input:g}, output={self.output:g})"


class Endpoint:
    """A deployment: its `endpointPath`, its wire protocol, an optional model name, default params.

    A plain value: equal when all four are equal; `defaults` apply to every call unless the call
    overrides them (a call may pass `None` to drop one).
    """

    __slots__ = ("defaults", "model", "path", "prices", "protocol")

    def __init__(self, path: str, protocol: str, model: str | None = None, *, prices: Any = None,
                 **defaults: Any) -> None:
        if not isinstance(path, str) or not path.strip("/ ") or any(c.isspace() for c in path.strip("/ ")):
            raise bad_argument("path", path, "the deployment's endpointPath, a non-empty string "
                               "without spaces", "Endpoint('MaaS-gpt4o', 'chat')", cls=ConfigError)
        if not isinstance(protocol, str) or protocol not in PROTOCOLS:
            raise bad_argument("protocol", protocol, f"one of {', '.join(PROTOCOLS)}",
                               f"Endpoint({path!r}, 'chat')", cls=ConfigError)
        if model is not None and (not isinstance(model, str) or not model.strip()):
            raise bad_argument("model", model, "a model name (a non-empty string) or None",
                               f"Endpoint({path!r}, {protocol!r}, model='gpt-4o')", cls=ConfigError)
        for key in defaults:
            if any(word in key.lower() for word in _SECRET_WORDS):
                raise ConfigError(f"endpoint defaults cannot hold secrets ({key!r}); set CLOUDSWAY_API_KEY instead")
        self.path = path.strip("/ ")
        self.protocol = protocol
        self.model = model
        self.prices = Prices.of(prices)
        from .options import split_call_options  # call options among the defaults are checked here, once

        split_call_options(dict(defaults))
        self.defaults: dict[str, Any] = dict(defaults)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Endpoint):
            return NotImplemented
        return (self.path, self.protocol, self.model, self.defaults, self.prices) == (
            other.path,
            other.protocol,
            other.model,
            other.defaults,
            other.prices,
        )

    def __hash__(self) -> int:
        return hash((self.path, self.protocol, self.model))

    def __repr__(self) -> str:
        extra = "".join(f", {k}={v!r}" for k, v in self.defaults.items())
        model = f", model={self.model!r}" if self.model is not None else ""
        prices = f", prices={self.prices!r}" if self.prices is not None else ""
        return f"Endpoint({self.path!r}, {self.protocol!r}{model}{prices}{extra})"

    def to_dict(self) -> dict[str, Any]:
        """The TOML table for this endpoint."""
        out: dict[str, Any] = {"path": self.path, "protocol": self.protocol}
        if self.model is not None:
            out["model"] = self.model
        if self.defaults:
            out["defaults"] = dict(self.defaults)
        if self.prices is not None:
            out["prices"] = self.prices.to_dict()
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, alias: str = "?") -> Endpoint:
        """An Endpoint from a TOML table; unknown keys are an error naming the alias."""
        unknown = set(data) - {"path", "protocol", "model", "defaults", "prices"}
        if unknown:
            raise ConfigError(
                f"endpoint {alias!r}: unknown keys {sorted(unknown)}; use path, protocol, model, defaults, prices"
            )
        if "path" not in data or "protocol" not in data:
            raise ConfigError(f"endpoint {alias!r} needs both 'path' and 'protocol'")
        return cls(data["path"], data["protocol"], data.get("model"), prices=data.get("prices"),
                   **dict(data.get("defaults") or {}))


def resolve_base_url(base_url: str | None = None) -> str:
    """The argument, else `CLOUDSWAY_BASE_URL`, else the public gateway; checked, without a trailing slash.

    Example:
        >>> resolve_base_url("http://127.0.0.1:8000/")
        'http://127.0.0.1:8000'
        >>> resolve_base_url("http://127.0.0.1:notaport")
        Traceback (most recent call last):
        ...
        cloudsway_nb.errors.ConfigError: base URL 'http://127.0.0.1:notaport' has a port that is not a number; \
e.g. https://genaiapi.cloudsway.net or http://127.0.0.1:8000
    """
    if base_url is not None and not isinstance(base_url, str):
        raise bad_argument("base_url", base_url, "the gateway's URL as a string", "base_url='https://genaiapi.cloudsway.net'",
                           cls=ConfigError)
    from_env = not base_url and bool(os.environ.get("CLOUDSWAY_BASE_URL"))
    url = base_url or os.environ.get("CLOUDSWAY_BASE_URL") or DEFAULT_BASE_URL
    problem = _url_problem(url)
    if problem:
        where = " (from CLOUDSWAY_BASE_URL)" if from_env else ""
        raise ConfigError(f"base URL {url!r}{where} {problem}; e.g. {DEFAULT_BASE_URL} or http://127.0.0.1:8000")
    return url.rstrip("/")


def _url_problem(url: str) -> str | None:
    """What is wrong with a base URL, in a few words (None when it is fine)."""
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in url):
        return "contains whitespace or a control character (a stray newline?)"
    if not url.startswith(("http://", "https://")):
        return "must start with http:// or https://"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        return "has a port that is not a number"
    if not parts.hostname:
        return "has no host name"
    if parts.query or parts.fragment:
        return "must not hold a query or a fragment"
    return None


class Secret(str):
    """A string (the key, or a header holding it) whose repr is masked: verbose tracebacks,
    debuggers and reprs show `'****'`. The key is wrapped the moment it is read, so no frame
    of this package ever holds it bare.

    Example:
        >>> key = Secret("sk-0123456789")
        >>> key, [key], key == "sk-0123456789"
        ('****', ['****'], True)
        >>> key.bearer()
        '****'
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return "'****'"

    @classmethod
    def wrap(cls, value: Any) -> Any:
        """`value` as a Secret when it is a string; anything else unchanged (to be refused by its reader)."""
        return cls(value) if isinstance(value, str) and not isinstance(value, cls) else value

    def bearer(self) -> Secret:
        """The `Authorization` header value for this key, masked the same way."""
        return Secret("Bearer " + self)


def resolve_api_key(api_key: Secret | None = None) -> Secret | None:
    """The argument, else `CLOUDSWAY_API_KEY` (None when neither is set), stripped and checked.

    A key that is not a string, or holds whitespace or a control character inside, is refused with
    a ConfigError that never shows it (a header with a newline would be echoed by the HTTP library).

    Example:
        >>> resolve_api_key("  sk-abc  ")
        '****'
        >>> resolve_api_key("sk-a\\nb")
        Traceback (most recent call last):
        ...
        cloudsway_nb.errors.ConfigError: api_key holds whitespace or a control character inside (a pasted \
newline?); copy the key again
    """
    api_key = Secret.wrap(api_key)
    if api_key is not None and not isinstance(api_key, str):
        raise bad_argument(f"api_key ({type(api_key).__name__})", ..., "the key as a string",
                           "api_key=os.environ['CLOUDSWAY_API_KEY']", cls=ConfigError)
    key = Secret(Secret.wrap(api_key if api_key is not None else os.environ.get("CLOUDSWAY_API_KEY") or "").strip())
    if not key:
        return None
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in key):
        where = "api_key" if api_key is not None else "CLOUDSWAY_API_KEY"
        raise ConfigError(
            f"{where} holds whitespace or a control character inside (a pasted newline?); copy the key again"
        )
    if not key.isascii():  # an HTTP header is ASCII: httpx would fail deep inside, naming the character
        where = "api_key" if api_key is not None else "CLOUDSWAY_API_KEY"
        raise ConfigError(f"{where} holds a character that is not ASCII (a typographic quote or dash?); "
                          "copy the key again")
    return key


def mask_key(key: str | None) -> str:
    """A key as it may be shown: only whether it is set, never any of its characters.

    Example:
        >>> mask_key("sk-0123456789abcdef")
        'set'
        >>> mask_key(None)
        '(not set)'
    """
    return "set" if key else "(not set)"


def check_endpoints(endpoints: Any) -> dict[str, Endpoint]:
    """`endpoints=` as a registry (alias -> Endpoint), or a ConfigError saying what to pass.

    Example:
        >>> check_endpoints({"gpt": Endpoint("MaaS-gpt4o", "chat")})
        {'gpt': Endpoint('MaaS-gpt4o', 'chat')}
        >>> check_endpoints(["gpt"])
        Traceback (most recent call last):
        ...
        cloudsway_nb.errors.ConfigError: endpoints=['gpt'] (list) is not valid: it takes a dict of alias -> \
Endpoint; e.g. endpoints={'gpt': Endpoint('MaaS-gpt4o', 'chat')}
    """
    example = "endpoints={'gpt': Endpoint('MaaS-gpt4o', 'chat')}"
    if not isinstance(endpoints, Mapping):
        raise bad_argument("endpoints", endpoints, "a dict of alias -> Endpoint", example, cls=ConfigError)
    registry: dict[str, Endpoint] = {}
    for alias, endpoint in endpoints.items():
        check_alias(alias)
        if not isinstance(endpoint, Endpoint):
            raise bad_argument(f"endpoints[{alias!r}]", endpoint, "an Endpoint(path, protocol, model=...)",
                               example, cls=ConfigError)
        registry[alias] = endpoint
    return registry


def check_alias(alias: Any) -> str:
    """An endpoint alias: a non-empty word without spaces or commas (commas separate aliases in the magic)."""
    if not isinstance(alias, str) or not alias or any(c in alias for c in " ,\t\n") or not alias.isprintable():
        raise bad_argument("endpoint alias", alias, "a non-empty word without spaces or commas", "'gpt'",
                           cls=ConfigError)
    return alias


def config_path() -> Path:
    """Where the endpoint registry lives: `CLOUDSWAY_CONFIG`, else the per-user default."""
    explicit = os.environ.get("CLOUDSWAY_CONFIG")
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or "~/.config"
    return Path(base).expanduser() / "cloudsway_nb" / "endpoints.toml"


def load_endpoints(path: str | Path | None = None) -> dict[str, Endpoint]:
    """The registry from a TOML file; an empty registry when the file does not exist."""
    file = Path(path).expanduser() if path is not None else config_path()
    if not file.exists():
        return {}
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read endpoint registry {file}: {exc}") from None
    table = data.get("endpoints", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{file}: 'endpoints' must be a table of [endpoints.ALIAS] sections")
    return {alias: Endpoint.from_dict(spec, alias=alias) for alias, spec in table.items()}


def save_endpoints(endpoints: Mapping[str, Endpoint], path: str | Path | None = None) -> Path:
    """Write the registry as TOML (never a key) and return the file's path."""
    import tomli_w  # small, well-kept TOML writer; tomllib only reads

    file = Path(path).expanduser() if path is not None else config_path()
    file.parent.mkdir(parents=True, exist_ok=True)
    document = {"endpoints": {alias: ep.to_dict() for alias, ep in endpoints.items()}}
    file.write_text(tomli_w.dumps(document), encoding="utf-8")
    return file


EMULATOR_ENDPOINTS: dict[str, tuple[str, str, str | None]] = {
    "gpt": ("emulator-gpt", "chat", "gpt-4o"),
    "o3": ("emulator-o3", "responses", "o3"),
    "claude": ("emulator-claude", "messages", "claude-sonnet"),
    "gemini": ("emulator-gemini", "gemini", "gemini-2.5-flash"),
    "e5": ("emulator-e5", "embeddings", "e5"),
    "deepseek": ("emulator-deepseek", "chat", "deepseek-reasoner"),
}
"""The bundled emulator's preset: alias -> (endpointPath, protocol, model)."""

EMULATOR_KEY = "sk-emulator-dummy-key"
"""The key sent to an emulator (it checks that one is sent, never which)."""


def emulator_endpoints() -> dict[str, Endpoint]:
    """The emulator preset as a registry.

    Example:
        >>> emulator_endpoints()["claude"]
        Endpoint('emulator-claude', 'messages', model='claude-sonnet')
    """
    return {alias: Endpoint(path, proto, model) for alias, (path, proto, model) in EMULATOR_ENDPOINTS.items()}
