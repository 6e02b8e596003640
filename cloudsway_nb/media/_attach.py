"""attach(), image(), audio(), video() and document(): a `Media` from anything, with the call's options checked.

A Media given again gets the new options (`with_options`); a plain `Attachment` keeps its own
type, name and detail unless the call says otherwise; anything else is read by `input_of`.
"""

from __future__ import annotations

from typing import Any

from ..errors import UsageError
from ..types import Attachment
from ._images import ImageOptions, format_mime
from ._inputs import Input, input_of
from ._media import Media
from ._sources import BytesSource, bytes_name

__all__ = ["attach", "audio", "document", "image", "video"]


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
    """The Media for `x` (what attach() and the others do); `expect` is the kind image() etc. insist on."""
    _check_numbers(quality, max_side=max_side, max_pixels=max_pixels, rate=rate)
    options = ImageOptions(max_side, max_pixels, format_mime(format), quality)
    if isinstance(x, Media):
        return _with_call_options(
            x, expect, quality=quality, ignore_limits=ignore_limits, mime_type=mime_type, filename=filename,
            detail=detail, max_side=max_side, max_pixels=max_pixels, format=format, kind=kind,
        )  # fmt: skip
    if isinstance(x, Attachment):
        found = _attachment_input(x)
        mime_type, kind = mime_type or x.mime_type, kind or x.kind
        filename, detail = filename or x.filename, detail or x.detail
    else:
        found = input_of(x, rate, options)
    if mime_type is None:
        mime_type = found.mime_type or None
    media = Media(
        found.source,
        url=found.url,
        kind=kind or (expect if found.url is not None else None),
        mime_type=mime_type,
        filename=filename,
        detail=detail,
        image_options=options,
        expect=expect,
        ignore_limits=ignore_limits,
        prepared=found.prepared,
    )
    media._settle_type(found.declared if mime_type is None else None)
    return media


def _check_numbers(quality: int, **counts: int | None) -> None:
    for name, value in counts.items():
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value <= 0):
            raise UsageError(f"{name}={value!r} must be a positive whole number")
    if not 1 <= quality <= 100:
        raise UsageError(f"quality={quality!r} must be between 1 and 100")


def _with_call_options(media: Media, expect: str | None, *, quality: int, ignore_limits: bool, **given: Any) -> Media:
    """A Media given to attach() and the others again: with the options the call sets (the keywords
    not None, a quality other than the default, ignore_limits=True), then checked against `expect`."""
    changes = {key: value for key, value in given.items() if value is not None}
    if quality != 90:  # the functions' default: not an option the call sets
        changes["quality"] = quality
    if ignore_limits:
        changes["ignore_limits"] = True
    if changes:
        media = media.with_options(**changes)
    if expect is not None and media.kind != expect:
        raise UsageError(f"{media.display_name}: {expect}() was given {media.kind}; use {media.kind}()")
    return media


def _attachment_input(att: Attachment) -> Input:
    """A plain Attachment's URL or bytes (its type, name and detail are the call's defaults)."""
    if att.url is not None:
        return Input(url=att.url)
    assert att.data is not None
    return Input(BytesSource(att.data, att.filename or bytes_name(att.data), att.filename))


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
