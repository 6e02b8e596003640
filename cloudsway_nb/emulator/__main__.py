"""``python -m cloudsway_nb.emulator``: run the emulator and print its base URL.

Example:
    $ python -m cloudsway_nb.emulator --port 0
    http://127.0.0.1:54321
"""

from __future__ import annotations

from .cli import main

if __name__ == "__main__":
    raise SystemExit(main(prog="python -m cloudsway_nb.emulator"))
