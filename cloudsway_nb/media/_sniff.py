"""What a file is, from its bytes: magic-byte sniffing and cheap completeness checks.

Only the first few KB (and, for some containers, a few box or element headers and the last KB)
are read, through a `read_at(offset, size)` function, so a 200 MB video costs a handful of
small reads. The extension is a tie-breaker only (MP4 audio or video when the file does not
say, text subtypes).

Example:
    >>> data = b"%PDF-1.4\\n1 0 obj<<>>endobj\\n%%EOF\\n"
    >>> t = sniff(lambda at, n: data[at : at + n], len(data))
    >>> (t.kind, t.mime_type, t.label)
    ('document', 'application/pdf', 'PDF')
    >>> completeness_problem(t, lambda at, n: data[at : at + n], len(data)) is None
    True
"""

from __future__ import annotations

import codecs
from collections.abc import Callable
from dataclasses import dataclass

__all__ = [
    "SUPPORTED",
    "FileType",
    "ReadAt",
    "completeness_problem",
    "describe_unknown",
    "extension_of",
    "sniff",
    "text_encoding",
    "to_utf8",
]

ReadAt = Callable[[int, int], bytes]
"""`read_at(offset, size)`: up to `size` bytes from `offset` (fewer at the end of the data)."""

SUPPORTED = (
    "images (PNG, JPEG, GIF, WebP; BMP, TIFF, HEIC and AVIF are converted to PNG), "
    "audio (MP3, WAV, M4A/AAC, OGG, FLAC, WebM, AIFF), video (MP4, WebM, MOV, AVI, 3GP), PDF and plain text"
)


@dataclass(frozen=True, slots=True)
class FileType:
    """A sniffed type: `kind` (image, audio, video, document), `mime_type` and a short `label`.

    Example:
        >>> FileType("audio", "audio/wav", "WAV").label
        'WAV'
    """

    kind: str
    mime_type: str
    label: str


def extension_of(name: str | None) -> str:
    """The lower-case extension of a file name or URL path, without the dot ('' if none).

    Example:
        >>> extension_of("https://x.test/a/Clip.MP4?sig=1"), extension_of("notes")
        ('mp4', '')
    """
    if not name:
        return ""
    base = name.split("?", 1)[0].split("#", 1)[0].rsplit("/", 1)[-1]
    return base.rsplit(".", 1)[-1].lower() if "." in base else ""


def _u32be(b: bytes, at: int = 0) -> int:
    return int.from_bytes(b[at : at + 4], "big")


def _u32le(b: bytes, at: int = 0) -> int:
    return int.from_bytes(b[at : at + 4], "little")


_TEXT_SUBTYPES = {
    "md": "text/markdown", "markdown": "text/markdown", "csv": "text/csv", "html": "text/html", "htm": "text/html",
}  # fmt: skip
_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1", b"mif2"}
_AUDIO_EXTENSIONS = {"m4a", "m4b", "aac", "mka", "weba", "opus", "oga"}


def sniff(read_at: ReadAt, size: int, name: str | None = None) -> FileType | None:
    """The type of the data from its magic bytes, or None when it is not a supported kind.

    Example:
        >>> png = b"\\x89PNG\\r\\n\\x1a\\n" + bytes(24)
        >>> sniff(lambda at, n: png[at : at + n], len(png)).mime_type
        'image/png'
        >>> sniff(lambda at, n: b"hello\\n"[at : at + n], 6, "notes.md").mime_type
        'text/markdown'
    """
    head = read_at(0, 4096)
    ext = extension_of(name)
    if head.startswith(_BOMS) and text_encoding(head, size):  # before MP3: UTF-16 LE starts FF FE
        return FileType("document", _TEXT_SUBTYPES.get(ext, "text/plain"), "text")
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return FileType("image", "image/png", "PNG")
    if head.startswith(b"\xff\xd8\xff"):
        return FileType("image", "image/jpeg", "JPEG")
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return FileType("image", "image/gif", "GIF")
    if head[:4] == b"RIFF" and len(head) >= 12:
        form = head[8:12]
        if form == b"WEBP":
            return FileType("image", "image/webp", "WebP")
        if form == b"WAVE":
            return FileType("audio", "audio/wav", "WAV")
        if form == b"AVI ":
            return FileType("video", "video/x-msvideo", "AVI")
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return FileType("image", "image/tiff", "TIFF")
    if _is_bmp(head):
        return FileType("image", "image/bmp", "BMP")
    if head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
        return FileType("audio", "audio/aiff", "AIFF")
    if head[:4] == b"fLaC":
        return FileType("audio", "audio/flac", "FLAC")
    if head[:4] == b"OggS":
        if b"\x80theora" in head:
            return FileType("video", "video/ogg", "OGG")
        return FileType("audio", "audio/ogg", "OGG")
    if head[:3] == b"ID3":
        return FileType("audio", "audio/mpeg", "MP3")
    if head[4:8] == b"ftyp" and len(head) >= 12:
        return _iso_bmff(read_at, size, head, ext)
    if head[4:8] in (b"moov", b"mdat", b"wide") and _u32be(head) >= 8:
        return FileType("video", "video/quicktime", "MOV")  # an old QuickTime file without ftyp
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return _ebml(read_at, size, head, ext)
    if _is_mp3_frame(head) and _is_mp3_frame(read_at(_mp3_frame_length(head), 4)):
        return FileType("audio", "audio/mpeg", "MP3")
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xF6 == 0xF0:
        return FileType("audio", "audio/aac", "AAC")
    if b"%PDF-" in head[:1024]:
        return FileType("document", "application/pdf", "PDF")
    if text_encoding(head, size):
        return FileType("document", _TEXT_SUBTYPES.get(ext, "text/plain"), "text")
    return None


def _is_bmp(head: bytes) -> bool:
    return head[:2] == b"BM" and len(head) >= 18 and _u32le(head, 14) in (12, 16, 40, 52, 56, 64, 108, 124)


def _is_mp3_frame(head: bytes) -> bool:
    if len(head) < 4 or head[0] != 0xFF or head[1] & 0xE0 != 0xE0:
        return False
    version, layer = (head[1] >> 3) & 3, (head[1] >> 1) & 3
    bitrate, rate = head[2] >> 4, (head[2] >> 2) & 3
    return version != 1 and layer != 0 and bitrate not in (0, 15) and rate != 3  # 0: free format


# MPEG audio bitrates in kbit/s by (MPEG-1?, layer bits: 3 = I, 2 = II, 1 = III) and bitrate index
_MP3_BITRATES = {
    (True, 3): (0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448),
    (True, 2): (0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384),
    (True, 1): (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    (False, 3): (0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256),
    (False, 2): (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
    (False, 1): (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
_MP3_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}


def _mp3_frame_length(head: bytes) -> int:
    """The byte length of the MPEG audio frame whose (valid, see `_is_mp3_frame`) header starts `head`."""
    version, layer = (head[1] >> 3) & 3, (head[1] >> 1) & 3
    bitrate = _MP3_BITRATES[version == 3, layer][head[2] >> 4] * 1000
    rate = _MP3_RATES[version][(head[2] >> 2) & 3]
    padding = (head[2] >> 1) & 1
    if layer == 3:
        return (12 * bitrate // rate + padding) * 4
    return (144 if version == 3 or layer == 2 else 72) * bitrate // rate + padding


_BOMS = (b"\x00\x00\xfe\xff", b"\xff\xfe\x00\x00", b"\xef\xbb\xbf", b"\xfe\xff", b"\xff\xfe")
_BOM_ENCODINGS = dict(zip(_BOMS, ("utf-32-be", "utf-32-le", "utf-8", "utf-16-be", "utf-16-le"), strict=True))
_CONTROLS_OK = frozenset("\t\n\r\f\v\x1b")
_CP1252_CONTROLS_OK = frozenset("\t\n\r\f")


def _decoded_text(body: bytes, encoding: str, complete: bool) -> str | None:
    """`body` decoded (a character cut by the end of an incomplete sample is dropped), or None."""
    try:
        return codecs.getincrementaldecoder(encoding)("strict").decode(body, final=complete)
    except UnicodeDecodeError:
        return None


def text_encoding(head: bytes, size: int) -> str | None:
    """The encoding of text data from its first bytes (`head`, of `size` in all), or None if not text.

    A byte-order mark decides (UTF-8, UTF-16 or UTF-32, returned with the `-sig`-free codec name:
    the mark is not part of the text); else UTF-8; else Windows-1252 (which reads Latin-1 text,
    e.g. Excel's CSV exports) when the bytes are printable in it: no NULs, no control characters
    but tab, newlines and form feed, and mostly ASCII.

    Example:
        >>> text_encoding("hé".encode("utf-16"), 6), text_encoding("café".encode("cp1252"), 4)
        ('utf-16-le', 'cp1252')
        >>> text_encoding(b"\\x00\\x01\\x02", 3) is None
        True
    """
    complete = size <= len(head)
    for bom, encoding in _BOM_ENCODINGS.items():
        if head.startswith(bom):
            text = _decoded_text(head[len(bom) :], encoding, complete)
            return encoding if text and not any(ord(c) < 32 and c not in _CONTROLS_OK for c in text) else None
    if not head:
        return None
    text = _decoded_text(head, "utf-8", complete)
    if text is not None:
        return None if any(ord(c) < 32 and c not in _CONTROLS_OK for c in text) else "utf-8"
    text = head.decode("cp1252", errors="replace")  # the five bytes cp1252 leaves undefined become U+FFFD
    if "\ufffd" in text or any((ord(c) < 32 and c not in _CP1252_CONTROLS_OK) or c == "\x7f" for c in text):
        return None
    return "cp1252" if sum(ord(c) > 127 for c in text) * 3 <= len(text) else None


def to_utf8(data: bytes) -> bytes | None:
    """Text `data` as UTF-8 without a byte-order mark, or None when it is that already or is not text.

    Example:
        >>> to_utf8("naïve".encode("utf-16")), to_utf8(b"na\\xefve"), to_utf8(b"plain")
        (b'na\\xc3\\xafve', b'na\\xc3\\xafve', None)
    """
    encoding = text_encoding(data, len(data))
    if encoding is None or (encoding == "utf-8" and not data.startswith(b"\xef\xbb\xbf")):
        return None
    bom = next((b for b in _BOMS if data.startswith(b)), b"") if encoding != "cp1252" else b""
    return data[len(bom) :].decode(encoding).encode("utf-8")


# ---------------------------------------------------------------- ISO base media (MP4, MOV, M4A, HEIC)


def _iso_bmff(read_at: ReadAt, size: int, head: bytes, ext: str) -> FileType:
    major = head[8:12]
    ftyp_end = min(_u32be(head), len(head))
    brands = {major} | {head[i : i + 4] for i in range(16, ftyp_end - 3, 4)}
    if major in (b"avif", b"avis"):
        return FileType("image", "image/avif", "AVIF")
    if major in _HEIF_BRANDS:
        return FileType("image", "image/heic", "HEIC")
    if major == b"qt  ":
        return FileType("video", "video/quicktime", "MOV")
    if major in (b"M4A ", b"M4B ", b"M4P "):
        return FileType("audio", "audio/mp4", "M4A")
    handlers = _mp4_handlers(read_at, size)
    if major[:3] in (b"3gp", b"3g2"):
        if handlers and b"vide" not in handlers and b"soun" in handlers:
            return FileType("audio", "audio/3gpp", "3GP")
        return FileType("video", "video/3gpp", "3GP")
    if handlers:
        if b"vide" in handlers:
            return FileType("video", "video/mp4", "MP4")
        if b"soun" in handlers:
            return FileType("audio", "audio/mp4", "M4A")
    if b"avif" in brands:
        return FileType("image", "image/avif", "AVIF")
    if ext in _AUDIO_EXTENSIONS:
        return FileType("audio", "audio/mp4", "M4A")
    return FileType("video", "video/mp4", "MP4")


def _top_boxes(read_at: ReadAt, size: int, limit: int = 4096) -> list[tuple[bytes, int, int, int]]:
    """(type, start, header length, box size) of the top-level boxes, as far as they are well formed."""
    boxes: list[tuple[bytes, int, int, int]] = []
    pos = 0
    while pos + 8 <= size and len(boxes) < limit:
        header = read_at(pos, 16)
        if len(header) < 8:
            break
        box_size, kind, hlen = _u32be(header), header[4:8], 8
        if box_size == 1:
            if len(header) < 16:
                break
            box_size, hlen = int.from_bytes(header[8:16], "big"), 16
        elif box_size == 0:
            box_size = size - pos
        if box_size < hlen:
            boxes.append((kind, pos, hlen, -1))  # corrupt
            break
        boxes.append((kind, pos, hlen, box_size))
        pos += box_size
    return boxes


def _child_boxes(data: bytes, start: int, end: int) -> list[tuple[bytes, int, int]]:
    out: list[tuple[bytes, int, int]] = []
    pos = start
    while pos + 8 <= end:
        box_size, kind, hlen = _u32be(data, pos), data[pos + 4 : pos + 8], 8
        if box_size == 1 and pos + 16 <= end:
            box_size, hlen = int.from_bytes(data[pos + 8 : pos + 16], "big"), 16
        elif box_size == 0:
            box_size = end - pos
        if box_size < hlen:
            break
        out.append((kind, pos + hlen, min(pos + box_size, end)))
        pos += box_size
    return out


def _mp4_handlers(read_at: ReadAt, size: int) -> set[bytes] | None:
    """The handler types (b'vide', b'soun', ...) of the tracks in the moov box, or None if not found."""
    for kind, start, hlen, box_size in _top_boxes(read_at, size):
        if kind != b"moov" or box_size < 0:
            continue
        moov = read_at(start, min(box_size, 32 * 1024 * 1024))
        found: set[bytes] = set()
        for trak, t0, t1 in _child_boxes(moov, hlen, len(moov)):
            if trak != b"trak":
                continue
            for mdia, m0, m1 in _child_boxes(moov, t0, t1):
                if mdia != b"mdia":
                    continue
                for hdlr, h0, h1 in _child_boxes(moov, m0, m1):
                    if hdlr == b"hdlr" and h1 - h0 >= 12:
                        found.add(moov[h0 + 8 : h0 + 12])
        return found
    return None


# ---------------------------------------------------------------- EBML (WebM, Matroska)


def _vint(data: bytes, pos: int, keep_marker: bool) -> tuple[int, int] | None:
    """(value, length) of an EBML variable-length integer at pos; value -1 for 'unknown size'."""
    if pos >= len(data):
        return None
    first = data[pos]
    length = 1
    while length <= 8 and not first & (0x80 >> (length - 1)):
        length += 1
    if length > 8 or pos + length > len(data):
        return None
    value = first if keep_marker else first & (0xFF >> length)
    for b in data[pos + 1 : pos + length]:
        value = (value << 8) | b
    if not keep_marker and value == (1 << (7 * length)) - 1:
        return -1, length
    return value, length


def _ebml_element(data: bytes, pos: int) -> tuple[int, int, int] | None:
    """(id, payload start, payload size or -1) of the element at pos."""
    ident = _vint(data, pos, keep_marker=True)
    if ident is None:
        return None
    size = _vint(data, pos + ident[1], keep_marker=False)
    if size is None:
        return None
    return ident[0], pos + ident[1] + size[1], size[0]


_SEGMENT, _TRACKS, _TRACK_ENTRY, _TRACK_TYPE, _CLUSTER, _DOCTYPE = (
    0x18538067,
    0x1654AE6B,
    0xAE,
    0x83,
    0x1F43B675,
    0x4282,
)


def _ebml_layout(read_at: ReadAt, size: int) -> tuple[str, int, int, set[int] | None]:
    """(doctype, segment payload start, segment size or -1, track types or None) of an EBML file."""
    head = read_at(0, 65536)
    header = _ebml_element(head, 0)
    doctype, seg_start, seg_size, tracks = "", -1, -1, None
    if header is None or header[2] < 0:
        return doctype, seg_start, seg_size, tracks
    _, h_start, h_size = header
    pos = h_start
    while pos < h_start + h_size:
        el = _ebml_element(head, pos)
        if el is None or el[2] < 0:
            break
        if el[0] == _DOCTYPE:
            doctype = head[el[1] : el[1] + el[2]].decode("ascii", "replace")
        pos = el[1] + el[2]
    segment = _ebml_element(head, h_start + h_size)
    if segment is None or segment[0] != _SEGMENT:
        return doctype, seg_start, seg_size, tracks
    seg_start, seg_size = segment[1], segment[2]
    pos = seg_start
    for _ in range(64):  # SeekHead, Info, Tracks... come before the first Cluster
        window = read_at(pos, 16)
        el = _ebml_element(window, 0)
        if el is None:
            break
        ident, rel_start, el_size = el
        if ident == _CLUSTER or el_size < 0:
            break
        if ident == _TRACKS:
            payload = read_at(pos + rel_start, min(el_size, 1024 * 1024))
            tracks = set()
            for entry_id, e_start, e_size in _ebml_children(payload, 0, len(payload)):
                if entry_id == _TRACK_ENTRY:
                    for field_id, f_start, f_size in _ebml_children(payload, e_start, e_start + e_size):
                        if field_id == _TRACK_TYPE and 0 < f_size <= 8:
                            tracks.add(int.from_bytes(payload[f_start : f_start + f_size], "big"))
            break
        pos += rel_start + el_size
        if pos >= size:
            break
    return doctype, seg_start, seg_size, tracks


def _ebml_children(data: bytes, start: int, end: int) -> list[tuple[int, int, int]]:
    out: list[tuple[int, int, int]] = []
    pos = start
    while pos < end:
        el = _ebml_element(data, pos)
        if el is None or el[2] < 0:
            break
        out.append(el)
        pos = el[1] + el[2]
    return out


def _ebml(read_at: ReadAt, size: int, head: bytes, ext: str) -> FileType:
    doctype, _, _, tracks = _ebml_layout(read_at, size)
    webm = doctype == "webm" or (not doctype and ext in ("webm", "weba"))
    audio_only = (1 not in tracks and 2 in tracks) if tracks else ext in _AUDIO_EXTENSIONS
    kind = "audio" if audio_only else "video"
    if webm:
        return FileType(kind, f"{kind}/webm", "WebM")
    return FileType(kind, f"{kind}/x-matroska", "Matroska")


# ---------------------------------------------------------------- completeness


def completeness_problem(ftype: FileType, read_at: ReadAt, size: int) -> str | None:
    """Why the data looks truncated or incomplete, or None when the cheap checks pass.

    Checks what can be checked from the header and the last bytes: PNG's IEND chunk, GIF's
    trailer, the sizes declared by RIFF (WAV, WebP, AVI), BMP, MP4/MOV boxes and WebM segments,
    a WAV data chunk, the last OGG page, and PDF's %%EOF marker. (JPEG and TIFF are checked when
    the image is decoded.)

    Example:
        >>> png = b"\\x89PNG\\r\\n\\x1a\\n" + bytes(40)
        >>> completeness_problem(FileType("image", "image/png", "PNG"), lambda a, n: png[a : a + n], len(png))
        'the PNG data ends before its IEND chunk'
    """
    label = ftype.label
    if label == "PNG":
        if b"IEND" not in read_at(max(0, size - 64), 64):
            return "the PNG data ends before its IEND chunk"
    elif label == "GIF":
        if not read_at(max(0, size - 16), 16).rstrip(b"\x00").endswith(b";"):
            return "the GIF data ends before its trailer"
    elif label in ("WAV", "WebP", "AVI"):
        head = read_at(0, 12)
        declared = _u32le(head, 4)
        if declared not in (0, 0xFFFFFFFF) and declared + 8 > size:
            return f"the RIFF header declares {declared + 8} bytes but there are {size}"
        if label == "WAV":
            return _wav_problem(read_at, size)
    elif label == "BMP":
        declared = _u32le(read_at(0, 6), 2)
        if declared and declared > size:
            return f"the BMP header declares {declared} bytes but there are {size}"
    elif label in ("MP4", "MOV", "M4A", "3GP"):
        return _boxes_problem(read_at, size)
    elif label in ("WebM", "Matroska"):
        _, seg_start, seg_size, _ = _ebml_layout(read_at, size)
        if seg_start < 0:
            return f"no {label} segment after the header"
        if seg_size >= 0 and seg_start + seg_size > size:
            return f"the {label} segment declares {seg_start + seg_size} bytes but there are {size}"
    elif label == "OGG":
        return _ogg_problem(read_at, size)
    elif label == "PDF" and b"%%EOF" not in read_at(max(0, size - 1024), 1024):
        return "no %%EOF marker in the last 1 KB of the PDF"
    return None


def _wav_problem(read_at: ReadAt, size: int) -> str | None:
    pos = 12
    for _ in range(256):
        if pos + 8 > size:
            break
        header = read_at(pos, 8)
        chunk_size = _u32le(header, 4)
        if header[:4] == b"data":
            if chunk_size not in (0, 0xFFFFFFFF) and pos + 8 + chunk_size > size:
                return f"the WAV data chunk declares {chunk_size} bytes but only {size - pos - 8} follow"
            return None
        pos += 8 + chunk_size + (chunk_size & 1)
    return "the WAV data has no 'data' chunk"


def _boxes_problem(read_at: ReadAt, size: int) -> str | None:
    boxes = _top_boxes(read_at, size)
    seen = set()
    for kind, start, _, box_size in boxes:
        name = kind.decode("ascii", "replace") if kind.isalnum() or kind in (b"qt  ",) else kind.hex(" ")
        if box_size < 0:
            return f"a corrupt '{name}' box at byte {start}"
        if start + box_size > size:
            return f"the '{name}' box needs {start + box_size} bytes but there are {size}"
        seen.add(kind)
    if b"moov" not in seen:
        return "no 'moov' box (an unfinished recording or download?)"
    return None


def _ogg_problem(read_at: ReadAt, size: int) -> str | None:
    start = max(0, size - 65536)
    tail = read_at(start, size - start)
    at = tail.rfind(b"OggS")
    if at < 0 or at + 27 > len(tail):
        return "no complete OGG page at the end"
    segments = tail[at + 26]
    table = tail[at + 27 : at + 27 + segments]
    end = start + at + 27 + segments + sum(table)
    if len(table) < segments or end > size:
        return f"the last OGG page needs {end} bytes but there are {size}"
    return None


# ---------------------------------------------------------------- unknown data

_KNOWN_OTHER = (
    (b"PK\x03\x04", "a ZIP archive (DOCX, XLSX, PPTX and the like: export it to PDF first)"),
    (b"\xd0\xcf\x11\xe0", "a legacy Microsoft Office file (export it to PDF first)"),
    (b"\x1f\x8b", "gzip-compressed data (decompress it first)"),
    (b"Rar!", "a RAR archive"),
    (b"7z\xbc\xaf", "a 7-Zip archive"),
    (b"\x7fELF", "an executable (ELF)"),
    (b"MZ", "a Windows executable"),
    (b"FLV", "Flash video (convert it to MP4)"),
    (b"\x00\x00\x01\xba", "an MPEG program stream (convert it to MP4)"),
    (b"8BPS", "a Photoshop file (export it to PNG or JPEG)"),
)


def describe_unknown(head: bytes) -> str:
    """A short description of unsupported data, for error messages (never the data itself).

    Example:
        >>> describe_unknown(b"PK\\x03\\x04rest")
        'first bytes 50 4b 03 04 72 65 73 74: a ZIP archive (DOCX, XLSX, PPTX and the like: export it to PDF first)'
    """
    shown = " ".join(f"{b:02x}" for b in head[:8])
    for magic, what in _KNOWN_OTHER:
        if head.startswith(magic):
            return f"first bytes {shown}: {what}"
    if len(head) > 376 and head[0] == 0x47 and head[188] == 0x47 and head[376] == 0x47:
        return f"first bytes {shown}: an MPEG transport stream (convert it to MP4)"
    return f"first bytes {shown}"
