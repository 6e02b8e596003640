"""Media end to end through the gateway emulator on a loopback port: each kind, sent by the client on
each protocol that carries it, arrives intact (the emulator decodes it and describes what it got)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from cloudsway_nb import AsyncClient, Client, Endpoint, TextDelta, UnsupportedError
from cloudsway_nb.media import attach, audio, document, image, samples, video

np = pytest.importorskip("numpy")

CARRIERS = {
    "image": ("chat", "responses", "messages", "gemini"),
    "document": ("chat", "responses", "messages", "gemini"),
    "audio": ("chat", "gemini"),
    "video": ("chat", "gemini"),
}


@pytest.fixture
def by_protocol(emulator_endpoints: dict[str, Endpoint]) -> dict[str, Endpoint]:
    """The emulator's endpoints (tests/conftest.py) under their protocol's name: chat, responses, ..."""
    return {endpoint.protocol: endpoint for endpoint in emulator_endpoints.values()}


@pytest.fixture
def client(emulator_url: str, by_protocol: dict[str, Endpoint]) -> Iterator[Client]:
    with Client(emulator_url, "sk-media-test", by_protocol, sleep=lambda s: None) as c:
        yield c


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


# (id, kind, make the attachment from a temp dir, the emulator's sentence)
CASES: list[tuple[str, str, Callable[[Path], Any], str]] = [
    ("png", "image", lambda d: write(d, "a.png", samples.image_bytes()), "Image 1: PNG, 64x48 pixels."),
    ("jpeg", "image", lambda d: write(d, "a.jpg", samples.image_bytes(fmt="JPEG")), "Image 1: JPEG, 64x48 pixels."),
    ("gif", "image", lambda d: samples.image_bytes(fmt="GIF"), "Image 1: GIF, 64x48 pixels."),
    ("webp", "image", lambda d: samples.image_bytes(fmt="WEBP"), "Image 1: WEBP, 64x48 pixels."),
    ("bmp→png", "image", lambda d: write(d, "a.bmp", samples.image_bytes(fmt="BMP")), "Image 1: PNG, 64x48 pixels."),
    ("tiff→png", "image", lambda d: samples.image_bytes(fmt="TIFF"), "Image 1: PNG, 64x48 pixels."),
    (
        "exif-rotated",
        "image",
        lambda d: samples.image_bytes(fmt="JPEG", orientation=6),
        "Image 1: JPEG, 48x64 pixels.",
    ),
    (
        "downscaled",
        "image",
        lambda d: image(samples.image_bytes(640, 480), max_side=320),
        "Image 1: PNG, 320x240 pixels.",
    ),
    ("wav", "audio", lambda d: write(d, "a.wav", samples.wav(1.5)), "Audio 1: WAV, 1.50 s, 16000 Hz mono."),
    ("mp3", "audio", lambda d: write(d, "a.mp3", samples.mp3()), "Audio 1: MP3, ~0.99 s, 44100 Hz mono, 128 kbps."),
    ("m4a", "audio", lambda d: samples.m4a(), "Audio 1: M4A container, 1.00 s, 555 bytes."),
    ("ogg", "audio", lambda d: samples.ogg_opus(2.0), "Audio 1: OGG Opus, 2.00 s, 48000 Hz mono."),
    ("flac", "audio", lambda d: samples.flac(), "Audio 1: FLAC, 1.00 s, 16000 Hz mono."),
    (
        "numpy",
        "audio",
        lambda d: audio(np.sin(np.linspace(0, 2000, 16000)).astype(np.float32), rate=16000),
        "Audio 1: WAV, 1.00 s, 16000 Hz mono.",
    ),
    ("mp4", "video", lambda d: write(d, "a.mp4", samples.mp4()), "Video 1: MP4 container, 2.00 s, 64x48, 555 bytes."),
    ("mov", "video", lambda d: samples.mov(), "Video 1: MOV container, 1.00 s, 32x32, 555 bytes."),
    ("webm", "video", lambda d: samples.webm(), "Video 1: WebM container, 225 bytes."),
    ("pdf", "document", lambda d: write(d, "paper.pdf", samples.pdf(3)), "Document 1: PDF, 3 pages."),
    (
        "text",
        "document",
        lambda d: document(write(d, "notes.txt", samples.text(3))),
        "Document 1: text, 3 lines, 45 bytes.",
    ),
]
PAIRS = [(case, protocol) for case in CASES for protocol in CARRIERS[case[1]]]


@pytest.mark.parametrize(("case", "protocol"), PAIRS, ids=[f"{c[0]}-{p}" for c, p in PAIRS])
def test_each_kind_arrives_intact_on_each_protocol_that_carries_it(
    client: Client, tmp_path: Path, case: tuple[str, str, Any, str], protocol: str
) -> None:
    _, kind, make, sentence = case
    media = attach(make(tmp_path))
    assert media.kind == kind
    reply = client.chat(protocol, "Describe the attachment.", attachments=[media])
    assert sentence in reply.text, reply.text


@pytest.mark.parametrize("protocol", ["responses", "messages"])
@pytest.mark.parametrize("kind", ["audio", "video"])
def test_kinds_a_protocol_cannot_carry_are_refused_before_sending(client: Client, protocol: str, kind: str) -> None:
    media = audio(samples.wav(0.1)) if kind == "audio" else video(samples.mp4())
    with pytest.raises(UnsupportedError) as exc:
        client.chat(protocol, "Describe it.", attachments=[media])
    assert f"the {protocol} protocol cannot carry {kind}" in str(exc.value) and "chat, gemini" in str(exc.value)


@pytest.mark.parametrize("protocol", ["chat", "responses", "messages", "gemini"])
def test_urls_arrive_as_urls(client: Client, protocol: str) -> None:
    reply = client.chat(protocol, "What is this?", attachments=["https://example.com/cat.png"])
    assert "Image 1: URL https://example.com/cat.png (not fetched)." in reply.text


def test_several_parts_in_one_request(client: Client, tmp_path: Path) -> None:
    parts = [write(tmp_path, "a.png", samples.image_bytes()), samples.wav(0.5), samples.mp4(), samples.pdf(2)]
    reply = client.chat("gemini", "Describe them all.", attachments=parts)
    for sentence in (
        "Image 1: PNG, 64x48 pixels.",
        "Audio 1: WAV, 0.50 s, 16000 Hz mono.",
        "Video 1: MP4 container, 2.00 s, 64x48, 555 bytes.",
        "Document 1: PDF, 2 pages.",
    ):
        assert sentence in reply.text


def test_a_streamed_reply_with_media(client: Client) -> None:
    stream = client.stream("messages", "Describe it.", attachments=[samples.pdf(4)])
    text = "".join(e.text for e in stream if isinstance(e, TextDelta))
    assert "Document 1: PDF, 4 pages." in text


def test_a_large_video_is_streamed_intact_over_http(client: Client, tmp_path: Path) -> None:
    payload = os.urandom(6 * 1024 * 1024)
    path = write(tmp_path, "big.mp4", samples.mp4(seconds=9.0, payload=payload))
    reply = client.chat("chat", "Describe the video.", attachments=[video(path)])
    size = path.stat().st_size
    assert f"Video 1: MP4 container, 9.00 s, 64x48, {size} bytes." in reply.text


def test_the_async_client_sends_media_too(tmp_path: Path, emulator_url: str, by_protocol: dict[str, Endpoint]) -> None:
    path = write(tmp_path, "talk.wav", samples.wav(0.75))

    async def main(url: str) -> str:
        async with AsyncClient(url, "sk-media-test", by_protocol) as c:
            return (await c.chat("gemini", "Listen.", attachments=[path, samples.mp4()])).text

    text = asyncio.run(main(emulator_url))
    assert "Audio 1: WAV, 0.75 s, 16000 Hz mono." in text and "Video 1: MP4 container" in text
