"""The code cell the browser tests run: a ChatView with a fake transcript, its hooks fed by a fake
streaming generator (no network, no model)."""

CELL = r'''
import threading, time
from cloudsway_nb.panel import ChatView
from cloudsway_nb.types import Choice, Reply, Usage

panel = ChatView(endpoints=["gpt", "claude"], title="Cloudsway chat (test)")
stop = threading.Event()

def fake_model(prompt):
    """A pretend model: some reasoning, then a long answer, one word at a time."""
    for word in f"The user asked **{prompt}**; I will answer at length.".split(" "):
        yield "reasoning", word + " "
    yield "text", "Streaming answer:\n\n"
    for i in range(2000):
        yield "text", f"word{i} "

@panel.on_send
def send(text, uploads):
    panel.add_message("user", text, attachments=[u.chip() for u in uploads])
    stop.clear()
    stream = panel.begin_stream(endpoint=panel.endpoint)

    def run():
        started, first, words = time.monotonic(), None, 0
        for kind, delta in fake_model(text):
            if stop.is_set():
                break
            (stream.add_reasoning if kind == "reasoning" else stream.add_text)(delta)
            first = first or time.monotonic() - started
            words += 1
            time.sleep(0.01)
        reply = Reply(choices=[Choice(text=stream.text, reasoning=stream.reasoning)], model="fake-1",
                      usage=Usage(input=len(text.split()), output=words, reasoning=12, cached=0),
                      latency=time.monotonic() - started, ttft=first, incomplete=stop.is_set())
        stream.finish(reply, cost=words * 1e-5)

    threading.Thread(target=run, daemon=True).start()

panel.on_stop(stop.set)
panel.on_delete(panel.remove_message)

@panel.on_edit
def edit(id, text):
    panel.update_message(id, text=text)

@panel.on_compare
def compare(id, endpoint):
    group = panel.get_message(id).get("group") or id
    panel.update_message(id, group=group)
    stream = panel.begin_stream(endpoint=endpoint, after=id, group=group)

    def run():
        for i in range(40):
            stream.add_text(f"{endpoint} answer {i} ")
            time.sleep(0.005)
        stream.finish(Reply(choices=[Choice(text=stream.text)], model=f"{endpoint}-model",
                            usage=Usage(input=14, output=40), latency=0.3, ttft=0.05))

    threading.Thread(target=run, daemon=True).start()

panel.add_message("user", "Show me some code and some math, please.")
panel.add_message(
    "assistant",
    "Here is a function:\n\n```python\ndef square(x: int) -> int:\n"
    "    \"\"\"Square it.\"\"\"\n    return x ** 2  # simple\n```\n\n"
    "Euler: $e^{i\\pi} + 1 = 0$, and a display equation:\n\n$$\\int_0^1 x^2\\,dx = \\frac{1}{3}$$\n\n"
    "Prices stay text: it costs $5 and $10. Raw HTML is escaped: <img src=x onerror=alert(1)>",
    reasoning="The user wants **code** and math; show both.", reasoning_tokens=12, endpoint="gpt",
    footer="gpt · gpt-4o · in 14 · out 96 · reasoning 12 · cached 0 · 1.20 s · first token 0.30 s · $0.0011",
)
panel.show()
'''
