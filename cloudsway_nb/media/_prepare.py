"""What is sent for a source: checked for completeness, an image prepared, text re-encoded as UTF-8.

Example:
    >>> src = BytesSource(b"caf\\xe9\\n", "notes.txt")   # Windows-1252
    >>> prepared_source(src, FileType("document", "text/plain", "text"), ImageOptions(), False).read_all()
    b'caf\\xc3\\xa9\\n'
"""

from __future__ import annotations

from ..errors import UsageError
from ._images import ImageOptions, prepare_image
from ._sniff import FileType, completeness_problem, to_utf8
from ._sources import BytesSource, Source

__all__ = ["prepared_source"]

_TRANSCODE_MAX = 64 * 1024 * 1024  # text larger than this is sent as it is (no whole-file read)


def prepared_source(src: Source, ftype: FileType, options: ImageOptions, already_prepared: bool) -> Source:
    """The source of the bytes to send for `src` of type `ftype` (`src` itself when nothing changes).

    Raises UsageError when the data is truncated. `already_prepared`: the source applied the
    image options itself (a PIL image encoded with them), so the image is not prepared again.
    """
    _check_complete(src, ftype)
    if ftype.kind == "image" and not already_prepared and ftype.mime_type.startswith("image/"):
        processed = prepare_image(src.open, src.name, ftype.mime_type, ftype.label, options)
        return src if processed is None else BytesSource(processed, src.name, src.filename)
    if (ftype.kind == "text" or ftype.mime_type.startswith("text/")) and src.size() <= _TRANSCODE_MAX:
        # UTF-16/32 (with a byte-order mark) and Windows-1252 text is sent as UTF-8, which every
        # adapter assumes when it inlines text and every model reads in a text file
        utf8 = to_utf8(src.read_all())
        if utf8 is not None:
            return BytesSource(utf8, src.name, src.filename)
    return src


def _check_complete(src: Source, ftype: FileType) -> None:
    problem = completeness_problem(ftype, src.read_at, src.size())
    if problem:
        raise UsageError(f"{src.name}: truncated or incomplete {ftype.label} ({problem}); re-export or re-download it")
