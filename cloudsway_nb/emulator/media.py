"""Decode media parts and describe them in one short sentence each.

The emulator never fetches URLs; it decodes inline data (base64 or data URLs) and reports what
it found (image format and pixel size, audio format and duration, video container and size,
PDF page count) or exactly why it could not decode it. Pillow is imported lazily, only when an
image arrives; audio, video and PDF headers are parsed here with the standard library.

Example:
    >>> info = describe_bytes(b"%PDF-1.4\\n1 0 obj << /Type /Page >> endobj\\n", "application/pdf")
    >>> info.sentence(1)
    'Document 1: PDF, 1 page.'
    >>> describe_url("https://example.com/cat.png", "image").sentence(2)
    'Image 2: URL https://example.com/cat.png (not fetched).'
"""

from __future__ import annotations

import base64
import binascii
import io
import math
import re
import struct
from dataclasses import dataclass
from urllib.parse import unquote_to_bytes

from .tokenizer import count_tokens

__all__ = [
    "MediaInfo",
    "decode_base64",
    "describe_base64",
    "describe_bytes",
    "describe_data_url",
    "describe_reference",
    "describe_url",
    "split_data_url",
]

_LABELS = {"image": "Image", "audio": "Audio", "video": "Video", "document": "Document", "file": "File"}
_URL_TOKENS = 85


@dataclass(frozen=True)
class MediaInfo:
    """What one media part turned out to be.

    Attributes:
        kind: ``image``, ``audio``, ``video``, ``document`` or ``file`` (the label's noun).
        summary: the description after the label, e.g. ``"PNG, 64x48 pixels"``.
        tokens: how many prompt tokens the part counts for.
        ok: False when the data could not be decoded.

    Example:
        >>> MediaInfo("audio", "WAV, 1.50 s, 16000 Hz mono", 38).sentence(1)
        'Audio 1: WAV, 1.50 s, 16000 Hz mono.'
    """

    kind: str
    summary: str
    tokens: int
    ok: bool = True

    @property
    def label(self) -> str:
        """The capitalised noun used in sentences (``Image``, ``Audio``...)."""
        return _LABELS.get(self.kind, "File")

    def sentence(self, number: int) -> str:
        """One sentence naming the part by kind and number.

        Example:
            >>> MediaInfo("image", "could not decode: empty data", 85, ok=False).sentence(3)
            'Image 3: could not decode: empty data.'
        """
        return f"{self.label} {number}: {self.summary}."


def _failed(kind: str, reason: str) -> MediaInfo:
    return MediaInfo(kind, f"could not decode: {reason}", _URL_TOKENS, ok=False)


# ---------------------------------------------------------------- entry points


def split_data_url(url: str) -> tuple[str | None, bytes | None, str | None]:
    """Split a ``data:`` URL into (mime type, bytes, error).

    Example:
        >>> split_data_url("data:text/plain;base64,aGk=")
        ('text/plain', b'hi', None)
        >>> split_data_url("data:image/png;base64,@@@")[2]
        'invalid base64 data (Only base64 data is allowed)'
    """
    header, sep, payload = url.partition(",")
    if not sep or not header.lower().startswith("data:"):
        return None, None, "malformed data URL (no comma after the header)"
    params = header[5:].split(";")
    mime = params[0].strip().lower() or None
    if any(p.strip().lower() == "base64" for p in params[1:]):
        data, error = decode_base64(payload)
        return mime, data, error
    return mime, unquote_to_bytes(payload), None


def decode_base64(text: str) -> tuple[bytes | None, str | None]:
    """Decode standard or URL-safe base64 (whitespace and missing padding tolerated).

    Example:
        >>> decode_base64("aGk")
        (b'hi', None)
    """
    if not isinstance(text, str):
        return None, f"expected a base64 string, got {type(text).__name__}"
    cleaned = re.sub(r"\s+", "", text)
    if "-" in cleaned or "_" in cleaned:
        cleaned = cleaned.replace("-", "+").replace("_", "/")
    cleaned += "=" * (-len(cleaned) % 4)
    try:
        return base64.b64decode(cleaned, validate=True), None
    except (binascii.Error, ValueError) as exc:
        return None, f"invalid base64 data ({_first_line(str(exc))})"


def describe_url(url: str, kind_hint: str | None = None) -> MediaInfo:
    """Describe a part given by URL; ``data:`` URLs are decoded, others are not fetched.

    Example:
        >>> describe_url("data:text/plain,hello%20there", "file").summary
        'text, 1 line, 11 bytes'
    """
    if url.lower().startswith("data:"):
        return describe_data_url(url, kind_hint)
    shown = url if len(url) <= 80 else url[:77] + "..."
    mime = _mime_from_extension(url)
    kind = _kind_of_mime(mime) or kind_hint or "file"
    return MediaInfo(kind, f"URL {shown} (not fetched)", _URL_TOKENS)


def describe_reference(reference: str, kind_hint: str | None = None, what: str = "file id") -> MediaInfo:
    """Describe a part that only names an uploaded file.

    Example:
        >>> describe_reference("file-abc", "document").sentence(1)
        'Document 1: file id file-abc (not fetched).'
    """
    return MediaInfo(kind_hint or "file", f"{what} {reference} (not fetched)", _URL_TOKENS)


def describe_data_url(url: str, kind_hint: str | None = None) -> MediaInfo:
    """Decode a ``data:`` URL and describe its content.

    Example:
        >>> describe_data_url("data:image/png;base64,AAAA", "image").ok
        False
    """
    mime, data, error = split_data_url(url)
    if error or data is None:
        return _failed(_kind_of_mime(mime) or kind_hint or "file", error or "no data")
    return describe_bytes(data, mime, kind_hint)


def describe_base64(
    data: str, mime: str | None, kind_hint: str | None = None, filename: str | None = None
) -> MediaInfo:
    """Decode bare base64 and describe it.

    Example:
        >>> describe_base64("not base64!", "audio/wav", "audio").summary.startswith("could not decode")
        True
    """
    raw, error = decode_base64(data)
    if error or raw is None:
        return _failed(_kind_of_mime(mime) or kind_hint or "file", error or "no data")
    return describe_bytes(raw, mime, kind_hint, filename)


def describe_bytes(
    data: bytes, mime: str | None = None, kind_hint: str | None = None, filename: str | None = None
) -> MediaInfo:
    """Describe raw bytes; the declared mime type names the kind, the bytes decide the rest.

    Example:
        >>> describe_bytes(b"", "image/png").summary
        'could not decode: empty data'
    """
    mime = (mime or "").split(";")[0].strip().lower() or _mime_from_extension(filename or "")
    sniffed = _sniff(data)
    kind = _kind_of_mime(mime) or (sniffed[0] if sniffed else None) or kind_hint or "file"
    if not data:
        return _failed(kind, "empty data")
    found = sniffed[1] if sniffed else None
    if kind == "image":
        return _describe_image(data)
    if kind == "audio":
        return _describe_audio(data, found, mime)
    if kind == "video":
        return _describe_video(data, found, mime)
    if found == "pdf" or mime == "application/pdf":
        return _describe_pdf(data)
    if (
        mime.startswith("text/")
        or mime in ("application/json", "application/xml", "application/csv")
        or (found is None and _looks_like_text(data))
    ):
        return _describe_text(data, kind if kind != "file" else "document")
    if sniffed:  # e.g. a document part that holds an image
        return describe_bytes(data, None, sniffed[0])
    return MediaInfo(
        kind,
        f"unrecognised binary data, {mime or 'no type given'}, {len(data)} bytes",
        16 + len(data) // 1000,
    )


# ---------------------------------------------------------------- sniffing


def _sniff(data: bytes) -> tuple[str, str] | None:
    """(kind, format) from magic bytes, or None."""
    head = data[:64]
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image", "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image", "jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image", "gif"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "image", "webp"
    if head.startswith((b"BM", b"II*\x00", b"MM\x00*")):
        return "image", "bitmap"
    if head.startswith(b"RIFF") and head[8:12] == b"WAVE":
        return "audio", "wav"
    if head.startswith(b"RIFF") and head[8:12] == b"AVI ":
        return "video", "avi"
    if head.startswith(b"ID3") or (
        len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0 and head[1] & 0x06
    ):
        return "audio", "mp3"
    if len(head) > 1 and head[0] == 0xFF and head[1] & 0xF6 == 0xF0:
        return "audio", "aac"
    if head.startswith(b"OggS"):
        return ("video" if b"\x80theora" in data[:256] else "audio"), "ogg"
    if head.startswith(b"fLaC"):
        return "audio", "flac"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        return ("audio" if brand in (b"M4A ", b"M4B ") else "video"), "mp4"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "video", "matroska"
    if b"%PDF-" in data[:1024]:
        return "document", "pdf"
    return None


def _kind_of_mime(mime: str | None) -> str | None:
    if not mime:
        return None
    major = mime.split("/")[0]
    if major in ("image", "audio", "video"):
        return major
    if mime == "application/pdf" or major == "text" or mime in ("application/json", "application/csv"):
        return "document"
    return None


_EXTENSIONS = {
    "png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "gif": "image/gif", "webp": "image/webp",
    "wav": "audio/wav", "mp3": "audio/mpeg", "ogg": "audio/ogg", "flac": "audio/flac", "m4a": "audio/mp4",
    "mp4": "video/mp4", "mov": "video/quicktime", "webm": "video/webm", "pdf": "application/pdf",
    "txt": "text/plain", "csv": "text/csv", "json": "application/json", "md": "text/markdown",
}  # fmt: skip


def _mime_from_extension(name: str) -> str:
    match = re.search(r"\.([A-Za-z0-9]{2,5})(?:$|[?#])", name or "")
    return _EXTENSIONS.get(match.group(1).lower(), "") if match else ""


def _looks_like_text(data: bytes) -> bool:
    try:
        text = data[:4096].decode("utf-8")
    except UnicodeDecodeError:
        return False
    return not any(ch in text for ch in "\x00\x01\x02\x03\x04\x05\x06\x07\x0e\x0f")


def _first_line(text: str) -> str:
    return (text.strip().splitlines() or [""])[0][:120]


# ---------------------------------------------------------------- images


def _describe_image(data: bytes) -> MediaInfo:
    found = _sniff(data)
    if found and found[0] != "image":
        return _failed("image", f"expected image data, found {found[1].upper()} ({len(data)} bytes)")
    try:
        from PIL import Image, UnidentifiedImageError
    except ImportError:  # pragma: no cover - Pillow is a dependency
        return _failed("image", "Pillow is not installed")
    try:
        with Image.open(io.BytesIO(data)) as img:
            fmt = img.format or "image"
            width, height = img.size
            frames = getattr(img, "n_frames", 1) or 1
            img.load()
    except UnidentifiedImageError:
        return _failed("image", f"not a recognised image format ({len(data)} bytes)")
    except (
        OSError,
        SyntaxError,
        ValueError,
        EOFError,
        IndexError,
        struct.error,
        Image.DecompressionBombError,
    ) as exc:
        # truncated or corrupt files raise several kinds of error
        return _failed(
            "image", f"corrupt {found[1].upper() if found else 'image'} data ({_first_line(str(exc))})"
        )
    tiles = math.ceil(width / 512) * math.ceil(height / 512)
    summary = f"{fmt}, {width}x{height} pixels"
    if frames > 1:
        summary += f", {frames} frames"
    return MediaInfo("image", summary, 85 + 170 * tiles)


# ---------------------------------------------------------------- audio


def _describe_audio(data: bytes, found: str | None, mime: str) -> MediaInfo:
    try:
        if found == "wav":
            return _describe_wav(data)
        if found == "mp3":
            return _describe_mp3(data)
        if found == "flac":
            return _describe_flac(data)
        if found == "ogg":
            return _describe_ogg(data)
        if found == "aac":
            return MediaInfo("audio", f"AAC (ADTS), {len(data)} bytes", _size_tokens(data))
        if found == "mp4":
            return _describe_mp4(data, "audio")
        if found == "matroska":
            return MediaInfo("audio", f"WebM container, {len(data)} bytes", _size_tokens(data))
    except (struct.error, ValueError, IndexError) as exc:
        return _failed("audio", f"corrupt {(found or '').upper()} data ({_first_line(str(exc))})")
    if found:
        return _failed("audio", f"expected audio data, found {found.upper()} ({len(data)} bytes)")
    declared = mime.split("/")[-1] if mime else "unknown"
    return _failed("audio", f"unrecognised audio data (declared {declared}, {len(data)} bytes)")


def _channels(n: int) -> str:
    return {1: "mono", 2: "stereo"}.get(n, f"{n} channels")


def _audio_summary(
    fmt: str, seconds: float | None, rate: int | None, channels: int | None, extra: str = ""
) -> str:
    parts = [fmt]
    if seconds is not None:
        parts.append(f"{seconds:.2f} s")
    if rate and channels:
        parts.append(f"{rate} Hz {_channels(channels)}")
    elif rate:
        parts.append(f"{rate} Hz")
    if extra:
        parts.append(extra)
    return ", ".join(parts)


def _audio_tokens(seconds: float | None, data: bytes) -> int:
    return max(1, math.ceil(seconds * 25)) if seconds is not None else _size_tokens(data)


def _size_tokens(data: bytes) -> int:
    return 16 + len(data) // 1000


def _describe_wav(data: bytes) -> MediaInfo:
    pos, fmt_chunk, data_size = 12, None, None
    while pos + 8 <= len(data):
        chunk_id, size = data[pos : pos + 4], struct.unpack_from("<I", data, pos + 4)[0]
        if chunk_id == b"fmt ":
            fmt_chunk = data[pos + 8 : pos + 8 + size]
        elif chunk_id == b"data":
            data_size = min(size, len(data) - pos - 8)
            break
        pos += 8 + size + (size & 1)
    if fmt_chunk is None or len(fmt_chunk) < 16:
        return _failed("audio", "WAV file without a valid fmt chunk")
    _codec, channels, rate, byte_rate = struct.unpack_from("<HHII", fmt_chunk)
    if data_size is None:
        return _failed("audio", "WAV file without a data chunk")
    if not byte_rate:
        return _failed("audio", "WAV file with a zero byte rate")
    seconds = data_size / byte_rate
    return MediaInfo("audio", _audio_summary("WAV", seconds, rate, channels), _audio_tokens(seconds, data))


_MP3_BITRATES = {
    (1, 1): [0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448],
    (1, 2): [0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384],
    (1, 3): [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320],
    (2, 1): [0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256],
    (2, 2): [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
}
_MP3_RATES = {1: [44100, 48000, 32000], 2: [22050, 24000, 16000], 25: [11025, 12000, 8000]}


def _describe_mp3(data: bytes) -> MediaInfo:
    pos = 0
    if data.startswith(b"ID3") and len(data) >= 10:
        size = (data[6] & 0x7F) << 21 | (data[7] & 0x7F) << 14 | (data[8] & 0x7F) << 7 | (data[9] & 0x7F)
        pos = 10 + size
    while pos + 4 <= len(data):
        if data[pos] == 0xFF and data[pos + 1] & 0xE0 == 0xE0:
            header = struct.unpack_from(">I", data, pos)[0]
            version_bits = (header >> 19) & 3
            layer_bits = (header >> 17) & 3
            bitrate_index = (header >> 12) & 15
            rate_index = (header >> 10) & 3
            if version_bits != 1 and layer_bits != 0 and bitrate_index not in (0, 15) and rate_index != 3:
                version = {3: 1, 2: 2, 0: 25}[version_bits]
                layer = 4 - layer_bits
                table = (
                    _MP3_BITRATES[(1, layer)] if version == 1 else _MP3_BITRATES[(2, 1 if layer == 1 else 2)]
                )
                kbps = table[bitrate_index]
                rate = _MP3_RATES[version][rate_index]
                channels = 1 if (header >> 6) & 3 == 3 else 2
                seconds = (len(data) - pos) * 8 / (kbps * 1000)
                summary = _audio_summary(
                    f"MP3 (layer {layer})" if layer != 3 else "MP3", seconds, rate, channels, f"{kbps} kbps"
                )
                return MediaInfo(
                    "audio",
                    summary.replace(f"{seconds:.2f} s", f"~{seconds:.2f} s"),
                    _audio_tokens(seconds, data),
                )
        pos += 1
    return _failed("audio", "MP3 data without a valid frame header")


def _describe_flac(data: bytes) -> MediaInfo:
    if len(data) < 8 + 34 or data[4] & 0x7F != 0:
        return _failed("audio", "FLAC data without a STREAMINFO block")
    info = data[8 : 8 + 34]
    packed = int.from_bytes(info[10:18], "big")
    rate = packed >> 44
    channels = ((packed >> 41) & 7) + 1
    total = packed & ((1 << 36) - 1)
    seconds = total / rate if rate and total else None
    return MediaInfo("audio", _audio_summary("FLAC", seconds, rate, channels), _audio_tokens(seconds, data))


def _describe_ogg(data: bytes) -> MediaInfo:
    first = data[: 28 + 255 + 64]
    codec, rate, channels = "OGG", None, None
    if b"OpusHead" in first:
        at = first.index(b"OpusHead")
        codec, channels, rate = "OGG Opus", first[at + 9], 48000
    elif b"\x01vorbis" in first:
        at = first.index(b"\x01vorbis")
        codec = "OGG Vorbis"
        channels = first[at + 11]
        rate = struct.unpack_from("<I", first, at + 12)[0]
    elif b"\x7fFLAC" in first:
        codec = "OGG FLAC"
    last = data.rfind(b"OggS")
    seconds = None
    if rate and last >= 0 and last + 14 <= len(data):
        granule = struct.unpack_from("<q", data, last + 6)[0]
        if granule > 0:
            seconds = granule / rate
    summary = _audio_summary(codec, seconds, rate, channels)
    if seconds is None:
        summary += f", {len(data)} bytes"
    return MediaInfo("audio", summary, _audio_tokens(seconds, data))


# ---------------------------------------------------------------- video


def _describe_video(data: bytes, found: str | None, mime: str) -> MediaInfo:
    try:
        if found == "mp4":
            return _describe_mp4(data, "video")
        if found == "matroska":
            name = "WebM" if b"webm" in data[:64] else "Matroska"
            return MediaInfo("video", f"{name} container, {len(data)} bytes", 258 + len(data) // 10000)
        if found == "avi":
            return MediaInfo("video", f"AVI container, {len(data)} bytes", 258 + len(data) // 10000)
        if found == "ogg":
            return MediaInfo("video", f"OGG Theora container, {len(data)} bytes", 258 + len(data) // 10000)
    except (struct.error, ValueError, IndexError) as exc:
        return _failed("video", f"corrupt {(found or '').upper()} data ({_first_line(str(exc))})")
    if found:
        return _failed("video", f"expected video data, found {found.upper()} ({len(data)} bytes)")
    declared = mime.split("/")[-1] if mime else "unknown"
    return _failed("video", f"unrecognised video container (declared {declared}, {len(data)} bytes)")


def _boxes(data: bytes, start: int, end: int) -> list[tuple[bytes, int, int]]:
    """(type, payload start, payload end) of the ISO-BMFF boxes between start and end."""
    found, pos = [], start
    while pos + 8 <= end:
        size, kind = struct.unpack_from(">I4s", data, pos)
        header = 8
        if size == 1:
            size = struct.unpack_from(">Q", data, pos + 8)[0]
            header = 16
        elif size == 0:
            size = end - pos
        if size < header:
            break
        found.append((kind, pos + header, min(pos + size, end)))
        pos += size
    return found


def _describe_mp4(data: bytes, kind: str) -> MediaInfo:
    top = _boxes(data, 0, len(data))
    brand = b""
    seconds = None
    width = height = 0
    for box, start, end in top:
        if box == b"ftyp":
            brand = data[start : start + 4]
        elif box == b"moov":
            for sub, s_start, s_end in _boxes(data, start, end):
                if sub == b"mvhd":
                    version = data[s_start]
                    if version == 1:
                        timescale, duration = struct.unpack_from(">IQ", data, s_start + 20)
                    else:
                        timescale, duration = struct.unpack_from(">II", data, s_start + 12)
                    if timescale:
                        seconds = duration / timescale
                elif sub == b"trak" and not width:
                    for tbox, t_start, t_end in _boxes(data, s_start, s_end):
                        if tbox == b"tkhd" and t_end - t_start >= 8:
                            w, h = struct.unpack_from(">II", data, t_end - 8)
                            width, height = w >> 16, h >> 16
    name = {b"qt  ": "MOV", b"M4A ": "M4A", b"M4B ": "M4A", b"3gp4": "3GP", b"3gp5": "3GP"}.get(brand, "MP4")
    parts = [f"{name} container"]
    if seconds is not None:
        parts.append(f"{seconds:.2f} s")
    if width and height:
        parts.append(f"{width}x{height}")
    parts.append(f"{len(data)} bytes")
    if seconds is not None:
        tokens = _audio_tokens(seconds, data) if kind == "audio" else max(1, math.ceil(seconds * 258))
    else:
        tokens = 258 + len(data) // 10000
    return MediaInfo(kind, ", ".join(parts), tokens)


# ---------------------------------------------------------------- documents

_PAGE = re.compile(rb"/Type\s*/Page(?![A-Za-z0-9])")
_COUNT = re.compile(rb"/Type\s*/Pages\b[^>]*?/Count\s+(\d+)|/Count\s+(\d+)[^>]*?/Type\s*/Pages\b", re.DOTALL)


def _describe_pdf(data: bytes) -> MediaInfo:
    if b"%PDF-" not in data[:1024]:
        return _failed("document", "missing %PDF- header")
    pages = len(_PAGE.findall(data))
    if pages == 0:
        counts = [int(a or b) for a, b in _COUNT.findall(data)]
        pages = max(counts, default=0)
    if pages == 0:
        return _failed("document", "PDF without any page objects")
    return MediaInfo("document", f"PDF, {pages} page{'s' if pages != 1 else ''}", 258 * pages)


def _describe_text(data: bytes, kind: str) -> MediaInfo:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return _failed(kind, "text is not valid UTF-8")
    lines = text.count("\n") + (0 if text.endswith("\n") or not text else 1)
    return MediaInfo(
        kind, f"text, {lines} line{'s' if lines != 1 else ''}, {len(data)} bytes", count_tokens(text)
    )
