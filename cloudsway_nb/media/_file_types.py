"""A Media's kind and MIME type: sniffed from its bytes, or taken from a declared MIME type or,
for a URL (never fetched), from the extension in its name.

Example:
    >>> url_file_type("https://example.com/cat.png", "https://example.com/cat.png", kind=None, mime=None)
    FileType(kind='image', mime_type='image/png', label='PNG')
    >>> format_name("audio/mp4", "audio"), format_name("video/quicktime", "video")
    ('m4a', 'mov')
"""

from __future__ import annotations

from ..errors import UsageError
from ._sniff import SUPPORTED, FileType, describe_unknown, extension_of, sniff
from ._sources import Source

__all__ = ["data_file_type", "format_name", "kind_of_mime", "url_file_type"]

# extension -> (kind, MIME type, label): for URLs (never fetched) and as a fallback
_BY_EXTENSION: dict[str, tuple[str, str, str]] = {
    "png": ("image", "image/png", "PNG"), "jpg": ("image", "image/jpeg", "JPEG"),
    "jpeg": ("image", "image/jpeg", "JPEG"), "gif": ("image", "image/gif", "GIF"),
    "webp": ("image", "image/webp", "WebP"), "bmp": ("image", "image/bmp", "BMP"),
    "tif": ("image", "image/tiff", "TIFF"), "tiff": ("image", "image/tiff", "TIFF"),
    "heic": ("image", "image/heic", "HEIC"), "avif": ("image", "image/avif", "AVIF"),
    "mp3": ("audio", "audio/mpeg", "MP3"), "wav": ("audio", "audio/wav", "WAV"),
    "m4a": ("audio", "audio/mp4", "M4A"), "aac": ("audio", "audio/aac", "AAC"),
    "ogg": ("audio", "audio/ogg", "OGG"), "oga": ("audio", "audio/ogg", "OGG"),
    "opus": ("audio", "audio/ogg", "OGG"), "flac": ("audio", "audio/flac", "FLAC"),
    "weba": ("audio", "audio/webm", "WebM"), "aiff": ("audio", "audio/aiff", "AIFF"),
    "mp4": ("video", "video/mp4", "MP4"), "m4v": ("video", "video/mp4", "MP4"),
    "mov": ("video", "video/quicktime", "MOV"), "webm": ("video", "video/webm", "WebM"),
    "avi": ("video", "video/x-msvideo", "AVI"), "mkv": ("video", "video/x-matroska", "Matroska"),
    "3gp": ("video", "video/3gpp", "3GP"), "pdf": ("document", "application/pdf", "PDF"),
    "txt": ("document", "text/plain", "text"), "md": ("document", "text/markdown", "text"),
    "csv": ("document", "text/csv", "text"), "html": ("document", "text/html", "text"),
}  # fmt: skip

_LABELS = {mime: label for _, mime, label in _BY_EXTENSION.values()}

_DEFAULT_MIME = {"image": "image/jpeg", "audio": "audio/mpeg", "video": "video/mp4", "document": "application/pdf"}

_FORMAT = {
    "mpeg": "mp3", "x-wav": "wav", "wave": "wav", "x-m4a": "m4a", "mp4a-latm": "aac", "quicktime": "mov",
    "x-msvideo": "avi", "x-matroska": "mkv", "3gpp": "3gp", "plain": "txt", "markdown": "md",
}  # fmt: skip


def kind_of_mime(mime: str) -> str | None:
    """The kind (image, audio, video, document) a MIME type names, or None."""
    major = mime.split("/", 1)[0]
    if major in ("image", "audio", "video"):
        return major
    if major == "text" or mime in ("application/pdf", "application/json"):
        return "document"
    return None


def format_name(mime: str, kind: str) -> str:
    """The short format name of a MIME type (`png`, `mp3`, `wav`, `m4a`, `mov`, `pdf`...)."""
    sub = mime.split("/", 1)[-1].lower()
    if sub == "mp4" and kind == "audio":
        return "m4a"
    return _FORMAT.get(sub, sub)


def url_file_type(url: str, name: str, *, kind: str | None, mime: str | None) -> FileType:
    """The type of a URL's media from what the caller said (`kind`, `mime`) or its extension; no I/O.

    `name` is how the URL is named in errors.
    """
    guessed = _BY_EXTENSION.get(extension_of(url))
    if mime:
        kind = kind or kind_of_mime(mime)
        if kind is None:
            raise UsageError(f"{name}: cannot tell the kind of {mime}; pass kind=")
        return FileType(kind, mime, mime.split("/")[-1].upper())
    if guessed and (kind is None or guessed[0] == kind):
        return FileType(*guessed)
    if kind is not None:
        return FileType(kind, _DEFAULT_MIME.get(kind, "text/plain"), kind)
    raise UsageError(
        f"{name}: cannot tell the type of this URL from its name (it is never downloaded); "
        "use image(url), audio(url), video(url) or document(url), or pass mime_type="
    )


def data_file_type(
    src: Source, filename: str | None, *, kind: str | None, expect: str | None, mime: str | None
) -> FileType:
    """The type of a source's bytes: the declared `mime` (nothing read), else sniffed from the content.

    `kind` is the caller's override; `expect` the kind a function such as image() insists on.
    """
    if mime:  # the caller said what it is: nothing is read to find out
        return _declared_type(src, kind=kind, expect=expect, mime=mime)
    found = sniff(src.read_at, src.size(), filename)
    if found is None:
        raise UsageError(
            f"{src.name}: unknown file type ({describe_unknown(src.read_at(0, 16))}); supported: {SUPPORTED}; "
            "pass mime_type= if you know the type"
        )
    if kind is not None and kind != found.kind:
        return FileType(kind, found.mime_type, found.label)
    if expect is not None and found.kind != expect:
        raise UsageError(
            f"{src.name}: {expect}() was given {found.kind} ({found.label}, {found.mime_type}); "
            f"use {found.kind}() or attach() for it"
        )
    return found


def _declared_type(src: Source, *, kind: str | None, expect: str | None, mime: str) -> FileType:
    told = kind or kind_of_mime(mime) or expect
    if told is None:
        raise UsageError(f"{src.name}: cannot tell the kind of {mime}; pass kind=")
    if expect is not None and kind is None and told != expect:
        raise UsageError(f"{src.name}: {expect}() was given {mime}; use {told}() or attach()")
    return FileType(told, mime, _LABELS.get(mime, mime.split("/")[-1].upper()))
