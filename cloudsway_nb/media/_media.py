"""`Media`, the lazy Attachment, and the functions that make one: attach, image, audio, video, document."""

from __future__ import annotations

import base64 as _base64
import binascii
import os
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote_to_bytes

from ..errors import UsageError
from ..types import Attachment, Payload, summarize_data_url
from ._images import ImageOptions, encode_pil, format_mime, prepare_image, target_mime
from ._limits import b64_length, format_size
from ._sniff import SUPPORTED, FileType, completeness_problem, describe_unknown, extension_of, sniff, to_utf8
from ._sources import BytesSource, PathSource, ProducedSource, Source, bytes_name, numpy_to_wav

__all__ = ["CHUNK_SIZE", "Media", "attach", "audio", "document", "image", "video"]

CHUNK_SIZE = 3 * 256 * 1024
"""Bytes read and encoded at a time when a payload is streamed (a multiple of 3: base64 of such
chunks concatenates into the base64 of the whole); each becomes 1 MiB of base64 text."""

KINDS = ("image", "audio", "video", "document")
DETAILS = ("low", "high", "auto")
_URL_SCHEMES = ("http://", "https://", "gs://")
_TRANSCODE_MAX = 64 * 1024 * 1024  # text larger than this is sent as it is (no whole-file read)

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


def _kind_of_mime(mime: str) -> str | None:
    major = mime.split("/", 1)[0]
    if major in ("image", "audio", "video"):
        return major
    if major == "text" or mime in ("application/pdf", "application/json"):
        return "document"
    return None


def _b64_chunks(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """Base64 of a stream of byte chunks, chunk by chunk (carrying remainders so pieces join cleanly)."""
    carry = b""
    for chunk in chunks:
        if carry:
            chunk = carry + bytes(chunk)
        cut = len(chunk) - len(chunk) % 3
        if cut:
            yield _base64.b64encode(chunk[:cut])
        carry = bytes(chunk[cut:])
    if carry:
        yield _base64.b64encode(carry)


class Media(Attachment):
    """A piece of media for a prompt, loaded lazily: an Attachment whose bytes are read, checked,
    prepared and encoded only when a request needs them, and then only once.

    Make one with `attach()` (or `image()`, `audio()`, `video()`, `document()`). The kind and MIME
    type come from the content (magic bytes). Adapters put a `Payload` stand-in in the request
    JSON and the transport streams the file's base64 into the body, so a large video never sits
    in memory as one string. The repr never shows the payload.

    Example:
        >>> m = Media(data=b"%PDF-1.4\\n1 0 obj<<>>endobj\\n%%EOF\\n", filename="a.pdf")
        >>> (m.kind, m.mime_type, m.size)
        ('document', 'application/pdf', 33)
        >>> m
        Media(document, 'a.pdf', application/pdf, 33 B)
        >>> str(m.wire_data_url())
        'data:application/pdf;base64,… (33 B)'
    """

    ignore_limits: bool

    def __init__(
        self,
        source: Source | None = None,
        *,
        url: str | None = None,
        data: bytes | None = None,
        kind: str | None = None,
        mime_type: str | None = None,
        filename: str | None = None,
        detail: str | None = None,
        image_options: ImageOptions | None = None,
        expect: str | None = None,
        ignore_limits: bool = False,
        prepared: bool = False,
    ) -> None:
        # (no super().__init__: the dataclass fields are properties here, computed on demand)
        if data is not None:
            source = BytesSource(data, filename or bytes_name(data), filename)
        if (source is None) == (url is None):
            raise UsageError("Media needs exactly one of a source, data= or url=")
        if detail is not None and detail not in DETAILS:
            raise UsageError(f"detail={detail!r} is not known; use low, high or auto")
        if kind is not None and kind not in (*KINDS, "text"):
            raise UsageError(f"kind={kind!r} is not known; use image, audio, video or document")
        self._src = source
        self._url = url
        self._kind = kind
        self._mime = mime_type.lower() if mime_type else None
        self._filename = filename
        self._detail = detail
        self._image_options = image_options or ImageOptions()
        self._expect = expect
        self._already_prepared = prepared  # the source applied the image options itself
        self._ftype: FileType | None = None
        self._ready: Source | None = None
        self._data: bytes | None = None
        self.ignore_limits = ignore_limits

    # ---------------------------------------------------------------- the Attachment interface

    @property  # type: ignore[override]
    def kind(self) -> str:
        return self._file_type().kind

    @property  # type: ignore[override]
    def mime_type(self) -> str:
        ftype = self._file_type()
        if ftype.kind == "image" and self._url is None and not self._already_prepared:
            return target_mime(ftype.mime_type, self._image_options)
        return ftype.mime_type

    @property  # type: ignore[override]
    def url(self) -> str | None:
        return self._url

    @property  # type: ignore[override]
    def data(self) -> bytes | None:
        """The bytes to send (read, checked and prepared on first use, then kept); None for a URL."""
        if self._url is not None:
            return None
        if self._data is None:
            self._data = self._prepared().read_all()
        return self._data

    @property  # type: ignore[override]
    def filename(self) -> str | None:
        if self._filename:
            return self._filename
        return self._src.filename if self._src is not None else None

    @property  # type: ignore[override]
    def detail(self) -> str | None:
        return self._detail

    @property
    def size(self) -> int | None:
        """The size in bytes of what is sent (after any image preparation); None for a URL."""
        if self._url is not None:
            return None
        return self._prepared().size()

    @property
    def format(self) -> str:
        """The short format name (`png`, `mp3`, `wav`, `m4a`, `mov`, `pdf`...)."""
        sub = self.mime_type.split("/", 1)[-1].lower()
        if sub == "mp4" and self.kind == "audio":
            return "m4a"
        return _FORMAT.get(sub, sub)

    @property
    def display_name(self) -> str:
        """How the media is named in errors: its path, URL, or a description (`bytes (12 KB)`)."""
        if self._url is not None:
            return self._url if len(self._url) <= 100 else self._url[:97] + "..."
        assert self._src is not None
        return self._src.name

    @property
    def label(self) -> str:
        """The sniffed format's name (PNG, MP4, PDF...)."""
        return self._file_type().label

    def base64(self) -> str:
        """The whole payload as base64 text (encoded once, in chunks, then kept).

        Prefer letting the client send the media: it streams the base64 instead of building it.
        """
        cached = self.__dict__.get("_b64")
        if cached is None:
            if self._url is not None:
                raise ValueError(f"{self._url} is a URL attachment; it has no inline data")
            out = bytearray(self._b64_length())
            pos = 0
            for piece in self._encoded_chunks():
                out[pos : pos + len(piece)] = piece
                pos += len(piece)
            cached = out.decode("ascii")
            del out
            self.__dict__["_b64"] = cached
        return cached

    def data_url(self) -> str:
        """`data:MIME;base64,...` (built whole: prefer sending it through the client), or the URL."""
        if self._url is not None:
            return self._url
        return f"data:{self.mime_type};base64,{self.base64()}"

    def wire_base64(self) -> str:
        """A `Payload` for the base64 text: a short summary that the transport streams as the real text."""
        if self._url is not None:
            raise ValueError(f"{self._url} is a URL attachment; it has no inline data")
        return Payload(self.summary(), self._b64_length(), self._encoded_chunks)

    def wire_data_url(self) -> str:
        """The URL, or a `Payload` for the data URL (streamed by the transport)."""
        if self._url is not None:
            return self._url
        prefix = f"data:{self.mime_type};base64,".encode("ascii")

        def chunks() -> Iterator[bytes]:
            yield prefix
            yield from self._encoded_chunks()

        return Payload(self.summary(), len(prefix) + self._b64_length(), chunks)

    def summary(self) -> str:
        """How the payload shows in logs and tables: `data:image/png;base64,… (123 KB)` (or the URL)."""
        if self._url is not None:
            return self._url
        return summarize_data_url(self.mime_type, self.size or 0)

    def with_options(self, **options: Any) -> Media:
        """A new Media over the same source with other options (`detail`, `max_side`, `max_pixels`,
        `format`, `quality`, `ignore_limits`, `filename`, `mime_type`, `kind`).

        Example:
            >>> m = Media(url="https://example.com/cat.png")
            >>> m.with_options(detail="low").detail
            'low'
        """
        image_keys = ("max_side", "max_pixels", "format", "quality")
        current = self._image_options
        image_options = ImageOptions(
            max_side=options.pop("max_side", current.max_side),
            max_pixels=options.pop("max_pixels", current.max_pixels),
            format=format_mime(options.pop("format")) if "format" in options else current.format,
            quality=options.pop("quality", current.quality),
        )
        unknown = set(options) - {"detail", "ignore_limits", "filename", "mime_type", "kind"} - set(image_keys)
        if unknown:
            raise UsageError(f"unknown media option(s): {', '.join(sorted(unknown))}")
        clone = Media(
            self._src,
            url=self._url,
            kind=options.get("kind", self._kind),
            mime_type=options.get("mime_type", self._mime),
            filename=options.get("filename", self._filename),
            detail=options.get("detail", self._detail),
            image_options=image_options,
            expect=self._expect,
            ignore_limits=options.get("ignore_limits", self.ignore_limits),
            prepared=self._already_prepared,
        )
        clone._ftype = self._ftype if not {"kind", "mime_type"} & set(options) else None
        return clone

    def check(self) -> Media:
        """Read, check and prepare the media now (instead of when it is sent); returns itself.

        Raises UsageError (naming the file) when it is missing, empty, truncated or of an unknown type.
        """
        if self._url is None:
            self._prepared()
        else:
            self._file_type()
        return self

    def __repr__(self) -> str:
        if self._url is not None:
            return f"Media({self._kind or self._safe_kind()}, {self.display_name})"
        try:
            kind, mime = self.kind, self.mime_type
            if self._file_type().mime_type != mime:
                mime = f"{self._file_type().label} → {mime}"  # converted when sent
        except UsageError:
            kind, mime = "?", "unknown type"
        size: int | None = None
        if self._ready is not None:
            size = self._ready.size()
        elif not isinstance(self._src, ProducedSource) or self._src.produced:
            size = self._src.size() if self._src is not None else None
        shown = [kind, repr(self.display_name), mime]
        if size is not None:
            shown.append(format_size(size))
        if self._image_options.resizes and kind == "image":
            shown.append(self._image_options.describe())
        if self._detail:
            shown.append(f"detail={self._detail}")
        return f"Media({', '.join(shown)})"

    def _safe_kind(self) -> str:
        try:
            return self.kind
        except UsageError:
            return "?"

    # ---------------------------------------------------------------- internals

    def _b64_length(self) -> int:
        return b64_length(self.size or 0)

    def _encoded_chunks(self) -> Iterator[bytes]:
        """The base64 text in pieces: from the kept text or bytes if any, else read and encoded now."""
        cached = self.__dict__.get("_b64")
        if cached is not None:
            step = 4 * (CHUNK_SIZE // 3)
            for start in range(0, len(cached), step):
                yield cached[start : start + step].encode("ascii")
            return
        if self._data is not None:
            yield from _b64_chunks(BytesSource(self._data, "").chunks(CHUNK_SIZE))
            return
        yield from _b64_chunks(self._prepared().chunks(CHUNK_SIZE))

    def _file_type(self) -> FileType:
        if self._ftype is None:
            self._ftype = self._url_type() if self._url is not None else self._data_type()
        return self._ftype

    def _url_type(self) -> FileType:
        assert self._url is not None
        ext = extension_of(self._url)
        guessed = _BY_EXTENSION.get(ext)
        kind = self._kind or self._expect
        if self._mime:
            kind = kind or _kind_of_mime(self._mime)
            if kind is None:
                raise UsageError(f"{self.display_name}: cannot tell the kind of {self._mime}; pass kind=")
            return FileType(kind, self._mime, self._mime.split("/")[-1].upper())
        if guessed and (kind is None or guessed[0] == kind):
            return FileType(*guessed)
        if kind is not None:
            return FileType(kind, _DEFAULT_MIME.get(kind, "text/plain"), kind)
        raise UsageError(
            f"{self.display_name}: cannot tell the type of this URL from its name (it is never downloaded); "
            "use image(url), audio(url), video(url) or document(url), or pass mime_type="
        )

    def _data_type(self) -> FileType:
        src = self._src
        assert src is not None
        if self._mime:  # the caller said what it is: nothing is read to find out
            kind = self._kind or _kind_of_mime(self._mime) or self._expect
            if kind is None:
                raise UsageError(f"{src.name}: cannot tell the kind of {self._mime}; pass kind=")
            if self._expect is not None and self._kind is None and kind != self._expect:
                raise UsageError(f"{src.name}: {self._expect}() was given {self._mime}; use {kind}() or attach()")
            return FileType(kind, self._mime, _LABELS.get(self._mime, self._mime.split("/")[-1].upper()))
        found = sniff(src.read_at, src.size(), self.filename)
        if found is None:
            raise UsageError(
                f"{src.name}: unknown file type ({describe_unknown(src.read_at(0, 16))}); supported: {SUPPORTED}; "
                "pass mime_type= if you know the type"
            )
        if self._kind is not None and self._kind != found.kind:
            return FileType(self._kind, found.mime_type, found.label)
        if self._expect is not None and found.kind != self._expect:
            raise UsageError(
                f"{src.name}: {self._expect}() was given {found.kind} ({found.label}, {found.mime_type}); "
                f"use {found.kind}() or attach() for it"
            )
        return found

    def _prepared(self) -> Source:
        """The source of the bytes to send: checked for completeness, images prepared. Done once."""
        if self._ready is None:
            src = self._src
            assert src is not None
            ftype = self._file_type()
            problem = completeness_problem(ftype, src.read_at, src.size())
            if problem:
                raise UsageError(
                    f"{src.name}: truncated or incomplete {ftype.label} ({problem}); re-export or re-download it"
                )
            ready: Source = src
            if ftype.kind == "image" and not self._already_prepared and ftype.mime_type.startswith("image/"):
                processed = prepare_image(src.open, src.name, ftype.mime_type, ftype.label, self._image_options)
                if processed is not None:
                    ready = BytesSource(processed, src.name, src.filename)
            elif (ftype.kind == "text" or ftype.mime_type.startswith("text/")) and src.size() <= _TRANSCODE_MAX:
                # UTF-16/32 (with a byte-order mark) and Windows-1252 text is sent as UTF-8, which every
                # adapter assumes when it inlines text and every model reads in a text file
                utf8 = to_utf8(src.read_all())
                if utf8 is not None:
                    ready = BytesSource(utf8, src.name, src.filename)
            self._ready = ready
        return self._ready


# ---------------------------------------------------------------- making Media from anything


def _is_numpy(x: Any) -> bool:
    return type(x).__module__ == "numpy" and hasattr(x, "dtype") and hasattr(x, "shape")


def _is_pil(x: Any) -> bool:
    return type(x).__module__.startswith("PIL.") and hasattr(x, "save") and hasattr(x, "mode")


def _figure_of(x: Any) -> Any:
    """A matplotlib Figure for a Figure or an Axes (duck-typed: matplotlib is not imported)."""
    if hasattr(x, "savefig") and hasattr(x, "canvas"):
        return x
    fig = getattr(x, "figure", None)
    if fig is not None and hasattr(fig, "savefig") and hasattr(fig, "canvas") and hasattr(x, "get_figure"):
        return fig
    return None


def _decode_data_url(url: str) -> tuple[str | None, bytes]:
    head, sep, payload = url.partition(",")
    if not sep:
        raise UsageError(f"{url[:40]}...: a malformed data URL (no comma after the header)")
    params = head[5:].split(";")
    mime = params[0].strip().lower() or None
    if any(p.strip().lower() == "base64" for p in params[1:]):
        try:
            data = _base64.b64decode("".join(payload.split()), validate=True)
        except (binascii.Error, ValueError):
            raise UsageError(f"data:{mime};base64,…: the data URL holds invalid base64") from None
    else:
        data = unquote_to_bytes(payload)
    if not data:
        raise UsageError(f"data:{mime},…: the data URL is empty (0 bytes); nothing to attach")
    return mime, data


def _source_of(x: Any, rate: int | None, options: ImageOptions) -> tuple[Source | None, str | None, dict[str, Any]]:
    """(source, url, extra Media keywords) for anything attach() takes."""
    if isinstance(x, str):
        if x.startswith(_URL_SCHEMES):
            return None, x, {}
        if x.startswith("data:"):
            mime, data = _decode_data_url(x)
            return BytesSource(data, f"data URL ({format_size(len(data))})"), None, {"declared": mime}
        if x.startswith("file://"):
            return PathSource(unquote_to_bytes(x[7:]).decode()), None, {}
        if "\n" in x or len(x) > 4096:
            raise UsageError(
                f"{x[:40]!r}...: looks like text, not a path; pass text in the prompt, or bytes with mime_type="
            )
        return PathSource(x), None, {}
    if isinstance(x, os.PathLike):
        return PathSource(x), None, {}
    if isinstance(x, (bytes, bytearray, memoryview)):
        if len(x) == 0:
            raise UsageError("bytes (0 B): the data is empty; nothing to attach")
        return BytesSource(x, bytes_name(x)), None, {}
    if isinstance(x, tuple) and len(x) == 2 and _is_numpy(x[0]) and isinstance(x[1], int):
        return _source_of(x[0], x[1], options)
    if _is_numpy(x):
        if rate is not None:
            name = f"NumPy audio ({x.shape[0] if x.ndim == 1 else 'x'.join(map(str, x.shape))} samples at {rate} Hz)"
            return ProducedSource(lambda: numpy_to_wav(x, rate), name, "audio.wav"), None, {"mime_type": "audio/wav"}
        if (x.dtype == "uint8" or x.dtype.kind == "f") and (x.ndim == 2 or (x.ndim == 3 and x.shape[-1] in (1, 3, 4))):
            from PIL import Image

            array = x if x.dtype == "uint8" else (x.clip(0, 1) * 255).round().astype("uint8")
            pil = Image.fromarray(array[..., 0] if array.ndim == 3 and array.shape[-1] == 1 else array)
            return _pil_source(pil, options, f"NumPy image ({'x'.join(map(str, x.shape))})")
        raise UsageError(
            f"NumPy array {tuple(x.shape)}: pass rate= for audio samples (audio(array, rate=16000)), "
            "or an image array of shape (height, width[, 3 or 4])"
        )
    if _is_pil(x):
        return _pil_source(x, options, f"PIL image {x.size[0]}x{x.size[1]} {x.mode}")
    fig = _figure_of(x)
    if fig is not None:

        def render() -> bytes:
            import io

            buf = io.BytesIO()
            fig.savefig(buf, format="png", bbox_inches="tight")
            return buf.getvalue()

        name = f"matplotlib figure {getattr(fig, 'number', '')}".strip()
        return ProducedSource(render, name, "figure.png"), None, {"mime_type": "image/png"}
    if all(hasattr(x, a) for a in ("data", "url", "filename")):  # IPython.display.Image / Audio / Video
        mime = getattr(x, "mimetype", None) or getattr(x, "_mimetype", None)
        extra = {"declared": mime} if mime else {}
        if isinstance(x.data, (bytes, bytearray)) and x.data:
            return BytesSource(x.data, f"{type(x).__name__} object ({format_size(len(x.data))})"), None, extra
        if x.url:
            return None, str(x.url), extra
        if x.filename:
            return PathSource(x.filename), None, extra
    for method, mime in (("_repr_png_", "image/png"), ("_repr_jpeg_", "image/jpeg")):
        if callable(getattr(x, method, None)):

            def produce(obj: Any = x, name: str = method) -> bytes:
                out = getattr(obj, name)()
                out = out[0] if isinstance(out, tuple) else out
                if isinstance(out, str):
                    out = _base64.b64decode(out)
                return out or b""

            return ProducedSource(produce, f"{type(x).__name__} object", f"image.{mime[6:]}"), None, {"mime_type": mime}
    if callable(getattr(x, "read", None)):
        name = str(getattr(x, "name", "") or f"{type(x).__name__} object")

        def read() -> bytes:
            data = x.read()
            if isinstance(data, str):
                raise UsageError(f"{name}: the file object is in text mode; open it with 'rb'")
            return bytes(data)

        return ProducedSource(read, name, os.path.basename(name) if name else None), None, {}
    raise UsageError(
        f"cannot attach a {type(x).__name__}; pass a path, a URL, bytes (with mime_type= if you like), "
        "a PIL image, a matplotlib figure, or a NumPy audio array with rate="
    )


def _pil_source(im: Any, options: ImageOptions, name: str) -> tuple[Source, None, dict[str, Any]]:
    mime = options.format or ("image/jpeg" if getattr(im, "format", None) in ("JPEG", "MPO") else "image/png")
    return (
        ProducedSource(lambda: encode_pil(im, options)[0], name, f"image.{mime.split('/')[1]}"),
        None,
        {"mime_type": mime, "prepared": True},
    )


def _make(
    x: Any,
    *,
    expect: str | None,
    kind: str | None = None,
    mime_type: str | None = None,
    filename: str | None = None,
    detail: str | None = None,
    max_side: int | None = None,
    max_pixels: int | None = None,
    format: str | None = None,
    quality: int = 90,
    rate: int | None = None,
    ignore_limits: bool = False,
) -> Media:
    for name, value in (("max_side", max_side), ("max_pixels", max_pixels), ("rate", rate)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value <= 0):
            raise UsageError(f"{name}={value!r} must be a positive whole number")
    if not 1 <= quality <= 100:
        raise UsageError(f"quality={quality!r} must be between 1 and 100")
    options = ImageOptions(max_side, max_pixels, format_mime(format), quality)
    if isinstance(x, Media):
        changes: dict[str, Any] = {}
        for key, value in (
            ("mime_type", mime_type), ("filename", filename), ("detail", detail), ("max_side", max_side),
            ("max_pixels", max_pixels), ("format", format), ("kind", kind),
        ):  # fmt: skip
            if value is not None:
                changes[key] = value
        if quality != 90:
            changes["quality"] = quality
        if ignore_limits:
            changes["ignore_limits"] = True
        media = x.with_options(**changes) if changes else x
        if expect is not None and media.kind != expect:
            raise UsageError(f"{media.display_name}: {expect}() was given {media.kind}; use {media.kind}()")
        return media
    if isinstance(x, Attachment):
        if x.url is not None:
            source, url, extra = None, x.url, {}
        else:
            assert x.data is not None
            source, url, extra = BytesSource(x.data, x.filename or bytes_name(x.data), x.filename), None, {}
        mime_type = mime_type or x.mime_type
        kind = kind or x.kind
        filename = filename or x.filename
        detail = detail or x.detail
    else:
        source, url, extra = _source_of(x, rate, options)
    declared = extra.pop("declared", None)
    if mime_type is None and extra.get("mime_type"):
        mime_type = extra.pop("mime_type")
    extra.pop("mime_type", None)
    media = Media(
        source,
        url=url,
        kind=kind or (expect if url is not None else None),
        mime_type=mime_type,
        filename=filename,
        detail=detail,
        image_options=options,
        expect=expect,
        ignore_limits=ignore_limits,
        **extra,
    )
    if url is not None:
        if declared and mime_type is None:
            media._mime = declared.lower()
        media._file_type()  # no I/O for a URL: an unknown type is reported at once
    elif declared and mime_type is None:
        # a data URL or display object said what it holds: used only when the bytes do not say
        try:
            media._file_type()
        except UsageError:
            media._mime = declared.lower()
            media._ftype = None
    return media


def attach(
    source: Any,
    *,
    kind: str | None = None,
    mime_type: str | None = None,
    filename: str | None = None,
    detail: str | None = None,
    max_side: int | None = None,
    max_pixels: int | None = None,
    format: str | None = None,
    quality: int = 90,
    rate: int | None = None,
    ignore_limits: bool = False,
) -> Media:
    """Media for a prompt from almost anything; nothing is read or encoded until it is sent.

    `source` may be a local path (str or Path, `~` expanded), an http(s) or gs:// URL (sent as a
    URL, never downloaded), a `data:` URL, raw bytes (`mime_type=` optional), a PIL image, a
    matplotlib figure or axes, an IPython display object (Image, Audio, Video), a binary file
    object, or a NumPy array of audio samples with `rate=` (or an `(array, rate)` tuple).

    The kind (image, audio, video, document) and MIME type are read from the content; `kind=` and
    `mime_type=` override. Image options: `detail` (OpenAI's low|high|auto), `max_side` and
    `max_pixels` (downscale keeping the aspect ratio), `format` (png|jpeg|webp) and `quality`.
    `ignore_limits=True` skips the per-protocol size check.

    Example:
        >>> import pathlib, tempfile
        >>> from cloudsway_nb.media import attach, samples
        >>> folder = tempfile.TemporaryDirectory()
        >>> path = pathlib.Path(folder.name, "cat.png")
        >>> _ = path.write_bytes(samples.image_bytes(3000, 2000))  # a photo on disk
        >>> photo = attach(path, max_side=1568)  # checks the path; reads nothing yet
        >>> from cloudsway_nb import Client
        >>> from cloudsway_nb.emulator import running_emulator
        >>> with running_emulator() as url, Client(base_url=url, api_key="k") as client:
        ...     _ = client.add_endpoint("claude", path="MaaS-claude", protocol="messages")
        ...     client.chat("claude", "What is in this photo?", attachments=[photo]).text
        'You said: What is in this photo? Image 1: PNG, 1568x1045 pixels.'
        >>> folder.cleanup()
        >>> attach("https://example.com/cat.png")
        Media(image, https://example.com/cat.png)
    """
    return _make(
        source, expect=None, kind=kind, mime_type=mime_type, filename=filename, detail=detail, max_side=max_side,
        max_pixels=max_pixels, format=format, quality=quality, rate=rate, ignore_limits=ignore_limits,
    )  # fmt: skip


def image(
    source: Any,
    *,
    mime_type: str | None = None,
    filename: str | None = None,
    detail: str | None = None,
    max_side: int | None = None,
    max_pixels: int | None = None,
    format: str | None = None,
    quality: int = 90,
    ignore_limits: bool = False,
) -> Media:
    """An image (path, URL, bytes, PIL image, figure, NumPy image array...); refuses anything else.

    EXIF orientation is applied; BMP, TIFF, HEIC and AVIF are converted to PNG; `max_side` /
    `max_pixels` downscale keeping the aspect ratio; `detail` is OpenAI's low|high|auto. An image
    needing none of that is sent byte for byte.

    Example:
        >>> image("https://example.com/photo", detail="low")
        Media(image, https://example.com/photo)
    """
    return _make(
        source, expect="image", mime_type=mime_type, filename=filename, detail=detail, max_side=max_side,
        max_pixels=max_pixels, format=format, quality=quality, ignore_limits=ignore_limits,
    )  # fmt: skip


def audio(
    source: Any,
    *,
    rate: int | None = None,
    mime_type: str | None = None,
    filename: str | None = None,
    ignore_limits: bool = False,
) -> Media:
    """Audio: a path, URL or bytes (MP3, WAV, M4A/AAC, OGG, FLAC, WebM, AIFF), or NumPy samples
    with their sample `rate` (sent as 16-bit WAV).

    Example:
        >>> import numpy as np
        >>> clip = audio(np.zeros(16000, dtype=np.float32), rate=16000)
        >>> (clip.kind, clip.mime_type, clip.size)
        ('audio', 'audio/wav', 32044)
    """
    return _make(source, expect="audio", rate=rate, mime_type=mime_type, filename=filename, ignore_limits=ignore_limits)


def video(
    source: Any, *, mime_type: str | None = None, filename: str | None = None, ignore_limits: bool = False
) -> Media:
    """Video: a path, URL or bytes (MP4, WebM, MOV, AVI, 3GP). Large files are streamed when sent.

    Example:
        >>> video("https://example.com/clip.mp4").mime_type
        'video/mp4'
    """
    return _make(source, expect="video", mime_type=mime_type, filename=filename, ignore_limits=ignore_limits)


def document(
    source: Any, *, mime_type: str | None = None, filename: str | None = None, ignore_limits: bool = False
) -> Media:
    """A document: a path, URL or bytes of a PDF or a plain-text file (text, Markdown, CSV, HTML).

    Example:
        >>> document(b"# Notes\\nBuy milk.\\n", filename="notes.md").mime_type
        'text/markdown'
    """
    return _make(source, expect="document", mime_type=mime_type, filename=filename, ignore_limits=ignore_limits)
