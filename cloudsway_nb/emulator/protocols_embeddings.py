"""OpenAI embeddings (and the small ``models`` list): deterministic, unit-norm vectors.

``input`` may be a string, a list of strings, a list of token ids or a list of token-id lists;
``encoding_format`` is ``float`` or ``base64`` (packed little-endian float32, the official
SDK's default); ``dimensions`` shortens the vector.

Example:
    >>> body = embeddings_body({"input": ["a", "b"], "dimensions": 4}, "emb")
    >>> [len(d["embedding"]) for d in body["data"]], body["usage"]["prompt_tokens"]
    ([4, 4], 2)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .embeddings import DEFAULT_DIMENSIONS, embed, to_base64
from .errors import EmulatorError
from .replies import JSONReply
from .tokenizer import count_tokens

if TYPE_CHECKING:
    from .app import EmulatorApp
    from .request import Request

__all__ = ["embeddings_body", "handle", "models"]


def _texts(value: Any) -> list[str]:
    invalid = EmulatorError(
        400, "'$.input' is invalid. Please check the API reference.", param="input", code="invalid_value"
    )
    if isinstance(value, str):
        if not value:
            raise invalid
        return [value]
    if not isinstance(value, list) or not value:
        raise invalid
    if all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        return [" ".join(f"t{v}" for v in value)]
    texts = []
    for item in value:
        if isinstance(item, str) and item:
            texts.append(item)
        elif (
            isinstance(item, list)
            and item
            and all(isinstance(v, int) and not isinstance(v, bool) for v in item)
        ):
            texts.append(" ".join(f"t{v}" for v in item))
        else:
            raise invalid
    if len(texts) > 2048:
        raise EmulatorError(400, "'input' must hold at most 2048 items.", param="input", code="invalid_value")
    return texts


def embeddings_body(body: dict[str, Any], endpoint: str) -> dict[str, Any]:
    """The reply object for an embeddings request body.

    Example:
        >>> body = embeddings_body({"input": "hi", "encoding_format": "base64", "dimensions": 2}, "e")
        >>> body["data"][0]["embedding"]
        's+VxP2KXp74='
    """
    if "input" not in body:
        raise EmulatorError(
            400, "Missing required parameter: 'input'.", param="input", code="missing_required_parameter"
        )
    texts = _texts(body["input"])
    fmt = body.get("encoding_format") or "float"
    if fmt not in ("float", "base64"):
        raise EmulatorError(
            400,
            f"Invalid value: '{fmt}'. Supported values are: 'float' and 'base64'.",
            param="encoding_format",
            code="invalid_value",
        )
    dimensions = body.get("dimensions") or DEFAULT_DIMENSIONS
    if not isinstance(dimensions, int) or isinstance(dimensions, bool) or not 1 <= dimensions <= 8192:
        raise EmulatorError(
            400,
            "Invalid 'dimensions': must be an integer between 1 and 8192.",
            param="dimensions",
            code="invalid_value",
        )
    data = []
    for index, text in enumerate(texts):
        vector = embed(text, dimensions)
        data.append(
            {
                "object": "embedding",
                "index": index,
                "embedding": to_base64(vector) if fmt == "base64" else vector,
            }
        )
    tokens = sum(count_tokens(t) for t in texts)
    return {
        "object": "list",
        "data": data,
        "model": str(body.get("model") or endpoint),
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }


def handle(request: Request, app: EmulatorApp) -> JSONReply:
    """POST ``/v1/ai/{ep}/embeddings``.

    Example:
        >>> from cloudsway_nb.emulator.app import create_app
        >>> from cloudsway_nb.emulator.request import Request
        >>> request = Request("POST", "/v1/ai/e/embeddings", {}, {}, b'{"input": "hi"}', {"ep": "e"})
        >>> len(handle(request, create_app()).body["data"][0]["embedding"])
        1024
    """
    return JSONReply(embeddings_body(request.json_object(), request.params.get("ep", "")))


def models(request: Request, app: EmulatorApp) -> JSONReply:
    """GET ``/v1/ai/{ep}/models``: the endpoint as the one model.

    Example:
        >>> from cloudsway_nb.emulator.app import create_app
        >>> from cloudsway_nb.emulator.request import Request
        >>> request = Request("GET", "/v1/ai/e/models", {}, {}, b"", {"ep": "e"})
        >>> models(request, create_app()).body["data"][0]["id"]
        'e'
    """
    ep = request.params.get("ep", "")
    return JSONReply(
        {
            "object": "list",
            "data": [{"id": ep, "object": "model", "created": 0, "owned_by": "cloudsway-emulator"}],
        }
    )
