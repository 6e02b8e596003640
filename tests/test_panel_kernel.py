"""A kernel interrupt (JupyterLab's ■ button) stops the panel's stream, in a real ipykernel: the
reply streams while the kernel is idle, when ipykernel itself ignores SIGINT."""

from __future__ import annotations

import time

import pytest

jupyter_client = pytest.importorskip("jupyter_client")
pytest.importorskip("ipykernel")

START = """
from cloudsway_nb import Client, Session
from cloudsway_nb.config import emulator_endpoints
from cloudsway_nb.emulator.testing import running_emulator
from cloudsway_nb.panel import ChatPanel
emulator = running_emulator(chunk_delay=0.2)
url = emulator.__enter__()
session = Session(Client(url, "sk-x", emulator_endpoints()), default_endpoint="gpt")
panel = ChatPanel(session, save=False)
panel.ask("Tell me a long story about the sea and the mountains", wait=False)
"""


def test_a_kernel_interrupt_stops_the_panel_while_the_kernel_is_idle() -> None:
    km, kc = jupyter_client.manager.start_new_kernel(kernel_name="python3")
    try:
        seen: list[str] = []

        def run(code: str) -> None:
            kc.execute_interactive(code, timeout=30,
                                   output_hook=lambda m: seen.append(str(m["content"].get("text", ""))))

        run(START)
        time.sleep(0.6)  # the reply streams, the kernel is idle
        km.interrupt_kernel()
        run("panel.wait(5); print(panel.busy, panel.view.messages[-1]['status'], session.ledger[-1].status)")
        assert "False interrupted interrupted" in "".join(seen)
        run("session.close(); emulator.__exit__(None, None, None)")
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
