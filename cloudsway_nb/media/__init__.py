"""Local files, URLs, bytes and notebook objects as media for prompts, on every protocol.

One entry point, `attach(x)`, plus `image()`, `audio()`, `video()` and `document()` which also
check the kind. Each returns a `Media`: an `Attachment` whose bytes are read, checked and
encoded only when a request needs them, and then only once.

    attach(x) ──► Media (lazy Attachment) ──► adapter renders its protocol's part
                   │ kind + MIME from magic bytes             │ Payload stand-in in the JSON
                   │ images: EXIF, downscale, BMP/TIFF→PNG    ▼
                   │ size limit per protocol        transport streams base64 chunks
                   ▼                                (exact Content-Length, retry-safe)
              UsageError: one line naming the file and the fix

- The kind and MIME type come from the content (PNG, JPEG, GIF, WebP, BMP, TIFF, HEIC, AVIF;
  MP3, WAV, M4A/AAC, OGG, FLAC, WebM, AIFF; MP4, WebM, MOV, AVI, 3GP; PDF; plain text).
- URLs are sent as URLs where the protocol takes them, never downloaded.
- A protocol that cannot carry a kind (video on messages) says so before anything is sent,
  naming the protocols that can; a file over a protocol's size limit (`SIZE_LIMITS`) too.
- Payloads never show in a repr, log or error: `data:image/png;base64,… (123 KB)`.
- Pillow, NumPy and matplotlib are imported only when an object of theirs is attached.

Example:
    >>> from cloudsway_nb.media import attach
    >>> m = attach(b"%PDF-1.4\\n1 0 obj<</Type/Page>>endobj\\n%%EOF\\n")
    >>> (m.kind, m.mime_type, m.size)
    ('document', 'application/pdf', 43)
    >>> m
    Media(document, 'bytes (43 B)', application/pdf, 43 B)
    >>> str(m.wire_base64())
    'data:application/pdf;base64,… (43 B)'
"""

from __future__ import annotations

from typing import Any

from ._attach import attach, audio, document, image, video
from ._images import ImageOptions, scaled_size
from ._limits import SIZE_LIMITS, Limit, check_limits, limit_for
from ._media import CHUNK_SIZE, Media
from ._sniff import FileType, sniff

__all__ = [
    "CHUNK_SIZE",
    "SIZE_LIMITS",
    "FileType",
    "ImageOptions",
    "Limit",
    "Media",
    "attach",
    "audio",
    "check_limits",
    "document",
    "image",
    "limit_for",
    "redact_payloads",
    "scaled_size",
    "sniff",
    "video",
]

_LONG_BASE64 = 256


def redact_payloads(value: Any) -> Any:
    """A copy of a JSON tree (a request body, a ledger row) with every inline payload shown as a
    summary: data URLs and long base64 strings become `data:image/png;base64,… (123 KB)`.

    For logs, ledgers and DataFrames: the payload itself never shows.

    Example:
        >>> import base64
        >>> body = {"image_url": {"url": "data:image/png;base64," + base64.b64encode(bytes(3000)).decode()}}
        >>> redact_payloads(body)
        {'image_url': {'url': 'data:image/png;base64,… (2 KB)'}}
    """
    import re

    from ..types import summarize_data_url

    if isinstance(value, dict):
        return {k: redact_payloads(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_payloads(v) for v in value]
    if not isinstance(value, str) or type(value) is not str:
        return str(value) if isinstance(value, str) else value  # a Payload is already its summary
    if value.startswith("data:") and ";base64," in value[:200]:
        head, _, payload = value.partition(",")
        mime = head[5:].split(";")[0] or "application/octet-stream"
        return summarize_data_url(mime, len(payload) * 3 // 4)
    if len(value) >= _LONG_BASE64 and re.fullmatch(r"[A-Za-z0-9+/=_\-\s]+", value[:4096]) and " " not in value[:4096]:
        return summarize_data_url("application/octet-stream", len(value) * 3 // 4).replace(
            "data:application/octet-stream;base64,", "base64,"
        )
    return value
