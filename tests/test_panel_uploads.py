"""Chunked uploads from the browser and their chips."""

from __future__ import annotations

import base64
import io

import pytest
from PIL import Image

from cloudsway_nb.panel.uploads import Upload, UploadAssembler, UploadError, thumbnail


def chunks(data: bytes, size: int, **meta: object) -> list[tuple[dict, list]]:
    out = []
    offsets = list(range(0, len(data), size)) or [0]
    for offset in offsets:
        final = offset + size >= len(data)
        out.append(({"id": "u1", "name": "f.bin", "mime": "application/octet-stream", "size": len(data),
                     "offset": offset, "final": final, **meta}, [memoryview(data[offset:offset + size])]))
    return out


def png(width: int = 300, height: int = 200) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


def test_chunks_are_put_back_together() -> None:
    data = bytes(range(256)) * 40
    up = UploadAssembler()
    results = [up.feed(content, buffers) for content, buffers in chunks(data, 1000)]
    assert results[:-1] == [None] * (len(results) - 1)
    assert isinstance(results[-1], Upload) and results[-1].data == data and results[-1].size == len(data)


def test_an_empty_file_is_one_final_chunk() -> None:
    (content, buffers), = chunks(b"", 100)
    upload = UploadAssembler().feed(content, buffers)
    assert upload is not None and upload.data == b""


def test_over_the_limit_is_refused_before_anything_is_kept() -> None:
    up = UploadAssembler(max_bytes=10)
    with pytest.raises(UploadError, match="over the 10 B limit"):
        up.feed(*chunks(b"x" * 11, 100)[0])
    assert up._parts == {}


def test_out_of_order_and_oversized_chunks_are_refused() -> None:
    up = UploadAssembler()
    parts = chunks(b"abcdef", 2)
    up.feed(*parts[0])
    with pytest.raises(UploadError, match="out of order"):
        up.feed(*parts[2])
    with pytest.raises(UploadError, match="more data than"):
        up.feed({"id": "u2", "name": "x", "size": 2, "offset": 0, "final": False}, [b"abc"])
    with pytest.raises(UploadError, match="arrived of"):
        up.feed({"id": "u3", "name": "x", "size": 4, "offset": 0, "final": True}, [b"ab"])


def test_names_are_cleaned() -> None:
    content, buffers = chunks(b"hi", 10, name="../../etc/passwd\x00")[0]
    upload = UploadAssembler().feed(content, buffers)
    assert upload is not None and upload.name == "passwd"
    content, buffers = chunks(b"hi", 10, name="C:\\Users\\me\\notes.txt")[0]
    assert UploadAssembler().feed(content, buffers).name == "notes.txt"


def test_discard_forgets_a_half_upload_and_ignores_its_chunks_in_flight() -> None:
    up = UploadAssembler()
    parts = chunks(b"abcdef", 2)
    up.feed(*parts[0])
    up.discard("u1")
    assert up._parts == {}
    assert up.feed(*parts[1]) is None and up.feed(*parts[2]) is None  # no "out of order" error
    assert up.feed(*parts[0]) is None and up.feed(*parts[1]) is None  # the id is free again after the final one
    assert up.feed(*parts[2]).data == b"abcdef"


def test_image_chip_has_a_small_png_thumbnail() -> None:
    chip = Upload("i1", "red.png", "image/png", png()).chip()
    assert chip["name"] == "red.png" and chip["mime"] == "image/png" and chip["size"] > 0
    assert chip["thumb"].startswith("data:image/png;base64,")
    with Image.open(io.BytesIO(base64.b64decode(chip["thumb"].split(",", 1)[1]))) as img:
        assert max(img.size) == 96 and img.format == "PNG"


def test_no_thumbnail_for_other_files_or_broken_images() -> None:
    assert Upload("d", "a.pdf", "application/pdf", b"%PDF-1.4").chip()["thumb"] == ""
    assert thumbnail(png()[:40], "image/png") == ""
    assert thumbnail(b"<svg onload=alert(1)>", "image/svg+xml") == ""


def test_a_decompression_bomb_gets_no_thumbnail() -> None:
    Image.MAX_IMAGE_PIXELS, saved = 1000, Image.MAX_IMAGE_PIXELS
    try:
        assert thumbnail(png(100, 100), "image/png") == ""
    finally:
        Image.MAX_IMAGE_PIXELS = saved
