"""Peak memory and encode throughput of sending a large video: cloudsway_nb's streamed body against
the naive `base64.b64encode(open(p, "rb").read())` + `json.dumps` path.

Each measurement runs in a fresh Python process, so one path's memory cannot hide in another's.
Both paths go through httpx into a sink transport that reads the body chunk by chunk (as a socket
would) and hashes it; the two bodies must be byte-for-byte identical.

    python benchmarks/bench_media.py            # a 200 MB video
    python benchmarks/bench_media.py --mb 50    # a smaller one

Paths:
    naive     read the file, b64encode, build the data URL, json.dumps, encode, send.
    client    Client.chat(..., attachments=[video(path)]): the adapter puts a Payload in the JSON,
              the transport streams base64 chunks with an exact Content-Length.
    base64()  Media.base64() (the whole text, built in place from chunks) + json.dumps: what code
              that asks a Media for its full base64 pays.

Peak memory is measured twice: Python allocations (tracemalloc) and the process's peak RSS
(ru_maxrss) above its RSS just before the send; throughput is timed in a separate run without
tracemalloc.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PROMPT = "Describe the video."
REPLY = {"choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}]}
MB = 1024 * 1024


def make_video(path: Path, size_mb: float) -> None:
    """An MP4 (ftyp + moov + one big mdat of random bytes), written in 8 MB pieces."""
    from cloudsway_nb.media import samples

    size = int(size_mb * MB)
    header = samples.mp4(payload=b"")[:-8]  # ftyp + moov, without the empty mdat
    with open(path, "wb") as f:
        f.write(header + (size + 8).to_bytes(4, "big") + b"mdat")
        left = size
        while left:
            n = min(left, 8 * MB)
            f.write(os.urandom(n))
            left -= n


def _rss_kb() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * (os.sysconf("SC_PAGE_SIZE") // 1024)


def _sink_transport(result: dict[str, Any]) -> Any:
    import httpx

    class Sink(httpx.BaseTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            digest, total = hashlib.sha256(), 0
            for chunk in request.stream:
                digest.update(chunk)
                total += len(chunk)
            result.update(
                sha256=digest.hexdigest(), body_bytes=total, content_length=request.headers.get("content-length")
            )
            return httpx.Response(200, json=REPLY)

    return Sink()


def _naive(path: str, result: dict[str, Any]) -> None:
    import httpx

    b64 = base64.b64encode(open(path, "rb").read()).decode()  # noqa: SIM115 - the naive path, verbatim
    body = {
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": PROMPT},
                    {"type": "image_url", "image_url": {"url": "data:video/mp4;base64," + b64}},
                ],
            }
        ]
    }
    content = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    with httpx.Client(transport=_sink_transport(result)) as http:
        http.post("http://gw.test/v1/ai/ep/chat/completions", content=content)


def _client(path: str, result: dict[str, Any]) -> None:
    from cloudsway_nb import Client, Endpoint
    from cloudsway_nb.media import video

    with Client("http://gw.test", "k", {"gpt": Endpoint("ep", "chat")}, transport=_sink_transport(result)) as c:
        c.chat("gpt", PROMPT, attachments=[video(path)])


def _materialized(path: str, result: dict[str, Any]) -> None:
    import httpx

    from cloudsway_nb.media import video

    m = video(path)
    body = {
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": PROMPT},
                    {"type": "image_url", "image_url": {"url": m.data_url()}},
                ],
            }
        ]
    }
    content = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    with httpx.Client(transport=_sink_transport(result)) as http:
        http.post("http://gw.test/v1/ai/ep/chat/completions", content=content)


PATHS = {"naive": _naive, "client": _client, "base64()": _materialized}


def child(mode: str, path: str, trace: bool) -> None:
    import httpx  # noqa: F401 - imported before the baseline, as a notebook would have it

    import cloudsway_nb.client
    import cloudsway_nb.media  # noqa: F401

    result: dict[str, Any] = {}
    rss_before = _rss_kb()
    if trace:
        tracemalloc.start()
    start = time.perf_counter()
    PATHS[mode](path, result)
    elapsed = time.perf_counter() - start
    if trace:
        result["traced_peak"] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    result["seconds"] = elapsed
    result["rss_peak_delta"] = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) * 1024
    print(json.dumps(result))


def run(mode: str, path: Path, trace: bool) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", mode, "--path", str(path)] + (["--trace"] if trace else []),
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=float, default=200.0, help="video size in MB (default 200)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--path", help=argparse.SUPPRESS)
    parser.add_argument("--trace", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.path, args.trace)
        return

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "video.mp4"
        make_video(path, args.mb)
        size = path.stat().st_size
        b64 = 4 * ((size + 2) // 3)
        print(f"video: {size / MB:.1f} MB on disk, {b64 / MB:.1f} MB as base64 (each path in a fresh process)\n")
        rows: dict[str, dict[str, Any]] = {}
        for mode in PATHS:
            timed = run(mode, path, trace=False)
            traced = run(mode, path, trace=True)
            rows[mode] = {**traced, "seconds": timed["seconds"], "rss_peak_delta": timed["rss_peak_delta"]}
        print(f"{'path':<10} {'time':>8} {'MB/s':>8} {'traced peak':>13} {'RSS peak':>10} {'peak/base64':>12}")
        for mode, r in rows.items():
            peak = max(r["traced_peak"], r["rss_peak_delta"])
            print(
                f"{mode:<10} {r['seconds']:>7.2f}s {size / MB / r['seconds']:>8.0f} "
                f"{r['traced_peak'] / MB:>10.1f} MB {r['rss_peak_delta'] / MB:>7.1f} MB {peak / b64:>11.2f}x"
            )
        naive, client = rows["naive"], rows["client"]
        same = len({r["sha256"] for r in rows.values()}) == 1
        print()
        print(f"bodies identical on every path: {'yes' if same else 'NO'} ({client['body_bytes']} bytes)")
        print(f"client Content-Length exact: {client['content_length'] == str(client['body_bytes'])}")
        print(
            f"peak memory, naive / client: traced {naive['traced_peak'] / client['traced_peak']:.0f}x, "
            f"RSS {naive['rss_peak_delta'] / max(client['rss_peak_delta'], 1):.0f}x"
        )
        print(
            f"client peak / base64 size: {max(client['traced_peak'], client['rss_peak_delta']) / b64:.3f} "
            "(the target is at most ~2)"
        )
        print(f"throughput, client / naive: {naive['seconds'] / client['seconds']:.2f}x")
        if not same:
            sys.exit(1)


if __name__ == "__main__":
    main()
