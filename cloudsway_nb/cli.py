"""The `cloudsway-nb` command.

    cloudsway-nb emulator [--host 127.0.0.1] [--port N] [...]   run the local gateway emulator
    cloudsway-nb demo [--out DIR] [--lab] [--gateway]           run the quickstart notebook (no key needed)

Example:
    $ cloudsway-nb emulator --port 8765
    http://127.0.0.1:8765
    Cloudsway emulator ready. OpenAI SDK: base_url=http://127.0.0.1:8765/v1/ai/<endpointPath>; ...
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="cloudsway-nb", description="Cloudsway in notebooks.")
    parser.add_argument("command", choices=["emulator", "demo"], help="what to run")
    if not args or args[0] in ("-h", "--help"):
        parser.print_help()
        return 0 if args else 2
    command, rest = args[0], args[1:]
    if command == "emulator":
        from .emulator.cli import main as emulator_main

        return emulator_main(rest, prog="cloudsway-nb emulator") or 0
    if command == "demo":
        from .demo import main as demo_main

        return demo_main(rest, prog="cloudsway-nb demo")
    parser.parse_args(args)  # prints the usage error for an unknown command
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
