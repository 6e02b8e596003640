"""Tiny, valid media files made on the spot (a few KB at most), for tests, demos and the emulator.

Audio, video and PDF are built with the standard library (WAV with `wave`; MP3 frames; MP4 /
MOV / M4A boxes; WebM elements; an OGG Opus stream with real page checksums; FLAC's
STREAMINFO; a PDF with N pages); images use Pillow (imported when called).

Example:
    >>> from cloudsway_nb.media import attach, samples
    >>> [attach(make()).mime_type for make in (samples.wav, samples.mp4, samples.webm, samples.pdf)]
    ['audio/wav', 'video/mp4', 'video/webm', 'application/pdf']
"""

from __future__ import annotations

import io
import math
import struct
import wave

__all__ = [
    "flac",
    "image_bytes",
    "m4a",
    "mov",
    "mp3",
    "mp4",
    "ogg_opus",
    "pdf",
    "text",
    "wav",
    "webm",
]


def image_bytes(
    width: int = 64, height: int = 48, fmt: str = "PNG", orientation: int | None = None, color: str = "red"
) -> bytes:
    """An image in any format Pillow writes (PNG, JPEG, GIF, WEBP, BMP, TIFF), optionally with an
    EXIF orientation tag.

    Example:
        >>> image_bytes(8, 4)[:4]
        b'\\x89PNG'
    """
    from PIL import Image

    im = Image.new("RGB", (width, height), color)
    side = max(1, min(width, height) // 4)
    im.paste((0, 0, 255), (0, 0, side, side))  # a blue marker in the top-left corner, to check rotations
    buf = io.BytesIO()
    params = {}
    if orientation is not None:
        exif = Image.Exif()
        exif[0x0112] = orientation
        params["exif"] = exif
    im.save(buf, fmt, **params)
    return buf.getvalue()


def wav(seconds: float = 1.5, rate: int = 16000, channels: int = 1, tone: float = 440.0) -> bytes:
    """A 16-bit PCM WAV file with a sine tone.

    Example:
        >>> len(wav(0.5, 8000))
        8044
    """
    frames = int(seconds * rate)
    samples = b"".join(
        struct.pack("<h", int(8000 * math.sin(2 * math.pi * tone * i / rate))) * channels for i in range(frames)
    )
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples)
    return buf.getvalue()


def mp3(seconds: float = 1.0) -> bytes:
    """MPEG-1 Layer III frames (128 kbps, 44.1 kHz, mono) after an ID3v2 tag; silent.

    Example:
        >>> mp3()[:3]
        b'ID3'
    """
    frame = b"\xff\xfb\x90\xc0" + bytes(413)  # 144 * 128000 / 44100 = 417 bytes a frame
    count = max(1, round(seconds * 44100 / 1152))
    return b"ID3\x04\x00\x00\x00\x00\x00\x00" + frame * count


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def _iso_file(brand: bytes, handler: bytes, seconds: float, width: int, height: int, payload: bytes) -> bytes:
    timescale = 1000
    mvhd = _box(
        b"mvhd",
        struct.pack(">B3xIIII", 0, 0, 0, timescale, int(seconds * timescale)) + b"\x00\x01\x00\x00" + bytes(80),
    )
    tkhd = _box(b"tkhd", struct.pack(">B3x", 0) + bytes(72) + struct.pack(">II", width << 16, height << 16))
    hdlr = _box(b"hdlr", bytes(8) + handler + bytes(12) + b"sample\x00")
    trak = _box(b"trak", tkhd + _box(b"mdia", hdlr))
    ftyp = _box(b"ftyp", brand + b"\x00\x00\x02\x00" + brand + b"isom")
    return ftyp + _box(b"moov", mvhd + trak) + _box(b"mdat", payload)


def mp4(seconds: float = 2.0, width: int = 64, height: int = 48, payload: bytes = bytes(256)) -> bytes:
    """An MP4 (ISO base media) file: ftyp, a moov with one video track, and an mdat holding `payload`.

    Example:
        >>> mp4()[4:12]
        b'ftypisom'
    """
    return _iso_file(b"isom", b"vide", seconds, width, height, payload)


def mov(seconds: float = 1.0, width: int = 32, height: int = 32) -> bytes:
    """A QuickTime MOV file (brand `qt  `) with one video track.

    Example:
        >>> mov()[8:12]
        b'qt  '
    """
    return _iso_file(b"qt  ", b"vide", seconds, width, height, bytes(256))


def m4a(seconds: float = 1.0) -> bytes:
    """An M4A file (brand `M4A `) with one sound track.

    Example:
        >>> m4a()[8:12]
        b'M4A '
    """
    return _iso_file(b"M4A ", b"soun", seconds, 0, 0, bytes(256))


def _ebml(ident: int, payload: bytes) -> bytes:
    id_bytes = ident.to_bytes((ident.bit_length() + 7) // 8, "big")
    return id_bytes + (0x01 << 56 | len(payload)).to_bytes(8, "big") + payload


def _uint(ident: int, value: int) -> bytes:
    return _ebml(ident, value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big"))


def webm(video: bool = True) -> bytes:
    """A WebM file: EBML header (DocType webm), a Segment with Info, one track (video VP8 or audio
    Opus) and an empty Cluster.

    Example:
        >>> webm()[:4]
        b'\\x1aE\\xdf\\xa3'
    """
    header = _ebml(0x1A45DFA3, _uint(0x4286, 1) + _ebml(0x4282, b"webm") + _uint(0x4287, 4) + _uint(0x4285, 2))
    info = _ebml(0x1549A966, _uint(0x2AD7B1, 1000000) + _ebml(0x4D80, b"cloudsway-nb"))
    if video:
        track = _uint(0xD7, 1) + _uint(0x83, 1) + _ebml(0x86, b"V_VP8") + _ebml(0xE0, _uint(0xB0, 64) + _uint(0xBA, 48))
    else:
        track = _uint(0xD7, 1) + _uint(0x83, 2) + _ebml(0x86, b"A_OPUS") + _ebml(0xE1, _uint(0x9F, 1))
    tracks = _ebml(0x1654AE6B, _ebml(0xAE, track))
    cluster = _ebml(0x1F43B675, _uint(0xE7, 0))
    return header + _ebml(0x18538067, info + tracks + cluster)


def _ogg_crc(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc ^= byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7) if crc & 0x80000000 else crc << 1
            crc &= 0xFFFFFFFF
    return crc


def _ogg_page(payload: bytes, granule: int, sequence: int, flags: int) -> bytes:
    lacing = [255] * (len(payload) // 255) + [len(payload) % 255]
    header = b"OggS" + struct.pack("<BBqIIIB", 0, flags, granule, 0x5EED, sequence, 0, len(lacing)) + bytes(lacing)
    page = header + payload
    return page[:22] + struct.pack("<I", _ogg_crc(page)) + page[26:]


def ogg_opus(seconds: float = 1.0) -> bytes:
    """An OGG Opus stream: the OpusHead and OpusTags pages and a last page whose granule position
    gives the duration (no audio packets; enough for sniffing and describing).

    Example:
        >>> ogg_opus()[:4]
        b'OggS'
    """
    head = b"OpusHead" + struct.pack("<BBHIhB", 1, 1, 312, 48000, 0, 0)
    tags = b"OpusTags" + struct.pack("<I", 12) + b"cloudsway-nb" + struct.pack("<I", 0)
    return (
        _ogg_page(head, 0, 0, 0x02)
        + _ogg_page(tags, 0, 1, 0)
        + _ogg_page(b"\xf8\xff\xfe", int(seconds * 48000), 2, 0x04)
    )


def flac(seconds: float = 1.0, rate: int = 16000, channels: int = 1) -> bytes:
    """A FLAC stream header: `fLaC` and a STREAMINFO block (no audio frames).

    Example:
        >>> flac()[:4]
        b'fLaC'
    """
    total = int(seconds * rate)
    packed = rate << 44 | (channels - 1) << 41 | (16 - 1) << 36 | total
    info = struct.pack(">HH", 4096, 4096) + bytes(6) + packed.to_bytes(8, "big") + bytes(16)
    return b"fLaC" + bytes([0x80, 0, 0, len(info)]) + info


def pdf(pages: int = 3) -> bytes:
    """A small well-formed PDF with `pages` empty pages (objects, xref table, trailer, %%EOF).

    Example:
        >>> pdf(1).startswith(b"%PDF-1.4") and pdf(1).rstrip().endswith(b"%%EOF")
        True
    """
    kids = " ".join(f"{3 + i} 0 R" for i in range(pages))
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", f"<< /Type /Pages /Kids [{kids}] /Count {pages} >>".encode()]
    objects += [b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>"] * pages
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def text(lines: int = 3) -> bytes:
    """Plain UTF-8 text.

    Example:
        >>> text(2)
        b'Line 1: caf\\xc3\\xa9.\\nLine 2: caf\\xc3\\xa9.\\n'
    """
    return "".join(f"Line {i}: café.\n" for i in range(1, lines + 1)).encode("utf-8")
