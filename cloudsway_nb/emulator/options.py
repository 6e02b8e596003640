"""Start-up options of the emulator, in one frozen value.

Every option can also be given on the command line (see :mod:`cloudsway_nb.emulator.cli`);
pacing and faults can be overridden per request with ``x-emulator-*`` headers
(see :mod:`cloudsway_nb.emulator.faults` and :mod:`cloudsway_nb.emulator.pacing`).

Example:
    >>> from cloudsway_nb.emulator.options import EmulatorOptions
    >>> EmulatorOptions(chunk_delay=0.01).with_changes(port=0).chunk_delay
    0.01
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

__all__ = ["DEFAULT_MAX_BODY", "EmulatorOptions"]

#: Largest request body accepted before a 413 (64 MiB).
DEFAULT_MAX_BODY = 64 * 1024 * 1024


@dataclass(frozen=True)
class EmulatorOptions:
    """How the emulator behaves; all fields have fast, test-friendly defaults.

    Attributes:
        host: interface the server binds to (only used when served on a port).
        port: TCP port; 0 picks a free one.
        api_key: when set, only this key is accepted; otherwise any non-empty key is.
        fault: fault kinds applied to requests (``"429"``, ``"drop:3"``, ...); several may be
            given comma-separated, in which case a random one is drawn per faulty request.
        fault_rate: probability that a request gets a fault; ``None`` means 1.0 when
            ``fault`` is set (every request) and 0 otherwise.
        seed: seed of the fault RNG, so a chaos run is reproducible.
        chunk_delay: seconds between two streamed tokens.
        first_token_delay: seconds before the first streamed token.
        keepalive_interval: seconds between keep-alive comments / pings while waiting.
        max_body: largest accepted request body in bytes (413 above).
        background_queued: seconds a background response stays ``queued``.
        background_running: seconds it then stays ``in_progress`` before it completes.
        store_size: how many responses the in-memory store keeps (oldest dropped first).
        version: the version string reported by the health route.

    Example:
        >>> EmulatorOptions(api_key="secret").api_key
        'secret'
    """

    host: str = "127.0.0.1"
    port: int = 0
    api_key: str | None = None
    fault: str | None = None
    fault_rate: float | None = None
    seed: int = 0
    chunk_delay: float = 0.0
    first_token_delay: float = 0.0
    keepalive_interval: float = 5.0
    max_body: int = DEFAULT_MAX_BODY
    background_queued: float = 0.05
    background_running: float = 0.1
    store_size: int = 1000
    version: str = "0.1.0"

    def with_changes(self, **changes: Any) -> EmulatorOptions:
        """Return a copy with some fields replaced.

        Example:
            >>> EmulatorOptions().with_changes(seed=7).seed
            7
        """
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_kwargs(cls, **kwargs: Any) -> EmulatorOptions:
        """Build options from keyword arguments, rejecting unknown names with a clear message.

        Example:
            >>> EmulatorOptions.from_kwargs(chunk_delay=0.5).chunk_delay
            0.5
        """
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(kwargs) - names)
        if unknown:
            raise TypeError(
                f"unknown emulator option(s): {', '.join(unknown)}; known: {', '.join(sorted(names))}"
            )
        return cls(**kwargs)
