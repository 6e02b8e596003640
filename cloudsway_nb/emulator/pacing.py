"""Stream pacing: delay per token chunk, first-token latency and keep-alive interval.

Start-up options give the defaults; a request may override them with headers (milliseconds):
``x-emulator-chunk-delay-ms``, ``x-emulator-first-token-ms``, ``x-emulator-keepalive-ms``.

Example:
    >>> from cloudsway_nb.emulator.options import EmulatorOptions
    >>> p = Pacing.from_request(EmulatorOptions(chunk_delay=0.01), {"x-emulator-first-token-ms": "250"})
    >>> p.chunk_delay, p.first_token_delay
    (0.01, 0.25)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .options import EmulatorOptions

__all__ = ["CHUNK_DELAY_HEADER", "FIRST_TOKEN_HEADER", "KEEPALIVE_HEADER", "Pacing"]

CHUNK_DELAY_HEADER = "x-emulator-chunk-delay-ms"
FIRST_TOKEN_HEADER = "x-emulator-first-token-ms"
KEEPALIVE_HEADER = "x-emulator-keepalive-ms"


@dataclass(frozen=True)
class Pacing:
    """Seconds to wait: between chunks, before the first token, between keep-alives.

    Example:
        >>> Pacing(0.0, 0.0, 5.0).keepalive_interval
        5.0
    """

    chunk_delay: float
    first_token_delay: float
    keepalive_interval: float

    @classmethod
    def from_request(cls, options: EmulatorOptions, headers: Mapping[str, str]) -> Pacing:
        """Options overridden by the request's ``x-emulator-*-ms`` headers; raises ``ValueError``."""

        def read(name: str, default: float) -> float:
            raw = headers.get(name)
            if raw is None:
                return default
            try:
                value = float(raw) / 1000.0
            except ValueError:
                raise ValueError(f"header {name} must be a number of milliseconds, got {raw!r}") from None
            if value < 0 or value > 600:
                raise ValueError(f"header {name} must lie between 0 and 600000 ms, got {raw!r}")
            return value

        return cls(
            chunk_delay=read(CHUNK_DELAY_HEADER, options.chunk_delay),
            first_token_delay=read(FIRST_TOKEN_HEADER, options.first_token_delay),
            keepalive_interval=max(0.01, read(KEEPALIVE_HEADER, options.keepalive_interval)),
        )
