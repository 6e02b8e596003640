"""Fault injection: by start-up option or per request, reproducibly random with a seed.

A fault is written ``KIND`` or ``KIND:ARG``:

==================  =============================================  ==========================
kind                effect                                         ARG (default)
==================  =============================================  ==========================
``429``             429 in the protocol's error JSON, with         retry-after seconds (1)
                    ``retry-after`` and ``retry-after-ms``
``400``             400 in the protocol's error JSON (a request    --
                    the gateway refuses: never worth retrying)
``500`` ``503``     that status in the protocol's error JSON       --
``529``             529 (Anthropic's ``overloaded_error``)         --
``drop``            the connection is closed mid-stream (or        chunks before the drop (3)
                    mid-body) without a proper end
``error-event``     a protocol-correct error event mid-stream      chunks before it (3)
                    (a 500 reply when not streaming)
``slow-first-byte`` a delay before the response headers           milliseconds (1000)
``html``            a proxy's HTML error page (not JSON, no        the status (502)
                    request id), as one in front of a gateway
==================  =============================================  ==========================

Per request: header ``x-emulator-fault: KIND[:ARG]`` (``none`` disables start-up faults for
that request) and ``x-emulator-fault-after: N`` (chunks before ``drop`` / ``error-event``).
At start-up: ``fault="429,503"`` with ``fault_rate=0.2, seed=7`` draws, per request, whether a
fault happens and which one from a seeded RNG, so the sequence is the same on every run.
``match="TEXT"`` limits start-up faults to requests whose body holds TEXT, ``times=N`` to the first N.

Example:
    >>> parse_fault("429:2").retry_after
    2.0
    >>> parse_fault("drop").after
    3
    >>> planner = FaultPlanner(fault="500,503", fault_rate=0.5, seed=1)
    >>> [f.kind if f else None for f in (planner.decide({}) for _ in range(6))]
    ['500', '503', None, '503', None, '500']
"""

from __future__ import annotations

import random
import threading
from collections.abc import Mapping
from dataclasses import dataclass

from .errors import EmulatorError

__all__ = ["FAULT_AFTER_HEADER", "FAULT_HEADER", "FAULT_KINDS", "Fault", "FaultPlanner", "parse_fault"]

FAULT_KINDS: tuple[str, ...] = (
    "400", "429", "500", "503", "529", "drop", "error-event", "slow-first-byte", "html",
)
FAULT_HEADER = "x-emulator-fault"
FAULT_AFTER_HEADER = "x-emulator-fault-after"

_REASONS = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Temporarily Unavailable",
            504: "Gateway Time-out"}

_MESSAGES = {
    400: "Invalid request: the request was refused (emulated fault).",
    429: "Rate limit reached for requests (emulated fault). Please retry after {retry} seconds.",
    500: "The server had an error while processing your request (emulated fault).",
    503: "The service is temporarily unavailable (emulated fault).",
    529: "Overloaded (emulated fault).",
}


@dataclass(frozen=True)
class Fault:
    """One fault to apply to one request.

    Example:
        >>> Fault("503").status
        503
        >>> Fault("slow-first-byte", 250).delay
        0.25
    """

    kind: str
    arg: float | None = None

    @property
    def status(self) -> int | None:
        """The HTTP status for status faults, else None."""
        return int(self.kind) if self.kind.isdigit() else None

    @property
    def after(self) -> int:
        """Chunks sent before a ``drop`` or ``error-event``."""
        return int(self.arg) if self.arg is not None and self.kind in ("drop", "error-event") else 3

    @property
    def delay(self) -> float:
        """Seconds of delay for ``slow-first-byte``."""
        return (self.arg if self.arg is not None else 1000.0) / 1000.0

    @property
    def page_status(self) -> int:
        """The HTTP status of an ``html`` fault's page."""
        return int(self.arg) if self.arg is not None and self.kind == "html" else 502

    def page(self) -> bytes:
        """An ``html`` fault's body: the error page nginx sends when the upstream fails.

        Example:
            >>> b"<title>503 Service Temporarily Unavailable</title>" in Fault("html", 503).page()
            True
        """
        status = self.page_status
        title = f"{status} {_REASONS.get(status, 'Error')}"
        return (
            f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n<center><h1>{title}</h1></center>\r\n"
            "<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
            + "<!-- a padding to disable MSIE and Chrome friendly error page -->\r\n" * 6
        ).encode("ascii")

    @property
    def retry_after(self) -> float:
        """Seconds announced in ``retry-after`` for a 429."""
        return self.arg if self.arg is not None and self.kind == "429" else 1.0

    def error(self) -> EmulatorError:
        """The error reply of a status fault.

        Example:
            >>> Fault("429", 2).error().headers["retry-after"]
            '2'
        """
        status = self.status or 500
        headers: dict[str, str] = {}
        if status == 429:
            retry = self.retry_after
            shown = f"{retry:g}"
            headers = {
                "retry-after": str(max(0, round(retry))) if retry >= 1 or retry == 0 else shown,
                "retry-after-ms": str(int(retry * 1000)),
                "x-ratelimit-remaining-requests": "0",
            }
            message = _MESSAGES[429].format(retry=shown)
        else:
            message = _MESSAGES.get(status, _MESSAGES[500])
        return EmulatorError(status, message, headers=headers)


def parse_fault(spec: str) -> Fault:
    """Parse ``KIND[:ARG]``; raises ``ValueError`` naming the known kinds.

    Example:
        >>> parse_fault("error-event:5")
        Fault(kind='error-event', arg=5.0)
    """
    kind, _, arg = spec.strip().lower().partition(":")
    kind = {
        "error_event": "error-event",
        "slow": "slow-first-byte",
        "slow_first_byte": "slow-first-byte",
        "overloaded": "529",
        "rate-limit": "429",
    }.get(kind, kind)
    if kind not in FAULT_KINDS:
        raise ValueError(f"unknown fault kind {spec!r}; known kinds: {', '.join(FAULT_KINDS)}")
    if arg:
        try:
            value = float(arg)
        except ValueError:
            raise ValueError(f"fault argument must be a number in {spec!r}") from None
        return Fault(kind, value)
    return Fault(kind)


class FaultPlanner:
    """Decides the fault (if any) for each request, from start-up settings and headers.

    Example:
        >>> FaultPlanner(fault="503").decide({})
        Fault(kind='503', arg=None)
        >>> FaultPlanner(fault="503").decide({"x-emulator-fault": "none"}) is None
        True
    """

    def __init__(
        self, fault: str | None = None, fault_rate: float | None = None, seed: int = 0,
        match: str | None = None, times: int | None = None,
    ) -> None:
        self.match = match.encode("utf-8") if match else None
        self.left = times  # start-up faults still to apply (None: no limit)
        self.candidates = [parse_fault(s) for s in (fault or "").split(",") if s.strip()]
        if fault_rate is None:
            fault_rate = 1.0 if self.candidates else 0.0
        if not 0.0 <= fault_rate <= 1.0:
            raise ValueError(f"fault rate must lie between 0 and 1, got {fault_rate}")
        if fault_rate > 0 and not self.candidates:
            self.candidates = [parse_fault(k) for k in ("429", "500", "503", "drop")]
        self.rate = fault_rate
        self._rng = random.Random(seed)
        self._lock = threading.Lock()

    def decide(self, headers: Mapping[str, str], body: bytes = b"") -> Fault | None:
        """The fault for a request with these (lower-case) headers and body; raises ``ValueError`` on a bad header.

        Example:
            >>> planner = FaultPlanner(fault="429", match="row 7", times=1)
            >>> [planner.decide({}, b) for b in (b"row 1", b"row 7", b"row 7")]
            [None, Fault(kind='429', arg=None), None]
        """
        spec = headers.get(FAULT_HEADER)
        fault: Fault | None
        if spec is not None:
            fault = None if spec.strip().lower() in ("", "none", "off") else parse_fault(spec)
        elif self.match is not None and self.match not in body:
            fault = None
        else:
            fault = self._draw()
        after = headers.get(FAULT_AFTER_HEADER)
        if fault is not None and after is not None and fault.kind in ("drop", "error-event"):
            try:
                fault = Fault(fault.kind, float(int(after)))
            except ValueError:
                raise ValueError(f"{FAULT_AFTER_HEADER} must be an integer, got {after!r}") from None
        return fault

    def _draw(self) -> Fault | None:
        if self.rate <= 0:
            return None
        with self._lock:
            if self.left is not None and self.left <= 0:
                return None
            hit = self._rng.random() < self.rate
            chosen = self._rng.choice(self.candidates) if hit else None
            if chosen is not None and self.left is not None:
                self.left -= 1
        return chosen
