"""Image preparation with Pillow (imported only here, only when an image's bytes are needed).

EXIF orientation is applied, BMP / TIFF / HEIC / AVIF are converted to PNG, and an image is
downscaled to `max_side` / `max_pixels` keeping its aspect ratio (every frame of an animated GIF,
PNG or WebP, keeping the frame durations; converted to JPEG, an animation keeps its first frame).
An image that needs none of that is sent byte for byte as it is: nothing is re-encoded unless it
has to be.

Example:
    >>> scaled_size(4000, 3000, max_side=1000)
    (1000, 750)
    >>> scaled_size(4000, 3000, max_pixels=1_000_000)
    (1154, 866)
    >>> scaled_size(640, 480, max_side=1000)
    (640, 480)
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any

from ..errors import UsageError

__all__ = ["CONVERTED", "ImageOptions", "encode_pil", "format_mime", "prepare_image", "scaled_size", "target_mime"]

CONVERTED = {"image/bmp": "BMP", "image/tiff": "TIFF", "image/heic": "HEIC", "image/avif": "AVIF"}
"""Image types few models accept: converted to PNG before sending."""

_PIL_FORMATS = {"image/png": "PNG", "image/jpeg": "JPEG", "image/webp": "WEBP", "image/gif": "GIF"}
_ANIMATED = ("image/gif", "image/png", "image/webp")  # what can hold every frame of an animation
_FORMAT_NAMES = {"png": "image/png", "jpeg": "image/jpeg", "jpg": "image/jpeg", "webp": "image/webp"}


def format_mime(fmt: str | None) -> str | None:
    """The MIME type for a `format=` option (png, jpeg, webp), or None; UsageError if unknown.

    Example:
        >>> format_mime("JPG")
        'image/jpeg'
    """
    if fmt is None:
        return None
    mime = _FORMAT_NAMES.get(fmt.lower().lstrip("."))
    if mime is None:
        raise UsageError(f"format={fmt!r} is not known; use png, jpeg or webp")
    return mime


@dataclass(frozen=True, slots=True)
class ImageOptions:
    """How to prepare an image: `max_side` / `max_pixels` (downscale, keeping the aspect ratio),
    `format` (a MIME type to re-encode into) and the JPEG / WebP `quality`.

    Example:
        >>> ImageOptions(max_side=1024).resizes
        True
    """

    max_side: int | None = None
    max_pixels: int | None = None
    format: str | None = None
    quality: int = 90

    @property
    def resizes(self) -> bool:
        return bool(self.max_side or self.max_pixels)

    def describe(self) -> str:
        parts = []
        if self.max_side:
            parts.append(f"max_side={self.max_side}")
        if self.max_pixels:
            parts.append(f"max_pixels={self.max_pixels}")
        return ", ".join(parts)


def scaled_size(width: int, height: int, max_side: int | None = None, max_pixels: int | None = None) -> tuple[int, int]:
    """The size after downscaling to fit `max_side` and `max_pixels` (never upscaled)."""
    scale = 1.0
    if max_side and max(width, height) > max_side:
        scale = max_side / max(width, height)
    if max_pixels and width * height * scale * scale > max_pixels:
        scale = min(scale, math.sqrt(max_pixels / (width * height)))
    if scale >= 1.0:
        return width, height
    return max(1, math.floor(width * scale + 1e-9)), max(1, math.floor(height * scale + 1e-9))


def target_mime(mime: str, options: ImageOptions) -> str:
    """The MIME type an image is sent as, after conversion."""
    if options.format:
        return options.format
    return "image/png" if mime in CONVERTED else mime


def _pil() -> Any:
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - Pillow is a dependency
        return None
    return Image


def prepare_image(
    open_file: Callable[[], IO[bytes]], name: str, mime: str, label: str, options: ImageOptions
) -> bytes | None:
    """The image's bytes to send, or None when the original bytes can be sent unchanged.

    Reads only the header unless something has to change (orientation, size, format); a JPEG is
    also decoded at 1/8 scale to find truncation.
    """
    Image = _pil()
    target = target_mime(mime, options)
    if Image is None:
        if target != mime or options.resizes:
            raise UsageError(f"{name}: preparing a {label} image needs Pillow; pip install pillow")
        return None
    from PIL import ImageOps

    with open_file() as fp:
        try:
            with Image.open(fp) as im:
                animated = getattr(im, "n_frames", 1) > 1 and im.format in ("GIF", "PNG", "WEBP")
                orientation = 1 if animated else _orientation(im)
                width, height = im.size
                if orientation in (5, 6, 7, 8):
                    width, height = height, width
                new_size = scaled_size(width, height, options.max_side, options.max_pixels)
                if animated and target in _ANIMATED:
                    if new_size == (width, height) and target == mime:
                        return None  # an animation needing nothing is sent as it is
                    return _encode_animation(im, new_size, _PIL_FORMATS[target])
                if orientation == 1 and new_size == (width, height) and target == mime:
                    if im.format in ("JPEG", "MPO"):
                        im.draft(im.mode, (max(1, width // 8), max(1, height // 8)))
                        im.load()  # finds truncated data quickly
                    return None
                im.load()
                out = ImageOps.exif_transpose(im) if orientation != 1 else im
                if new_size != out.size:
                    out = out.resize(new_size, Image.Resampling.LANCZOS, reducing_gap=3.0)
                return _encode(out, target, options.quality, im.info.get("icc_profile"))
        except UsageError:
            raise
        except Image.DecompressionBombError as exc:
            raise UsageError(f"{name}: the {label} image is too large to decode safely ({exc})") from None
        except (OSError, SyntaxError, ValueError) as exc:
            detail = " ".join(str(exc).split()) or type(exc).__name__
            if mime in ("image/heic", "image/avif"):
                raise UsageError(
                    f"{name}: cannot convert this {label} image ({detail}); convert it to JPEG or PNG first "
                    "(or pip install pillow-heif for HEIC)"
                ) from None
            raise UsageError(
                f"{name}: the {label} data is truncated or corrupt ({detail}); re-export or re-download it"
            ) from None


def _encode_animation(im: Any, size: tuple[int, int], fmt: str) -> bytes:
    """Every frame of an animation (GIF, APNG, WebP) scaled to `size`, keeping frame durations and looping."""
    from PIL import Image, ImageSequence

    frames, durations = [], []
    for frame in ImageSequence.Iterator(im):
        durations.append(frame.info.get("duration", im.info.get("duration", 100)))
        rgba = frame.convert("RGBA")
        frames.append(rgba.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0) if rgba.size != size else rgba)
    params: dict[str, Any] = {"save_all": True, "append_images": frames[1:], "duration": durations}
    if "loop" in im.info:
        params["loop"] = im.info["loop"]
    if fmt in ("GIF", "PNG"):
        params["disposal"] = 2 if fmt == "GIF" else 1  # every frame is whole: clear before the next
    buf = io.BytesIO()
    frames[0].save(buf, fmt, **params)
    return buf.getvalue()


def _orientation(im: Any) -> int:
    try:
        value = int(im.getexif().get(0x0112, 1))
    except Exception:  # broken EXIF: ignore it rather than refuse the image
        return 1
    return value if 1 <= value <= 8 else 1


def _encode(img: Any, mime: str, quality: int, icc: bytes | None = None) -> bytes:
    fmt = _PIL_FORMATS[mime]
    params: dict[str, Any] = {}
    if fmt == "JPEG":
        if img.mode in ("RGBA", "LA", "P", "PA"):
            img = _flatten(img)
        elif img.mode not in ("RGB", "L", "CMYK"):
            img = img.convert("RGB")
        params["quality"] = quality
    elif fmt == "WEBP":
        if img.mode not in ("RGB", "RGBA"):
            img = img.convert("RGBA" if "A" in img.mode or "transparency" in img.info else "RGB")
        params["quality"] = quality
    elif fmt == "PNG" and img.mode not in ("1", "L", "LA", "P", "RGB", "RGBA", "I", "I;16"):
        img = img.convert("RGBA" if "A" in img.mode else "RGB")
    if icc and fmt in ("JPEG", "PNG", "WEBP"):
        params["icc_profile"] = icc
    buf = io.BytesIO()
    img.save(buf, fmt, **params)
    return buf.getvalue()


def _flatten(img: Any) -> Any:
    """An image with transparency on a white background (JPEG has no alpha channel)."""
    from PIL import Image

    rgba = img.convert("RGBA")
    background = Image.new("RGB", rgba.size, (255, 255, 255))
    background.paste(rgba, mask=rgba.getchannel("A"))
    return background


def encode_pil(im: Any, options: ImageOptions) -> tuple[bytes, str]:
    """A PIL image as (bytes, MIME type): EXIF orientation applied, downscaled, encoded once.

    PNG by default; JPEG when the image was read from a JPEG file; `options.format` decides
    when given.
    """
    from PIL import Image, ImageOps

    mime = options.format or ("image/jpeg" if getattr(im, "format", None) in ("JPEG", "MPO") else "image/png")
    out = im
    if _orientation(im) != 1:
        out = ImageOps.exif_transpose(im)
    new_size = scaled_size(out.size[0], out.size[1], options.max_side, options.max_pixels)
    if new_size != out.size:
        out = out.resize(new_size, Image.Resampling.LANCZOS, reducing_gap=3.0)
    return _encode(out, mime, options.quality, im.info.get("icc_profile")), mime
