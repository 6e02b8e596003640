"""`Media`, the lazy Attachment: read, checked, prepared and base64-encoded when a request needs it, once.

Made by attach(), image(), audio(), video() and document() (`_attach`); its type comes from
`_file_types`, what is sent from `_prepare`.
"""

from __future__ import annotations

import base64 as _base64
from collections.abc import Iterator
from typing import Any

from ..errors import UsageError
from ..types import Attachment, Payload, summarize_data_url
from ._file_types import data_file_type, format_name, url_file_type
from ._images import ImageOptions, format_mime, target_mime
from ._limits import b64_length, format_size
from ._prepare import prepared_source
from ._sniff import FileType
from ._sources import BytesSource, ProducedSource, Source, bytes_name

__all__ = ["CHUNK_SIZE", "Media"]

CHUNK_SIZE = 3 * 256 * 1024
"""Bytes read and encoded at a time when a payload is streamed (a multiple of 3: base64 of such
chunks concatenates into the base64 of the whole); each becomes 1 MiB of base64 text."""

KINDS = ("image", "audio", "video", "document")
DETAILS = ("low", "high", "auto")


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
        return format_name(self.mime_type, self.kind)

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
            if self._url is not None:
                kind = self._kind or self._expect
                self._ftype = url_file_type(self._url, self.display_name, kind=kind, mime=self._mime)
            else:
                assert self._src is not None
                self._ftype = data_file_type(
                    self._src, self.filename, kind=self._kind, expect=self._expect, mime=self._mime
                )
        return self._ftype

    def _prepared(self) -> Source:
        """The source of the bytes to send: checked for completeness, images prepared. Done once."""
        if self._ready is None:
            assert self._src is not None
            self._ready = prepared_source(self._src, self._file_type(), self._image_options, self._already_prepared)
        return self._ready

    def _settle_type(self, declared: str | None) -> None:
        """Tell the type now where that needs no I/O (a URL: an unknown type is reported at once), and
        fall back on `declared`, the type a data URL or display object said it holds, which is used
        only when the caller did not say and, for bytes, when the bytes do not say either."""
        if self._url is not None:
            if declared:
                self._mime = declared.lower()
            self._file_type()
        elif declared:
            try:
                self._file_type()
            except UsageError:
                self._mime = declared.lower()
                self._ftype = None
