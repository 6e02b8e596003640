"""Everything attach() takes, turned into an `Input`: a Source of bytes, or a URL to send as it is.

Strings (paths, http(s) / gs:// URLs, `data:` and `file://` URLs), path objects, bytes, NumPy
audio samples or image arrays, PIL images, matplotlib figures and axes, IPython display objects,
objects with `_repr_png_` / `_repr_jpeg_`, and binary file objects. The libraries are never
imported to recognise their objects (duck typing): only rendering a NumPy image imports Pillow.

Example:
    >>> found = input_of("data:text/plain;base64,aGk=", None, ImageOptions())
    >>> (found.source.name, found.source.read_all(), found.declared)
    ('data URL (2 B)', b'hi', 'text/plain')
    >>> input_of("https://example.com/cat.png", None, ImageOptions()).url
    'https://example.com/cat.png'
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_to_bytes

from ..errors import UsageError
from ._images import ImageOptions, encode_pil
from ._limits import format_size
from ._sources import BytesSource, PathSource, ProducedSource, Source, bytes_name, numpy_to_wav

__all__ = ["Input", "input_of"]

_URL_SCHEMES = ("http://", "https://", "gs://")


@dataclass(frozen=True, slots=True)
class Input:
    """What an object to attach holds: a `source` of bytes or a `url` (exactly one), and what is known
    of its type before anything is read."""

    source: Source | None = None
    url: str | None = None
    mime_type: str | None = None
    """The type of bytes this code makes (a figure rendered as PNG); the caller's `mime_type=` wins."""
    declared: str | None = None
    """The type the object says it holds (a data URL's header): used only when the bytes do not say."""
    prepared: bool = False
    """The image options were applied when the bytes were made (a PIL image encoded with them)."""


def input_of(x: Any, rate: int | None, options: ImageOptions) -> Input:
    """The `Input` for anything attach() takes; UsageError (saying what it does take) for anything else.

    `rate` is the sample rate of NumPy audio; `options` are applied when a PIL image or an image
    array is encoded.
    """
    for accepts, read in _READERS:
        if accepts(x):
            return read(x, rate, options)
    raise UsageError(
        f"cannot attach a {type(x).__name__}; pass a path, a URL, bytes (with mime_type= if you like), "
        "a PIL image, a matplotlib figure, or a NumPy audio array with rate="
    )


# ---------------------------------------------------------------- strings, paths and bytes


def _from_string(x: str, rate: int | None, options: ImageOptions) -> Input:
    if x.startswith(_URL_SCHEMES):
        return Input(url=x)
    if x.startswith("data:"):
        mime, data = _decode_data_url(x)
        return Input(BytesSource(data, f"data URL ({format_size(len(data))})"), declared=mime)
    if x.startswith("file://"):
        return Input(PathSource(unquote_to_bytes(x[7:]).decode()))
    if "\n" in x or len(x) > 4096:
        raise UsageError(
            f"{x[:40]!r}...: looks like text, not a path; pass text in the prompt, or bytes with mime_type="
        )
    return Input(PathSource(x))


def _decode_data_url(url: str) -> tuple[str | None, bytes]:
    head, sep, payload = url.partition(",")
    if not sep:
        raise UsageError(f"{url[:40]}...: a malformed data URL (no comma after the header)")
    params = head[5:].split(";")
    mime = params[0].strip().lower() or None
    if any(p.strip().lower() == "base64" for p in params[1:]):
        try:
            data = base64.b64decode("".join(payload.split()), validate=True)
        except (binascii.Error, ValueError):
            raise UsageError(f"data:{mime};base64,…: the data URL holds invalid base64") from None
    else:
        data = unquote_to_bytes(payload)
    if not data:
        raise UsageError(f"data:{mime},…: the data URL is empty (0 bytes); nothing to attach")
    return mime, data


def _from_path(x: os.PathLike[str], rate: int | None, options: ImageOptions) -> Input:
    return Input(PathSource(x))


def _is_bytes(x: Any) -> bool:
    return isinstance(x, (bytes, bytearray, memoryview))


def _from_bytes(x: bytes | bytearray | memoryview, rate: int | None, options: ImageOptions) -> Input:
    if len(x) == 0:
        raise UsageError("bytes (0 B): the data is empty; nothing to attach")
    return Input(BytesSource(x, bytes_name(x)))


# ---------------------------------------------------------------- NumPy arrays and PIL images


def _is_numpy(x: Any) -> bool:
    return type(x).__module__ == "numpy" and hasattr(x, "dtype") and hasattr(x, "shape")


def _is_samples_and_rate(x: Any) -> bool:
    return isinstance(x, tuple) and len(x) == 2 and _is_numpy(x[0]) and isinstance(x[1], int)


def _from_samples_and_rate(x: tuple[Any, int], rate: int | None, options: ImageOptions) -> Input:
    return input_of(x[0], x[1], options)


def _from_numpy(x: Any, rate: int | None, options: ImageOptions) -> Input:
    if rate is not None:
        return _numpy_audio(x, rate)
    if (x.dtype == "uint8" or x.dtype.kind == "f") and (x.ndim == 2 or (x.ndim == 3 and x.shape[-1] in (1, 3, 4))):
        return _numpy_image(x, options)
    raise UsageError(
        f"NumPy array {tuple(x.shape)}: pass rate= for audio samples (audio(array, rate=16000)), "
        "or an image array of shape (height, width[, 3 or 4])"
    )


def _numpy_audio(x: Any, rate: int) -> Input:
    name = f"NumPy audio ({x.shape[0] if x.ndim == 1 else 'x'.join(map(str, x.shape))} samples at {rate} Hz)"
    return Input(ProducedSource(lambda: numpy_to_wav(x, rate), name, "audio.wav"), mime_type="audio/wav")


def _numpy_image(x: Any, options: ImageOptions) -> Input:
    from PIL import Image

    array = x if x.dtype == "uint8" else (x.clip(0, 1) * 255).round().astype("uint8")
    pil = Image.fromarray(array[..., 0] if array.ndim == 3 and array.shape[-1] == 1 else array)
    return _pil_input(pil, options, f"NumPy image ({'x'.join(map(str, x.shape))})")


def _is_pil(x: Any) -> bool:
    return type(x).__module__.startswith("PIL.") and hasattr(x, "save") and hasattr(x, "mode")


def _from_pil(x: Any, rate: int | None, options: ImageOptions) -> Input:
    return _pil_input(x, options, f"PIL image {x.size[0]}x{x.size[1]} {x.mode}")


def _pil_input(im: Any, options: ImageOptions, name: str) -> Input:
    mime = options.format or ("image/jpeg" if getattr(im, "format", None) in ("JPEG", "MPO") else "image/png")
    source = ProducedSource(lambda: encode_pil(im, options)[0], name, f"image.{mime.split('/')[1]}")
    return Input(source, mime_type=mime, prepared=True)


# ---------------------------------------------------------------- notebook objects and file objects


def _figure_of(x: Any) -> Any:
    """A matplotlib Figure for a Figure or an Axes (duck-typed: matplotlib is not imported)."""
    if hasattr(x, "savefig") and hasattr(x, "canvas"):
        return x
    fig = getattr(x, "figure", None)
    if fig is not None and hasattr(fig, "savefig") and hasattr(fig, "canvas") and hasattr(x, "get_figure"):
        return fig
    return None


def _is_figure(x: Any) -> bool:
    return _figure_of(x) is not None


def _from_figure(x: Any, rate: int | None, options: ImageOptions) -> Input:
    fig = _figure_of(x)

    def render() -> bytes:
        import io

        buf = io.BytesIO()
        fig.savefig(buf, format="png", bbox_inches="tight")
        return buf.getvalue()

    name = f"matplotlib figure {getattr(fig, 'number', '')}".strip()
    return Input(ProducedSource(render, name, "figure.png"), mime_type="image/png")


def _display_data(x: Any) -> bytes | bytearray | None:
    return x.data if isinstance(x.data, (bytes, bytearray)) and x.data else None


def _is_display_object(x: Any) -> bool:
    """IPython.display.Image / Audio / Video (or alike) holding bytes, a URL or a file name."""
    if not all(hasattr(x, a) for a in ("data", "url", "filename")):
        return False
    return bool(_display_data(x) is not None or x.url or x.filename)


def _from_display_object(x: Any, rate: int | None, options: ImageOptions) -> Input:
    declared = getattr(x, "mimetype", None) or getattr(x, "_mimetype", None) or None
    data = _display_data(x)
    if data is not None:
        return Input(BytesSource(data, f"{type(x).__name__} object ({format_size(len(data))})"), declared=declared)
    if x.url:
        return Input(url=str(x.url), declared=declared)
    return Input(PathSource(x.filename), declared=declared)


_REPR_IMAGE_METHODS = (("_repr_png_", "image/png"), ("_repr_jpeg_", "image/jpeg"))


def _repr_image_method(x: Any) -> tuple[str, str] | None:
    """The first of `_repr_png_` / `_repr_jpeg_` the object has, with its MIME type."""
    for method, mime in _REPR_IMAGE_METHODS:
        if callable(getattr(x, method, None)):
            return method, mime
    return None


def _has_repr_image(x: Any) -> bool:
    return _repr_image_method(x) is not None


def _from_repr_image(x: Any, rate: int | None, options: ImageOptions) -> Input:
    found = _repr_image_method(x)
    assert found is not None
    method, mime = found

    def produce() -> bytes:
        out = getattr(x, method)()
        out = out[0] if isinstance(out, tuple) else out
        if isinstance(out, str):
            out = base64.b64decode(out)
        return out or b""

    return Input(ProducedSource(produce, f"{type(x).__name__} object", f"image.{mime[6:]}"), mime_type=mime)


def _is_file_object(x: Any) -> bool:
    return callable(getattr(x, "read", None))


def _from_file_object(x: Any, rate: int | None, options: ImageOptions) -> Input:
    name = str(getattr(x, "name", "") or f"{type(x).__name__} object")

    def read() -> bytes:
        data = x.read()
        if isinstance(data, str):
            raise UsageError(f"{name}: the file object is in text mode; open it with 'rb'")
        return bytes(data)

    return Input(ProducedSource(read, name, os.path.basename(name) if name else None))


_Reader = Callable[[Any, int | None, ImageOptions], Input]

_READERS: tuple[tuple[Callable[[Any], bool], _Reader], ...] = (
    (lambda x: isinstance(x, str), _from_string),
    (lambda x: isinstance(x, os.PathLike), _from_path),
    (_is_bytes, _from_bytes),
    (_is_samples_and_rate, _from_samples_and_rate),
    (_is_numpy, _from_numpy),
    (_is_pil, _from_pil),
    (_is_figure, _from_figure),
    (_is_display_object, _from_display_object),
    (_has_repr_image, _from_repr_image),
    (_is_file_object, _from_file_object),
)
"""(accepts, read) in the order they are tried: the first whose `accepts(x)` is true reads `x`."""
