"""Where media bytes come from: a file, bytes in memory, or a notebook object rendered on demand.

A source knows its size and reads ranges or chunks; nothing is read until asked. A file is
checked when the source is made (exists, is a regular file, not empty, can be opened), with
one clear line naming it when not; it is re-checked (size and mtime) before it is streamed.

Example:
    >>> s = BytesSource(b"hello", "greeting")
    >>> (s.size(), s.read_at(1, 3), b"".join(s.chunks(2)))
    (5, b'ell', b'hello')
"""

from __future__ import annotations

import io
import os
import stat
import wave
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from ..errors import UsageError
from ._limits import format_size

__all__ = ["BytesSource", "PathSource", "ProducedSource", "Source", "numpy_to_wav"]


class Source:
    """Bytes to attach. Subclasses implement `size`, `read_at`, `chunks` and `open`."""

    #: how the source is named in errors and reprs ("photos/cat.png", "bytes (12 KB)", ...)
    name: str = ""
    #: a file name to send with documents, when there is one
    filename: str | None = None

    def size(self) -> int:
        raise NotImplementedError

    def read_at(self, offset: int, size: int) -> bytes:
        raise NotImplementedError

    def read_all(self) -> bytes:
        return self.read_at(0, self.size())

    def chunks(self, chunk_size: int) -> Iterator[bytes]:
        raise NotImplementedError

    def open(self) -> IO[bytes]:
        """A binary file object over the bytes (for Pillow)."""
        raise NotImplementedError

    def check_unchanged(self) -> None:
        """Raise UsageError when the bytes changed since they were first measured (files only)."""


class BytesSource(Source):
    """Bytes in memory (also the result of preparing other sources). Chunks are zero-copy slices."""

    def __init__(self, data: bytes | bytearray | memoryview, name: str, filename: str | None = None) -> None:
        self.data = bytes(data) if not isinstance(data, bytes) else data
        self.name = name
        self.filename = filename

    def size(self) -> int:
        return len(self.data)

    def read_at(self, offset: int, size: int) -> bytes:
        return self.data[offset : offset + size]

    def read_all(self) -> bytes:
        return self.data

    def chunks(self, chunk_size: int) -> Iterator[bytes]:
        view = memoryview(self.data)
        for start in range(0, len(view), chunk_size):
            yield view[start : start + chunk_size]  # type: ignore[misc]

    def open(self) -> IO[bytes]:
        return io.BytesIO(self.data)


class PathSource(Source):
    """A local file, checked at once (cheaply: stat and open) and read only when needed."""

    def __init__(self, path: str | os.PathLike[str], filename: str | None = None) -> None:
        given = Path(os.path.expanduser(os.fspath(path)))
        self.path = given.absolute()  # a later change of the working directory does not matter
        self.name = str(given)
        self.filename = filename or given.name
        try:
            st = self.path.stat()
        except FileNotFoundError:
            where = "" if given.is_absolute() else f" (relative to {os.getcwd()})"
            raise UsageError(f"{self.name}: no such file{where}; check the path") from None
        except PermissionError:
            raise UsageError(f"{self.name}: permission denied; check the permissions of its folders") from None
        except OSError as exc:
            raise UsageError(f"{self.name}: cannot read it ({exc.strerror or exc})") from None
        if stat.S_ISDIR(st.st_mode):
            raise UsageError(f"{self.name}: is a directory, not a file; attach the files in it one by one")
        if not stat.S_ISREG(st.st_mode):
            raise UsageError(f"{self.name}: is not a regular file; copy the data into a file first")
        if st.st_size == 0:
            raise UsageError(f"{self.name}: the file is empty (0 bytes); nothing to attach")
        self._stamp = (st.st_size, st.st_mtime_ns)
        self.open().close()  # unreadable permissions show now, not when the request is sent

    def size(self) -> int:
        return self._stamp[0]

    def open(self) -> IO[bytes]:
        try:
            return open(self.path, "rb")
        except FileNotFoundError:
            raise UsageError(f"{self.name}: the file was removed after it was attached") from None
        except PermissionError:
            raise UsageError(
                f"{self.name}: permission denied when opening it for reading; check its permissions (chmod +r)"
            ) from None
        except OSError as exc:
            raise UsageError(f"{self.name}: cannot read it ({exc.strerror or exc})") from None

    def read_at(self, offset: int, size: int) -> bytes:
        with self.open() as f:
            f.seek(offset)
            return self._read(f, size)

    def read_all(self) -> bytes:
        self.check_unchanged()
        with self.open() as f:
            data = self._read(f, -1)
        if len(data) != self.size():
            raise UsageError(f"{self.name}: the file changed after it was attached; attach it again")
        return data

    def _read(self, f: IO[bytes], size: int) -> bytes:
        try:
            return f.read(size)
        except OSError as exc:
            raise UsageError(f"{self.name}: reading failed ({exc.strerror or exc})") from None

    def chunks(self, chunk_size: int) -> Iterator[bytes]:
        self.check_unchanged()
        sent = 0
        with self.open() as f:
            while True:
                chunk = self._read(f, chunk_size)
                if not chunk:
                    break
                sent += len(chunk)
                yield chunk
        if sent != self.size():
            raise UsageError(f"{self.name}: the file changed while it was being sent; attach it again")

    def check_unchanged(self) -> None:
        try:
            st = self.path.stat()
        except OSError:
            raise UsageError(f"{self.name}: the file was removed after it was attached") from None
        if (st.st_size, st.st_mtime_ns) != self._stamp:
            raise UsageError(f"{self.name}: the file changed after it was attached; attach it again")


class ProducedSource(Source):
    """Bytes made on first use by a function (a PIL image encoded, a figure rendered, a file object read),
    then kept: they are produced once."""

    def __init__(self, produce: Callable[[], bytes], name: str, filename: str | None = None) -> None:
        self._produce = produce
        self._bytes: BytesSource | None = None
        self.name = name
        self.filename = filename

    def _ready(self) -> BytesSource:
        if self._bytes is None:
            data = self._produce()
            if not data:
                raise UsageError(f"{self.name}: it produced no data (0 bytes); nothing to attach")
            self._bytes = BytesSource(data, self.name, self.filename)
        return self._bytes

    @property
    def produced(self) -> bool:
        return self._bytes is not None

    def size(self) -> int:
        return self._ready().size()

    def read_at(self, offset: int, size: int) -> bytes:
        return self._ready().read_at(offset, size)

    def read_all(self) -> bytes:
        return self._ready().read_all()

    def chunks(self, chunk_size: int) -> Iterator[bytes]:
        return self._ready().chunks(chunk_size)

    def open(self) -> IO[bytes]:
        return self._ready().open()


def bytes_name(data: bytes | bytearray | memoryview) -> str:
    """How raw bytes are named in errors: `bytes (12 KB)`."""
    return f"bytes ({format_size(len(data))})"


# ---------------------------------------------------------------- NumPy audio


def numpy_to_wav(array: Any, rate: int) -> bytes:
    """A NumPy array of samples as a 16-bit PCM WAV file.

    Floats are taken in [-1, 1] (scaled down, never clipped, when louder); integers keep their
    range. A 1-D array is mono; a 2-D array is (samples, channels), or (channels, samples) when
    the first dimension is the small one (as IPython's Audio takes it).

    Example:
        >>> import numpy as np
        >>> wav = numpy_to_wav(np.zeros(800, dtype=np.float32), 8000)
        >>> (wav[:4], wav[8:12], len(wav))
        (b'RIFF', b'WAVE', 1644)
    """
    import numpy as np

    samples = np.asarray(array)
    if samples.dtype == bool or not (
        np.issubdtype(samples.dtype, np.floating) or np.issubdtype(samples.dtype, np.integer)
    ):
        raise UsageError(f"audio samples must be numbers, not {samples.dtype}")
    if samples.ndim == 1:
        samples = samples[:, None]
    elif samples.ndim == 2:
        if samples.shape[0] < samples.shape[1] and samples.shape[0] <= 16:
            samples = samples.T
    else:
        raise UsageError(f"audio samples must be 1-D (mono) or 2-D (with channels), not {samples.ndim}-D")
    if samples.shape[0] == 0:
        raise UsageError("the audio array is empty (0 samples); nothing to attach")
    if samples.shape[1] > 16:
        raise UsageError(f"the audio array has {samples.shape[1]} channels; at most 16 are supported")
    if np.issubdtype(samples.dtype, np.floating):
        peak = float(np.max(np.abs(samples))) if samples.size else 0.0
        if not np.isfinite(peak):
            raise UsageError("the audio array holds NaN or infinite values")
        scale = 32767.0 / peak if peak > 1.0 else 32767.0
        pcm = np.round(samples * scale).astype("<i2")
    else:
        bits = samples.dtype.itemsize * 8
        wide = samples.astype(np.int64)
        if np.issubdtype(samples.dtype, np.unsignedinteger):
            wide -= 1 << (bits - 1)  # unsigned PCM is centred on half its range
        pcm = (wide << (16 - bits) if bits < 16 else wide >> (bits - 16)).astype("<i2")
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(int(pcm.shape[1]))
        w.setsampwidth(2)
        w.setframerate(int(rate))
        w.writeframes(np.ascontiguousarray(pcm).tobytes())
    return buf.getvalue()
