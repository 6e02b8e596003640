"""What the chat panel sends its front end while one answer streams (issue 10, "Streaming cost").

A `ChatView` that already holds 50 messages (25 questions, 25 answers of a few paragraphs) gets a
long structured Markdown answer token by token through `begin_stream(...).feed`, with a fake clock
advancing 1/TPS seconds a token and fake timers for the trailing pushes (so the throttle sees a
model streaming TPS tokens a second, and the run takes no wall time). A dummy comm records every
message the widget actually sends: its count and its bytes (the JSON ipykernel would send, UTF-8).
Side by side:

    whole    every update sets the message's whole rendered HTML (the panel before this change,
             reproduced by a MessageStream whose push sends `message_state(...)` of the text so far)
    blocks   MessageStream now: finished Markdown blocks once, the open tail replaced (within a
             byte budget), only the streaming message's entry

The end of the stream (`finish`: the final message moved into `messages`) is counted apart: the
final message is sent alone (a `stream_end` custom message; the kernel sets its `messages` without
sending the list), where a whole-value panel sends the whole `messages` list again. Not counted: the
static fallback below the panel (`ChatView.show`, a display the kernel updates with the whole
transcript's HTML when a message finishes, for a notebook read without a kernel); its size is printed.

    python benchmarks/bench_panel_stream.py                   # 2,000 tokens at 100 tokens/s
    python benchmarks/bench_panel_stream.py --tokens 10000 --tps 60
"""

from __future__ import annotations

import argparse
import json
import sys
import types
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _answers import ROOT, answer_pieces

sys.path.insert(0, str(ROOT / "tests"))
from support import FakeClock, FakeTimers, Wire  # the tests' dummy comm and fake timers

from cloudsway_nb.panel.render import render_message
from cloudsway_nb.panel.state import add_to_totals, message_state
from cloudsway_nb.panel.stream import MessageStream
from cloudsway_nb.panel.widget import ChatView
from cloudsway_nb.types import Choice, Reply, TextDelta, Usage


class WholeStream(MessageStream):
    """The push before block streaming: the message's whole state, its Markdown rendered again; and
    the end: the whole `messages` list set and sent."""

    def _push(self) -> None:
        self.panel._stream_update(self.id, message_state(
            "assistant", self.text, id=self.id, status="streaming", endpoint=self.endpoint, with_text=False))

    def finish(self, reply: Any = None, **options: Any) -> Any:
        self.panel._stream_end = types.MethodType(_whole_end, self.panel)
        return super().finish(reply, **options)


def _whole_end(panel: ChatView, id: str, state: Any, usage: Any, cost: float | None) -> None:
    """ChatView._stream_end before: the final message put in `messages`, the whole list sent."""
    with panel._lock, panel.hold_sync():
        final = dict(state)
        if id in [m.get("id") for m in panel.messages]:
            panel.messages = [final if m.get("id") == id else m for m in panel.messages]
        else:
            panel.messages = [*panel.messages, final]
        if usage is not None or cost is not None:
            panel.totals = add_to_totals(panel.totals, usage, cost)
        panel.streaming = {k: v for k, v in panel.streaming.items() if k != id}
        panel.busy = bool(panel.streaming)


def _size(data: Any) -> int:
    return len(json.dumps(data, ensure_ascii=False, default=str).encode())  # as jupyter_client packs it


def run(stream_class: type[MessageStream], pieces: list[str], tps: float, rate: float) -> dict[str, Any]:
    panel = ChatView(endpoints=["gpt"])
    earlier = "\n\n".join("Lighthouses guide ships with a light that turns, seen far out at sea." for _ in range(4))
    for i in range(50):
        panel.add_message("user" if i % 2 == 0 else "assistant", f"Question {i}?" if i % 2 == 0 else earlier)
    wire = Wire(panel)
    clock = FakeClock()
    timers = FakeTimers(clock)
    import cloudsway_nb.panel.widget as widget

    widget.MessageStream = stream_class  # what begin_stream makes
    try:
        stream = panel.begin_stream(endpoint="gpt", clock=clock, timer=timers, rate=rate)
    finally:
        widget.MessageStream = MessageStream
    wire.clear()
    for piece in pieces:
        clock.now += 1.0 / tps
        timers.run_due()
        stream.feed(TextDelta(piece))
    clock.now += 1.0
    timers.run_due()
    streamed = list(wire.sent)
    resent = sum("messages" in data.get("state", {}) for data, _ in streamed)
    wire.clear()
    text = "".join(pieces)
    stream.finish(Reply(choices=[Choice(text=text)], usage=Usage(input=10, output=len(pieces)), model="gpt-4o"))
    panel.close()
    return {"messages": len(streamed), "bytes": sum(_size(d) for d, _ in streamed), "resent": resent,
            "end messages": len(wire.sent), "end bytes": sum(_size(d) for d, _ in wire.sent),
            "seconds": len(pieces) / tps, "transcript": sum(_size(m) for m in panel.messages[:-1]),
            "fallback": len(panel.fallback_html().encode())}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tokens", type=int, default=2000)
    parser.add_argument("--tps", type=float, default=100.0, help="tokens a second the fake clock streams at")
    parser.add_argument("--rate", type=float, default=15.0, help="the stream's update rate (the panel's default)")
    args = parser.parse_args(argv)
    pieces = answer_pieces(args.tokens)
    final = len(render_message("".join(pieces)).encode())
    results = {name: run(cls, pieces, args.tps, args.rate) for name, cls in (("whole", WholeStream),
                                                                             ("blocks", MessageStream))}
    print(f"answer: {args.tokens} tokens, {len(''.join(pieces)):,} characters of Markdown, {final:,} bytes of final "
          f"HTML; streamed at {args.tps:g} tokens/s over {results['whole']['seconds']:.1f} s; the panel holds 50 "
          f"earlier messages ({results['whole']['transcript']:,} bytes)")
    print("while streaming (comm messages the widget sent, their JSON bytes; x final: divided by the final HTML):")
    print(f"{'':8} {'messages':>9} {'msg/s':>7} {'bytes':>11} {'x final':>8} {'transcript re-sent':>19}")
    for name, r in results.items():
        print(f"{name:8} {r['messages']:>9} {r['messages'] / r['seconds']:>7.1f} {r['bytes']:>11,} "
              f"{r['bytes'] / final:>8.1f} {r['resent']:>19}")
    print("at the end (finish):")
    for name, r in results.items():
        print(f"{name:8} {r['end messages']:>9} {'':>7} {r['end bytes']:>11,} {r['end bytes'] / final:>8.1f}")
    print(f"{'':8} {'':>9} {'':>7} {'total':>11} {'x final':>8}")
    for name, r in results.items():
        total = r["bytes"] + r["end bytes"]
        print(f"{name:8} {'':>9} {'':>7} {total:>11,} {total / final:>8.1f}")
    whole, blocks = (results[k]["bytes"] + results[k]["end bytes"] for k in ("whole", "blocks"))
    print(f"blocks send {whole / blocks:.1f}x fewer bytes; not counted: the static fallback display, "
          f"{results['blocks']['fallback']:,} bytes of HTML sent each time a message finishes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
