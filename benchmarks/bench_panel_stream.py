"""Everything the chat panel sends its front end for one turn (issue 10, "Streaming cost").

A `ChatView` that already holds 50 messages (25 questions, 25 answers of a few paragraphs) is shown
(`show()`: the widget and its static copy for a notebook read without a kernel), then one turn
runs: a question is added and a long structured Markdown answer streams in token by token through
`begin_stream(...).feed`, with a fake clock advancing 1/TPS seconds a token and fake timers for the
trailing pushes (so the throttle sees a model streaming TPS tokens a second, and the run takes no
wall time). Every byte of the turn that goes to the front end is counted, as ipykernel would send
it (JSON, UTF-8):

    comm       the widget's comm messages (a dummy comm records them): state updates and custom
               messages, while streaming and at the end (the question added; `finish`)
    displays   what IPython's display publisher sends for the static copy below the widget
               (update_display_data of its displays, recorded by replacing the publisher's publish)

Side by side:

    naive    whole values everywhere (the panel before block streaming): every update sets the
             message's whole rendered HTML; adding the question and the end set the whole
             `messages` list; the static copy is one display updated with the whole transcript
             each time a message finishes
    panel    ChatView now: finished Markdown blocks once and the open tail (within a byte budget),
             the question and the final message sent alone (the end without the HTML the browser
             holds), the static copy in segments of which only the turn's own is updated

The showing itself (the widget's state and the transcript the static copy starts with) is printed
apart: it is sent once, when the cell runs, not per turn.

    python benchmarks/bench_panel_stream.py                   # 2,000 tokens at 100 tokens/s
    python benchmarks/bench_panel_stream.py --tokens 10000 --tps 60
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _answers import ROOT, answer_pieces

sys.path.insert(0, str(ROOT / "tests"))
from IPython.core.history import HistoryManager
from IPython.core.interactiveshell import InteractiveShell
from support import Displays, FakeClock, FakeTimers, Wire  # the tests' dummy comm, display recorder, fake timers

from cloudsway_nb.panel.render import render_message
from cloudsway_nb.panel.state import add_to_totals, message_state
from cloudsway_nb.panel.stream import MessageStream
from cloudsway_nb.panel.widget import ChatView
from cloudsway_nb.types import Choice, Reply, TextDelta, Usage

EARLIER = "\n\n".join("Lighthouses guide ships with a light that turns, seen far out at sea." for _ in range(4))


class WholeStream(MessageStream):
    """The push before block streaming: the message's whole state, its Markdown rendered again."""

    def _push(self, force: bool = False) -> None:
        self.panel._stream_update(self.id, message_state(
            "assistant", self.text, id=self.id, status="streaming", endpoint=self.endpoint, with_text=False))


class NaiveView(ChatView):
    """Whole values: the `messages` list set and sent on every change, one static display re-sent whole."""

    def add_message(self, role: str, text: str = "", **fields: Any) -> str:
        state = dict(message_state(role, text, **fields))
        self.messages = [*self.messages, state]
        return str(state["id"])

    def _stream_end(self, id: str, state: Any, usage: Any, cost: float | None, parts: Any = None) -> None:
        with self._lock, self.hold_sync():
            final = dict(state)
            if id in [m.get("id") for m in self.messages]:
                self.messages = [final if m.get("id") == id else m for m in self.messages]
            else:
                self.messages = [*self.messages, final]
            if usage is not None or cost is not None:
                self.totals = add_to_totals(self.totals, usage, cost)
            self.streaming = {k: v for k, v in self.streaming.items() if k != id}
            self.busy = bool(self.streaming)

    def show(self) -> None:
        from IPython.display import display

        display(self._widget_bundle(), raw=True)
        self._fallback = display({"text/html": self.fallback_html(), "text/plain": ""}, raw=True, display_id=True)

    def _refresh_fallback(self, _change: Any = None) -> None:
        if self._fallback is not None:
            self._fallback.update({"text/html": self.fallback_html(), "text/plain": ""}, raw=True)


def _size(data: Any) -> int:
    return len(json.dumps(data, ensure_ascii=False, default=str).encode())  # as jupyter_client packs it


def run(view_class: type[ChatView], stream_class: type[MessageStream], pieces: list[str], tps: float,
        rate: float, shell: Any) -> dict[str, Any]:
    panel = view_class(endpoints=["gpt"])
    for i in range(50):
        panel.add_message("user" if i % 2 == 0 else "assistant", f"Question {i}?" if i % 2 == 0 else EARLIER)
    earlier = [m["html"] for m in panel.messages]
    wire = Wire(panel)
    clock = FakeClock()
    timers = FakeTimers(clock)
    import cloudsway_nb.panel.widget as widget

    with Displays(shell) as shown:
        panel.show()
        wire.from_browser({"type": "view_ready"})  # a view renders it (then a message added goes alone)
        shown_bytes = shown.bytes + _size(panel.get_state())
        shown.clear()
        panel.add_message("user", "Tell me about lighthouses, at length.")
        widget.MessageStream = stream_class  # what begin_stream makes
        try:
            stream = panel.begin_stream(endpoint="gpt", clock=clock, timer=timers, rate=rate)
        finally:
            widget.MessageStream = MessageStream
        begun = list(wire.sent)
        wire.clear()
        for piece in pieces:
            clock.now += 1.0 / tps
            timers.run_due()
            stream.feed(TextDelta(piece))
        clock.now += 1.0
        timers.run_due()
        streamed = list(wire.sent)
        wire.clear()
        stream.finish(Reply(choices=[Choice(text="".join(pieces))], usage=Usage(input=10, output=len(pieces)),
                            model="gpt-4o"))
        ended = begun + list(wire.sent)
        displays = list(shown.sent)
    panel.close()
    everything = json.dumps([d for d, _ in begun + streamed + ended] + displays, ensure_ascii=False)
    return {"messages": len(streamed), "bytes": sum(_size(d) for d, _ in streamed),
            "end messages": len(ended), "end bytes": sum(_size(d) for d, _ in ended),
            "display messages": len(displays), "display bytes": sum(_size({k: s[k] for k in ("data", "metadata",
                                                                                                "transient")})
                                                                    for s in displays),
            "resent": sum(json.dumps(html, ensure_ascii=False)[1:-1] in everything for html in earlier),
            "seconds": len(pieces) / tps, "shown": shown_bytes}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tokens", type=int, default=2000)
    parser.add_argument("--tps", type=float, default=100.0, help="tokens a second the fake clock streams at")
    parser.add_argument("--rate", type=float, default=15.0, help="the stream's update rate (the panel's default)")
    args = parser.parse_args(argv)
    HistoryManager.enabled = False
    shell = InteractiveShell.instance()
    pieces = answer_pieces(args.tokens)
    final = len(render_message("".join(pieces)).encode())
    results = {name: run(view, stream, pieces, args.tps, args.rate, shell)
               for name, view, stream in (("naive", NaiveView, WholeStream), ("panel", ChatView, MessageStream))}
    print(f"answer: {args.tokens} tokens, {len(''.join(pieces)):,} characters of Markdown, {final:,} bytes of final "
          f"HTML; streamed at {args.tps:g} tokens/s over {results['naive']['seconds']:.1f} s into a panel holding 50 "
          "earlier messages; bytes are JSON as sent to the front end, x final = divided by the final HTML")
    print(f"{'':6} {'while streaming (comm)':>30} {'question + end (comm)':>22} {'static copy (displays)':>23} "
          f"{'whole turn':>20} {'earlier msgs':>13}")
    print(f"{'':6} {'msgs':>6} {'msg/s':>6} {'bytes':>10} {'x':>5} {'msgs':>5} {'bytes':>10} {'x':>5} "
          f"{'msgs':>5} {'bytes':>10} {'x':>5} {'bytes':>11} {'x':>6} {'re-sent':>13}")
    for name, r in results.items():
        total = r["bytes"] + r["end bytes"] + r["display bytes"]
        print(f"{name:6} {r['messages']:>6} {r['messages'] / r['seconds']:>6.1f} {r['bytes']:>10,} "
              f"{r['bytes'] / final:>5.1f} {r['end messages']:>5} {r['end bytes']:>10,} {r['end bytes'] / final:>5.1f} "
              f"{r['display messages']:>5} {r['display bytes']:>10,} {r['display bytes'] / final:>5.1f} "
              f"{total:>11,} {total / final:>6.2f} {r['resent']:>10} / 50")
    naive, panel = ({k: results[n][k] for k in ("bytes", "end bytes", "display bytes")} for n in ("naive", "panel"))
    total = sum(panel.values())
    rate = results["panel"]["messages"] / results["panel"]["seconds"]
    verdict = "PASS" if total <= 5 * final and rate <= 20 and results["panel"]["resent"] == 0 else "MISS"
    print(f"panel: {sum(naive.values()) / total:.1f}x fewer bytes than naive; goal <= 5x final, <= 20 updates/s, "
          f"no earlier message re-sent: {verdict} ({total / final:.2f}x, {rate:.1f}/s)")
    print(f"(not per turn: showing the panel sends {results['panel']['shown']:,} bytes, the widget's state and the "
          f"static copy of the transcript, once; naive {results['naive']['shown']:,})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
