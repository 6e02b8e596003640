"""cloudsway_nb.media: attach() and friends, sniffing, laziness, images, audio arrays, errors, limits,
rendering on every protocol, payload summaries, and the streamed request body."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import os
import subprocess
import sys
import tracemalloc
import wave
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from cloudsway_nb import Client, Endpoint, UnsupportedError, UsageError
from cloudsway_nb import transport as tr
from cloudsway_nb.media import (
    SIZE_LIMITS,
    Limit,
    Media,
    _sources,
    attach,
    audio,
    document,
    image,
    redact_payloads,
    samples,
    video,
)
from cloudsway_nb.protocols import get_adapter
from cloudsway_nb.protocols.base import CallSpec, HttpRequest
from cloudsway_nb.types import Attachment, Message, Payload, summarize_data_url

np = pytest.importorskip("numpy")

PROTOCOLS = ("chat", "responses", "messages", "gemini")


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def body_of(protocol: str, *parts: Any) -> dict[str, Any]:
    """The request JSON an adapter builds for one user turn, payloads made real."""
    request = get_adapter(protocol).build_request(
        CallSpec(messages=[Message.user(list(parts))], endpoint_path="ep", params={"max_tokens": 16})
    )
    return tr.materialize_payloads(request.json)


def media_parts(protocol: str, *parts: Any) -> list[dict[str, Any]]:
    body = body_of(protocol, *parts)
    if protocol == "chat":
        return body["messages"][0]["content"]
    if protocol == "responses":
        return body["input"][0]["content"]
    if protocol == "messages":
        return body["messages"][0]["content"]
    return body["contents"][0]["parts"]


# ---------------------------------------------------------------- sniffing

SNIFFED = [
    ("png", lambda: samples.image_bytes(fmt="PNG"), "image", "image/png"),
    ("jpeg", lambda: samples.image_bytes(fmt="JPEG"), "image", "image/jpeg"),
    ("gif", lambda: samples.image_bytes(fmt="GIF"), "image", "image/gif"),
    ("webp", lambda: samples.image_bytes(fmt="WEBP"), "image", "image/webp"),
    ("bmp", lambda: samples.image_bytes(fmt="BMP"), "image", "image/png"),  # converted
    ("tiff", lambda: samples.image_bytes(fmt="TIFF"), "image", "image/png"),  # converted
    ("mp3", samples.mp3, "audio", "audio/mpeg"),
    ("wav", samples.wav, "audio", "audio/wav"),
    ("m4a", samples.m4a, "audio", "audio/mp4"),
    ("aac", lambda: b"\xff\xf1\x50\x80\x02\x1f\xfc" + bytes(64), "audio", "audio/aac"),
    ("ogg", samples.ogg_opus, "audio", "audio/ogg"),
    ("flac", samples.flac, "audio", "audio/flac"),
    ("webm-audio", lambda: samples.webm(video=False), "audio", "audio/webm"),
    ("mp4", samples.mp4, "video", "video/mp4"),
    ("webm", samples.webm, "video", "video/webm"),
    ("mov", samples.mov, "video", "video/quicktime"),
    ("pdf", samples.pdf, "document", "application/pdf"),
    ("text", samples.text, "document", "text/plain"),
]


@pytest.mark.parametrize(("name", "make", "kind", "mime"), SNIFFED, ids=[s[0] for s in SNIFFED])
def test_kind_and_mime_come_from_the_content(tmp_path: Path, name: str, make: Any, kind: str, mime: str) -> None:
    # a misleading extension does not matter: the bytes decide
    path = write(tmp_path, "upload.bin", make())
    for m in (attach(path), attach(make())):
        assert (m.kind, m.mime_type) == (kind, mime)


def test_extension_does_not_override_content(tmp_path: Path) -> None:
    m = attach(write(tmp_path, "photo.jpg", samples.image_bytes(fmt="PNG")))
    assert (m.kind, m.mime_type) == ("image", "image/png")
    # an MP4 named .m4a that holds a video track is a video
    assert attach(write(tmp_path, "clip.m4a", samples.mp4())).kind == "video"


def test_extension_breaks_ties_only() -> None:
    assert document(samples.text(), filename="notes.md").mime_type == "text/markdown"
    assert document(samples.text(), filename="table.csv").mime_type == "text/csv"
    assert attach("é".encode() * 3000).mime_type == "text/plain"  # a multi-byte char cut by the sample


def test_sniff_reads_only_a_few_kb_of_a_large_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "big.mp4"
    with open(path, "wb") as f:
        f.write(samples.mp4())
        f.write(struct_box(b"free", 50_000_000))
        f.truncate(len(samples.mp4()) + 50_000_000)  # sparse
    reads: list[int] = []
    real = _sources.PathSource._read

    def spy(self: Any, f: Any, size: int) -> bytes:
        reads.append(size)
        return real(self, f, size)

    monkeypatch.setattr(_sources.PathSource, "_read", spy)
    m = attach(path)
    assert (m.kind, m.mime_type) == ("video", "video/mp4")
    m.check()
    assert sum(reads) < 100_000 and -1 not in reads


def struct_box(kind: bytes, size: int) -> bytes:
    return size.to_bytes(4, "big") + kind


# ---------------------------------------------------------------- laziness


def test_nothing_is_read_until_needed_and_then_only_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, "song.wav", samples.wav(0.2))
    opened: list[str] = []
    reads: list[int] = []
    real_open, real_read = open, _sources.PathSource._read

    def spy_open(p: Any, mode: str = "r", *a: Any, **k: Any) -> Any:
        opened.append(str(p))
        return real_open(p, mode, *a, **k)

    def spy_read(self: Any, f: Any, size: int) -> bytes:
        reads.append(size)
        return real_read(self, f, size)

    monkeypatch.setattr(_sources, "open", spy_open, raising=False)
    monkeypatch.setattr(_sources.PathSource, "_read", spy_read)
    m = attach(path)
    assert reads == []  # attach() only checks the file (stat + open), reads nothing
    assert m.kind == "audio"
    assert all(size <= 4096 for size in reads)  # the kind comes from the first bytes
    reads.clear()
    first = m.data
    assert m.data is first and m.base64() is m.base64()
    assert reads.count(-1) == 1  # the whole file was read exactly once
    assert base64.b64decode(m.base64()) == path.read_bytes()


def test_notebook_objects_are_rendered_once_and_only_when_needed() -> None:
    class Figure:  # the duck type of a matplotlib Figure
        canvas = object()
        calls = 0

        def savefig(self, buf: Any, format: str, **kw: Any) -> None:
            Figure.calls += 1
            buf.write(samples.image_bytes(20, 10))

    fig = Figure()
    m = attach(fig)
    assert Figure.calls == 0
    assert (m.kind, m.mime_type) == ("image", "image/png")
    _ = (m.data, m.base64(), m.wire_data_url(), m.size)
    assert Figure.calls == 1
    assert Image.open(io.BytesIO(m.data)).size == (20, 10)


def test_pil_image_is_encoded_once_with_options_applied() -> None:
    pil = Image.new("RGB", (400, 100), "green")
    m = image(pil, max_side=100)
    assert m.mime_type == "image/png"
    out = Image.open(io.BytesIO(m.data))
    assert out.size == (100, 25) and m.data is m.data
    jpeg = Image.open(io.BytesIO(samples.image_bytes(fmt="JPEG")))
    assert attach(jpeg).mime_type == "image/jpeg"  # a photo read from a JPEG stays a JPEG
    assert attach(pil, format="webp").mime_type == "image/webp"


def test_ipython_display_objects_and_file_objects() -> None:
    from IPython.display import Audio
    from IPython.display import Image as IPyImage

    assert attach(IPyImage(data=samples.image_bytes())).mime_type == "image/png"
    clip = attach(Audio(data=np.linspace(-0.5, 0.5, 800), rate=8000))
    assert (clip.kind, clip.mime_type) == ("audio", "audio/wav")
    assert attach(io.BytesIO(samples.pdf(2))).kind == "document"
    with pytest.raises(UsageError, match="text mode"):
        attach(io.StringIO("hello")).check()


# ---------------------------------------------------------------- images


def test_exif_orientation_is_applied() -> None:
    raw = samples.image_bytes(64, 48, fmt="JPEG", orientation=6)  # 6: rotate 90° clockwise to display
    m = image(raw)
    out = Image.open(io.BytesIO(m.data))
    assert out.size == (48, 64)
    assert out.getexif().get(0x0112, 1) == 1
    assert out.getpixel((45, 2))[2] > 150  # the blue marker at the top-left moved to the top-right
    assert out.getpixel((2, 2))[2] < 100


def test_an_image_needing_nothing_is_sent_byte_for_byte(tmp_path: Path) -> None:
    for fmt in ("PNG", "JPEG", "GIF", "WEBP"):
        raw = samples.image_bytes(fmt=fmt)
        assert image(write(tmp_path, f"x.{fmt}", raw)).data == raw
        assert image(raw, max_side=4096).data == raw  # already small enough


@pytest.mark.parametrize(
    ("size", "options", "expected"),
    [
        ((400, 100), {"max_side": 200}, (200, 50)),
        ((100, 400), {"max_side": 200}, (50, 200)),
        ((400, 300), {"max_pixels": 30_000}, (200, 150)),
        ((400, 300), {"max_side": 300, "max_pixels": 10_000}, (115, 86)),
    ],
)
def test_downscale_keeps_the_aspect_ratio(size: tuple[int, int], options: dict[str, int], expected: Any) -> None:
    m = image(samples.image_bytes(*size, fmt="JPEG"), **options)
    assert m.mime_type == "image/jpeg"
    assert Image.open(io.BytesIO(m.data)).size == expected


def test_bmp_and_tiff_are_converted_and_formats_can_be_chosen() -> None:
    for fmt in ("BMP", "TIFF"):
        m = image(samples.image_bytes(fmt=fmt))
        assert m.mime_type == "image/png" and m.data.startswith(b"\x89PNG")
        assert f"{fmt} → image/png" in repr(m)
    rgba = Image.new("RGBA", (10, 10), (255, 0, 0, 0))
    buf = io.BytesIO()
    rgba.save(buf, "PNG")
    m = image(buf.getvalue(), format="jpeg")
    assert m.mime_type == "image/jpeg" and Image.open(io.BytesIO(m.data)).getpixel((0, 0)) == (255, 255, 255)


@pytest.mark.parametrize("fmt", ["GIF", "PNG", "WEBP"])
def test_an_animation_is_downscaled_frame_by_frame(fmt: str) -> None:
    frames = [Image.new("RGB", (40, 40), color) for color in ("red", "green", "blue")]
    buf = io.BytesIO()
    frames[0].save(buf, fmt, save_all=True, append_images=frames[1:], duration=[50, 60, 70], loop=0)
    assert image(buf.getvalue(), max_side=100).data == buf.getvalue()  # needing nothing: sent unchanged
    out = Image.open(io.BytesIO(image(buf.getvalue(), max_side=10).data))
    assert (out.format, out.size, out.n_frames) == (fmt, (10, 10), 3)
    colours = []
    for index in range(3):
        out.seek(index)
        colours.append(out.convert("RGB").getpixel((5, 5)))
    assert [max(range(3), key=c.__getitem__) for c in colours] == [0, 1, 2]  # red, green, blue: every frame kept
    if fmt == "GIF":
        out.seek(1)
        assert out.info["duration"] == 60


def _bytes_type(data: bytes, name: str | None = None) -> tuple[str, str]:
    m = attach(data, filename=name)
    return m.kind, m.mime_type


def test_utf16_and_utf32_text_is_text_not_mp3(tmp_path: Path) -> None:
    text = "Meeting notes\r\n- café at 10\r\n"
    for encoding in ("utf-16", "utf-16-be", "utf-32", "utf-8-sig"):
        data = text.encode(encoding) if encoding != "utf-16-be" else b"\xfe\xff" + text.encode(encoding)
        m = attach(write(tmp_path, "notes.txt", data))
        assert (m.kind, m.mime_type) == ("document", "text/plain"), encoding
        assert m.data == text.encode("utf-8"), encoding  # sent as UTF-8, without the byte-order mark
    utf16 = attach(text.encode("utf-16"), filename="notes.txt")
    assert media_parts("messages", utf16)[0]["source"]["data"] == text
    assert base64.b64decode(media_parts("gemini", utf16)[0]["inlineData"]["data"]).decode() == text
    chat = media_parts("chat", utf16)[0]["file"]["file_data"]
    assert base64.b64decode(chat.partition(",")[2]).decode() == text
    assert media_parts("chat", attach(text.encode("utf-16"), kind="text", mime_type="text/plain"))[0]["text"] == text


def test_one_mpeg_frame_header_alone_is_not_mp3() -> None:
    assert _bytes_type(samples.mp3()) == ("audio", "audio/mpeg")
    lone = b"\xff\xfb\x90\xc0" + bytes(413) + b"not another frame"
    with pytest.raises(UsageError, match="unknown file type"):
        _ = attach(lone).kind


def test_cp1252_text_is_text_sent_as_utf8() -> None:
    csv = "Name;City;Amount\r\nJosé;Zürich;12 €\r\n".encode("cp1252")
    m = attach(csv, filename="export.csv")
    assert (m.kind, m.mime_type) == ("document", "text/csv")
    assert m.data.decode("utf-8") == "Name;City;Amount\r\nJosé;Zürich;12 €\r\n"
    # UTF-8 at the start, cp1252 further on (the sniffer reads 4 KB): the whole file is transcoded
    mixed = b"a;b\r\n" * 2000 + "Müller;1\r\n".encode("cp1252")
    assert attach(mixed, filename="big.csv").data.endswith("Müller;1\r\n".encode())
    utf8 = "plain UTF-8 ✓\n".encode()
    assert attach(utf8, filename="a.txt").data == utf8


@pytest.mark.parametrize(
    "data",
    [b"\x80\x81\x82\x83 abc", b"abc\x00def\xe9", b"caf\xe9\x01\x02", bytes(range(128, 256)), b"\xff\xfe\x00\xd8\x01"],
)
def test_binary_is_not_taken_for_cp1252_or_utf16_text(data: bytes) -> None:
    with pytest.raises(UsageError, match="unknown file type"):
        _ = attach(data).kind


def test_numpy_image_array() -> None:
    arr = np.zeros((30, 40, 3), dtype=np.uint8)
    m = image(arr)
    assert m.mime_type == "image/png" and Image.open(io.BytesIO(m.data)).size == (40, 30)


def test_detail_reaches_openai_protocols_only() -> None:
    m = image(samples.image_bytes(), detail="low")
    assert media_parts("chat", m)[0]["image_url"]["detail"] == "low"
    assert media_parts("responses", m)[0]["detail"] == "low"
    assert "detail" not in json.dumps(media_parts("messages", m))
    with pytest.raises(UsageError, match="detail"):
        image(samples.image_bytes(), detail="ultra")


# ---------------------------------------------------------------- audio arrays


def read_wav(data: bytes) -> tuple[int, int, int]:
    with wave.open(io.BytesIO(data)) as w:
        return w.getnchannels(), w.getframerate(), w.getnframes()


def test_numpy_audio_becomes_wav() -> None:
    t = np.linspace(0, 1, 16000, endpoint=False)
    mono = audio(np.sin(2 * np.pi * 440 * t).astype(np.float32), rate=16000)
    assert (mono.kind, mono.mime_type, mono.format) == ("audio", "audio/wav", "wav")
    assert read_wav(mono.data) == (1, 16000, 16000)
    stereo = np.zeros((8000, 2), dtype=np.int16)
    assert read_wav(audio(stereo, rate=8000).data) == (2, 8000, 8000)
    assert read_wav(audio(stereo.T, rate=8000).data) == (2, 8000, 8000)  # (channels, samples) as IPython takes it
    assert read_wav(attach((np.zeros(100), 4000)).data) == (1, 4000, 100)
    loud = audio(np.array([0.0, 4.0, -4.0]), rate=8000).data
    assert np.frombuffer(loud[44:], "<i2").tolist() == [0, 32767, -32767]  # scaled, not clipped


@pytest.mark.parametrize(
    ("array", "match"),
    [
        (np.zeros((2, 2, 2)), "1-D"),
        (np.zeros(0), "empty"),
        (np.array([0.0, np.nan]), "NaN"),
    ],
)
def test_bad_audio_arrays(array: Any, match: str) -> None:
    with pytest.raises(UsageError, match=match):
        audio(array, rate=8000).check()


def test_an_array_without_a_rate_is_refused() -> None:
    with pytest.raises(UsageError, match="rate="):
        attach(np.zeros(100))


# ---------------------------------------------------------------- bad input: one clear line


def one_line(exc: pytest.ExceptionInfo[BaseException]) -> str:
    text = str(exc.value)
    assert "\n" not in text and len(text) < 600
    return text


def test_missing_path(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as exc:
        attach(tmp_path / "nope.png")
    assert f"{tmp_path}/nope.png: no such file" in one_line(exc)


def test_tilde_is_expanded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    write(tmp_path, "cat.png", samples.image_bytes())
    assert attach("~/cat.png").mime_type == "image/png"
    with pytest.raises(UsageError, match=f"{tmp_path}/dog.png: no such file"):
        attach("~/dog.png")


def test_directory_and_empty_file(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as exc:
        attach(tmp_path)
    assert "is a directory" in one_line(exc)
    with pytest.raises(UsageError) as exc:
        attach(write(tmp_path, "empty.pdf", b""))
    assert "empty.pdf: the file is empty (0 bytes)" in one_line(exc)
    with pytest.raises(UsageError, match="empty"):
        attach(b"")


def test_unreadable_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, "secret.pdf", samples.pdf())

    def denied(*a: Any, **k: Any) -> Any:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(_sources, "open", denied, raising=False)
    with pytest.raises(UsageError) as exc:
        attach(path)
    assert "secret.pdf: permission denied" in one_line(exc)


def test_unknown_type(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as exc:
        attach(write(tmp_path, "blob.dat", bytes(range(256)) * 4)).check()
    text = one_line(exc)
    assert "blob.dat: unknown file type (first bytes 00 01 02" in text and "mime_type=" in text
    with pytest.raises(UsageError, match="ZIP archive"):
        attach(b"PK\x03\x04" + bytes(100)).check()


def cut(data: bytes, keep: float = 0.6) -> bytes:
    return data[: int(len(data) * keep)]


TRUNCATED = [
    ("png", lambda: cut(samples.image_bytes(fmt="PNG")), "IEND"),
    ("jpeg", lambda: cut(samples.image_bytes(200, 200, fmt="JPEG")), "truncated"),
    ("gif", lambda: cut(samples.image_bytes(fmt="GIF")), "trailer"),
    ("wav", lambda: cut(samples.wav(0.5)), "RIFF header declares"),
    ("mp4", lambda: samples.mp4()[:-100], "'mdat' box needs"),
    ("mp4-no-moov", lambda: samples.mp4()[:24] + (8).to_bytes(4, "big") + b"mdat", "no 'moov' box"),
    ("webm", lambda: samples.webm()[:-10], "segment declares"),
    ("ogg", lambda: samples.ogg_opus()[:-2], "last OGG page"),
    ("pdf", lambda: samples.pdf()[:-40], "%%EOF"),
]


@pytest.mark.parametrize(("name", "make", "problem"), TRUNCATED, ids=[t[0] for t in TRUNCATED])
def test_truncated_files(tmp_path: Path, name: str, make: Any, problem: str) -> None:
    m = attach(write(tmp_path, f"cut.{name}", make()))
    with pytest.raises(UsageError) as exc:
        m.check()
    text = one_line(exc)
    assert f"cut.{name}:" in text and problem in text


def test_explicit_helpers_check_the_kind(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as exc:
        image(write(tmp_path, "song.wav", samples.wav(0.1))).check()
    assert "song.wav: image() was given audio (WAV, audio/wav); use audio()" in one_line(exc)
    with pytest.raises(UsageError, match=r"video\(\) was given document"):
        video(samples.pdf()).check()


def test_unattachable_objects() -> None:
    with pytest.raises(UsageError, match="cannot attach a int"):
        attach(42)
    with pytest.raises(UsageError, match="looks like text"):
        attach("line one\nline two")
    with pytest.raises(UsageError, match="max_side"):
        attach(samples.image_bytes(), max_side=0)


def test_file_changed_after_attaching(tmp_path: Path) -> None:
    path = write(tmp_path, "clip.mp4", samples.mp4())
    m = attach(path)
    m.check()
    path.write_bytes(samples.mp4(seconds=3.0) + bytes(10))
    with pytest.raises(UsageError, match="changed after it was attached"):
        b"".join(tr.encode_json_body({"v": m.wire_base64()}))


# ---------------------------------------------------------------- size limits


def test_limits_table_is_documented() -> None:
    assert SIZE_LIMITS["messages"]["image"].bytes == 5 * 1024 * 1024
    assert SIZE_LIMITS["messages"]["document"].bytes == 32 * 1024 * 1024
    assert SIZE_LIMITS["chat"]["image"].bytes == 20 * 1024 * 1024
    assert SIZE_LIMITS["gemini"]["video"].measured == "base64"


def test_a_file_over_the_limit_names_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "huge.pdf"
    with open(path, "wb") as f:  # a sparse 33 MB PDF: nothing big is written or read
        f.write(samples.pdf())
        f.seek(33 * 1024 * 1024)
        f.write(b"\n%%EOF\n")
    m = attach(path)
    with pytest.raises(UsageError) as exc:
        body_of("messages", m)
    text = one_line(exc)
    assert "huge.pdf:" in text and "messages protocol's limit of 32.0 MB" in text and "ignore_limits=True" in text
    body_of("messages", attach(path, ignore_limits=True))  # the check can be switched off: no error
    with pytest.raises(UsageError, match=r"chat protocol's limit of 32\.0 MB"):  # chat counts file bytes
        body_of("chat", m)


def test_image_over_anthropic_limit_suggests_downscaling(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(SIZE_LIMITS["messages"], "image", Limit(1000, "base64", "Anthropic: test limit"))
    big = samples.image_bytes(400, 400, fmt="BMP")
    with pytest.raises(UsageError) as exc:
        body_of("messages", image(big))
    text = one_line(exc)
    assert "limit of 1000 B" in text and "max_side" in text and "chat (20.0 MB)" in text
    body_of("messages", image(big, max_side=8))  # small enough once downscaled


def test_gemini_names_its_request_limit(tmp_path: Path) -> None:
    path = tmp_path / "long.mp4"
    with open(path, "wb") as f:
        f.write(samples.mp4(payload=b"")[:-8])  # ftyp + moov
        size = 16 * 1024 * 1024
        f.write((size + 8).to_bytes(4, "big") + b"mdat")
        f.truncate(f.tell() + size)
    with pytest.raises(UsageError) as exc:
        body_of("gemini", video(path))
    assert "gemini protocol's limit of 20.0 MB" in one_line(exc) and "chat (no documented limit)" in str(exc.value)


# ---------------------------------------------------------------- rendering on every protocol

CARRIED = {
    "chat": ("image", "audio", "video", "document"),
    "responses": ("image", "document"),
    "messages": ("image", "document"),
    "gemini": ("image", "audio", "video", "document"),
}
EXAMPLES = {
    "image": lambda: samples.image_bytes(),
    "audio": lambda: samples.wav(0.2),
    "video": samples.mp4,
    "document": samples.pdf,
}


def payload_bytes(protocol: str, part: dict[str, Any]) -> bytes:
    """The media bytes inside one rendered part, whatever its protocol's shape."""
    if protocol == "chat":
        if part["type"] == "image_url":
            text = part["image_url"]["url"]
        elif part["type"] == "input_audio":
            return base64.b64decode(part["input_audio"]["data"])
        else:
            text = part["file"]["file_data"]
    elif protocol == "responses":
        text = part.get("image_url") or part["file_data"]
    elif protocol == "messages":
        return base64.b64decode(part["source"]["data"])
    else:
        return base64.b64decode(part["inlineData"]["data"])
    assert text.startswith("data:")
    return base64.b64decode(text.split(",", 1)[1])


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("kind", ["image", "audio", "video", "document"])
def test_each_kind_renders_or_is_refused_naming_who_can(tmp_path: Path, protocol: str, kind: str) -> None:
    raw = EXAMPLES[kind]()
    m = attach(write(tmp_path, f"sample-{kind}", raw))
    if kind not in CARRIED[protocol]:
        with pytest.raises(UnsupportedError) as exc:
            body_of(protocol, "look", m)
        able = [p for p in PROTOCOLS if kind in CARRIED[p]]
        text = one_line(exc)
        assert f"sample-{kind}: the {protocol} protocol cannot carry {kind}" in text
        assert all(p in text for p in able)
        return
    [_, part] = media_parts(protocol, "look", m)
    assert payload_bytes(protocol, part) == raw


def test_protocol_shapes() -> None:
    png, wav, mp4, pdf = (attach(EXAMPLES[k]()) for k in ("image", "audio", "video", "document"))
    chat = media_parts("chat", png, wav, mp4, pdf)
    assert [p["type"] for p in chat] == ["image_url", "input_audio", "image_url", "file"]
    assert chat[1]["input_audio"]["format"] == "wav"
    assert chat[2]["image_url"]["url"].startswith("data:video/mp4;base64,")
    assert chat[3]["file"]["filename"] == "document.pdf"
    responses = media_parts("responses", png, pdf)
    assert [p["type"] for p in responses] == ["input_image", "input_file"]
    messages = media_parts("messages", png, pdf, document(samples.text(), filename="n.txt"))
    assert [(p["type"], p["source"]["type"]) for p in messages] == [
        ("image", "base64"),
        ("document", "base64"),
        ("document", "text"),
    ]
    assert messages[0]["source"]["media_type"] == "image/png" and messages[2]["title"] == "n.txt"
    gemini = media_parts("gemini", png, wav, mp4, pdf)
    assert [p["inlineData"]["mimeType"] for p in gemini] == ["image/png", "audio/wav", "video/mp4", "application/pdf"]


def test_audio_formats_on_chat() -> None:
    formats = [media_parts("chat", attach(make()))[0]["input_audio"]["format"] for make in (samples.mp3, samples.m4a)]
    assert formats == ["mp3", "m4a"]


def test_urls_are_sent_as_urls_never_downloaded() -> None:
    url = "https://example.com/img/cat.jpg"
    m = attach(url)
    assert (m.kind, m.mime_type, m.url, m.data, m.size) == ("image", "image/jpeg", url, None, None)
    assert media_parts("chat", m)[0]["image_url"]["url"] == url
    assert media_parts("responses", m)[0]["image_url"] == url
    assert media_parts("messages", m)[0]["source"] == {"type": "url", "url": url}
    assert media_parts("gemini", m)[0]["fileData"] == {"mimeType": "image/jpeg", "fileUri": url}
    pdf = document("https://example.com/paper")  # no extension: the helper says what it is
    assert media_parts("responses", pdf)[0] == {"type": "input_file", "file_url": "https://example.com/paper"}
    with pytest.raises(UsageError, match="never downloaded"):
        attach("https://example.com/download?id=3")
    with pytest.raises(UnsupportedError, match="only as inline data"):
        body_of("chat", audio("https://example.com/a.wav"))
    assert attach("gs://bucket/clip.mp4").kind == "video"


def test_data_urls_are_inline_data() -> None:
    raw = samples.image_bytes()
    m = attach("data:image/png;base64," + base64.b64encode(raw).decode())
    assert m.url is None and m.data == raw
    assert attach("data:text/plain,hello%20world").data == b"hello world"


def test_plain_attachments_are_wrapped() -> None:
    plain = Attachment("image", "image/png", data=samples.image_bytes(), detail="high")
    m = attach(plain, max_side=10)
    assert isinstance(m, Media) and m.detail == "high" and Image.open(io.BytesIO(m.data)).size == (10, 7)
    assert attach(m) is m


def test_media_is_an_attachment() -> None:
    m = attach(samples.pdf())
    assert isinstance(m, Attachment)
    assert m.filename is None and attach(samples.pdf(), filename="a.pdf").filename == "a.pdf"
    assert m.with_options(filename="b.pdf").filename == "b.pdf"


# ---------------------------------------------------------------- payloads never flood anything


def test_reprs_logs_and_errors_show_summaries(tmp_path: Path) -> None:
    raw = samples.image_bytes(300, 300, fmt="BMP")
    m = image(write(tmp_path, "photo.bmp", raw))
    b64 = base64.b64encode(m.data).decode()
    assert b64[:40] not in repr(m)
    request = get_adapter("chat").build_request(CallSpec(messages=[Message.user([m])], endpoint_path="ep"))
    shown = json.dumps(request.json, ensure_ascii=False)
    assert "data:image/png;base64,… (" in shown and b64[:40] not in shown
    part = request.json["messages"][0]["content"][0]["image_url"]["url"]
    assert isinstance(part, Payload) and str(part) == summarize_data_url("image/png", m.size)
    assert repr(Attachment("image", "image/png", data=raw)) == "Attachment(image, data:image/png;base64,… (263 KB))"


def test_redact_payloads_for_ledgers() -> None:
    b64 = base64.b64encode(bytes(9000)).decode()
    body = {
        "messages": [{"content": [{"type": "image_url", "image_url": {"url": "data:image/jpeg;base64," + b64}}]}],
        "inlineData": {"mimeType": "audio/wav", "data": b64},
        "text": "a normal sentence stays as it is",
    }
    redacted = redact_payloads(body)
    assert redacted["messages"][0]["content"][0]["image_url"]["url"] == "data:image/jpeg;base64,… (8 KB)"
    assert redacted["inlineData"]["data"] == "base64,… (8 KB)"
    assert redacted["text"] == body["text"]
    assert len(json.dumps(redacted)) < 400


# ---------------------------------------------------------------- the streamed body


def test_streamed_body_equals_the_plain_body_with_exact_length(tmp_path: Path) -> None:
    raw = samples.mp4(payload=os.urandom(3 * 1024 * 1024 + 5))  # not a multiple of the chunk size
    path = write(tmp_path, "clip.mp4", raw)
    m = video(path, ignore_limits=True)
    for protocol in ("chat", "gemini"):
        request = get_adapter(protocol).build_request(
            CallSpec(messages=[Message.user(["watch", m])], endpoint_path="ep")
        )
        with httpx.Client() as http:
            built = tr.build_request(http, "http://gw.test", request, {})
            body = b"".join(built.stream)
        plain = json.dumps(tr.materialize_payloads(request.json), ensure_ascii=False, separators=(",", ":"))
        assert body == plain.encode()
        assert built.headers["content-length"] == str(len(body))
        assert "transfer-encoding" not in built.headers


def test_marker_look_alikes_in_the_prompt_fall_back_to_a_plain_body() -> None:
    m = attach(samples.pdf())
    value = {"text": "\ue000cwnb:7\ue001", "data": m.wire_base64()}
    body = tr.encode_json_body(value)
    assert isinstance(body, bytes) and json.loads(body)["data"] == m.base64()


ENDPOINTS = {
    "gpt": Endpoint("MaaS-gpt", "chat"),
    "gem": Endpoint("MaaS-ge", "gemini"),
}
CHAT_REPLY = {"choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}]}


def test_a_retry_sends_the_whole_body_again(tmp_path: Path) -> None:
    path = write(tmp_path, "clip.mp4", samples.mp4(payload=os.urandom(2_000_000)))
    bodies: list[bytes] = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(request.content)
        assert request.headers["content-length"] == str(len(request.content))
        return httpx.Response(500 if len(bodies) == 1 else 200, json=CHAT_REPLY)

    with Client("http://gw.test", "k", ENDPOINTS, transport=httpx.MockTransport(handler), sleep=lambda s: None) as c:
        reply = c.chat("gpt", "watch", attachments=[path])
    assert reply.text == "ok" and len(bodies) == 2 and bodies[0] == bodies[1]
    url = json.loads(bodies[1])["messages"][0]["content"][1]["image_url"]["url"]
    assert base64.b64decode(url.split(",", 1)[1]) == path.read_bytes()


class _SinkTransport(httpx.BaseTransport):
    """Reads the request body chunk by chunk (like a socket would), keeping only its length."""

    def __init__(self) -> None:
        self.received: list[int] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        total = sum(len(chunk) for chunk in request.stream)
        self.received.append(total)
        assert int(request.headers["content-length"]) == total
        return httpx.Response(200, json=CHAT_REPLY)


def test_sending_a_large_file_needs_little_memory(tmp_path: Path) -> None:
    size = 12 * 1024 * 1024
    path = tmp_path / "big.mp4"
    with open(path, "wb") as f:
        f.write(samples.mp4(payload=b"")[:-8] + (size + 8).to_bytes(4, "big") + b"mdat")
        for _ in range(size // (1 << 20)):
            f.write(os.urandom(1 << 20))
    sink = _SinkTransport()
    with Client("http://gw.test", "k", ENDPOINTS, transport=sink) as c:
        m = video(path)
        tracemalloc.start()
        try:
            c.chat("gpt", "watch", attachments=[m])
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    b64_size = 4 * ((path.stat().st_size + 2) // 3)
    assert sink.received[0] > b64_size
    assert peak < 6 * 1024 * 1024, peak  # the naive path needs several times the 16 MB of base64


def test_async_client_streams_the_body_too(tmp_path: Path) -> None:
    from cloudsway_nb import AsyncClient

    path = write(tmp_path, "talk.wav", samples.wav(0.5))
    seen: list[bytes] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        seen.append(await request.aread())
        return httpx.Response(200 if len(seen) > 1 else 503, json=CHAT_REPLY)

    async def main() -> str:
        async with AsyncClient(
            "http://gw.test", "k", ENDPOINTS, transport=httpx.MockTransport(handler), sleep=_no_sleep
        ) as c:
            return (await c.chat("gpt", "listen", attachments=[path])).text

    assert asyncio.run(main()) == "ok" and seen[0] == seen[1]
    data = json.loads(seen[0])["messages"][0]["content"][1]["input_audio"]["data"]
    assert base64.b64decode(data) == path.read_bytes()


async def _no_sleep(seconds: float) -> None:
    return None


# ---------------------------------------------------------------- the client takes anything attach() takes


def test_client_attachments_accept_paths_bytes_and_objects(tmp_path: Path) -> None:
    seen: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(json.loads(request.content))
        return httpx.Response(200, json=CHAT_REPLY)

    png = write(tmp_path, "a.png", samples.image_bytes())
    with Client("http://gw.test", "k", ENDPOINTS, transport=httpx.MockTransport(handler)) as c:
        c.chat("gpt", "what?", attachments=[str(png), png, samples.pdf(), Image.new("L", (5, 5))])
    types = [p["type"] for p in seen[0]["messages"][0]["content"]]
    assert types == ["text", "image_url", "image_url", "file", "image_url"]


def test_bad_attachments_fail_before_anything_is_sent(tmp_path: Path) -> None:
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(200, json=CHAT_REPLY)

    with Client("http://gw.test", "k", ENDPOINTS, transport=httpx.MockTransport(handler)) as c:
        with pytest.raises(UsageError, match=r"cut\.pdf: truncated"):
            c.chat("gpt", "read", attachments=[write(tmp_path, "cut.pdf", samples.pdf()[:-30])])
        with pytest.raises(UsageError, match="no such file"):
            c.chat("gpt", "read", attachments=[tmp_path / "missing.pdf"])
        with pytest.raises(UsageError, match="cannot attach a float"):
            c.chat("gpt", "read", attachments=[1.5])
    assert calls == []


def test_plain_request_bodies_are_unchanged() -> None:
    request = HttpRequest("POST", "/x", json={"a": "é", "b": [1, 2]})
    with httpx.Client() as http:
        built = tr.build_request(http, "http://gw.test", request, {})
    assert built.content == '{"a":"é","b":[1,2]}'.encode()


# ---------------------------------------------------------------- import cost


def test_media_imports_no_heavy_libraries_until_used(tmp_path: Path) -> None:
    path = write(tmp_path, "doc.pdf", samples.pdf())
    code = (
        "import sys, cloudsway_nb\n"
        "assert 'cloudsway_nb.media' not in sys.modules\n"
        "from cloudsway_nb.media import attach\n"
        f"m = attach({str(path)!r}); m.check(); m.base64()\n"
        "print(','.join(x for x in ('PIL', 'numpy', 'matplotlib', 'IPython') if x in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == ""


# ---------------------------------------------------------------- value semantics


def test_copies_keep_the_payload_and_replace_works() -> None:
    import copy
    import dataclasses

    m = attach(samples.pdf())
    request = get_adapter("gemini").build_request(CallSpec(messages=[Message.user([m])], endpoint_path="ep"))
    body = json.loads(b"".join(tr.encode_json_body(copy.deepcopy(request.json))))
    assert body["contents"][0]["parts"][0]["inlineData"]["data"] == m.base64()
    low = dataclasses.replace(image(samples.image_bytes()), detail="low")
    assert isinstance(low, Media) and low.detail == "low" and low.mime_type == "image/png"


def test_repr_of_a_notebook_object_does_not_render_it() -> None:
    class Figure:
        canvas = object()

        def savefig(self, buf: Any, format: str, **kw: Any) -> None:
            raise AssertionError("rendered by repr")

    assert repr(attach(Image.new("RGB", (3, 2)))) == "Media(image, 'PIL image 3x2 RGB', image/png)"
    assert "figure" in repr(attach(Figure()))


def test_explicit_mime_type_is_trusted_but_checked_against_the_helper() -> None:
    m = attach(b"\x00\x01 raw pcm?", mime_type="audio/L16")
    assert (m.kind, m.mime_type) == ("audio", "audio/l16")
    with pytest.raises(UsageError, match=r"image\(\) was given audio/wav"):
        image(samples.wav(0.1), mime_type="audio/wav").check()


def test_relative_paths_survive_a_change_of_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, "rel.pdf", samples.pdf())
    monkeypatch.chdir(tmp_path)
    m = attach("rel.pdf")
    monkeypatch.chdir("/")
    assert m.data == samples.pdf() and m.display_name == "rel.pdf"


class _FlakySink(httpx.BaseTransport):
    """Reads each attempt's body from the request stream itself (as a real connection does) and fails
    the first attempt, so the retry must iterate the streamed body a second time."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.bodies.append(b"".join(request.stream))
        return httpx.Response(502 if len(self.bodies) == 1 else 200, json=CHAT_REPLY)


class _AsyncFlakySink(httpx.AsyncBaseTransport):
    def __init__(self) -> None:
        self.bodies: list[bytes] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.bodies.append(b"".join([chunk async for chunk in request.stream]))
        return httpx.Response(502 if len(self.bodies) == 1 else 200, json=CHAT_REPLY)


def test_the_streamed_body_is_recreated_for_a_retry(tmp_path: Path) -> None:
    from cloudsway_nb import AsyncClient

    path = write(tmp_path, "clip.mp4", samples.mp4(payload=os.urandom(1_500_000)))
    sink = _FlakySink()
    with Client("http://gw.test", "k", ENDPOINTS, transport=sink, sleep=lambda s: None) as c:
        assert c.chat("gpt", "watch", attachments=[path]).text == "ok"
    assert len(sink.bodies) == 2 and sink.bodies[0] == sink.bodies[1]
    url = json.loads(sink.bodies[1])["messages"][0]["content"][1]["image_url"]["url"]
    assert base64.b64decode(url.split(",", 1)[1]) == path.read_bytes()

    async_sink = _AsyncFlakySink()

    async def main() -> None:
        async with AsyncClient("http://gw.test", "k", ENDPOINTS, transport=async_sink, sleep=_no_sleep) as c:
            await c.chat("gpt", "watch", attachments=[path])

    asyncio.run(main())
    assert async_sink.bodies == sink.bodies
