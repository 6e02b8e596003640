"""Media samples built in the tests: images, WAV, MP3, MP4, WebM, PDF, as bytes or base64."""

from __future__ import annotations

import base64
import io
import struct
import wave

#: The API key the tests send (any non-empty key is accepted by default).
KEY = "test-key"


def png(width: int = 64, height: int = 48, fmt: str = "PNG") -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(buffer, fmt)
    return buffer.getvalue()


def wav(seconds: float = 1.5, rate: int = 16000, channels: int = 1) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(b"\x00\x00" * channels * int(rate * seconds))
    return buffer.getvalue()


def mp3(frames: int = 50) -> bytes:
    """MPEG-1 layer III frames at 128 kbps, 44.1 kHz, stereo (417 bytes each)."""
    return (b"\xff\xfb\x90\x64" + b"\x00" * 413) * frames


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def mp4(seconds: float = 2.5, width: int = 320, height: int = 240, brand: bytes = b"isom") -> bytes:
    """A minimal ISO-BMFF file: ftyp, moov (mvhd with duration, trak/tkhd with size), mdat."""
    mvhd = _box(
        b"mvhd", b"\x00" * 4 + b"\x00" * 8 + struct.pack(">II", 1000, int(seconds * 1000)) + b"\x00" * 80
    )
    tkhd = _box(b"tkhd", b"\x00" * 76 + struct.pack(">II", width << 16, height << 16))
    return (
        _box(b"ftyp", brand + b"\x00\x00\x00\x00" + brand)
        + _box(b"moov", mvhd + _box(b"trak", tkhd))
        + _box(b"mdat", b"\x00" * 1000)
    )


def webm() -> bytes:
    return base64.b64decode("GkXfo59ChoEBQveBAULygQRC84EIQoKEd2VibUKHgQJChYEC") + b"\x00" * 100


def pdf(pages: int = 3) -> bytes:
    kids = " ".join(f"{i + 3} 0 R" for i in range(pages))
    objects = [
        b"1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n",
        f"2 0 obj << /Type /Pages /Kids [{kids}] /Count {pages} >> endobj\n".encode(),
    ]
    objects += [f"{i + 3} 0 obj << /Type /Page /Parent 2 0 R >> endobj\n".encode() for i in range(pages)]
    return b"%PDF-1.4\n" + b"".join(objects) + b"trailer << /Root 1 0 R >>\n%%EOF\n"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def data_url(mime: str, data: bytes) -> str:
    return f"data:{mime};base64,{b64(data)}"
