"""A long, structured Markdown answer of a given number of tokens, for the streaming benchmarks.

The emulator's long-form writer (headings, paragraphs, lists, a table, code fences, math), several
seeds joined until the answer is long enough, then cut to `tokens` token-sized pieces (leading
whitespace attached, as a model streams them).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from cloudsway_nb.emulator.longform import compose, read_request  # noqa: E402
from cloudsway_nb.emulator.tokenizer import pieces  # noqa: E402

PROMPT = "Give me a long, detailed answer in Markdown about lighthouses"


def answer_pieces(tokens: int) -> list[str]:
    """`tokens` stream pieces of a structured Markdown answer."""
    form = read_request(PROMPT)
    parts: list[str] = []
    seed = 0
    while len(parts) < tokens:
        seed += 1
        parts += pieces("\n\n".join(compose(form, f"{seed:016x}")) + "\n\n")
    return parts[:tokens]
