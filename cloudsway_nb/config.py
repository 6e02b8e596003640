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

from .errors import ConfigError
from .types import PROTOCOLS

__all__ = [
    "DEFAULT_BASE_URL",
    "Endpoint",
    "config_path",
    "load_endpoints",
    "mask_key",
    "resolve_api_key",
    "resolve_base_url",
    "save_endpoints",
]

DEFAULT_BASE_URL = "https://genaiapi.cloudsway.net"
_SECRET_WORDS = ("api_key", "apikey", "api-key", "secret", "password", "token_key", "authorization")


class Endpoint:
    """A deployment: its `endpointPath`, its wire protocol, an optional model name, default params.

    A plain value: equal when all four are equal; `defaults` apply to every call unless the call
    overrides them (a call may pass `None` to drop one).
    """

    __slots__ = ("defaults", "model", "path", "protocol")

    def __init__(self, path: str, protocol: str, model: str | None = None, **defaults: Any) -> None:
        if not isinstance(path, str) or not path.strip("/ "):
            raise ConfigError(f"an endpoint needs its endpointPath as a non-empty string, got {path!r}")
        if protocol not in PROTOCOLS:
            raise ConfigError(f"unknown protocol {protocol!r} for endpoint {path!r}; use one of {', '.join(PROTOCOLS)}")
        for key in defaults:
            if any(word in key.lower() for word in _SECRET_WORDS):
                raise ConfigError(f"endpoint defaults cannot hold secrets ({key!r}); set CLOUDSWAY_API_KEY instead")
        self.path = path.strip("/ ")
        self.protocol = protocol
        self.model = model
        self.defaults: dict[str, Any] = dict(defaults)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Endpoint):
            return NotImplemented
        return (self.path, self.protocol, self.model, self.defaults) == (
            other.path,
            other.protocol,
            other.model,
            other.defaults,
        )

    def __hash__(self) -> int:
        return hash((self.path, self.protocol, self.model))

    def __repr__(self) -> str:
        extra = "".join(f", {k}={v!r}" for k, v in self.defaults.items())
        model = f", model={self.model!r}" if self.model is not None else ""
        return f"Endpoint({self.path!r}, {self.protocol!r}{model}{extra})"

    def to_dict(self) -> dict[str, Any]:
        """The TOML table for this endpoint."""
        out: dict[str, Any] = {"path": self.path, "protocol": self.protocol}
        if self.model is not None:
            out["model"] = self.model
        if self.defaults:
            out["defaults"] = dict(self.defaults)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, alias: str = "?") -> Endpoint:
        """An Endpoint from a TOML table; unknown keys are an error naming the alias."""
        unknown = set(data) - {"path", "protocol", "model", "defaults"}
        if unknown:
            raise ConfigError(
                f"endpoint {alias!r}: unknown keys {sorted(unknown)}; use path, protocol, model, defaults"
            )
        if "path" not in data or "protocol" not in data:
            raise ConfigError(f"endpoint {alias!r} needs both 'path' and 'protocol'")
        return cls(data["path"], data["protocol"], data.get("model"), **dict(data.get("defaults") or {}))


def resolve_base_url(base_url: str | None = None) -> str:
    """The argument, else `CLOUDSWAY_BASE_URL`, else the public gateway; without a trailing slash."""
    url = base_url or os.environ.get("CLOUDSWAY_BASE_URL") or DEFAULT_BASE_URL
    if not url.startswith(("http://", "https://")):
        raise ConfigError(f"base URL {url!r} must start with http:// or https://")
    return url.rstrip("/")


def resolve_api_key(api_key: str | None = None) -> str | None:
    """The argument, else `CLOUDSWAY_API_KEY` (None when neither is set)."""
    key = api_key if api_key is not None else os.environ.get("CLOUDSWAY_API_KEY")
    return key.strip() if key and key.strip() else None


def mask_key(key: str | None) -> str:
    """A key as it may be shown: its length and at most its last 2 characters.

    Example:
        >>> mask_key("sk-0123456789abcdef")
        '****ef (19 chars)'
        >>> mask_key(None)
        '(not set)'
    """
    if not key:
        return "(not set)"
    tail = key[-2:] if len(key) >= 16 else ""
    return f"****{tail} ({len(key)} chars)"


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
