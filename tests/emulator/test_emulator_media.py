"""Media parts are decoded and described in every protocol's own part shapes."""

from __future__ import annotations

import httpx
import pytest
from emulator_samples import b64, data_url, mp3, mp4, pdf, png, wav, webm

from cloudsway_nb.emulator import media


@pytest.fixture
def client(emulator_url: str) -> httpx.Client:
    with httpx.Client(base_url=emulator_url, headers={"Authorization": "Bearer k"}, timeout=10) as c:
        yield c


# ---------------------------------------------------------------- the decoders


@pytest.mark.parametrize(
    ("data", "mime", "sentence"),
    [
        (png(), "image/png", "Image 1: PNG, 64x48 pixels."),
        (png(30, 20, "JPEG"), "image/jpeg", "Image 1: JPEG, 30x20 pixels."),
        (png(10, 10, "GIF"), "image/gif", "Image 1: GIF, 10x10 pixels."),
        (png(12, 8, "WEBP"), "image/webp", "Image 1: WEBP, 12x8 pixels."),
        (wav(1.5), "audio/wav", "Audio 1: WAV, 1.50 s, 16000 Hz mono."),
        (wav(0.5, 44100, 2), "audio/x-wav", "Audio 1: WAV, 0.50 s, 44100 Hz stereo."),
        (mp3(), "audio/mpeg", "Audio 1: MP3, ~1.30 s, 44100 Hz stereo, 128 kbps."),
        (mp4(), "video/mp4", "Video 1: MP4 container, 2.50 s, 320x240, 1244 bytes."),
        (mp4(brand=b"qt  "), "video/quicktime", "Video 1: MOV container, 2.50 s, 320x240, 1244 bytes."),
        (webm(), "video/webm", "Video 1: WebM container, 136 bytes."),
        (pdf(3), "application/pdf", "Document 1: PDF, 3 pages."),
        (pdf(1), "application/pdf", "Document 1: PDF, 1 page."),
        (b"a,b\n1,2\n", "text/csv", "Document 1: text, 2 lines, 8 bytes."),
    ],
    ids=lambda value: value if isinstance(value, str) and value[0].isupper() else "",
)
def test_known_formats(data: bytes, mime: str, sentence: str) -> None:
    assert media.describe_bytes(data, mime).sentence(1) == sentence
    assert media.describe_bytes(data, None).sentence(1) == sentence  # sniffed from the bytes alone


def test_ogg_and_flac_headers() -> None:
    import struct

    streaminfo = bytearray(34)
    packed = (22050 << 44) | ((1 - 1) << 41) | (15 << 36) | 44100  # 22.05 kHz, mono, 2 s
    streaminfo[10:18] = packed.to_bytes(8, "big")
    flac = b"fLaC" + bytes([0x80, 0, 0, 34]) + bytes(streaminfo)
    assert media.describe_bytes(flac, "audio/flac").summary == "FLAC, 2.00 s, 22050 Hz mono"
    head = b"OggS" + b"\x00" * 24 + b"\x01vorbis" + struct.pack("<IBI", 0, 2, 48000) + b"\x00" * 20
    tail = b"OggS\x00\x04" + struct.pack("<q", 96000) + b"\x00" * 20
    assert media.describe_bytes(head + tail, "audio/ogg").summary == "OGG Vorbis, 2.00 s, 48000 Hz stereo"


@pytest.mark.parametrize(
    ("info", "expected"),
    [
        (
            media.describe_base64("@@not base64@@", "image/png", "image"),
            "Image 1: could not decode: invalid base64 data",
        ),
        (
            media.describe_bytes(b"\x00garbage" * 8, "image/png"),
            "Image 1: could not decode: not a recognised image",
        ),
        (media.describe_bytes(png()[:60], "image/png"), "Image 1: could not decode: corrupt PNG data"),
        (
            media.describe_bytes(pdf(), "audio/wav"),
            "Audio 1: could not decode: expected audio data, found PDF",
        ),
        (
            media.describe_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk", "audio/wav"),
            "Audio 1: could not decode: WAV file",
        ),
        (
            media.describe_bytes(b"%PDF-1.4 nothing here", "application/pdf"),
            "Document 1: could not decode: PDF without",
        ),
        (media.describe_bytes(b"", "video/mp4"), "Video 1: could not decode: empty data"),
        (
            media.describe_data_url("data:image/png;base64", "image"),
            "Image 1: could not decode: malformed data URL",
        ),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_failures_say_why(info, expected: str) -> None:
    assert info.sentence(1).startswith(expected)
    assert not info.ok


def test_urls_are_not_fetched() -> None:
    assert media.describe_url("https://example.com/x.mp4", "image").sentence(1) == (
        "Video 1: URL https://example.com/x.mp4 (not fetched)."
    )
    long_url = "https://example.com/" + "a" * 200
    assert "..." in media.describe_url(long_url, "image").summary


# ---------------------------------------------------------------- through each protocol


def test_chat_parts(client: httpx.Client) -> None:
    content = [
        {"type": "text", "text": "Describe all"},
        {"type": "image_url", "image_url": {"url": data_url("image/png", png())}},
        {"type": "image_url", "image_url": {"url": data_url("video/mp4", mp4())}},
        {"type": "input_audio", "input_audio": {"data": b64(wav()), "format": "wav"}},
        {"type": "input_audio", "input_audio": {"data": b64(mp3()), "format": "mp3"}},
        {"type": "file", "file": {"filename": "a.pdf", "file_data": data_url("application/pdf", pdf(4))}},
        {"type": "file", "file": {"file_id": "file-123"}},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
    ]
    r = client.post("/v1/ai/gpt/chat/completions", json={"messages": [{"role": "user", "content": content}]})
    text = r.json()["choices"][0]["message"]["content"]
    for sentence in (
        "You said: Describe all.",
        "Image 1: PNG, 64x48 pixels.",
        "Video 1: MP4 container, 2.50 s",
        "Audio 1: WAV, 1.50 s, 16000 Hz mono.",
        "Audio 2: MP3, ~1.30 s",
        "Document 1: PDF, 4 pages.",
        "Document 2: file id file-123 (not fetched).",
        "Image 2: could not decode: not a recognised image format (8 bytes).",
    ):
        assert sentence in text
    assert r.json()["usage"]["prompt_tokens"] > 255 + 4 * 258  # media tokens are counted


def test_responses_parts(client: httpx.Client) -> None:
    content = [
        {"type": "input_text", "text": "给我描述图里内容"},
        {"type": "input_image", "image_url": data_url("image/jpeg", png(100, 50, "JPEG"))},
        {"type": "input_image", "image_url": "https://upload.wikimedia.org/cat.jpg"},
        {"type": "input_file", "filename": "doc.pdf", "file_data": data_url("application/pdf", pdf(2))},
    ]
    r = client.post("/v1/ai/o3/responses", json={"input": [{"role": "user", "content": content}]})
    text = r.json()["output"][-1]["content"][0]["text"]
    assert text.startswith("You said: 给我描述图里内容.")
    assert "Image 1: JPEG, 100x50 pixels." in text
    assert "Image 2: URL https://upload.wikimedia.org/cat.jpg (not fetched)." in text
    assert "Document 1: PDF, 2 pages." in text


def test_gemini_parts_snake_and_camel(client: httpx.Client) -> None:
    parts = [
        {"inlineData": {"mimeType": "image/png", "data": b64(png(8, 8))}},
        {"inline_data": {"mime_type": "audio/wav", "data": b64(wav(0.25))}},
        {"fileData": {"mimeType": "application/pdf", "fileUri": "https://example.com/doc.pdf"}},
        {"text": "What is this?"},
    ]
    r = client.post("/v1/ai/gem/generateContent", json={"contents": [{"role": "user", "parts": parts}]})
    text = r.json()["candidates"][0]["content"]["parts"][0]["text"]
    assert "Image 1: PNG, 8x8 pixels." in text and "Audio 1: WAV, 0.25 s, 16000 Hz mono." in text
    assert "Document 1: URL https://example.com/doc.pdf (not fetched)." in text


def test_same_media_same_prompt_tokens_across_protocols(client: httpx.Client) -> None:
    image = png(600, 400)
    chat = client.post(
        "/v1/ai/a/chat/completions",
        json={
            "messages": [
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "Look"},
                        {"type": "image_url", "image_url": {"url": data_url("image/png", image)}},
                    ],
                }
            ]
        },
    ).json()["usage"]
    anthropic = client.post(
        "/a/v1/messages",
        json={
            "max_tokens": 100,
            "messages": [
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "Look"},
                        {
                            "type": "image",
                            "source": {"type": "base64", "media_type": "image/png", "data": b64(image)},
                        },
                    ],
                }
            ],
        },
    ).json()["usage"]
    gemini = client.post(
        "/v1/ai/a/generateContent",
        json={
            "contents": [
                {
                    "role": "user",
                    "parts": [
                        {"text": "Look"},
                        {"inlineData": {"mimeType": "image/png", "data": b64(image)}},
                    ],
                }
            ]
        },
    ).json()["usageMetadata"]
    responses = client.post(
        "/v1/ai/a/responses",
        json={
            "input": [
                {
                    "role": "user",
                    "content": [
                        {"type": "input_text", "text": "Look"},
                        {"type": "input_image", "image_url": data_url("image/png", image)},
                    ],
                }
            ]
        },
    ).json()["usage"]
    total_anthropic = (
        anthropic["input_tokens"]
        + anthropic["cache_read_input_tokens"]
        + anthropic["cache_creation_input_tokens"]
    )
    assert chat["prompt_tokens"] == total_anthropic == gemini["promptTokenCount"] == responses["input_tokens"]
    assert chat["prompt_tokens"] > 85 + 170 * 2  # a 600x400 image spans 2x1 tiles
    assert chat["completion_tokens"] == anthropic["output_tokens"] == responses["output_tokens"]
    assert chat["completion_tokens"] == gemini["candidatesTokenCount"]
