"""Files dropped, pasted or picked in the panel, as they arrive from the browser in chunks.

The browser sends each file as custom messages of at most `CHUNK` bytes (one binary buffer each,
so no message nears the server's WebSocket size limit):
`{"type": "upload", "id", "name", "mime", "size", "offset", "final"}`. `UploadAssembler` checks
each chunk follows the last, that the total stays within the limit and matches the size
announced, and returns the `Upload` when the final chunk is in.

Example:
    >>> up = UploadAssembler(max_bytes=10)
    >>> up.feed({"id": "a", "name": "n.txt", "mime": "text/plain", "size": 4, "offset": 0, "final": False}, [b"ab"])
    >>> done = up.feed({"id": "a", "name": "n.txt", "mime": "text/plain", "size": 4, "offset": 2, "final": True},
    ...                [memoryview(b"cd")])
    >>> done.name, done.data, done.chip()["size"]
    ('n.txt', b'abcd', 4)
"""

from __future__ import annotations

import base64
import io
import os
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["CHUNK", "MAX_UPLOAD", "Upload", "UploadAssembler", "UploadError", "thumbnail"]

CHUNK = 512 * 1024
"""Bytes per upload message (the front end reads this from the widget's `upload_chunk` trait)."""

MAX_UPLOAD = 50 * 1024 * 1024
"""Default largest file accepted (the widget's `max_upload` trait; the browser refuses bigger ones first)."""

_THUMB_SIDE = 96
_RASTER = ("image/png", "image/jpeg", "image/gif", "image/webp", "image/bmp")


class UploadError(ValueError):
    """A chunk out of order, a file over the limit, or a size that does not add up (one line)."""


@dataclass(frozen=True, eq=False)
class Upload:
    """One file from the browser: its name, the MIME type the browser guessed, and its bytes.

    `attach(upload.data, mime_type=upload.mime)` turns it into an attachment (which sniffs the real
    type from the content).

    Example:
        >>> Upload("u1", "a.txt", "text/plain", b"hi")
        Upload('a.txt', text/plain, 2 B)
    """

    id: str
    name: str
    mime: str
    data: bytes

    @property
    def size(self) -> int:
        return len(self.data)

    def chip(self) -> dict[str, Any]:
        """What the browser shows: name, size, type and a thumbnail data URL for raster images."""
        return {"id": self.id, "name": self.name, "size": self.size, "mime": self.mime,
                "thumb": thumbnail(self.data, self.mime)}

    def __repr__(self) -> str:
        from .state import format_size

        return f"Upload({self.name!r}, {self.mime}, {format_size(self.size)})"


def _clean_name(name: Any) -> str:
    base = os.path.basename(str(name or "").replace("\\", "/")).strip()
    base = "".join(ch for ch in base if ch.isprintable())
    return base[:200] or "file"


class UploadAssembler:
    """Puts chunked uploads back together; one instance per panel.

    Example:
        >>> UploadAssembler(max_bytes=3).feed({"id": "x", "name": "big", "size": 9, "offset": 0}, [b"abc"])
        Traceback (most recent call last):
        ...
        cloudsway_nb.panel.uploads.UploadError: big is 9 B, over the 3 B limit
    """

    def __init__(self, max_bytes: int = MAX_UPLOAD) -> None:
        self.max_bytes = max_bytes
        self._parts: dict[str, bytearray] = {}
        self._discarded: set[str] = set()

    def feed(self, content: Mapping[str, Any], buffers: Sequence[Any]) -> Upload | None:
        """Take one chunk; the finished `Upload` after the final one, else None."""
        from .state import format_size

        upload_id = str(content.get("id") or "")
        name = _clean_name(content.get("name"))
        size = int(content.get("size") or 0)
        if not upload_id:
            raise UploadError(f"{name}: upload without an id")
        if upload_id in self._discarded:  # chunks already on their way when the user removed the chip
            if content.get("final"):
                self._discarded.discard(upload_id)
            return None
        if size > self.max_bytes:
            self._parts.pop(upload_id, None)
            raise UploadError(f"{name} is {format_size(size)}, over the {format_size(self.max_bytes)} limit")
        part = self._parts.setdefault(upload_id, bytearray())
        if int(content.get("offset") or 0) != len(part):
            self._parts.pop(upload_id, None)
            raise UploadError(f"{name}: chunk out of order, upload it again")
        for buffer in buffers:
            part += bytes(buffer)
        if len(part) > size:
            self._parts.pop(upload_id, None)
            raise UploadError(f"{name}: more data than the {format_size(size)} announced")
        if not content.get("final"):
            return None
        data = bytes(self._parts.pop(upload_id))
        if len(data) != size:
            raise UploadError(f"{name}: {format_size(len(data))} arrived of {format_size(size)}")
        mime = str(content.get("mime") or "") or "application/octet-stream"
        return Upload(upload_id, name, mime, data)

    def discard(self, upload_id: str) -> None:
        """Forget a half-received upload (the user removed its chip); its chunks still in flight are ignored."""
        if self._parts.pop(upload_id, None) is not None:
            self._discarded.add(upload_id)


def thumbnail(data: bytes, mime: str, side: int = _THUMB_SIDE) -> str:
    """A small PNG data URL for a raster image ("" for anything else or anything PIL cannot read).

    The image is decoded and re-encoded, so the browser never sees the uploaded bytes as an image.

    Example:
        >>> thumbnail(b"not an image", "image/png"), thumbnail(b"%PDF-1.4", "application/pdf")
        ('', '')
    """
    if mime not in _RASTER:
        return ""
    try:
        from PIL import Image

        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:
                img.thumbnail((side, side))
                out = io.BytesIO()
                img.convert("RGBA").save(out, format="PNG")
    except Exception:  # a corrupt, truncated or enormous image: no thumbnail, the chip still shows
        return ""
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode("ascii")
