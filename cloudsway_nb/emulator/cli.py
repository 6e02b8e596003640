"""Command line: ``cloudsway-nb emulator`` / ``python -m cloudsway_nb.emulator``.

Prints the base URL on stdout (one line, nothing else) as soon as the server accepts requests,
then a hint on stderr, and serves until Ctrl+C or SIGTERM.

On the command line replies are paced like a real model by default (``--pacing realistic``: a
first token after 0.3 s, then 40 tokens a second, streamed or not; ``$CLOUDSWAY_EMULATOR_PACING``
changes the default); ``--pacing none`` answers at once, and ``--chunk-delay`` /
``--first-token-delay`` override either preset. :func:`~.app.create_app` and the test helpers
default to no delay.

Example:
    >>> build_parser().parse_args(["--port", "0", "--fault", "429"]).fault
    '429'
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .faults import FAULT_KINDS, FaultPlanner
from .options import (
    DEFAULT_MAX_BODY,
    PACING_ENV,
    PACING_PRESETS,
    EmulatorOptions,
    bundled_pacing,
)

__all__ = ["DEFAULT_PORT", "build_parser", "main", "options_from_args"]

#: The port used when ``--port`` is not given.
DEFAULT_PORT = 8765


def _seconds(text: str) -> float:
    """A non-negative number of seconds (argparse type)."""
    value = float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more seconds, got {text}")
    return value


def build_parser(prog: str = "cloudsway-nb emulator") -> argparse.ArgumentParser:
    """The argument parser of the emulator command.

    Example:
        >>> build_parser().parse_args([]).host
        '127.0.0.1'
    """
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Run a local emulator of the Cloudsway gateway (OpenAI chat/responses/embeddings, "
        "Anthropic messages, Gemini generateContent). Prints its base URL.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}; 0 = a free port)"
    )
    parser.add_argument("--api-key", default=None, help="accept only this key (default: any non-empty key)")
    parser.add_argument(
        "--fault",
        default=None,
        help=f"fault(s) to inject, comma-separated KIND[:ARG]; kinds: {', '.join(FAULT_KINDS)}",
    )
    parser.add_argument(
        "--fault-rate",
        type=float,
        default=None,
        help="probability of a fault per request (default 1 with --fault, else 0)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the fault RNG (reproducible chaos runs)")
    parser.add_argument("--fault-match", default=None, metavar="TEXT",
                        help="inject the faults only into requests whose body holds TEXT")
    parser.add_argument("--fault-times", type=int, default=None, metavar="N",
                        help="inject them at most N times (then requests pass)")
    parser.add_argument("--latency", type=_seconds, default=0.0,
                        help="seconds every reply waits before it is sent, errors included (0)")
    parser.add_argument(
        "--pacing",
        choices=sorted(PACING_PRESETS),
        default=None,
        help="how fast replies come: realistic (0.3 s to the first token, then 40 tokens/s) or none "
        f"(at once); default realistic, or ${PACING_ENV}",
    )
    parser.add_argument(
        "--chunk-delay",
        type=_seconds,
        default=None,
        help="seconds between generated tokens (overrides the pacing's; realistic: 0.025)",
    )
    parser.add_argument(
        "--first-token-delay",
        type=_seconds,
        default=None,
        help="seconds before the first token (overrides the pacing's; realistic: 0.3)",
    )
    parser.add_argument(
        "--keepalive-interval",
        type=float,
        default=5.0,
        help="seconds between keep-alive comments/pings while waiting (5)",
    )
    parser.add_argument(
        "--max-body", type=int, default=DEFAULT_MAX_BODY, help="largest request body in bytes (64 MiB)"
    )
    parser.add_argument(
        "--background-queued",
        type=float,
        default=0.5,
        help="seconds a background response stays queued (0.5)",
    )
    parser.add_argument(
        "--background-running",
        type=float,
        default=1.0,
        help="seconds a background response then stays in_progress (1.0)",
    )
    parser.add_argument(
        "--log-level",
        default="warning",
        choices=["critical", "error", "warning", "info", "debug"],
        help="uvicorn log level; info also logs each request (default warning)",
    )
    return parser


def options_from_args(args: argparse.Namespace) -> EmulatorOptions:
    """Turn parsed arguments into options (validating fault settings).

    Example:
        >>> options_from_args(build_parser().parse_args(["--seed", "3"])).seed
        3
        >>> o = options_from_args(build_parser().parse_args(["--pacing", "realistic", "--chunk-delay", "0.1"]))
        >>> o.first_token_delay, o.chunk_delay
        (0.3, 0.1)
    """
    options = EmulatorOptions.from_kwargs(
        host=args.host,
        port=args.port,
        api_key=args.api_key,
        fault=args.fault,
        fault_rate=args.fault_rate,
        seed=args.seed,
        fault_match=args.fault_match,
        fault_times=args.fault_times,
        latency=args.latency,
        pacing=args.pacing or bundled_pacing(),
        chunk_delay=args.chunk_delay,
        first_token_delay=args.first_token_delay,
        keepalive_interval=args.keepalive_interval,
        max_body=args.max_body,
        background_queued=args.background_queued,
        background_running=args.background_running,
    )
    FaultPlanner(options.fault, options.fault_rate, options.seed)  # raises ValueError when invalid
    return options


def main(argv: Sequence[str] | None = None, prog: str = "cloudsway-nb emulator") -> int:
    """Run the emulator in the foreground; returns the exit status (a bad option exits with 2).

    Example:
        >>> main(["--fault", "bogus"])
        Traceback (most recent call last):
        ...
        SystemExit: 2
    """
    parser = build_parser(prog)
    args = parser.parse_args(argv)
    try:
        options = options_from_args(args)
    except ValueError as exc:
        parser.error(str(exc))

    def ready(url: str) -> None:
        print(url, flush=True)
        print(
            f"Cloudsway emulator ready. OpenAI SDK: base_url={url}/v1/ai/<endpointPath>; "
            f"Anthropic SDK: base_url={url}/<endpointPath>; "
            f"Gemini: {url}/v1/ai/<endpointPath>/generateContent. "
            "Press Ctrl+C to stop.",
            file=sys.stderr,
            flush=True,
        )

    from .server import serve

    try:
        serve(options, on_ready=ready, log_level=args.log_level)
    except OSError as exc:
        print(f"cannot start the emulator on {options.host}:{options.port}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # pragma: no cover - uvicorn normally handles SIGINT itself
        pass
    return 0
