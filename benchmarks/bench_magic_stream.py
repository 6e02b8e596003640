"""Display traffic of a streamed `%%cloudsway` answer, measured from a real kernel (issue 11, point 22).

A kernel is started with jupyter_client; in it a `StreamView` (what the magic streams into) is fed a
long structured Markdown answer token by token, with a fake clock advancing 1/TPS seconds a token (so
the throttle sees a model streaming TPS tokens a second, and the run takes no wall time). The client
counts every iopub `display_data` and `update_display_data` message of the cell and its bytes (the
JSON of the message content: HTML and plain text of each bundle). Side by side:

    whole    one display, every update re-sends the whole rendered answer (the StreamView before
             this change, reproduced here)
    blocks   StreamView now: finished Markdown blocks sent once (each in the display that was the
             last when they finished), only the open tail replaced; at the end, as the magic does
             when the answer is all its cell shows, the cell cleared and the final answer shown once
             (one output left)

and checks that both end showing the same final HTML.

    python benchmarks/bench_magic_stream.py                  # 1,500 tokens at 100 tokens/s
    python benchmarks/bench_magic_stream.py --tokens 10000 --tps 60
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _answers import ROOT, answer_pieces

KERNEL_CODE = r"""
import json
from IPython.display import display
from cloudsway_nb.display import StreamView, _final_html
from cloudsway_nb.types import Choice, Reply, TextDelta, Usage

pieces = json.loads({pieces!r})
class Clock:
    now = 0.0
    def __call__(self):
        Clock.now += {step!r}
        return Clock.now

class Whole(StreamView):
    # the StreamView before block streaming: one display, the whole answer re-rendered per update
    def refresh(self):
        if self.handle is None:
            self.handle = display({{"text/plain": "", "text/html": ""}}, raw=True, display_id=True)
        self.updates += 1
        self.handle.update(self._bundle(self.pane.html(self.fmt, self.show_reasoning), self.pane.plain()), raw=True)

    def finish(self, reply, note=None):
        self.handle.update(self._bundle(
            _final_html(reply, fmt=self.fmt, show_reasoning=True, show_usage=True, show_raw=False,
                        label=self.label, note=note), reply.text), raw=True)

view = ({mode} if {mode!r} == "Whole" else StreamView)("gpt", rate={rate!r}, clock=Clock())
for piece in pieces:
    view.feed(TextDelta(piece))
text = "".join(pieces)
reply = Reply(choices=[Choice(text=text)], usage=Usage(input=12, output=len(pieces)), model="gpt-4o")
view.finish(reply) if {mode!r} == "Whole" else view.finish(reply, sole=True)  # as the magic, alone in its cell
print(json.dumps({{"seconds": Clock.now}}))
"""


def run(kc: Any, code: str) -> dict[str, Any]:
    msg_id = kc.execute(code)
    messages = 0
    size = 0
    payload = 0
    shown: dict[str, dict[str, Any]] = {}
    order: list[str] = []
    cleared = False
    out = ""
    while True:
        msg = kc.get_iopub_msg(timeout=120)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        kind, content = msg["msg_type"], msg["content"]
        if kind == "clear_output":  # wait=True: the outputs go when the next one comes
            messages += 1
            cleared = True
        elif kind in ("display_data", "update_display_data"):
            if cleared and kind == "display_data":
                shown, order, cleared = {}, [], False
            messages += 1
            size += len(json.dumps(content))
            payload += sum(len(v) for v in content["data"].values())
            display_id = content["transient"]["display_id"]
            if display_id not in shown:
                order.append(display_id)
            shown[display_id] = content["data"]
        elif kind == "stream":
            out += content["text"]
        elif kind == "error":
            raise RuntimeError("\n".join(content["traceback"]))
        elif kind == "status" and content["execution_state"] == "idle":
            break
    visible = [shown[i] for i in order if shown[i].get("text/html") or shown[i].get("text/plain")]
    seconds = json.loads(out.strip().splitlines()[-1])["seconds"]
    return {"messages": messages, "bytes": size, "payload": payload, "outputs": len(order), "visible": visible,
            "seconds": seconds}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tokens", type=int, default=1500)
    parser.add_argument("--tps", type=float, default=100.0, help="tokens a second the fake clock streams at")
    parser.add_argument("--rate", type=float, default=12.0, help="StreamView's refresh rate (the magic's default)")
    args = parser.parse_args(argv)

    import jupyter_client

    pieces = answer_pieces(args.tokens)
    os.environ["PYTHONPATH"] = str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")
    km, kc = jupyter_client.manager.start_new_kernel(kernel_name="python3")
    try:
        results = {}
        for mode in ("Whole", "StreamView"):
            code = KERNEL_CODE.format(pieces=json.dumps(pieces), step=1.0 / args.tps, mode=mode, rate=args.rate)
            results[mode] = run(kc, code)
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)

    text = "".join(pieces)
    final = results["Whole"]["visible"][-1]["text/html"]
    print(f"answer: {args.tokens} tokens, {len(text):,} characters of Markdown, {len(final):,} bytes of final HTML; "
          f"streamed at {args.tps:g} tokens/s over {results['Whole']['seconds']:.1f} s, refresh rate {args.rate:g}/s")
    print("payload: the bundles' HTML and plain text; wire: the JSON of each message's content (with its\n"
          "display id and metadata); x final: divided by the final HTML's size")
    print(f"{'':8} {'messages':>9} {'msg/s':>7} {'payload':>10} {'x final':>8} {'wire':>10} {'x final':>8} "
          f"{'outputs':>8} {'visible':>8}")
    for name, label in (("Whole", "whole"), ("StreamView", "blocks")):
        r = results[name]
        print(f"{label:8} {r['messages']:>9} {r['messages'] / r['seconds']:>7.1f} {r['payload']:>10,} "
              f"{r['payload'] / len(final):>8.1f} {r['bytes']:>10,} {r['bytes'] / len(final):>8.1f} "
              f"{r['outputs']:>8} {len(r['visible']):>8}")
    same = [v["text/html"] for v in results["StreamView"]["visible"]] == [final]
    ratio = results["Whole"]["payload"] / results["StreamView"]["payload"]
    print(f"blocks send {ratio:.1f}x fewer bytes; final output identical to whole-value updates: {same}")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
