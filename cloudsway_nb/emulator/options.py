"""Start-up options of the emulator, in one frozen value.

Every option can also be given on the command line (see :mod:`cloudsway_nb.emulator.cli`);
pacing and faults can be overridden per request with ``x-emulator-*`` headers
(see :mod:`cloudsway_nb.emulator.faults` and :mod:`cloudsway_nb.emulator.pacing`).

Pacing presets: ``pacing="realistic"`` (:data:`PACING_PRESETS`: a first token after 0.3 s, then
40 tokens a second) or ``pacing="none"`` (no delay) fill ``chunk_delay`` and
``first_token_delay`` unless those are given too. The options themselves default to no delay (what
:func:`~.app.create_app` and the test helpers use); the bundled emulator as a user starts it
(:class:`~.server.EmulatorServer`, ``cloudsway-nb emulator``, ``cloudsway-nb demo``) defaults to
:func:`bundled_pacing`: ``realistic``, or what ``$CLOUDSWAY_EMULATOR_PACING`` names (the test
suite sets it to ``none``).

Example:
    >>> from cloudsway_nb.emulator.options import EmulatorOptions
    >>> EmulatorOptions(chunk_delay=0.01).with_changes(port=0).chunk_delay
    0.01
    >>> o = EmulatorOptions.from_kwargs(pacing="realistic", chunk_delay=0.05)
    >>> o.first_token_delay, o.chunk_delay
    (0.3, 0.05)
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["DEFAULT_MAX_BODY", "PACING_ENV", "PACING_PRESETS", "EmulatorOptions", "bundled_pacing", "pacing_preset"]

#: Largest request body accepted before a 413 (64 MiB).
DEFAULT_MAX_BODY = 64 * 1024 * 1024

#: Named pacings: ``(chunk_delay, first_token_delay)`` in seconds.
PACING_PRESETS: Mapping[str, tuple[float, float]] = {"none": (0.0, 0.0), "realistic": (0.025, 0.3)}

#: The environment variable that names the bundled emulator's default pacing.
PACING_ENV = "CLOUDSWAY_EMULATOR_PACING"


def pacing_preset(name: str) -> tuple[float, float]:
    """``(chunk_delay, first_token_delay)`` of a named pacing; ``ValueError`` for an unknown name.

    Example:
        >>> pacing_preset("realistic")
        (0.025, 0.3)
        >>> pacing_preset("fast")
        Traceback (most recent call last):
        ...
        ValueError: unknown pacing 'fast'; known: none, realistic
    """
    try:
        return PACING_PRESETS[str(name).strip().lower()]
    except KeyError:
        raise ValueError(f"unknown pacing {name!r}; known: {', '.join(PACING_PRESETS)}") from None


def bundled_pacing(environ: Mapping[str, str] | None = None) -> str:
    """The pacing the bundled emulator starts with: ``$CLOUDSWAY_EMULATOR_PACING``, else ``realistic``.

    Example:
        >>> bundled_pacing({}), bundled_pacing({"CLOUDSWAY_EMULATOR_PACING": "none"})
        ('realistic', 'none')
    """
    value = (os.environ if environ is None else environ).get(PACING_ENV, "").strip().lower()
    return value or "realistic"


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
        fault_match: apply the start-up faults only to requests whose body holds this text (a
            batch test fails one row and lets the others through).
        fault_times: apply them at most this many times (then the requests pass), as a
            transient 429 does; ``None`` means no limit.
        latency: seconds every reply (errors included) waits before it is sent: the network and
            queueing a real gateway adds, independent of the reply's length.
        chunk_delay: seconds between two generated tokens (streamed, or waited for in full before
            a non-streamed reply is sent).
        first_token_delay: seconds before the first token (a stream's first token, or added
            once before a non-streamed reply).
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
    fault_match: str | None = None
    fault_times: int | None = None
    latency: float = 0.0
    chunk_delay: float = 0.0
    first_token_delay: float = 0.0
    keepalive_interval: float = 5.0
    max_body: int = DEFAULT_MAX_BODY
    background_queued: float = 0.05
    background_running: float = 0.1
    store_size: int = 1000
    version: str = "0.1.0"

    def with_changes(self, **changes: Any) -> EmulatorOptions:
        """Return a copy with some fields replaced (``pacing=NAME`` replaces both delays).

        Example:
            >>> EmulatorOptions().with_changes(seed=7).seed
            7
            >>> EmulatorOptions().with_changes(pacing="realistic").first_token_delay
            0.3
        """
        return dataclasses.replace(self, **self._checked(changes))

    @classmethod
    def from_kwargs(cls, **kwargs: Any) -> EmulatorOptions:
        """Build options from keyword arguments, rejecting unknown names with a clear message.

        ``pacing`` (a name in :data:`PACING_PRESETS`) sets ``chunk_delay`` and
        ``first_token_delay`` where they are not given themselves.

        Example:
            >>> EmulatorOptions.from_kwargs(chunk_delay=0.5).chunk_delay
            0.5
        """
        return cls(**cls._checked(kwargs))

    @classmethod
    def _checked(cls, kwargs: dict[str, Any]) -> dict[str, Any]:
        """The keyword arguments with ``pacing`` expanded; a ``TypeError`` names unknown ones."""
        kwargs = dict(kwargs)
        pacing = kwargs.pop("pacing", None)
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(kwargs) - names)
        if unknown:
            known = ", ".join(sorted([*names, "pacing"]))
            raise TypeError(f"unknown emulator option(s): {', '.join(unknown)}; known: {known}")
        if pacing is not None:
            chunk, first = pacing_preset(pacing)
            if kwargs.get("chunk_delay") is None:
                kwargs["chunk_delay"] = chunk
            if kwargs.get("first_token_delay") is None:
                kwargs["first_token_delay"] = first
        for name in ("chunk_delay", "first_token_delay"):
            if name in kwargs and kwargs[name] is None:
                del kwargs[name]
        return kwargs
