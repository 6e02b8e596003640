"""Which gateway a Session talks to: the configured one, or the bundled emulator it starts.

`Gateway` owns the session's `Client` (made from the environment on first use) and, when asked,
an `EmulatorServer` on a free loopback port with the emulator's endpoint preset
(`config.EMULATOR_ENDPOINTS`). `connect()` picks between them the way `%cloudsway connect` does.

Example:
    >>> gateway = Gateway()
    >>> url = gateway.use_emulator()
    >>> gateway.on_emulator, sorted(gateway.client.endpoints)[:3]
    (True, ['claude', 'deepseek', 'e5'])
    >>> gateway.close()
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from .config import EMULATOR_KEY, emulator_endpoints, resolve_base_url

if TYPE_CHECKING:
    from .client import Client

__all__ = ["EMULATOR_NAME", "Gateway", "is_bundled_emulator"]

EMULATOR_NAME = "cloudsway-nb emulator"
"""What the bundled emulator's `GET /health` answers as its name."""

EMULATOR_KEY_SOURCE = "the emulator, a dummy one: no real key needed"


def is_bundled_emulator(base_url: str) -> bool:
    """Whether `base_url` is the bundled emulator: its `GET /health` (no key sent) names it.

    Only plain-http URLs are asked (the emulator serves no TLS), with a short timeout, so a real
    https gateway is never contacted.

    Example:
        >>> is_bundled_emulator("https://genaiapi.cloudsway.net")
        False
    """
    from .transport import probe_health

    health = probe_health(base_url)
    return health is not None and health.get("name") == EMULATOR_NAME


def _key_in_environment() -> bool:
    return bool((os.environ.get("CLOUDSWAY_API_KEY") or "").strip())


class Gateway:
    """The session's Client, and the emulator when one is running for it.

    Args:
        client: the Client to use; by default one is made from the environment on first use.
    """

    def __init__(self, client: Client | None = None) -> None:
        self._client = client
        self._emulator: Any = None
        self._client_before_emulator: Client | None = None

    @property
    def client(self) -> Client:
        """The Client (created from the environment on first use)."""
        if self._client is None:
            self._client = self._from_environment()
        return self._client

    def _from_environment(self) -> Client:
        """A Client from the environment as it is now; at an emulator (any bundled one, wherever it
        was started) it needs no key from the user, and its preset stands in for a missing registry."""
        from .client import Client

        client = Client()
        if (not client.has_key or not client.endpoints) and is_bundled_emulator(client.base_url):
            if not client.has_key:
                client.set_api_key(EMULATOR_KEY, EMULATOR_KEY_SOURCE)
            if not client.endpoints:
                for alias, endpoint in emulator_endpoints().items():
                    client.endpoints[alias] = endpoint
        return client

    @property
    def client_made(self) -> bool:
        return self._client is not None

    @property
    def emulator_url(self) -> str | None:
        """The base URL of the emulator this session runs (None when it runs none)."""
        return self._emulator.base_url if self._emulator is not None else None

    @property
    def on_emulator(self) -> bool:
        """Whether calls go to the bundled emulator: one this session runs, or one configured
        through `CLOUDSWAY_BASE_URL` (recognised by its `/health` reply)."""
        return self._emulator is not None or is_bundled_emulator(self.client.base_url)

    def use_emulator(self, **options: Any) -> str:
        """Start the bundled emulator on a free loopback port and point the client at it.

        The client gets the emulator preset's aliases and a dummy key; `stop_emulator()` brings
        the previous client back. Returns the base URL.
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
        self._client = Client(url, options.get("api_key") or EMULATOR_KEY, emulator_endpoints())
        self._client.key_source = EMULATOR_KEY_SOURCE
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

    def connect(self, *, emulator: bool | None = None) -> str:
        """Point at a gateway: the configured one, else a bundled emulator; returns the mode.

        With `CLOUDSWAY_BASE_URL` or `CLOUDSWAY_API_KEY` set (and `emulator` not True), or with
        `emulator=False`, any emulator this session runs is stopped and the Client comes from the
        environment as it is now (`CLOUDSWAY_BASE_URL`, `CLOUDSWAY_API_KEY`, `CLOUDSWAY_CONFIG`); an
        emulator found there needs no key and offers its preset when no registry is set.
        `emulator=False` always builds a new Client; `emulator=None` keeps the current one (with a
        key from `login()` and endpoints added since) while `CLOUDSWAY_BASE_URL` still names its
        gateway. With neither variable set (or with `emulator=True`) the bundled emulator is started.
        """
        configured = _key_in_environment() or bool((os.environ.get("CLOUDSWAY_BASE_URL") or "").strip())
        use_emulator = emulator if emulator is not None else not configured
        if use_emulator:
            self.use_emulator()
            return "emulator"
        was_running = self._emulator is not None
        self.stop_emulator()
        current = self._client
        if emulator is False or was_running or current is None or current.base_url != resolve_base_url():
            fresh = self._from_environment()
            if current is not None:
                current.close()
            self._client = fresh
        return "gateway"

    def close(self) -> None:
        """Stop the emulator (if any) and close the client."""
        self.stop_emulator()
        if self._client is not None:
            self._client.close()
