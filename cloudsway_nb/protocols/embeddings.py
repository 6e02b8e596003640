"""OpenAI embeddings: `POST /v1/ai/{endpointPath}/embeddings`, and the `Embeddings` value it returns.

Embeddings endpoints do not chat: the adapter's only capability is "embeddings"
(`build_embed_request` and `parse_embeddings`). Vectors are asked for as base64 (packed little-endian
float32, about 4x smaller on the wire than JSON floats) unless the caller picks `encoding_format`.

Example:
    >>> adapter = EmbeddingsAdapter()
    >>> req = adapter.build_embed_request("MaaS-e5", "hello", None, {"dimensions": 2})
    >>> req.path, req.json
    ('/v1/ai/MaaS-e5/embeddings', {'input': ['hello'], 'encoding_format': 'base64', 'dimensions': 2})
    >>> e = adapter.parse_embeddings({"data": [{"index": 0, "embedding": "AACAPwAAAEA="}],
    ...                               "model": "e5", "usage": {"prompt_tokens": 1, "total_tokens": 1}})
    >>> e[0], e.dimensions, len(e)
    ([1.0, 2.0], 2, 1)
    >>> e
    Embeddings(1 vector × 2 dimensions, model='e5', tokens=1)
"""

from __future__ import annotations

import base64
import binascii
import sys
from array import array
from collections.abc import Iterator, Sequence
from typing import Any, overload

from ..errors import MalformedReplyError, UsageError
from ..types import Usage
from .base import HttpRequest, ProtocolAdapter

__all__ = ["Embeddings", "EmbeddingsAdapter"]

_BIG_ENDIAN = sys.byteorder == "big"


def _unpack(text: str, position: int) -> bytes:
    """The float32 bytes of a base64 embedding, checked."""
    try:
        packed = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise MalformedReplyError(f"embedding {position} is not valid base64") from None
    if len(packed) % 4:
        raise MalformedReplyError(f"embedding {position} must hold whole float32 values, not {len(packed)} bytes")
    return packed


def _floats(packed: bytes) -> list[float]:
    """Packed little-endian float32 values as Python floats."""
    values = array("f")
    values.frombytes(packed)
    if _BIG_ENDIAN:
        values.byteswap()
    return values.tolist()


class Embeddings:
    """Embedding vectors in input order, with the model and the token usage.

    Indexes and iterates like a list of vectors; `to_numpy()` gives an (n, dimensions) float32 array.
    `raw` is the server's JSON with each base64 vector replaced by a short summary; `latency` is
    set by the client (seconds from sending to the parsed reply).
    """

    __slots__ = ("_packed", "latency", "model", "raw", "usage", "vectors")

    def __init__(
        self,
        vectors: list[list[float]],
        model: str | None = None,
        usage: Usage | None = None,
        raw: Any = None,
    ) -> None:
        self.vectors = vectors
        self.model = model
        self.usage = usage if usage is not None else Usage()
        self.raw = raw
        self.latency: float | None = None
        self._packed: bytes | None = None  # all vectors' float32 bytes when they came as base64 (for to_numpy)

    def __len__(self) -> int:
        return len(self.vectors)

    @overload
    def __getitem__(self, i: int) -> list[float]: ...
    @overload
    def __getitem__(self, i: slice) -> list[list[float]]: ...
    def __getitem__(self, i: int | slice) -> list[float] | list[list[float]]:
        return self.vectors[i]

    def __iter__(self) -> Iterator[list[float]]:
        return iter(self.vectors)

    @property
    def dimensions(self) -> int | None:
        """The length of each vector (None when there are none)."""
        return len(self.vectors[0]) if self.vectors else None

    def to_numpy(self, dtype: Any = "float32") -> Any:
        """The vectors as a numpy array of shape (len(self), dimensions); numpy is imported here."""
        import numpy as np

        if self._packed is not None and self.vectors and np.dtype(dtype) == np.float32:
            return np.frombuffer(self._packed, dtype="<f4").astype(np.float32).reshape(len(self.vectors), -1)
        return np.array(self.vectors, dtype=dtype)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Embeddings):
            return NotImplemented
        return (self.vectors, self.model, self.usage) == (other.vectors, other.model, other.usage)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        n = len(self.vectors)
        tokens = "" if self.usage.input is None else f", tokens={self.usage.input}"
        return (
            f"Embeddings({n} vector{'' if n == 1 else 's'} × {self.dimensions or 0} dimensions, "
            f"model={self.model!r}{tokens})"
        )


class EmbeddingsAdapter(ProtocolAdapter):
    """The OpenAI embeddings protocol. Use `build_embed_request` and `parse_embeddings`."""

    name = "embeddings"
    media_kinds: tuple[str, ...] = ()
    capabilities = frozenset({"embeddings"})

    def build_embed_request(
        self,
        endpoint_path: str,
        texts: str | Sequence[str],
        model: str | None,
        params: dict[str, Any] | None = None,
    ) -> HttpRequest:
        """The request embedding `texts` (one string or a list; token arrays pass through).

        `params` (`dimensions`, `user`, `encoding_format`, anything else) go into the body verbatim;
        `None` values are dropped. `encoding_format` defaults to base64.
        """
        items = [texts] if isinstance(texts, str) else list(texts)
        if not items:
            raise UsageError("nothing to embed: pass a string or a non-empty list of strings")
        if any(item == "" for item in items):
            raise UsageError("cannot embed an empty string; drop it or replace it with a space")
        body: dict[str, Any] = {}
        if model is not None:
            body["model"] = model
        body["input"] = items
        body["encoding_format"] = "base64"
        body.update({k: v for k, v in (params or {}).items() if v is not None})
        path = endpoint_path.strip("/")
        return HttpRequest("POST", f"/v1/ai/{path}/embeddings", json=body)

    def parse_embeddings(self, data: Any) -> Embeddings:
        """An embeddings reply (float lists or base64 vectors) as `Embeddings`, in input order."""
        if not isinstance(data, dict):
            raise MalformedReplyError(f"an embeddings reply must be a JSON object, not {type(data).__name__}")
        items = data.get("data")
        if not isinstance(items, list):
            error = data.get("error")
            if error:
                message = error.get("message") if isinstance(error, dict) else error
                raise MalformedReplyError(f"the server sent an error: {message}", body=data)
            raise MalformedReplyError("an embeddings reply needs a 'data' list", body=data)

        def order(pair: tuple[int, Any]) -> int:
            index = pair[1].get("index") if isinstance(pair[1], dict) else None
            return index if isinstance(index, int) else pair[0]

        ordered = sorted(enumerate(items), key=order)
        vectors: list[list[float]] = []
        raw_items: list[Any] = []
        packed: list[bytes] = []
        for position, item in ordered:
            embedding = item.get("embedding") if isinstance(item, dict) else None
            if isinstance(embedding, str):
                chunk = _unpack(embedding, position)
                packed.append(chunk)
                vectors.append(_floats(chunk))
                raw_items.append({**item, "embedding": f"<base64: {len(chunk) // 4} float32>"})
            elif isinstance(embedding, list):
                vectors.append(embedding)  # the same list object as in raw: not duplicated
                raw_items.append(item)
            else:
                raise MalformedReplyError(f"item {position} of an embeddings reply has no 'embedding'", body=data)

        usage_data = data.get("usage")
        if isinstance(usage_data, dict):
            prompt = usage_data.get("prompt_tokens")
            usage = Usage(input=prompt, total=usage_data.get("total_tokens", prompt), raw=usage_data)
        else:
            usage = Usage()
        result = Embeddings(vectors, model=data.get("model"), usage=usage, raw={**data, "data": raw_items})
        if len(packed) == len(vectors) and len({len(p) for p in packed}) == 1:
            result._packed = b"".join(packed)  # all base64, all one size: to_numpy() reads the bytes
        return result
